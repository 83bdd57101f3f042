package kubectlgantry

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/gantry-gpu/gantry/pkg/pods"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// maxExplainEvents bounds the events an explanation lists.
const maxExplainEvents = 5

// Explanation is the output of `kubectl gantry explain POD`.
//
// +kubebuilder:object:generate=true
// +kubebuilder:object:root=true
type Explanation struct {
	metav1.TypeMeta `json:",inline"`
	Namespace       string `json:"namespace"`
	Name            string `json:"name"`
	// Phase is the pod's status.phase.
	Phase         string `json:"phase"`
	SchedulerName string `json:"schedulerName,omitempty"`
	RequestedGPUs int64  `json:"requestedGPUs"`
	// Queue is the pod's queue and QueueSource where it came from: pod,
	// podGroup, namespace or default.
	Queue       string                     `json:"queue"`
	QueueSource gantryv1alpha1.QueueSource `json:"queueSource"`
	// QueueUsage is the queue's row of `kubectl gantry queues`.
	QueueUsage *QueueRow `json:"queueUsage,omitempty"`
	// Node is where the pod is bound; empty while it waits.
	Node string `json:"node,omitempty"`
	// GPUs are the GPUs the pod holds on its node: those its
	// gantry.dev/gpu-ids annotation names, else those the NodeGPU's
	// allocations give it.
	GPUs []ExplainedGPU `json:"gpus,omitempty"`
	// GPUSource is "annotation" or "allocations", where GPUs came from.
	GPUSource string `json:"gpuSource,omitempty"`
	// Links are the links between every pair of the pod's GPUs, and
	// WorstLink the worst of them (what the job's collectives run at).
	Links     []gantryv1alpha1.GPULink `json:"links,omitempty"`
	WorstLink string                   `json:"worstLink,omitempty"`
	// Waiting is true while the pod is not bound.
	Waiting bool `json:"waiting"`
	// Scheduled is the pod's PodScheduled condition.
	Scheduled *Condition `json:"scheduled,omitempty"`
	// Gang is the pod's gang, if it belongs to one.
	Gang *GangRow `json:"gang,omitempty"`
	// Events are the latest events of the pod and of its gang, newest first.
	Events []EventSummary `json:"events,omitempty"`
	// Notes are things worth knowing that fit no field, such as GPU IDs the
	// node does not have, or a disagreement between the scheduler and the
	// kubelet.
	Notes []string `json:"notes,omitempty"`
}

// ExplainedGPU is one GPU a pod holds.
//
// +kubebuilder:object:generate=true
type ExplainedGPU struct {
	Index int32  `json:"index"`
	UUID  string `json:"uuid"`
	Model string `json:"model,omitempty"`
	// Health is Healthy or Unhealthy; HealthReason why.
	Health       string `json:"health"`
	HealthReason string `json:"healthReason,omitempty"`
}

// Condition is a pod condition.
//
// +kubebuilder:object:generate=true
type Condition struct {
	Status             string      `json:"status"`
	Reason             string      `json:"reason,omitempty"`
	Message            string      `json:"message,omitempty"`
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
}

// EventSummary is one event.
//
// +kubebuilder:object:generate=true
type EventSummary struct {
	Time metav1.Time `json:"time"`
	Type string      `json:"type"`
	// Object is Kind/name of what the event is about.
	Object   string `json:"object"`
	Reason   string `json:"reason"`
	Message  string `json:"message"`
	Reporter string `json:"reporter,omitempty"`
	Count    int32  `json:"count,omitempty"`
}

// linkRank orders link types from best (0) to worst.
var linkRank = map[gantryv1alpha1.LinkType]int{
	gantryv1alpha1.LinkNVLink: 0, gantryv1alpha1.LinkSameBoard: 1, gantryv1alpha1.LinkSingleSwitch: 2,
	gantryv1alpha1.LinkMultipleSwitches: 3, gantryv1alpha1.LinkHostBridge: 4, gantryv1alpha1.LinkNUMANode: 5,
	gantryv1alpha1.LinkSystem: 6,
}

