package queue

import (
	"math"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// q builds a queue: name, parent, weight, and "resource=amount" pairs for
// guaranteed (g) and limit (l).
func q(name, parent string, weight int32, g, l map[string]string) *gantryv1alpha1.Queue {
	return &gantryv1alpha1.Queue{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       gantryv1alpha1.QueueSpec{Parent: parent, Weight: weight, Guaranteed: list(g), Limit: list(l)},
	}
}

func list(m map[string]string) corev1.ResourceList {
	if m == nil {
		return nil
	}
	out := corev1.ResourceList{}
	for r, v := range m {
		out[corev1.ResourceName(r)] = resource.MustParse(v)
	}
	return out
}

func gpus(n string) map[string]string { return map[string]string{"nvidia.com/gpu": n} }

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		queues []*gantryv1alpha1.Queue
		// want: queue -> reasons and a substring of each message.
		want map[string][][2]string
	}{{
		name: "a valid tree under a root without guarantees",
		queues: []*gantryv1alpha1.Queue{
			q("org", "", 1, nil, gpus("48")),
			q("research", "org", 3, gpus("8"), gpus("32")),
			q("inference", "org", 1, gpus("8"), nil),
			q("vision", "research", 1, gpus("4"), nil),
		},
	}, {
		name:   "missing parent",
		queues: []*gantryv1alpha1.Queue{q("research", "org", 1, nil, nil)},
		want:   map[string][][2]string{"research": {{ReasonParentNotFound, "queue research names parent org, which does not exist"}}},
	}, {
		name: "a cycle, and a queue hanging off it",
		queues: []*gantryv1alpha1.Queue{
			q("a", "b", 1, nil, nil), q("b", "c", 1, nil, nil), q("c", "a", 1, nil, nil),
			q("leaf", "a", 1, nil, nil), q("root", "", 1, nil, nil),
		},
		want: map[string][][2]string{
			"a":    {{ReasonParentCycle, "a -> b -> c -> a loops"}},
			"b":    {{ReasonParentCycle, "b -> c -> a -> b loops"}},
			"c":    {{ReasonParentCycle, "c -> a -> b -> c loops"}},
			"leaf": {{ReasonParentCycle, "leaf -> a -> b -> c -> a loops"}},
		},
	}, {
		name: "a child guaranteed more than its parent",
		queues: []*gantryv1alpha1.Queue{
			q("org", "", 1, gpus("8"), nil),
			q("research", "org", 1, gpus("16"), nil),
		},
		want: map[string][][2]string{"research": {{ReasonGuaranteeExceedsParent, "queue research guarantees 16 nvidia.com/gpu, more than its parent org's 8"}}},
	}, {
		name: "children together guaranteed more than their parent",
		queues: []*gantryv1alpha1.Queue{
			q("org", "", 1, gpus("16"), nil),
			q("research", "org", 1, gpus("10"), nil),
			q("inference", "org", 1, gpus("8"), nil),
		},
		want: map[string][][2]string{"org": {{ReasonChildGuaranteesExceedGuarantee, "children of queue org (inference 8, research 10) together guarantee 18 nvidia.com/gpu, more than org's 16"}}},
	}, {
		name: "a root's limit bounds its children's guarantees when it names no guarantee",
		queues: []*gantryv1alpha1.Queue{
			q("org", "", 1, nil, gpus("16")),
			q("research", "org", 1, gpus("24"), nil),
			q("inference", "org", 1, gpus("8"), nil),
		},
		want: map[string][][2]string{
			"research": {{ReasonGuaranteeExceedsParentLimit, "queue research guarantees 24 nvidia.com/gpu, more than its parent org's limit of 16"}},
			"org":      {{ReasonChildGuaranteesExceedLimit, "together guarantee 32 nvidia.com/gpu, more than org's limit of 16"}},
		},
	}, {
		name: "a non-root parent that names no guarantee guarantees zero",
		queues: []*gantryv1alpha1.Queue{
			q("org", "", 1, nil, nil),
			q("research", "org", 1, nil, gpus("32")),
			q("vision", "research", 1, gpus("4"), nil),
		},
		want: map[string][][2]string{"vision": {{ReasonGuaranteeExceedsParent, "queue vision guarantees 4 nvidia.com/gpu, more than its parent research's 0"}}},
	}, {
		name: "per resource: memory over, GPUs fine",
		queues: []*gantryv1alpha1.Queue{
			q("org", "", 1, map[string]string{"nvidia.com/gpu": "8", "memory": "64Gi"}, nil),
			q("research", "org", 1, map[string]string{"nvidia.com/gpu": "8", "memory": "128Gi"}, nil),
		},
		want: map[string][][2]string{"research": {{ReasonGuaranteeExceedsParent, "128Gi memory, more than its parent org's 64Gi"}}},
	}, {
		name: "quantities compare as quantities",
		queues: []*gantryv1alpha1.Queue{
			q("org", "", 1, map[string]string{"memory": "1Gi"}, nil),
			q("research", "org", 1, map[string]string{"memory": "1000Mi"}, nil),
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Validate(tt.queues)
			for name, want := range tt.want {
				ps := got[name]
				if len(ps) != len(want) {
					t.Errorf("%s: problems %+v, want %d", name, ps, len(want))
					continue
				}
				for i, w := range want {
					if ps[i].Reason != w[0] || !strings.Contains(ps[i].Message, w[1]) {
						t.Errorf("%s: problem %d = %+v, want reason %s and a message containing %q", name, i, ps[i], w[0], w[1])
					}
				}
			}
			for name, ps := range got {
				if _, ok := tt.want[name]; !ok {
					t.Errorf("%s: unexpected problems %+v", name, ps)
				}
			}
		})
	}
}

