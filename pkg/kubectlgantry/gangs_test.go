package kubectlgantry

import (
	"bytes"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

func gangState() *State {
	return &State{
		Now:        testNow,
		Namespaces: []corev1.Namespace{namespace("ml", "research")},
		PodGroups: []schedv1alpha1.PodGroup{
			podGroup("ml", "big", 4, schedv1alpha1.PodGroupScheduling, ""),
			podGroup("ml", "running", 2, schedv1alpha1.PodGroupRunning, "prod"),
			podGroup("ml", "fresh", 2, "", ""),
		},
		Pods: []corev1.Pod{
			pod("ml", "big-0", 8, inGang("big"), unschedulable("0/3 nodes are available")),
			pod("ml", "big-1", 8, inGang("big"), unschedulable("0/3 nodes are available")),
			pod("ml", "running-0", 1, inGang("running"), on("n1")),
			pod("ml", "running-1", 1, inGang("running"), on("n1")),
			pod("ml", "lbl-0", 1, inGang("lbl"), label(gantryv1alpha1.GangMinMemberLabel, "2"), on("n1")),
			pod("ml", "lbl-1", 1, inGang("lbl"), label(gantryv1alpha1.GangMinMemberLabel, "2"), func(p *corev1.Pod) { p.CreationTimestamp = ago(3 * time.Hour) }),
			pod("ml", "orphan-0", 1, inGang("nowhere")),
			pod("ml", "fresh-0", 1, inGang("fresh"), unschedulable("waiting for 1 more member")),
		},
		Events: []corev1.Event{
			event("PodGroup", "ml", "big", "gantry", "GangUnschedulable", "gang ml/big needs 32 GPUs; the largest domain has 16 free", time.Minute),
			event("PodGroup", "ml", "big", "gantry-controller/podgroup", "GangScheduling", "4 member pods exist", 10*time.Second),
			event("PodGroup", "ml", "big", "gantry", "GangReleased", "an older word", 5*time.Minute),
			event("Pod", "ml", "lbl-1", "gantry", "FailedScheduling", "0/3 nodes are available: 3 Insufficient nvidia.com/gpu", 30*time.Second),
			event("Pod", "ml", "lbl-0", "gantry", "FailedScheduling", "stale: lbl-0 is bound", 5*time.Second),
		},
	}
}

func TestBuildGangs(t *testing.T) {
	v := BuildGangs(gangState())
	byName := map[string]GangRow{}
	var names []string
	for _, g := range v.Gangs {
		byName[g.Name] = g
		names = append(names, g.Name)
	}
	if got := strings.Join(names, " "); got != "big fresh lbl nowhere running" {
		t.Fatalf("gangs = %s", got)
	}
	for _, tc := range []struct {
		name                            string
		kind                            string
		minMember, pods, bound, running int32
		phase                           string
		computed, waiting               bool
		queue, reason, messagePart      string
	}{
		{"big", GangPodGroup, 4, 2, 0, 0, "Scheduling", false, true, "research", "GangUnschedulable", "needs 32 GPUs"},
		{"running", GangPodGroup, 2, 2, 2, 2, "Running", false, false, "prod", "", ""},
		{"fresh", GangPodGroup, 2, 1, 0, 0, "Pending", true, true, "research", "Unschedulable", "waiting for 1 more member"},
		{"lbl", GangLabelOnly, 2, 2, 1, 1, "Scheduling", true, true, "research", "FailedScheduling", "3 Insufficient nvidia.com/gpu"},
		{"nowhere", GangMissing, 0, 1, 0, 0, "Scheduling", true, true, "research", "NoPodGroup", "no PodGroup nowhere and no gantry.dev/gang-min-member label"},
	} {
		g := byName[tc.name]
		if g.Kind != tc.kind || g.MinMember != tc.minMember || g.Pods != tc.pods || g.Bound != tc.bound || g.Running != tc.running ||
			g.Phase != tc.phase || g.PhaseComputed != tc.computed || g.Waiting != tc.waiting || g.Queue != tc.queue || g.Reason != tc.reason ||
			!strings.Contains(g.Message, tc.messagePart) {
			t.Errorf("%s = %+v, want %+v", tc.name, g, tc)
		}
	}
	if c := byName["lbl"].Created.Time; !c.Equal(testNow.Add(-3 * time.Hour)) {
		t.Errorf("label-only gang created %v, want its oldest pod's", c)
	}

	var buf bytes.Buffer
	if err := RenderGangsTable(&buf, v, testNow, true); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, want := range []string{
		"NAMESPACE   NAME      KIND              MINMEMBER   PODS   BOUND   RUNNING   PHASE         QUEUE      AGE   WAITING BECAUSE\n",
		"ml          big       PodGroup          4           2      0       0         Scheduling    research   90m   GangUnschedulable: gang ml/big needs 32 GPUs; the largest domain has 16 free\n",
		"ml          running   PodGroup          2           2      2       2         Running       prod       90m   -\n",
		"ml          lbl       LabelOnly         2           2      1       1         Scheduling*   research   3h    FailedScheduling: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu\n",
		"* phase computed from the pods",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}

func TestComputePhase(t *testing.T) {
	for _, tc := range []struct {
		min, pods, bound, running, succeeded, failed int32
		want                                         schedv1alpha1.PodGroupPhase
	}{
		{2, 1, 0, 0, 0, 0, schedv1alpha1.PodGroupPending},
		{2, 2, 1, 0, 0, 0, schedv1alpha1.PodGroupScheduling},
		{2, 2, 2, 0, 0, 0, phaseScheduled},
		{2, 2, 2, 2, 0, 0, schedv1alpha1.PodGroupRunning},
		{2, 2, 2, 0, 2, 0, schedv1alpha1.PodGroupFinished},
		{2, 2, 1, 1, 0, 1, schedv1alpha1.PodGroupFailed},
	} {
		if got := computePhase(tc.min, tc.pods, tc.bound, tc.running, tc.succeeded, tc.failed); got != tc.want {
			t.Errorf("computePhase(%+v) = %s", tc, got)
		}
	}
}

func TestGangQueueFromPodGroup(t *testing.T) {
	s := &State{PodGroups: []schedv1alpha1.PodGroup{podGroup("ns", "empty", 2, "", "q1")}}
	if g := BuildGangs(s).Gangs[0]; g.Queue != "q1" || g.Pods != 0 || !g.Waiting {
		t.Errorf("gang without pods = %+v", g)
	}
	s.Pods = []corev1.Pod{pod("ns", "p", 1, inGang("empty"), label(gantryv1alpha1.QueueLabel, "own"))}
	if g := BuildGangs(s).Gangs[0]; g.Queue != "own" {
		t.Errorf("gang queue %s, want its pod's label", g.Queue)
	}
}