// BuildExplanation explains one pod of the state.
func BuildExplanation(s *State, pod *corev1.Pod) Explanation {
	x := Explanation{
		TypeMeta:  viewTypeMeta(KindExplanation),
		Namespace: pod.Namespace, Name: pod.Name, Phase: string(pod.Status.Phase),
		SchedulerName: pod.Spec.SchedulerName, RequestedGPUs: int64(gpu.PodGPUs(pod, s.gpuResource())),
		Node: pod.Spec.NodeName, Waiting: pod.Spec.NodeName == "",
	}
	x.Queue, x.QueueSource = s.podQueue(pod)
	for _, q := range BuildQueues(s).Queues {
		if q.Name == x.Queue {
			x.QueueUsage = &q
			break
		}
	}
	if c := podScheduledCondition(pod); c != nil {
		x.Scheduled = &Condition{Status: string(c.Status), Reason: c.Reason, Message: c.Message, LastTransitionTime: c.LastTransitionTime}
	}
	if name := pods.Gang(pod); name != "" {
		var members []*corev1.Pod
		for i := range s.Pods {
			if p := &s.Pods[i]; p.Namespace == pod.Namespace && pods.Gang(p) == name {
				members = append(members, p)
			}
		}
		g := buildGang(s, pod.Namespace, name, s.podGroup(pod.Namespace, name), members)
		x.Gang = &g
	}
	if x.Node != "" {
		explainGPUs(s, pod, &x)
	}

	events := s.eventsFor("Pod", pod.Namespace, pod.Name)
	if x.Gang != nil {
		events = append(events, s.eventsFor("PodGroup", pod.Namespace, x.Gang.Name)...)
		sort.SliceStable(events, func(i, j int) bool { return eventTime(events[i]).After(eventTime(events[j])) })
	}
	for _, e := range events[:min(len(events), maxExplainEvents)] {
		x.Events = append(x.Events, EventSummary{
			Time: metav1.NewTime(eventTime(e)), Type: e.Type, Object: e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name,
			Reason: e.Reason, Message: e.Message, Reporter: eventReporter(e), Count: e.Count,
		})
	}
	return x
}

