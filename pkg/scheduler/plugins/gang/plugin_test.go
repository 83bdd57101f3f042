package gang

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/utils/ptr"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantrynames "github.com/gantry-gpu/gantry/pkg/scheduler/plugins/names"
)

func TestPreEnqueue(t *testing.T) {
	finished := gangPod("g-done", "g", 1)
	finished.Status.Phase = v1.PodSucceeded
	deleting := gangPod("g-deleting", "g", 1)
	deleting.DeletionTimestamp = ptr.To(metav1.Now())
	gated := gangPod("g-gated", "g", 1)
	gated.Spec.SchedulingGates = []v1.PodSchedulingGate{{Name: "example.com/hold"}}
	cases := []struct {
		name    string
		groups  []*schedv1alpha1.PodGroup
		pods    []*v1.Pod
		pod     *v1.Pod
		wantMsg string // "" to pass
	}{{
		name: "pods outside gangs pass",
		pod:  gangPod("plain", "", 1),
	}, {
		name:    "no PodGroup",
		pods:    makeGang("g", 4, 1),
		pod:     makeGang("g", 1, 1)[0],
		wantMsg: "PodGroup ns/g not found",
	}, {
		name:    "fewer pods than minMember",
		groups:  []*schedv1alpha1.PodGroup{podGroup("g", 4, t0)},
		pods:    makeGang("g", 3, 1),
		pod:     makeGang("g", 1, 1)[0],
		wantMsg: "gang ns/g has 3 of minMember 4 pods",
	}, {
		name:    "finished, deleted and gated pods do not count",
		groups:  []*schedv1alpha1.PodGroup{podGroup("g", 4, t0)},
		pods:    append(makeGang("g", 3, 1), finished, deleting, gated),
		pod:     makeGang("g", 1, 1)[0],
		wantMsg: "gang ns/g has 3 of minMember 4 pods",
	}, {
		name:   "bound pods count",
		groups: []*schedv1alpha1.PodGroup{podGroup("g", 4, t0)},
		pods:   append(makeGang("g", 3, 1), boundTo(gangPod("g-old", "g", 1), "n0")),
		pod:    makeGang("g", 1, 1)[0],
	}, {
		name:   "minMember pods",
		groups: []*schedv1alpha1.PodGroup{podGroup("g", 4, t0)},
		pods:   makeGang("g", 4, 1),
		pod:    makeGang("g", 1, 1)[0],
	}, {
		// A member for another scheduler: the gang could only be placed
		// in part by each scheduler, so neither takes it.
		name:   "pods of the gang name other schedulers",
		groups: []*schedv1alpha1.PodGroup{podGroup("g", 4, t0)},
		pods: func() []*v1.Pod {
			pods := makeGang("g", 4, 1)
			pods[3].Spec.SchedulerName = "default-scheduler"
			return append(pods, boundTo(func() *v1.Pod { p := gangPod("g-bound", "g", 1); p.Spec.SchedulerName = "another"; return p }(), "n0"))
		}(),
		pod:     makeGang("g", 1, 1)[0],
		wantMsg: "gang ns/g: pods g-3 (default-scheduler) name another scheduler; every pod of a gang must have the same schedulerName",
	}, {
		name:    "a PodGroup of another namespace is not the pod's",
		groups:  []*schedv1alpha1.PodGroup{func() *schedv1alpha1.PodGroup { pg := podGroup("g", 1, t0); pg.Namespace = "other"; return pg }()},
		pods:    makeGang("g", 1, 1),
		pod:     makeGang("g", 1, 1)[0],
		wantMsg: "PodGroup ns/g not found",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, nil, tc.groups, tc.pods...)
			s := e.pl.PreEnqueue(e.ctx(t), tc.pod)
			if tc.wantMsg == "" {
				if !s.IsSuccess() {
					t.Fatalf("PreEnqueue = %v, want success", s)
				}
				return
			}
			if s.Code() != fwk.UnschedulableAndUnresolvable || s.Message() != tc.wantMsg {
				t.Errorf("PreEnqueue = %v %q, want UnschedulableAndUnresolvable %q", s.Code(), s.Message(), tc.wantMsg)
			}
		})
	}
}

func queued(t *testing.T, p *v1.Pod, ts time.Time) fwk.QueuedEntityInfo {
	t.Helper()
	pi, err := framework.NewPodInfo(p)
	if err != nil {
		t.Fatal(err)
	}
	return &framework.QueuedPodInfo{PodInfo: pi, QueueingParams: framework.QueueingParams{Timestamp: ts}}
}