func TestSplit(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name     string
		capacity float64
		claims   []Claim
		want     []float64
	}{
		{"equal weights", 48, []Claim{{1, 0, inf}, {1, 0, inf}}, []float64{24, 24}},
		{"by weight", 48, []Claim{{3, 0, inf}, {1, 0, inf}}, []float64{36, 12}},
		{"a cap passes the rest on", 48, []Claim{{3, 8, 32}, {1, 8, inf}}, []float64{32, 16}},
		// Weighted shares would be 12 and 36; the floor lifts the first
		// to 20 and the second takes what is left.
		{"a floor above the weighted share", 48, []Claim{{1, 20, inf}, {3, 0, inf}}, []float64{20, 28}},
		{"floors overcommit: each its floor", 10, []Claim{{1, 8, inf}, {1, 8, inf}}, []float64{8, 8}},
		{"caps below capacity: each its cap", 48, []Claim{{1, 0, 4}, {5, 0, 8}}, []float64{4, 8}},
		{"thirds", 8, []Claim{{1, 0, inf}, {1, 0, inf}, {1, 0, inf}}, []float64{8.0 / 3, 8.0 / 3, 8.0 / 3}},
		{"no capacity: floors", 0, []Claim{{1, 2, inf}, {1, 0, inf}}, []float64{2, 0}},
		{"insane claims are made sane", 10, []Claim{{0, -1, math.NaN()}, {1, 0, inf}}, []float64{0, 10}},
		{"none", 10, nil, []float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Split(tt.capacity, tt.claims)
			if len(got) != len(tt.want) {
				t.Fatalf("Split = %v, want %v", got, tt.want)
			}
			for i := range got {
				if math.Abs(got[i]-tt.want[i]) > 1e-9 {
					t.Errorf("Split = %v, want %v", got, tt.want)
					break
				}
			}
		})
	}
}

func pod(ns, name, queue, workload string, bound bool, gpu string) Pod {
	return Pod{Namespace: ns, Name: name, Queue: queue, Workload: workload, Bound: bound, Requests: list(gpus(gpu))}
}

func TestEvaluate(t *testing.T) {
	queues := []*gantryv1alpha1.Queue{
		q("org", "", 1, nil, gpus("48")),
		q("research", "org", 3, gpus("8"), gpus("32")),
		q("inference", "org", 1, gpus("8"), nil),
		q("lost", "nowhere", 1, gpus("8"), nil),
	}
	pods := []Pod{
		pod("r", "a-0", "research", "podgroup/r/a", true, "4"),
		pod("r", "a-1", "research", "podgroup/r/a", true, "4"),
		pod("r", "a-2", "research", "podgroup/r/a", false, "4"),
		pod("r", "b", "research", "pod/r/b", true, "4"),
		pod("r", "c", "research", "pod/r/c", false, "2"),
		pod("i", "x", "inference", "pod/i/x", false, "8"),
		pod("i", "y", "ghost", "pod/i/y", true, "8"), // no such queue
		pod("l", "z", "lost", "pod/l/z", true, "1"),
	}
	got := Evaluate(Snapshot{Queues: queues, Pods: pods, Capacity: list(map[string]string{"nvidia.com/gpu": "48", "cpu": "96"})})

	check := func(queue string, field string, l corev1.ResourceList, want string) {
		t.Helper()
		v := l[GPUResource]
		if w := resource.MustParse(want); v.Cmp(w) != 0 {
			t.Errorf("%s %s GPUs = %s, want %s", queue, field, v.String(), want)
		}
	}
	r := got["research"]
	check("research", "allocated", r.Status.Allocated, "12")
	check("research", "pending", r.Status.Pending, "6")
	check("research", "borrowed", r.Status.Borrowed, "4")
	// org's 48 split 3:1 with research capped at 32: 32 and 16.
	check("research", "fair share", r.Status.FairShare, "32")
	if r.Status.AdmittedWorkloads != 2 || r.Status.PendingWorkloads != 1 {
		t.Errorf("research workloads admitted %d, pending %d; want 2 (gang a partly bound, b) and 1 (c)", r.Status.AdmittedWorkloads, r.Status.PendingWorkloads)
	}
	if r.BoundPods != 3 || r.BoundWorkloads != 2 {
		t.Errorf("research bound pods %d of %d workloads, want 3 of 2", r.BoundPods, r.BoundWorkloads)
	}

	o := got["org"]
	check("org", "allocated", o.Status.Allocated, "12")
	check("org", "pending", o.Status.Pending, "14")
	// org guarantees nothing: all it holds is borrowed.
	check("org", "borrowed", o.Status.Borrowed, "12")
	check("org", "fair share", o.Status.FairShare, "48")
	if o.Status.AdmittedWorkloads != 2 || o.Status.PendingWorkloads != 2 || o.BoundPods != 0 {
		t.Errorf("org: %+v, bound pods %d", o.Status, o.BoundPods)
	}
	if cpu := o.Status.FairShare[corev1.ResourceCPU]; cpu.Cmp(resource.MustParse("96")) != 0 {
		t.Errorf("org fair share of cpu = %s, want the cluster's 96", cpu.String())
	}

	i := got["inference"]
	check("inference", "fair share", i.Status.FairShare, "16")
	if i.Status.Allocated != nil || i.Status.Borrowed != nil {
		t.Errorf("inference holds nothing, status %+v", i.Status)
	}

	l := got["lost"]
	if l.Status.FairShare != nil || len(l.Problems) != 1 {
		t.Errorf("lost: fair share %v, problems %+v; want none and one", l.Status.FairShare, l.Problems)
	}
	check("lost", "allocated", l.Status.Allocated, "1")
}