func explainGPUs(s *State, pod *corev1.Pod, x *Explanation) {
	ng := s.nodeGPU(pod.Spec.NodeName)
	ids := gantryv1alpha1.ParseGPUIDs(pod.Annotations[gantryv1alpha1.GPUIDsAnnotation])
	if ng == nil {
		if len(ids) > 0 {
			x.Notes = append(x.Notes, fmt.Sprintf("node %s has no NodeGPU: GPU UUIDs %s cannot be mapped to indexes", pod.Spec.NodeName, strings.Join(ids, ",")))
			for _, id := range ids {
				x.GPUs = append(x.GPUs, ExplainedGPU{Index: -1, UUID: id})
			}
			x.GPUSource = "annotation"
		} else if x.RequestedGPUs > 0 {
			x.Notes = append(x.Notes, fmt.Sprintf("node %s has no NodeGPU and the pod no %s annotation: which GPUs it holds is not known", pod.Spec.NodeName, gantryv1alpha1.GPUIDsAnnotation))
		}
		return
	}
	byUUID := map[string]gantryv1alpha1.GPUDevice{}
	byIndex := map[int32]gantryv1alpha1.GPUDevice{}
	for _, g := range ng.Spec.GPUs {
		byUUID[g.UUID] = g
		byIndex[g.Index] = g
	}
	var kubelet []int32
	for _, a := range ng.Status.Allocations {
		if a.PodNamespace == pod.Namespace && a.PodName == pod.Name {
			kubelet = append(kubelet, a.Index)
		}
	}
	sort.Slice(kubelet, func(i, j int) bool { return kubelet[i] < kubelet[j] })
	var devices []gantryv1alpha1.GPUDevice
	switch {
	case len(ids) > 0:
		x.GPUSource = "annotation"
		for _, id := range ids {
			g, ok := byUUID[id]
			if !ok {
				x.Notes = append(x.Notes, fmt.Sprintf("GPU %s named in %s is not on node %s", id, gantryv1alpha1.GPUIDsAnnotation, pod.Spec.NodeName))
				x.GPUs = append(x.GPUs, ExplainedGPU{Index: -1, UUID: id})
				continue
			}
			devices = append(devices, g)
		}
	case len(kubelet) > 0:
		x.GPUSource = "allocations"
		for _, idx := range kubelet {
			devices = append(devices, byIndex[idx])
		}
	case x.RequestedGPUs > 0:
		x.Notes = append(x.Notes, fmt.Sprintf("the pod has no %s annotation and the NodeGPU of %s no allocation for it yet", gantryv1alpha1.GPUIDsAnnotation, pod.Spec.NodeName))
	}
	sort.Slice(devices, func(i, j int) bool { return devices[i].Index < devices[j].Index })
	if x.GPUSource == "annotation" && len(kubelet) > 0 {
		var annotated []int32
		for _, g := range devices {
			annotated = append(annotated, g.Index)
		}
		if fmt.Sprint(annotated) != fmt.Sprint(kubelet) {
			x.Notes = append(x.Notes, fmt.Sprintf("the scheduler assigned GPUs %s but the kubelet allocated %s", indexRanges(annotated), indexRanges(kubelet)))
		}
	}
	health := map[int32]gantryv1alpha1.GPUHealth{}
	for _, h := range ng.Status.Health {
		health[h.Index] = h
	}
	held := map[int32]bool{}
	for _, g := range devices {
		eg := ExplainedGPU{Index: g.Index, UUID: g.UUID, Model: g.Model, Health: string(gantryv1alpha1.Healthy)}
		if h, ok := health[g.Index]; ok && h.Health != "" {
			eg.Health, eg.HealthReason = string(h.Health), h.Reason
		}
		x.GPUs = append(x.GPUs, eg)
		held[g.Index] = true
	}
	worst := -1
	for _, l := range ng.Spec.Links {
		if held[l.A] && held[l.B] {
			x.Links = append(x.Links, l)
			if r, ok := linkRank[l.Type]; ok && r > worst {
				worst = r
				x.WorstLink = linkText(l)
			}
		}
	}
	sort.Slice(x.Links, func(i, j int) bool {
		if x.Links[i].A != x.Links[j].A {
			return x.Links[i].A < x.Links[j].A
		}
		return x.Links[i].B < x.Links[j].B
	})
}

func linkText(l gantryv1alpha1.GPULink) string {
	if l.Type == gantryv1alpha1.LinkNVLink {
		return fmt.Sprintf("NVLink x%d", l.NVLinkLanes)
	}
	return string(l.Type)
}