func TestLessOrdersGangsTogether(t *testing.T) {
	e := newTestEnv(t, nil, []*schedv1alpha1.PodGroup{podGroup("old", 2, t0), podGroup("young", 2, t0.Add(time.Minute))})
	urgent := gangPod("urgent", "", 0)
	urgent.Spec.Priority = ptr.To[int32](1000)
	orphan := gangPod("orphan", "missing", 0)
	queue := []fwk.QueuedEntityInfo{
		queued(t, gangPod("young-0", "young", 1), t0.Add(2*time.Minute)),
		queued(t, gangPod("plain", "", 1), t0.Add(30*time.Second)),
		queued(t, gangPod("old-1", "old", 1), t0.Add(5*time.Minute)),
		queued(t, urgent, t0.Add(time.Hour)),
		queued(t, gangPod("young-1", "young", 1), t0.Add(time.Second)),
		queued(t, orphan, t0.Add(90*time.Second)),
		queued(t, gangPod("old-0", "old", 1), t0.Add(3*time.Minute)),
	}
	slices.SortFunc(queue, func(a, b fwk.QueuedEntityInfo) int {
		switch {
		case e.pl.Less(a, b):
			return -1
		case e.pl.Less(b, a):
			return 1
		}
		return 0
	})
	var got []string
	for _, q := range queue {
		got = append(got, q.(queuedPod).GetPodInfo().GetPod().Name)
	}
	// Priority first; then gangs by their PodGroup's age, whatever their
	// pods' own queue times; plain pods (and a pod whose PodGroup is
	// missing) by their queue times.
	want := []string{"urgent", "old-0", "old-1", "plain", "young-0", "young-1", "orphan"}
	if !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

func preFilter(t *testing.T, e *testEnv, p *v1.Pod, nodes []fwk.NodeInfo) (string, *fwk.Status, fwk.CycleState) {
	t.Helper()
	cs := framework.NewCycleState()
	r, s := e.pl.PreFilter(e.ctx(t), cs, p, nodes)
	if !s.IsSuccess() {
		return "", s, cs
	}
	if r.AllNodes() || r.NodeNames.Len() != 1 {
		t.Fatalf("PreFilter result %v, want one node", r)
	}
	return sets.List(r.NodeNames)[0], s, cs
}

func TestPreFilterPlansTheWholeGang(t *testing.T) {
	g := makeGang("g", 3, 4)
	e := newTestEnv(t, nil, []*schedv1alpha1.PodGroup{podGroup("g", 3, t0)}, g...)
	// Four 4-GPU nodes, one of them half used.
	nodes := append(gpuNodes(3, 4), gpuNode("busy", 4, nil, boundTo(gangPod("other", "", 2), "busy")))

	if _, s, _ := preFilter(t, e, gangPod("plain", "", 1), nodes); s.Code() != fwk.Skip {
		t.Errorf("pod outside gangs: %v, want Skip", s)
	}
	seen := sets.New[string]()
	for _, p := range g {
		node, s, cs := preFilter(t, e, p, nodes)
		if !s.IsSuccess() {
			t.Fatalf("PreFilter(%s) = %v", p.Name, s)
		}
		if seen.Has(node) || node == "busy" {
			t.Errorf("%s planned on %s; planned so far %v", p.Name, node, sets.List(seen))
		}
		seen.Insert(node)
		// Filter keeps the member to its node.
		for _, ni := range nodes {
			got := e.pl.Filter(e.ctx(t), cs, p, ni)
			if (ni.Node().Name == node) != got.IsSuccess() {
				t.Errorf("Filter(%s, %s) = %v", p.Name, ni.Node().Name, got)
			}
		}
		e.pl.Reserve(e.ctx(t), cs, p, node)
	}
	if !e.pl.book.HasPlan("ns/g") {
		t.Error("no plan kept")
	}
	if ev := e.h.events(); len(ev) != 0 {
		t.Errorf("events %v for a gang that fits", ev)
	}
}

func TestPreFilterFailsWholeGang(t *testing.T) {
	g := makeGang("g", 3, 8)
	e := newTestEnv(t, &GangArgs{DefaultPermitTimeoutSeconds: 60, ResourceName: "nvidia.com/gpu", TopologyKeys: []string{"rack"}},
		[]*schedv1alpha1.PodGroup{podGroup("g", 3, t0)}, g...)
	nodes := []fwk.NodeInfo{
		gpuNode("a1", 8, map[string]string{"rack": "a"}), gpuNode("a2", 8, map[string]string{"rack": "a"}, boundTo(gangPod("x", "", 4), "a2")),
	}
	_, s, _ := preFilter(t, e, g[0], nodes)
	want := "PodGroup ns/g: gang of 3 pods needs 24 GPUs placed together; the best domain rack=a has 12 free"
	if s.Code() != fwk.UnschedulableAndUnresolvable || s.Message() != want {
		t.Fatalf("PreFilter = %v %q, want UnschedulableAndUnresolvable %q", s.Code(), s.Message(), want)
	}
	if ev := e.h.events(); len(ev) != 1 || !strings.Contains(ev[0], "GangUnschedulable") || !strings.Contains(ev[0], "needs 24 GPUs") {
		t.Errorf("events %v, want one GangUnschedulable", ev)
	}
	// The next member meets the same world: same answer, no new event.
	if _, s, _ := preFilter(t, e, g[1], nodes); s.Message() != want {
		t.Errorf("second member: %q", s.Message())
	}
	if ev := e.h.events(); len(ev) != 0 {
		t.Errorf("events %v repeated for an unchanged failure", ev)
	}
	// Nothing was held.
	if e.pl.book.HasPlan("ns/g") {
		t.Error("a failed gang keeps a plan")
	}
}

func TestPreFilterTooFewMembers(t *testing.T) {
	// PreEnqueue let the pods in, then one was deleted.
	g := makeGang("g", 2, 1)
	e := newTestEnv(t, nil, []*schedv1alpha1.PodGroup{podGroup("g", 3, t0)}, g...)
	_, s, _ := preFilter(t, e, g[0], gpuNodes(2, 4))
	if s.Code() != fwk.UnschedulableAndUnresolvable || s.Message() != "gang ns/g has 2 of minMember 3 pods" {
		t.Errorf("PreFilter = %v", s)
	}
	if _, s, _ := preFilter(t, e, gangPod("lost", "nope", 1), gpuNodes(2, 4)); s.Message() != "PodGroup ns/nope not found" {
		t.Errorf("PreFilter without PodGroup = %v", s)
	}
}

// TestPlansHoldPlacesFromOtherGangs: two gangs that each need three of four
// nodes. The first member of a plans a; b, planned next, must not take a's
// places that a's members have not reserved yet, so b fails whole and holds
// nothing. When a's plan breaks, b is activated and fits.
func TestPlansHoldPlacesFromOtherGangs(t *testing.T) {
	a, b := makeGang("a", 3, 4), makeGang("b", 3, 4)
	e := newTestEnv(t, nil, []*schedv1alpha1.PodGroup{podGroup("a", 3, t0), podGroup("b", 3, t0)}, append(a, b...)...)
	nodes := gpuNodes(4, 4)

	nodeA0, s, csA0 := preFilter(t, e, a[0], nodes)
	if !s.IsSuccess() {
		t.Fatal(s)
	}
	e.pl.Reserve(e.ctx(t), csA0, a[0], nodeA0)
	// The snapshot now has a-0 on its node.
	nodes = []fwk.NodeInfo{}
	for i, ni := range gpuNodes(4, 4) {
		if ni.Node().Name == nodeA0 {
			nodes = append(nodes, gpuNode(ni.Node().Name, 4, nil, boundTo(a[0], nodeA0)))
			continue
		}
		nodes = append(nodes, gpuNodes(4, 4)[i])
	}
	_, s, _ = preFilter(t, e, b[0], nodes)
	if s.Code() != fwk.UnschedulableAndUnresolvable || !strings.Contains(s.Message(), "gang of 3 pods needs 12 GPUs placed together; the best cluster has 4 free") {
		t.Fatalf("b planned through a's holds: %v", s)
	}
	if e.pl.book.HasPlan("ns/b") {
		t.Fatal("b keeps a plan")
	}

	// a-1's planned node turns out not to fit it.
	nodeA1, s, csA1 := preFilter(t, e, a[1], nodes)
	if !s.IsSuccess() {
		t.Fatal(s)
	}
	// a's plan called its siblings in when it was made.
	if want := []string{"ns/a-1", "ns/a-2"}; !slices.Equal(e.h.activated, want) {
		t.Errorf("activated %v, want %v", e.h.activated, want)
	}
	e.h.activated = nil
	waiting := e.h.wait(a[0])
	statuses := framework.NewDefaultNodeToStatus()
	statuses.Set(nodeA1, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "node(s) had untolerated taint"))
	_, s = e.pl.PostFilter(e.ctx(t), csA1, a[1], statuses)
	if s.Code() != fwk.UnschedulableAndUnresolvable || !strings.Contains(s.Message(), "planned node "+nodeA1+" does not fit pod a-1: node(s) had untolerated taint") {
		t.Errorf("PostFilter = %v", s)
	}
	if e.pl.book.HasPlan("ns/a") {
		t.Error("a's broken plan is kept")
	}
	if waiting[0].rejected == "" {
		t.Error("a-0 still waits for a gang whose plan broke")
	}
	// Nothing of a was on that node: a's plans keep off it for a while.
	if c, ok := e.pl.book.Caps("ns/a")[nodeA1]; !ok || c != 0 {
		t.Errorf("caps of a %v, want %s capped at 0", e.pl.book.Caps("ns/a"), nodeA1)
	}
	// a-0's Unreserve is the echo of the rejection: no second round.
	e.pl.Unreserve(e.ctx(t), csA0, a[0], nodeA0)
	// b, blocked by a's holds, was activated.
	if want := []string{"ns/b-0", "ns/b-1", "ns/b-2"}; !slices.Equal(e.h.activated, want) {
		t.Errorf("activated %v, want %v", e.h.activated, want)
	}
	if _, s, _ := preFilter(t, e, b[0], gpuNodes(4, 4)); !s.IsSuccess() {
		t.Errorf("b after a released its places: %v", s)
	}
}