func TestEvaluateSurvivesACycle(t *testing.T) {
	queues := []*gantryv1alpha1.Queue{q("a", "b", 1, nil, nil), q("b", "a", 1, nil, nil)}
	got := Evaluate(Snapshot{Queues: queues, Pods: []Pod{pod("n", "p", "a", "pod/n/p", true, "1")}})
	if len(got) != 2 || len(got["a"].Problems) != 1 {
		t.Fatalf("Evaluate = %+v", got)
	}
}

func TestDesiredStatus(t *testing.T) {
	now := metav1.NewTime(time.Date(2025, 1, 1, 11, 0, 0, 0, time.UTC))
	problem := Problem{Reason: ReasonParentNotFound, Message: "queue research names parent org, which does not exist"}
	invalid := metav1.Condition{Type: gantryv1alpha1.QueueConditionValid, Status: metav1.ConditionFalse, Reason: problem.Reason, Message: problem.Message, LastTransitionTime: now}
	valid := metav1.Condition{Type: gantryv1alpha1.QueueConditionValid, Status: metav1.ConditionTrue, Reason: ReasonValid, Message: validMessage, LastTransitionTime: now}
	other := metav1.Condition{Type: "Starving", Status: metav1.ConditionTrue, Reason: "X", LastTransitionTime: now}
	deleted := metav1.NewTime(now.Add(-time.Minute))

	tests := []struct {
		name       string
		conditions []metav1.Condition
		deleting   bool
		result     Result
		wantEvents []string // reasons
		wantConds  map[string]metav1.ConditionStatus
	}{
		{"first look, valid: no event", nil, false, Result{}, nil, map[string]metav1.ConditionStatus{"Valid": "True"}},
		{"becomes invalid: a warning", []metav1.Condition{valid}, false, Result{Problems: []Problem{problem}}, []string{ReasonParentNotFound}, map[string]metav1.ConditionStatus{"Valid": "False"}},
		{"still invalid, same facts: no event", []metav1.Condition{invalid}, false, Result{Problems: []Problem{problem}}, nil, map[string]metav1.ConditionStatus{"Valid": "False"}},
		{"valid again: a normal event", []metav1.Condition{invalid, other}, false, Result{}, []string{EventQueueValid}, map[string]metav1.ConditionStatus{"Valid": "True", "Starving": "True"}},
		{"deleted with bound pods: blocked", []metav1.Condition{valid}, true, Result{BoundPods: 3, BoundWorkloads: 2}, []string{EventDeletionBlocked}, map[string]metav1.ConditionStatus{"Valid": "True", "DeletionBlocked": "True"}},
		{"deleted, pods gone: condition removed", []metav1.Condition{valid, {Type: "DeletionBlocked", Status: "True", Reason: ReasonWorkloadsRunning, LastTransitionTime: now}}, true, Result{}, nil, map[string]metav1.ConditionStatus{"Valid": "True"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			queue := q("research", "org", 1, nil, nil)
			queue.Status.Conditions = tt.conditions
			queue.Finalizers = []string{gantryv1alpha1.QueueInUseFinalizer}
			if tt.deleting {
				queue.DeletionTimestamp = &deleted
			}
			st, events := DesiredStatus(queue, &tt.result, now)
			var reasons []string
			for _, e := range events {
				reasons = append(reasons, e.Reason)
			}
			if strings.Join(reasons, ",") != strings.Join(tt.wantEvents, ",") {
				t.Errorf("events %v, want %v", events, tt.wantEvents)
			}
			got := map[string]metav1.ConditionStatus{}
			for _, c := range st.Conditions {
				got[c.Type] = c.Status
			}
			if len(got) != len(tt.wantConds) {
				t.Errorf("conditions %v, want %v", got, tt.wantConds)
			}
			for k, v := range tt.wantConds {
				if got[k] != v {
					t.Errorf("conditions %v, want %v", got, tt.wantConds)
				}
			}
			if tt.deleting && tt.result.BoundPods > 0 && (len(events) == 0 || events[0].Message != "3 pods of 2 workloads still run in queue research") {
				t.Errorf("deletion event %+v", events)
			}
		})
	}
}

