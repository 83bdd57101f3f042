package kubectlgantry

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	podutil "github.com/gantry-gpu/gantry/pkg/pods"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// Gang kinds.
const (
	// GangPodGroup is a gang with a PodGroup object.
	GangPodGroup = "PodGroup"
	// GangLabelOnly is a gang defined by its pods' labels alone
	// (scheduling.x-k8s.io/pod-group and gantry.dev/gang-min-member).
	GangLabelOnly = "LabelOnly"
	// GangMissing is pods that name a PodGroup that does not exist and no
	// minMember label: the scheduler holds them until the PodGroup appears.
	GangMissing = "MissingPodGroup"
)

// phaseScheduled is gantry-controller's phase of a gang bound but not yet
// running; scheduler-plugins has no constant for it.
const phaseScheduled schedv1alpha1.PodGroupPhase = "Scheduled"

// controllerReporterPrefix starts the event source of gantry-controller,
// whose PodGroup events report phase changes, not why a gang waits.
const controllerReporterPrefix = "gantry-controller"

// GangsView is the output of `kubectl gantry gangs`.
//
// +kubebuilder:object:generate=true
// +kubebuilder:object:root=true
type GangsView struct {
	metav1.TypeMeta `json:",inline"`
	Gangs           []GangRow `json:"gangs"`
}

// GangRow is one gang.
//
// +kubebuilder:object:generate=true
type GangRow struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Kind is PodGroup, LabelOnly or MissingPodGroup.
	Kind string `json:"kind"`
	// MinMember is 0 for a MissingPodGroup gang.
	MinMember int32 `json:"minMember"`
	// Pods are the pods labelled with the gang's name, in any state.
	Pods int32 `json:"pods"`
	// Bound are the pods that have not failed and are on a node (or have
	// succeeded); Running those in phase Running.
	Bound   int32 `json:"bound"`
	Running int32 `json:"running"`
	// Phase is the PodGroup's status.phase; when the status has none
	// (label-only gangs, or no gantry-controller), it is computed from the
	// counts the way gantry-controller does, and PhaseComputed is true.
	Phase         string      `json:"phase"`
	PhaseComputed bool        `json:"phaseComputed,omitempty"`
	Queue         string      `json:"queue"`
	Created       metav1.Time `json:"creationTimestamp"`
	// Waiting is true while fewer than minMember pods are bound and the
	// gang has not finished or failed.
	Waiting bool `json:"waiting"`
	// Reason and Message are, for a waiting gang, the latest scheduler event
	// on the PodGroup (e.g. GangUnschedulable), else the latest
	// FailedScheduling event of a member pod, else an unbound member's
	// PodScheduled condition.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// BuildGangs lists the gangs in the state's pods and PodGroups, by