// TestPodsOutsideGangsKeepOffHeldPlaces: while a gang's plan holds places
// for members not placed yet, a pod outside gangs of no higher priority is
// kept off the held GPUs (a node with room besides them still takes it);
// one of a higher priority is not, and once the members reserved their
// places nothing is held.
func TestPodsOutsideGangsKeepOffHeldPlaces(t *testing.T) {
	g := makeGang("g", 2, 4)
	e := newTestEnv(t, nil, []*schedv1alpha1.PodGroup{podGroup("g", 2, t0)}, g...)
	nodes := gpuNodes(3, 4)

	type place struct {
		node string
		cs   fwk.CycleState
	}
	planned := map[string]bool{}
	places := make([]place, len(g))
	for i, p := range g {
		node, s, cs := preFilter(t, e, p, nodes)
		if !s.IsSuccess() {
			t.Fatalf("PreFilter(%s) = %v", p.Name, s)
		}
		planned[node] = true
		places[i] = place{node, cs}
	}
	plain := gangPod("plain", "", 1)
	cs := framework.NewCycleState()
	if _, s := e.pl.PreFilter(e.ctx(t), cs, plain, nodes); !s.IsSuccess() {
		t.Fatalf("PreFilter(plain) with places held = %v, want Success", s)
	}
	for _, ni := range nodes {
		name := ni.Node().Name
		st := e.pl.Filter(e.ctx(t), cs, plain, ni)
		if planned[name] {
			if st.Code() != fwk.UnschedulableAndUnresolvable || !strings.Contains(st.Message(), "node's free nvidia.com/gpu held for gang ns/g (4 held, 4 free)") {
				t.Errorf("Filter(plain, %s) = %v, want the held GPUs named", name, st)
			}
		} else if !st.IsSuccess() {
			t.Errorf("Filter(plain, %s) = %v, want Success", name, st)
		}
	}

	urgent := gangPod("urgent", "", 1)
	urgent.Spec.Priority = ptr.To[int32](1000)
	if _, s, _ := preFilter(t, e, urgent, nodes); s.Code() != fwk.Skip {
		t.Errorf("PreFilter(urgent) = %v, want Skip: a higher priority may take held places", s)
	}

	for i, p := range g {
		e.pl.Reserve(e.ctx(t), places[i].cs, p, places[i].node)
	}
	if _, s, _ := preFilter(t, e, plain, nodes); s.Code() != fwk.Skip {
		t.Errorf("PreFilter(plain) once the members reserved = %v, want Skip", s)
	}

	// A hold of 4 GPUs on an 8-GPU node leaves 4 to others.
	h := makeGang("h", 1, 4)
	e = newTestEnv(t, nil, []*schedv1alpha1.PodGroup{podGroup("h", 1, t0)}, h...)
	big := []fwk.NodeInfo{gpuNode("big", 8, nil)}
	if _, s, _ := preFilter(t, e, h[0], big); !s.IsSuccess() {
		t.Fatalf("PreFilter(h-0) = %v", s)
	}
	for gpus, want := range map[int64]fwk.Code{4: fwk.Success, 5: fwk.UnschedulableAndUnresolvable} {
		p := gangPod(fmt.Sprintf("plain-%d", gpus), "", gpus)
		cs := framework.NewCycleState()
		if _, s := e.pl.PreFilter(e.ctx(t), cs, p, big); !s.IsSuccess() {
			t.Fatalf("PreFilter(%s) = %v", p.Name, s)
		}
		if st := e.pl.Filter(e.ctx(t), cs, p, big[0]); st.Code() != want {
			t.Errorf("Filter(%s, big) with 4 of 8 GPUs held = %v, want %v", p.Name, st, want)
		}
	}
}