func TestMeter(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 11, 0, 0, 0, time.UTC)
	var m Meter
	steps := []struct {
		at   time.Duration
		use  map[string]GPUUse
		want map[string]GPUUse
	}{
		{0, map[string]GPUUse{"research": {8, 4}}, map[string]GPUUse{}},
		// 10 s at 8 guaranteed + 4 borrowed; the new use counts from now.
		{10 * time.Second, map[string]GPUUse{"research": {8, 0}, "inference": {2, 0}}, map[string]GPUUse{"research": {80, 40}}},
		{15 * time.Second, map[string]GPUUse{"inference": {2, 0}}, map[string]GPUUse{"research": {40, 0}, "inference": {10, 0}}},
		// The clock went back: nothing charged, nothing lost later.
		{12 * time.Second, map[string]GPUUse{"inference": {2, 0}}, map[string]GPUUse{}},
		{20 * time.Second, map[string]GPUUse{}, map[string]GPUUse{"inference": {10, 0}}},
	}
	for i, s := range steps {
		got := m.Advance(t0.Add(s.at), s.use)
		if len(got) != len(s.want) {
			t.Errorf("step %d: charged %v, want %v", i, got, s.want)
			continue
		}
		for q, w := range s.want {
			if g := got[q]; math.Abs(g.Guaranteed-w.Guaranteed) > 1e-9 || math.Abs(g.Borrowed-w.Borrowed) > 1e-9 {
				t.Errorf("step %d: charged %v, want %v", i, got, s.want)
			}
		}
	}
}

func TestGPUUseOf(t *testing.T) {
	tests := []struct {
		allocated, guaranteed string
		want                  GPUUse
	}{
		{"12", "8", GPUUse{8, 4}},
		{"4", "8", GPUUse{4, 0}},
		{"4", "", GPUUse{0, 4}},
		{"", "8", GPUUse{0, 0}},
	}
	for _, tt := range tests {
		var a, g corev1.ResourceList
		if tt.allocated != "" {
			a = list(gpus(tt.allocated))
		}
		if tt.guaranteed != "" {
			g = list(gpus(tt.guaranteed))
		}
		if got := GPUUseOf(a, g); got != tt.want {
			t.Errorf("GPUUseOf(%s, %s) = %+v, want %+v", tt.allocated, tt.guaranteed, got, tt.want)
		}
	}
}

// TestWorkloadOfAndRequests: the queue rule itself is gantryv1alpha1.QueueOf,
// tested there; this package reads the pod's queue through it.
func TestWorkloadOfAndRequests(t *testing.T) {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "n", Name: "p", Labels: map[string]string{"scheduling.x-k8s.io/pod-group": "g"}}}
	p.Spec.Containers = []corev1.Container{{Resources: corev1.ResourceRequirements{
		Limits:   list(map[string]string{"nvidia.com/gpu": "2"}),
		Requests: list(map[string]string{"cpu": "500m", "memory": "1Gi"}),
	}}}
	p.Labels[gantryv1alpha1.QueueLabel] = "pod"
	if got := queueOf(p, map[string]string{gantryv1alpha1.QueueLabel: "pg"}, nil); got != "pod" {
		t.Errorf("pod label: queue %s", got)
	}
	if got := WorkloadOf(p); got != "podgroup/n/g" {
		t.Errorf("WorkloadOf = %s", got)
	}
	r := Requests(p)
	for res, want := range map[corev1.ResourceName]string{"nvidia.com/gpu": "2", "cpu": "500m", "memory": "1Gi"} {
		if v := r[res]; v.Cmp(resource.MustParse(want)) != 0 {
			t.Errorf("Requests %s = %s, want %s", res, v.String(), want)
		}
	}
}