// namespace and name.
func BuildGangs(s *State) GangsView {
	members := map[string][]*corev1.Pod{}
	for i := range s.Pods {
		p := &s.Pods[i]
		if name := podutil.Gang(p); name != "" {
			k := p.Namespace + "/" + name
			members[k] = append(members[k], p)
		}
	}
	view := GangsView{TypeMeta: viewTypeMeta(KindGangsView)}
	seen := map[string]bool{}
	for i := range s.PodGroups {
		pg := &s.PodGroups[i]
		k := pg.Namespace + "/" + pg.Name
		seen[k] = true
		view.Gangs = append(view.Gangs, buildGang(s, pg.Namespace, pg.Name, pg, members[k]))
	}
	for k, pods := range members {
		if !seen[k] {
			view.Gangs = append(view.Gangs, buildGang(s, pods[0].Namespace, podutil.Gang(pods[0]), nil, pods))
		}
	}
	sort.Slice(view.Gangs, func(i, j int) bool {
		a, b := view.Gangs[i], view.Gangs[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return view
}

// buildGang describes one gang; pg is nil for a gang without a PodGroup.
func buildGang(s *State, namespace, name string, pg *schedv1alpha1.PodGroup, pods []*corev1.Pod) GangRow {
	g := GangRow{Namespace: namespace, Name: name, Kind: GangPodGroup}
	var succeeded, failed int32
	for _, p := range pods {
		g.Pods++
		switch p.Status.Phase {
		case corev1.PodRunning:
			g.Running++
		case corev1.PodSucceeded:
			succeeded++
		case corev1.PodFailed:
			failed++
			continue
		}
		if p.Spec.NodeName != "" || p.Status.Phase == corev1.PodSucceeded {
			g.Bound++
		}
	}
	if pg != nil {
		g.MinMember = pg.Spec.MinMember
		g.Phase = string(pg.Status.Phase)
		g.Created = pg.CreationTimestamp
	} else {
		g.Kind = GangMissing
		for _, p := range pods {
			if n, err := strconv.ParseInt(p.Labels[gantryv1alpha1.GangMinMemberLabel], 10, 32); err == nil && int32(n) > g.MinMember {
				g.MinMember = int32(n)
				g.Kind = GangLabelOnly
			}
			if g.Created.IsZero() || p.CreationTimestamp.Before(&g.Created) {
				g.Created = p.CreationTimestamp
			}
		}
	}
	if g.Phase == "" {
		g.Phase = string(computePhase(max(g.MinMember, 1), g.Pods, g.Bound, g.Running, succeeded, failed))
		g.PhaseComputed = true
	}
	if len(pods) > 0 {
		g.Queue, _ = s.podQueue(pods[0])
	} else {
		g.Queue, _ = queueOf(&corev1.Pod{}, pg, s.namespace(namespace))
	}
	terminalPhase := g.Phase == string(schedv1alpha1.PodGroupFinished) || g.Phase == string(schedv1alpha1.PodGroupFailed)
	g.Waiting = !terminalPhase && g.Bound < max(g.MinMember, 1)
	if g.Waiting {
		g.Reason, g.Message = whyGangWaits(s, namespace, name, pods)
		if g.Kind == GangMissing && g.Message == "" {
			g.Reason = "NoPodGroup"
			g.Message = fmt.Sprintf("no PodGroup %s and no %s label on its pods", name, gantryv1alpha1.GangMinMemberLabel)
		}
	}
	return g
}

// computePhase is gantry-controller's phase for the counts, for gangs
// whose status has none.
func computePhase(minMember, pods, bound, running, succeeded, failed int32) schedv1alpha1.PodGroupPhase {
	switch {
	case succeeded >= minMember:
		return schedv1alpha1.PodGroupFinished
	case failed > 0 && pods-failed < minMember:
		return schedv1alpha1.PodGroupFailed
	case running+succeeded >= minMember:
		return schedv1alpha1.PodGroupRunning
	case bound >= minMember:
		return phaseScheduled
	case pods >= minMember:
		return schedv1alpha1.PodGroupScheduling
	}
	return schedv1alpha1.PodGroupPending
}

// whyGangWaits is the latest word from the scheduler about the gang.
func whyGangWaits(s *State, namespace, name string, pods []*corev1.Pod) (reason, message string) {
	for _, e := range s.eventsFor("PodGroup", namespace, name) {
		if !strings.HasPrefix(eventReporter(e), controllerReporterPrefix) {
			return e.Reason, e.Message
		}
	}
	var latest *corev1.Event
	for _, p := range pods {
		if p.Spec.NodeName != "" {
			continue // its scheduling events are history
		}
		for _, e := range s.eventsFor("Pod", p.Namespace, p.Name) {
			if e.Reason == "FailedScheduling" {
				if latest == nil || eventTime(e).After(eventTime(latest)) {
					latest = e
				}
				break
			}
		}
	}
	if latest != nil {
		return latest.Reason, latest.Message
	}
	for _, p := range pods {
		if c := podScheduledCondition(p); c != nil && c.Status == corev1.ConditionFalse {
			return c.Reason, c.Message
		}
	}
	return "", ""
}

func podScheduledCondition(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodScheduled {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// RenderGangsTable writes one row per gang; withNamespace adds the
// namespace column (for --all-namespaces).
func RenderGangsTable(w io.Writer, v GangsView, now time.Time, withNamespace bool) error {
	if len(v.Gangs) == 0 {
		_, err := fmt.Fprintln(w, "No gangs found.")
		return err
	}
	header := []string{"NAME", "KIND", "MINMEMBER", "PODS", "BOUND", "RUNNING", "PHASE", "QUEUE", "AGE", "WAITING BECAUSE"}
	if withNamespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	t := newTable(w, header...)
	for _, g := range v.Gangs {
		phase := g.Phase
		if g.PhaseComputed {
			phase += "*"
		}
		why := "-"
		if g.Waiting && g.Message != "" {
			why = oneLine(g.Reason+": "+g.Message, 140)
		}
		cells := []string{g.Name, g.Kind, strconv.Itoa(int(g.MinMember)), strconv.Itoa(int(g.Pods)), strconv.Itoa(int(g.Bound)),
			strconv.Itoa(int(g.Running)), phase, g.Queue, age(now, g.Created.Time), why}
		if withNamespace {
			cells = append([]string{g.Namespace}, cells...)
		}
		t.row(cells...)
	}
	if err := t.flush(); err != nil {
		return err
	}
	for _, g := range v.Gangs {
		if g.PhaseComputed {
			_, err := fmt.Fprintln(w, "\n* phase computed from the pods: the PodGroup has no status phase (label-only gang, or gantry-controller not running)")
			return err
		}
	}
	return nil
}