func TestPreFilterReplansAfterAFailedAttempt(t *testing.T) {
	g := makeGang("g", 2, 4)
	e := newTestEnv(t, nil, []*schedv1alpha1.PodGroup{podGroup("g", 2, t0)}, g...)
	nodes := gpuNodes(2, 4)
	first, s, _ := preFilter(t, e, g[0], nodes)
	if !s.IsSuccess() {
		t.Fatal(s)
	}
	// g-0 comes back without Reserve (its attempt failed where this
	// plugin did not see it): the plan is made again, with the same
	// snapshot the same place.
	again, s, _ := preFilter(t, e, g[0], nodes)
	if !s.IsSuccess() || again != first {
		t.Errorf("second attempt: %q %v, want %q", again, s, first)
	}
}

func TestPreFilterExtraMembers(t *testing.T) {
	// Five pods, minMember 3, room for three 4-GPU pods.
	g := makeGang("g", 5, 4)
	e := newTestEnv(t, nil, []*schedv1alpha1.PodGroup{podGroup("g", 3, t0)}, g...)
	nodes := gpuNodes(3, 4)
	placed := 0
	var leftOut []string
	for _, p := range g {
		node, s, cs := preFilter(t, e, p, nodes)
		switch {
		case s.IsSuccess():
			placed++
			e.pl.Reserve(e.ctx(t), cs, p, node)
		case strings.Contains(s.Message(), "has no room for this one"):
			leftOut = append(leftOut, p.Name)
		default:
			t.Fatalf("PreFilter(%s) = %v", p.Name, s)
		}
	}
	if placed != 3 || len(leftOut) != 2 {
		t.Errorf("placed %d, left out %v; want 3 and 2", placed, leftOut)
	}
}

