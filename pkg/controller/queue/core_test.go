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
	"github.com/gantry-gpu/gantry/pkg/queuemodel"
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

func pod(queue, workload string, bound bool, gpu string) queuemodel.Pod {
	return queuemodel.Pod{Queue: queue, Workload: workload, Bound: bound, Requests: list(gpus(gpu))}
}

func TestEvaluate(t *testing.T) {
	queues := []*gantryv1alpha1.Queue{
		q("org", "", 1, nil, gpus("48")),
		q("research", "org", 3, gpus("8"), gpus("32")),
		q("inference", "org", 1, gpus("8"), nil),
		q("lost", "nowhere", 1, gpus("8"), nil),
	}
	pods := []queuemodel.Pod{
		pod("research", "podgroup/r/a", true, "4"),
		pod("research", "podgroup/r/a", true, "4"),
		pod("research", "podgroup/r/a", false, "4"),
		pod("research", "pod/r/b", true, "4"),
		pod("research", "pod/r/c", false, "2"),
		pod("inference", "pod/i/x", false, "8"),
		pod("ghost", "pod/i/y", true, "8"), // no such queue
		pod("lost", "pod/l/z", true, "1"),
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

// TestEvaluateSurvivesACycle: a parent cycle is reported, gets no fair
// share, and its usage counts as the scheduler counts it: around the loop
// once (queuemodel.Tree.Rollup).
func TestEvaluateSurvivesACycle(t *testing.T) {
	queues := []*gantryv1alpha1.Queue{q("a", "b", 1, nil, nil), q("b", "a", 1, nil, nil)}
	got := Evaluate(Snapshot{Queues: queues, Pods: []queuemodel.Pod{pod("a", "pod/n/p", true, "1")}})
	if len(got) != 2 || len(got["a"].Problems) != 1 {
		t.Fatalf("Evaluate = %+v", got)
	}
	for _, name := range []string{"a", "b"} {
		st := got[name].Status
		if a := st.Allocated[GPUResource]; a.Value() != 1 || st.FairShare != nil {
			t.Errorf("%s: allocated %s, fair share %v; want 1 and none", name, a.String(), st.FairShare)
		}
	}
	if got["a"].BoundPods != 1 || got["b"].BoundPods != 0 {
		t.Errorf("bound pods a %d, b %d; want 1 and 0 (its own only)", got["a"].BoundPods, got["b"].BoundPods)
	}
}

func TestDesiredStatus(t *testing.T) {
	now := metav1.NewTime(time.Date(2025, 1, 1, 11, 0, 0, 0, time.UTC))
	problem := queuemodel.Problem{Reason: queuemodel.ReasonParentNotFound, Message: "queue research names parent org, which does not exist"}
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
		{"becomes invalid: a warning", []metav1.Condition{valid}, false, Result{Problems: []queuemodel.Problem{problem}}, []string{queuemodel.ReasonParentNotFound}, map[string]metav1.ConditionStatus{"Valid": "False"}},
		{"still invalid, same facts: no event", []metav1.Condition{invalid}, false, Result{Problems: []queuemodel.Problem{problem}}, nil, map[string]metav1.ConditionStatus{"Valid": "False"}},
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