// RenderExplanation writes the explanation as text, in the manner of
// kubectl describe.
func RenderExplanation(w io.Writer, x Explanation, now time.Time) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("Pod:        %s/%s\n", x.Namespace, x.Name)
	p("Phase:      %s\n", orDash(x.Phase))
	if x.SchedulerName != "" {
		p("Scheduler:  %s\n", x.SchedulerName)
	}
	p("GPUs asked: %d\n", x.RequestedGPUs)
	p("Queue:      %s (%s)\n", x.Queue, queueSourceText(x.QueueSource))
	if q := x.QueueUsage; q != nil {
		limit := "no limit"
		if q.LimitGPUs != nil {
			limit = "limit " + optInt(q.LimitGPUs)
		}
		p("            uses %d GPUs, guaranteed %s, %s, borrowing %d; %d GPUs pending", q.UsedGPUs, optInt(q.GuaranteedGPUs), limit, q.BorrowedGPUs, q.PendingGPUs)
		if q.Problem != "" {
			p("; %s", q.Problem)
		}
		p("\n")
	}
	if x.Waiting {
		p("Node:       none: the pod waits\n")
		if c := x.Scheduled; c != nil {
			p("Why:        PodScheduled=%s %s: %s (%s ago)\n", c.Status, c.Reason, oneLine(c.Message, 0), age(now, c.LastTransitionTime.Time))
		} else {
			p("Why:        no PodScheduled condition yet: no scheduler has tried the pod (is %q running?)\n", orDash(x.SchedulerName))
		}
	} else {
		p("Node:       %s\n", x.Node)
		if len(x.GPUs) > 0 {
			p("GPUs (from %s):\n", gpuSourceText(x.GPUSource))
			tw := newTable(&b, "  INDEX", "UUID", "MODEL", "HEALTH")
			for _, g := range x.GPUs {
				idx := "?"
				if g.Index >= 0 {
					idx = fmt.Sprint(g.Index)
				}
				health := orDash(g.Health)
				if g.HealthReason != "" {
					health += " (" + g.HealthReason + ")"
				}
				tw.row("  "+idx, g.UUID, orDash(g.Model), health)
			}
			if err := tw.flush(); err != nil {
				return err
			}
		}
		if len(x.Links) > 0 {
			p("Links:      %s\n", linksText(x.Links))
			p("Worst link: %s\n", x.WorstLink)
		}
	}
	if g := x.Gang; g != nil {
		p("Gang:       %s (%s), minMember %d: %d pods, %d bound, %d running; phase %s", g.Name, g.Kind, g.MinMember, g.Pods, g.Bound, g.Running, g.Phase)
		if g.PhaseComputed {
			p(" (computed)")
		}
		p("\n")
		if g.Waiting && g.Message != "" {
			p("            waits: %s: %s\n", g.Reason, oneLine(g.Message, 0))
		}
	}
	for _, n := range x.Notes {
		p("Note:       %s\n", n)
	}
	if len(x.Events) > 0 {
		p("Events (newest first):\n")
		tw := newTable(&b, "  AGE", "TYPE", "REASON", "OBJECT", "MESSAGE")
		for _, e := range x.Events {
			tw.row("  "+age(now, e.Time.Time), e.Type, e.Reason, e.Object, oneLine(e.Message, 0))
		}
		if err := tw.flush(); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// linksText groups the pairs by link: "NVLink x12: 0-1 0-2 1-2; SingleSwitch: 2-3".
func linksText(links []gantryv1alpha1.GPULink) string {
	var order []string
	pairs := map[string][]string{}
	for _, l := range links {
		t := linkText(l)
		if _, ok := pairs[t]; !ok {
			order = append(order, t)
		}
		pairs[t] = append(pairs[t], fmt.Sprintf("%d-%d", l.A, l.B))
	}
	var parts []string
	for _, t := range order {
		parts = append(parts, t+": "+strings.Join(pairs[t], " "))
	}
	return strings.Join(parts, "; ")
}

func queueSourceText(s gantryv1alpha1.QueueSource) string {
	switch s {
	case gantryv1alpha1.QueueFromPod:
		return "the pod's " + gantryv1alpha1.QueueLabel + " label"
	case gantryv1alpha1.QueueFromPodGroup:
		return "its PodGroup's " + gantryv1alpha1.QueueLabel + " label"
	case gantryv1alpha1.QueueFromNamespace:
		return "its namespace's " + gantryv1alpha1.QueueLabel + " label"
	}
	return "no " + gantryv1alpha1.QueueLabel + " label on the pod, its PodGroup or its namespace"
}

func gpuSourceText(s string) string {
	if s == "allocations" {
		return "the NodeGPU's allocations"
	}
	return "the pod's " + gantryv1alpha1.GPUIDsAnnotation + " annotation"
}