func TestPreFilterKeepsToEligibleNodes(t *testing.T) {
	g := makeGang("g", 2, 4)
	for _, p := range g {
		p.Spec.NodeSelector = map[string]string{"pool": "train"}
	}
	e := newTestEnv(t, nil, []*schedv1alpha1.PodGroup{podGroup("g", 2, t0)}, g...)
	train := map[string]string{"pool": "train"}
	tainted := gpuNode("tainted", 4, train)
	tainted.Node().Spec.Taints = []v1.Taint{{Key: "dedicated", Value: "x", Effect: v1.TaintEffectNoSchedule}}
	cordoned := gpuNode("cordoned", 4, train)
	cordoned.Node().Spec.Unschedulable = true
	nodes := []fwk.NodeInfo{gpuNode("other", 8, nil), tainted, cordoned, gpuNode("t1", 4, train), gpuNode("t2", 4, train)}
	got := sets.New[string]()
	for _, p := range g {
		node, s, _ := preFilter(t, e, p, nodes)
		if !s.IsSuccess() {
			t.Fatal(s)
		}
		got.Insert(node)
	}
	if !got.Equal(sets.New("t1", "t2")) {
		t.Errorf("planned on %v, want t1 and t2", sets.List(got))
	}
}

func TestPermit(t *testing.T) {
	cases := []struct {
		name        string
		minMember   int32
		timeout     *int32
		bound       int // of the gang's other pods
		reserved    int // past Reserve, not waiting (binding)
		waiting     int
		wantWait    bool
		wantTimeout time.Duration
	}{
		{name: "first of three waits, default timeout", minMember: 3, wantWait: true, wantTimeout: 60 * time.Second},
		{name: "PodGroup's timeout", minMember: 3, timeout: ptr.To[int32](7), waiting: 1, wantWait: true, wantTimeout: 7 * time.Second},
		{name: "last of three lets the waiting go", minMember: 3, waiting: 2},
		{name: "bound members count", minMember: 3, bound: 2},
		{name: "binding members count", minMember: 4, bound: 1, reserved: 1, waiting: 1},
		{name: "one short", minMember: 4, bound: 1, waiting: 1, wantWait: true, wantTimeout: 60 * time.Second},
		{name: "gang of one", minMember: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := makeGang("g", 1+tc.bound+tc.reserved+tc.waiting, 1)
			pg := podGroup("g", tc.minMember, t0)
			pg.Spec.ScheduleTimeoutSeconds = tc.timeout
			var pods []*v1.Pod
			for i, p := range g {
				if i >= 1 && i <= tc.bound {
					p = boundTo(p, "n0")
				}
				pods = append(pods, p)
			}
			e := newTestEnv(t, nil, []*schedv1alpha1.PodGroup{pg}, pods...)
			self := pods[0]
			cs := framework.NewCycleState()
			for _, p := range pods[1+tc.bound:] {
				e.pl.Reserve(e.ctx(t), cs, p, "n0")
			}
			e.pl.Reserve(e.ctx(t), cs, self, "n0")
			waiting := e.h.wait(pods[1+tc.bound+tc.reserved:]...)
			// Pods of other gangs wait too and are left alone.
			other := e.h.wait(gangPod("x-0", "x", 1))

			s, timeout := e.pl.Permit(e.ctx(t), cs, self, "n0")
			if tc.wantWait {
				if s.Code() != fwk.Wait || timeout != tc.wantTimeout {
					t.Errorf("Permit = %v, %v; want Wait, %v", s, timeout, tc.wantTimeout)
				}
				for _, w := range waiting {
					if w.allowed {
						t.Errorf("%s allowed before the gang is placed", w.pod.Name)
					}
				}
				return
			}
			if !s.IsSuccess() {
				t.Fatalf("Permit = %v, want success", s)
			}
			for _, w := range waiting {
				if !w.allowed {
					t.Errorf("%s not allowed with its gang", w.pod.Name)
				}
			}
			if other[0].allowed {
				t.Error("another gang's pod allowed")
			}
		})
	}
}

func TestUnreserveReleasesTheGang(t *testing.T) {
	g := makeGang("g", 3, 1)
	pg := podGroup("g", 3, t0)
	pg.Spec.ScheduleTimeoutSeconds = ptr.To[int32](10)
	e := newTestEnv(t, nil, []*schedv1alpha1.PodGroup{pg}, g...)
	nodes := gpuNodes(3, 4)
	cs := make([]fwk.CycleState, 3)
	for i, p := range g[:2] {
		var node string
		var s *fwk.Status
		node, s, cs[i] = preFilter(t, e, p, nodes)
		if !s.IsSuccess() {
			t.Fatal(s)
		}
		e.pl.Reserve(e.ctx(t), cs[i], p, node)
		if s, _ := e.pl.Permit(e.ctx(t), cs[i], p, node); s.Code() != fwk.Wait {
			t.Fatalf("Permit(%s) = %v", p.Name, s)
		}
	}
	waiting := e.h.wait(g[0], g[1])
	other := e.h.wait(gangPod("x-0", "x", 1))

	// g-0's wait runs out: the framework rejects it and unreserves it.
	e.advance(10 * time.Second)
	waiting[0].rejected = "rejected due to timeout after waiting 10s at plugin GantryGang"
	e.pl.Unreserve(e.ctx(t), cs[0], g[0], "n0")
	if !strings.Contains(waiting[1].rejected, "gang ns/g: waited 10s in Permit without minMember 3 members placed") {
		t.Errorf("g-1 rejected with %q", waiting[1].rejected)
	}
	if other[0].rejected != "" {
		t.Error("another gang's pod rejected")
	}
	if e.pl.book.HasPlan("ns/g") {
		t.Error("plan kept after the gang timed out")
	}
	if ev := e.h.events(); len(ev) != 1 || !strings.Contains(ev[0], "GangReleased") || !strings.Contains(ev[0], "released 1 waiting members") {
		t.Errorf("events %v", ev)
	}
	if e.pl.book.Reserved("ns/g", string(g[0].UID)) {
		t.Error("g-0 still counted as reserved")
	}
	// g-1's Unreserve is the echo: it rejects nothing more, and a new
	// plan made meanwhile survives it.
	if _, s, _ := preFilter(t, e, g[2], nodes); !s.IsSuccess() {
		t.Fatal(s)
	}
	late := e.h.wait(g[2])
	e.pl.Unreserve(e.ctx(t), cs[1], g[1], "n0")
	if late[0].rejected != "" || !e.pl.book.HasPlan("ns/g") {
		t.Errorf("the echo of a rejection released the gang again: rejected %q, plan %v", late[0].rejected, e.pl.book.HasPlan("ns/g"))
	}
	// A member that fails to bind after the gang was let go is news.
	e.pl.Reserve(e.ctx(t), cs[1], g[1], "n0")
	e.pl.Unreserve(e.ctx(t), cs[1], g[1], "n0")
	if !strings.Contains(late[0].rejected, "member g-1 left before the gang was placed whole") {
		t.Errorf("g-2 rejected with %q", late[0].rejected)
	}
}

func TestQueueingHints(t *testing.T) {
	pod := gangPod("g-0", "g", 1)
	e := newTestEnv(t, nil, nil, pod)
	logger := klog.Background()

	// The informer's store has a PodGroup before any handler hears of it.
	pg := podGroup("g", 1, t0)
	if err := e.groups.Add(pg); err != nil {
		t.Fatal(err)
	}
	if h, err := e.pl.isSchedulableAfterPodGroupChange(logger, pod, nil, pg); err != nil || h != fwk.Queue {
		t.Errorf("PodGroup g added: %v, %v", h, err)
	}
	if s := e.pl.PreEnqueue(e.ctx(t), pod); !s.IsSuccess() {
		t.Errorf("PreEnqueue after the hint: %v", s)
	}
	other := podGroup("h", 1, t0)
	if h, _ := e.pl.isSchedulableAfterPodGroupChange(logger, pod, nil, other); h != fwk.QueueSkip {
		t.Errorf("another PodGroup added: %v", h)
	}

	cases := []struct {
		name string
		fn   fwk.QueueingHintFn
		old  any
		new  any
		want fwk.QueueingHint
	}{
		{"sibling added", e.pl.isSchedulableAfterPodAdd, nil, gangPod("g-1", "g", 1), fwk.Queue},
		{"pod of another gang added", e.pl.isSchedulableAfterPodAdd, nil, gangPod("h-1", "h", 1), fwk.QueueSkip},
		{"plain pod added", e.pl.isSchedulableAfterPodAdd, nil, gangPod("p", "", 1), fwk.QueueSkip},
		{"assigned pod deleted", e.pl.isSchedulableAfterPodDelete, boundTo(gangPod("p", "", 1), "n0"), nil, fwk.Queue},
		{"pending pod deleted", e.pl.isSchedulableAfterPodDelete, gangPod("p", "", 1), nil, fwk.QueueSkip},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if h, err := tc.fn(logger, pod, tc.old, tc.new); err != nil || h != tc.want {
				t.Errorf("hint = %v, %v; want %v", h, err, tc.want)
			}
		})
	}
}

var errTest = errors.New("test")

func TestCapAfter(t *testing.T) {
	cases := []struct {
		status *fwk.Status
		want   bool
	}{
		{fwk.NewStatus(fwk.Unschedulable, "Insufficient nvidia.com/gpu").WithPlugin("NodeResourcesFit"), false},
		{fwk.NewStatus(fwk.Unschedulable, "node has 2 free healthy GPUs, pod needs 4").WithPlugin(gantrynames.GPUTopology), false},
		{fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "node has 2 healthy GPUs, pod needs 4").WithPlugin(gantrynames.GPUTopology), true},
		{fwk.NewStatus(fwk.Unschedulable, "node(s) didn't match pod anti-affinity rules").WithPlugin("InterPodAffinity"), true},
		{fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "node(s) had untolerated taint").WithPlugin("TaintToleration"), false},
		{fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "node(s) had volume node affinity conflict").WithPlugin("VolumeBinding"), true},
		{fwk.AsStatus(errTest).WithPlugin("VolumeBinding"), false},
	}
	for _, tc := range cases {
		if got := capAfter(tc.status); got != tc.want {
			t.Errorf("capAfter(%v from %s) = %v, want %v", tc.status, tc.status.Plugin(), got, tc.want)
		}
	}
}

// TestPostFilterCapsNodesForWhatThePlannerDoesNotModel: members that keep
// off each other's nodes (anti-affinity, unknown to the planner) are first
// planned two to a node; when the second is refused there, the gang's
// plans keep to one member on that node, and the next plan spreads them.
func TestPostFilterCapsNodesForWhatThePlannerDoesNotModel(t *testing.T) {
	g := makeGang("g", 3, 2)
	e := newTestEnv(t, nil, []*schedv1alpha1.PodGroup{podGroup("g", 3, t0)}, g...)
	nodes := gpuNodes(3, 4)
	n0, s, cs0 := preFilter(t, e, g[0], nodes)
	if !s.IsSuccess() {
		t.Fatal(s)
	}
	e.pl.Reserve(e.ctx(t), cs0, g[0], n0)
	nodes = []fwk.NodeInfo{gpuNode(n0, 4, nil, boundTo(g[0], n0))}
	for _, ni := range gpuNodes(3, 4) {
		if ni.Node().Name != n0 {
			nodes = append(nodes, ni)
		}
	}
	n1, s, cs1 := preFilter(t, e, g[1], nodes)
	if !s.IsSuccess() || n1 != n0 {
		t.Fatalf("g-1 planned on %q (%v); the planner packs it beside g-0 on %s", n1, s, n0)
	}
	statuses := framework.NewDefaultNodeToStatus()
	statuses.Set(n1, fwk.NewStatus(fwk.Unschedulable, "node(s) didn't match pod anti-affinity rules").WithPlugin("InterPodAffinity"))
	e.pl.PostFilter(e.ctx(t), cs1, g[1], statuses)
	if got := e.pl.book.Caps("ns/g"); got[n0] != 1 {
		t.Fatalf("caps %v, want %s capped at the one member it holds", got, n0)
	}
	// g-0 stays reserved (the fake framework does not unreserve it).
	for _, p := range g[1:] {
		n, s, _ := preFilter(t, e, p, nodes)
		if !s.IsSuccess() || n == n0 {
			t.Errorf("%s planned on %q (%v), want off %s", p.Name, n, s, n0)
		}
	}
}

// TestPermitDoesNotCountLeavingMembers: members that are on their way out
// but whose Unreserve has not run yet (rejected by the gang, their wait run
// out, deleted) must not make up a quorum, or the rest would be bound
// without them.
func TestPermitDoesNotCountLeavingMembers(t *testing.T) {
	cases := []struct {
		name  string
		leave func(e *testEnv, p *v1.Pod)
	}{
		{"rejected by the gang", func(e *testEnv, p *v1.Pod) { e.pl.book.Rejecting("ns/g", string(p.UID)) }},
		{"wait ran out", func(e *testEnv, _ *v1.Pod) { e.advance(61 * time.Second) }},
		{"deleted", func(e *testEnv, p *v1.Pod) { _ = e.store.Delete(p) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := makeGang("g", 2, 1)
			e := newTestEnv(t, nil, []*schedv1alpha1.PodGroup{podGroup("g", 2, t0)}, g...)
			cs := framework.NewCycleState()
			e.pl.Reserve(e.ctx(t), cs, g[0], "n0")
			if s, _ := e.pl.Permit(e.ctx(t), cs, g[0], "n0"); s.Code() != fwk.Wait {
				t.Fatalf("Permit(g-0) = %v", s)
			}
			waiting := e.h.wait(g[0])
			tc.leave(e, g[0])
			e.pl.Reserve(e.ctx(t), cs, g[1], "n1")
			if s, _ := e.pl.Permit(e.ctx(t), cs, g[1], "n1"); s.Code() != fwk.Wait {
				t.Errorf("Permit(g-1) = %v with g-0 leaving, want Wait", s)
			}
			if waiting[0].allowed {
				t.Error("a leaving member was allowed")
			}
		})
	}
}

// TestMemberRefusedByAnotherPlugin: a member that another PreFilter refuses
// for good (an invalid annotation, say) releases its waiting siblings, and
// the gang is not planned (nor held) again until that member passes.
func TestMemberRefusedByAnotherPlugin(t *testing.T) {
	g := makeGang("g", 3, 1)
	e := newTestEnv(t, nil, []*schedv1alpha1.PodGroup{podGroup("g", 3, t0)}, g...)
	nodes := gpuNodes(3, 4)
	node, s, cs := preFilter(t, e, g[0], nodes)
	if !s.IsSuccess() {
		t.Fatal(s)
	}
	e.pl.Reserve(e.ctx(t), cs, g[0], node)
	waiting := e.h.wait(g[0])

	// g-2 is refused before this plugin's PreFilter runs: no cycle state.
	refused := fwk.NewStatus(fwk.UnschedulableAndUnresolvable, `annotation gantry.dev/min-gpu-link: "fast" is not a GPU link type`)
	statuses := framework.NewDefaultNodeToStatus()
	statuses.SetAbsentNodesStatus(refused)
	_, s = e.pl.PostFilter(e.ctx(t), framework.NewCycleState(), g[2], statuses)
	if s.Code() != fwk.UnschedulableAndUnresolvable || !strings.Contains(s.Message(), "member g-2 cannot be scheduled") {
		t.Errorf("PostFilter = %v", s)
	}
	if waiting[0].rejected == "" || e.pl.book.HasPlan("ns/g") {
		t.Fatalf("gang not released: g-0 rejected %q, plan %v", waiting[0].rejected, e.pl.book.HasPlan("ns/g"))
	}
	e.pl.Unreserve(e.ctx(t), cs, g[0], node)

	// The others are refused at once, holding nothing.
	_, s, _ = preFilter(t, e, g[1], nodes)
	if s.Code() != fwk.UnschedulableAndUnresolvable || !strings.Contains(s.Message(), "pod g-2 cannot be scheduled: annotation") {
		t.Errorf("PreFilter(g-1) = %v", s)
	}
	// Once g-2 gets past the other plugins, the gang is planned again.
	if _, s, _ := preFilter(t, e, g[2], nodes); !s.IsSuccess() {
		t.Errorf("PreFilter(g-2) after it was fixed = %v", s)
	}
	if _, s, _ := preFilter(t, e, g[1], nodes); !s.IsSuccess() {
		t.Errorf("PreFilter(g-1) after g-2 was fixed = %v", s)
	}
}
