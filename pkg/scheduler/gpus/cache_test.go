package gpus

import (
	"sync"
	"testing"

	"github.com/gantry-gpu/gantry/pkg/scheduler/gpus/gpustest"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	gantrylisters "github.com/gantry-gpu/gantry/pkg/generated/listers/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// allocated returns the node's allocated set, or fails the test if the node
// has no usable NodeGPU.
func allocated(t testing.TB, c *Cache, node string) gpu.Set {
	t.Helper()
	st, ok := c.Node(node)
	if !ok {
		t.Fatalf("node %s has no usable NodeGPU in the cache", node)
	}
	return st.Allocated
}

func TestCacheNodeGPU(t *testing.T) {
	tests := []struct {
		name          string
		ng            *gantryv1alpha1.NodeGPU
		wantHealthy   gpu.Set
		wantAllocated gpu.Set
	}{
		{
			name:        "all healthy and free",
			ng:          gpustest.NodeGPU("n", "1", gpustest.NVSwitchSpec("n", 8), nil, nil),
			wantHealthy: gpustest.Positions(0, 1, 2, 3, 4, 5, 6, 7),
		},
		{
			name:        "unhealthy GPUs are left out of the healthy set",
			ng:          gpustest.NodeGPU("n", "1", gpustest.NVSwitchSpec("n", 8), []int{2, 5}, nil),
			wantHealthy: gpustest.Positions(0, 1, 3, 4, 6, 7),
		},
		{
			name:          "reported allocations are allocated",
			ng:            gpustest.NodeGPU("n", "1", gpustest.NVSwitchSpec("n", 8), nil, map[int]string{0: "a", 1: "a", 7: "b"}),
			wantHealthy:   gpustest.Positions(0, 1, 2, 3, 4, 5, 6, 7),
			wantAllocated: gpustest.Positions(0, 1, 7),
		},
		{
			name: "health and allocations of GPUs that are not listed are ignored",
			ng: func() *gantryv1alpha1.NodeGPU {
				ng := gpustest.NodeGPU("n", "1", gpustest.NVSwitchSpec("n", 4), []int{9}, map[int]string{12: "a"})
				return ng
			}(),
			wantHealthy: gpustest.Positions(0, 1, 2, 3),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t)
			c.SetNodeGPU(tt.ng)
			st, ok := c.Node("n")
			if !ok {
				t.Fatal("node not in the cache")
			}
			if st.Healthy != tt.wantHealthy || st.Allocated != tt.wantAllocated {
				t.Errorf("healthy %v allocated %v, want %v and %v", st.Healthy, st.Allocated, tt.wantHealthy, tt.wantAllocated)
			}
		})
	}
}

func TestCacheIgnoresMalformedNodeGPU(t *testing.T) {
	badLink := gpustest.NodeGPU("bad-link", "1", gpustest.NVSwitchSpec("bad-link", 2), nil, nil)
	badLink.Spec.Links = append(badLink.Spec.Links, gantryv1alpha1.GPULink{A: 0, B: 9, Type: gantryv1alpha1.LinkNVLink, NVLinkLanes: 1})
	unknownType := gpustest.NodeGPU("unknown-type", "1", gpustest.NVSwitchSpec("unknown-type", 2), nil, nil)
	unknownType.Spec.Links[0].Type = "Carrier-Pigeon"
	dupUUID := gpustest.NodeGPU("dup-uuid", "1", gpustest.NVSwitchSpec("dup-uuid", 2), nil, nil)
	dupUUID.Spec.GPUs[1].UUID = dupUUID.Spec.GPUs[0].UUID

	tests := []struct {
		name string
		obj  *gantryv1alpha1.NodeGPU
	}{
		{"link to a GPU that is not listed", badLink},
		{"unknown link type", unknownType},
		{"duplicate UUID", dupUUID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, logs := newTestCache(t)
			name := tt.obj.Name
			// A node with a good NodeGPU first: the bad update must take
			// it back to "no NodeGPU", not keep stale data.
			c.SetNodeGPU(gpustest.NodeGPU(name, "0", gpustest.NVSwitchSpec(name, 2), nil, nil))
			if !c.SetNodeGPU(tt.obj) {
				t.Fatal("the object was not applied")
			}
			if _, ok := c.Node(name); ok {
				t.Error("a malformed NodeGPU is in use")
			}
			if !logs.contains("Ignoring malformed NodeGPU") {
				t.Error("the malformed NodeGPU was not logged")
			}
			// The other nodes are unaffected.
			c.SetNodeGPU(gpustest.NodeGPU("good", "5", gpustest.NVSwitchSpec("good", 8), nil, nil))
			if _, ok := c.Node("good"); !ok {
				t.Error("a good NodeGPU is not in use after a bad one")
			}
		})
	}
}

// TestCacheRefreshNodeGPU: the cache applies what the informer's store
// holds, whatever object the event carried, so a late event never brings
// back an older copy; the version it holds is not read twice.
func TestCacheRefreshNodeGPU(t *testing.T) {
	c, _ := newTestCache(t)
	store := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{})
	lister := gantrylisters.NewNodeGPULister(store)
	spec := gpustest.NVSwitchSpec("n", 8)
	put := func(ng *gantryv1alpha1.NodeGPU) {
		t.Helper()
		if err := store.Update(ng); err != nil {
			t.Fatal(err)
		}
	}
	put(gpustest.NodeGPU("n", "10", spec, nil, map[int]string{0: "a"}))
	c.RefreshNodeGPU("n", lister)
	if got := allocated(t, c, "n"); got != gpustest.Positions(0) {
		t.Errorf("allocated %v, want {0}", got)
	}
	if c.SetNodeGPU(gpustest.NodeGPU("n", "10", spec, nil, nil)) {
		t.Error("the version held was applied again")
	}
	put(gpustest.NodeGPU("n", "11", spec, nil, map[int]string{1: "b"}))
	c.RefreshNodeGPU("n", lister)
	c.RefreshNodeGPU("n", lister) // a second, late event: same result
	if got := allocated(t, c, "n"); got != gpustest.Positions(1) {
		t.Errorf("allocated %v, want {1}", got)
	}
	if err := store.Delete(gpustest.NodeGPU("n", "11", spec, nil, nil)); err != nil {
		t.Fatal(err)
	}
	c.RefreshNodeGPU("n", lister)
	if _, ok := c.Node("n"); ok {
		t.Fatal("deleted NodeGPU still in use")
	}
	put(gpustest.NodeGPU("n", "13", spec, nil, nil))
	c.RefreshNodeGPU("n", lister)
	if got := allocated(t, c, "n"); got != 0 {
		t.Errorf("recreated NodeGPU: allocated %v, want none", got)
	}
}

func TestCachePods(t *testing.T) {
	spec := gpustest.NVSwitchSpec("n", 8)
	finished := func(p *v1.Pod) *v1.Pod { p.Status.Phase = v1.PodSucceeded; return p }
	terminating := func(p *v1.Pod) *v1.Pod { p.DeletionTimestamp = &metav1.Time{}; return p }
	foreign := gpustest.Bound(gpustest.GPUPod("foreign", 1), "n")
	foreign.Annotations = map[string]string{gantryv1alpha1.GPUIDsAnnotation: "GPU-elsewhere-0," + gpustest.UUID("n", 5)}

	tests := []struct {
		name string
		pods []*v1.Pod
		want gpu.Set
	}{
		{"annotated bound pods count", []*v1.Pod{gpustest.Bound(gpustest.GPUPod("a", 2), "n", 0, 1), gpustest.Bound(gpustest.GPUPod("b", 1), "n", 4)}, gpustest.Positions(0, 1, 4)},
		{"unbound pods do not count", []*v1.Pod{gpustest.Bound(gpustest.GPUPod("a", 2), "", 0, 1)}, 0},
		{"pods without the annotation do not count", []*v1.Pod{gpustest.Bound(gpustest.GPUPod("a", 2), "n")}, 0},
		{"finished pods do not count", []*v1.Pod{finished(gpustest.Bound(gpustest.GPUPod("a", 2), "n", 0, 1))}, 0},
		{"terminating pods still hold their GPUs", []*v1.Pod{terminating(gpustest.Bound(gpustest.GPUPod("a", 2), "n", 0, 1))}, gpustest.Positions(0, 1)},
		{"pods on other nodes do not count", []*v1.Pod{gpustest.Bound(gpustest.GPUPod("a", 2), "other", 0, 1)}, 0},
		{"UUIDs not on the node are ignored", []*v1.Pod{foreign}, gpustest.Positions(5)},
		{"an update replaces the pod's GPUs", []*v1.Pod{gpustest.Bound(gpustest.GPUPod("a", 2), "n", 0, 1), gpustest.Bound(gpustest.GPUPod("a", 2), "n", 2, 3)}, gpustest.Positions(2, 3)},
		{"a pod that finishes releases its GPUs", []*v1.Pod{gpustest.Bound(gpustest.GPUPod("a", 2), "n", 0, 1), finished(gpustest.Bound(gpustest.GPUPod("a", 2), "n", 0, 1))}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache(t)
			c.SetNodeGPU(gpustest.NodeGPU("n", "1", spec, nil, nil))
			for _, p := range tt.pods {
				c.SetPod(p)
			}
			if got := allocated(t, c, "n"); got != tt.want {
				t.Errorf("allocated %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCachePodsBeforeNodeGPU(t *testing.T) {
	// After a scheduler restart pods and NodeGPUs arrive in any order.
	c, _ := newTestCache(t)
	c.SetPod(gpustest.Bound(gpustest.GPUPod("a", 2), "n", 6, 7))
	if _, ok := c.Node("n"); ok {
		t.Fatal("a node without NodeGPU is in use")
	}
	c.SetNodeGPU(gpustest.NodeGPU("n", "1", gpustest.NVSwitchSpec("n", 8), nil, map[int]string{0: "kubelet-reported"}))
	if got := allocated(t, c, "n"); got != gpustest.Positions(0, 6, 7) {
		t.Errorf("allocated %v, want {0,6,7}", got)
	}
	c.DeletePod(gpustest.Bound(gpustest.GPUPod("a", 2), "n", 6, 7))
	if got := allocated(t, c, "n"); got != gpustest.Positions(0) {
		t.Errorf("allocated %v after the pod was deleted, want {0}", got)
	}
}

func TestCacheReservations(t *testing.T) {
	c, _ := newTestCache(t)
	c.SetNodeGPU(gpustest.NodeGPU("n", "1", gpustest.TwoIslandSpec("n"), nil, map[int]string{0: "x"}))
	req := Request{GPUs: 2}

	a, b := gpustest.GPUPod("a", 2), gpustest.GPUPod("b", 2)
	ra := c.Reserve(a.UID, "n", req)
	rb := c.Reserve(b.UID, "n", req)
	if !ra.Placement.Fits || !rb.Placement.Fits {
		t.Fatalf("reservations failed: %q, %q", ra.Placement.Reason, rb.Placement.Reason)
	}
	// a finishes the used island without touching the free one; b, with
	// only GPU 3 left there, takes two of the other island rather than a
	// pair across the sockets. b never gets any of a's GPUs.
	if diff := cmp.Diff(gpustest.UUIDs("n", 1, 2), ra.UUIDs); diff != "" {
		t.Errorf("a reserved (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(gpustest.UUIDs("n", 4, 5), rb.UUIDs); diff != "" {
		t.Errorf("b reserved (-want +got):\n%s", diff)
	}
	if got := allocated(t, c, "n"); got != gpustest.Positions(0, 1, 2, 4, 5) {
		t.Errorf("allocated %v, want {0,1,2,4,5}", got)
	}

	// Reserving again (a retried cycle) replaces, not adds: a's old GPUs
	// are free to it again, and it takes the best pair now, {6,7}, which
	// leaves the larger island free.
	if r := c.Reserve(a.UID, "n", req); r.Placement.Set != gpustest.Positions(6, 7) {
		t.Errorf("re-reserving a chose %v, want {6,7}", r.Placement.Set)
	}
	if got := allocated(t, c, "n"); got != gpustest.Positions(0, 4, 5, 6, 7) {
		t.Errorf("allocated %v after re-reserving, want {0,4,5,6,7}", got)
	}
	c.Unreserve(a.UID)
	if r := c.Reserve(a.UID, "n", req); r.Placement.Set != gpustest.Positions(6, 7) {
		t.Fatalf("reserving a again chose %v, want {6,7}", r.Placement.Set)
	}

	// Unreserve frees, and is idempotent.
	c.Unreserve(b.UID)
	c.Unreserve(b.UID)
	c.Unreserve(types.UID("never-reserved"))
	if got := allocated(t, c, "n"); got != gpustest.Positions(0, 6, 7) {
		t.Errorf("allocated %v after unreserve, want {0,6,7}", got)
	}

	// An annotation update without a binding keeps the reservation.
	c.SetPod(gpustest.Bound(a, "", 6, 7))
	if _, _, ok := c.Reservation(a.UID); !ok {
		t.Error("the reservation ended before the pod was bound")
	}
	// Once bound, the annotation speaks for the pod.
	c.SetPod(gpustest.Bound(a, "n", 6, 7))
	if _, _, ok := c.Reservation(a.UID); ok {
		t.Error("the reservation outlived the binding")
	}
	if got := allocated(t, c, "n"); got != gpustest.Positions(0, 6, 7) {
		t.Errorf("allocated %v after binding, want {0,6,7}", got)
	}

	// A pod bound without the annotation keeps what it reserved.
	d := gpustest.GPUPod("d", 1)
	c.Reserve(d.UID, "n", Request{GPUs: 1})
	c.SetPod(gpustest.Bound(d, "n"))
	// (GPU 4: the used island, so the island of 1-3 stays whole.)
	if got := allocated(t, c, "n"); got != gpustest.Positions(0, 4, 6, 7) {
		t.Errorf("allocated %v after binding a pod without annotation, want {0,4,6,7}", got)
	}

	// Deleting a pod drops its reservation too.
	e := gpustest.GPUPod("e", 1)
	c.Reserve(e.UID, "n", Request{GPUs: 1})
	c.DeletePod(e)
	if _, _, ok := c.Reservation(e.UID); ok {
		t.Error("the reservation outlived the pod")
	}

	// A node without NodeGPU reserves nothing; one that is full says why.
	if r := c.Reserve("f", "plain", req); !r.NoNodeGPU {
		t.Errorf("reserving on a node without NodeGPU: %+v", r)
	}
	if r := c.Reserve("g", "n", Request{GPUs: 8}); r.Placement.Fits || r.Placement.Reason != "node has 4 free healthy GPUs, pod needs 8" {
		t.Errorf("reserving too many: %+v", r.Placement)
	}
}

func TestCacheReservationsNeverOverlap(t *testing.T) {
	c, _ := newTestCache(t)
	c.SetNodeGPU(gpustest.NodeGPU("n", "1", gpustest.NVSwitchSpec("n", 16), nil, nil))
	var wg sync.WaitGroup
	results := make([]ReserveResult, 16)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = c.Reserve(types.UID(rune('a'+i)), "n", Request{GPUs: 1})
		}()
	}
	wg.Wait()
	var seen gpu.Set
	for i, r := range results {
		if !r.Placement.Fits {
			t.Fatalf("reservation %d failed: %s", i, r.Placement.Reason)
		}
		if seen&r.Placement.Set != 0 {
			t.Fatalf("reservation %d got %v, already given", i, r.Placement.Set)
		}
		seen |= r.Placement.Set
	}
}

func TestCachePodGPUs(t *testing.T) {
	c, _ := newTestCache(t)
	c.SetNodeGPU(gpustest.NodeGPU("n", "1", gpustest.NVSwitchSpec("n", 8), nil, map[int]string{5: "victim"}))
	victim := gpustest.Bound(gpustest.GPUPod("victim", 3), "n", 6, 7)
	c.SetPod(victim)
	if got := c.PodGPUs(victim, "n"); got != gpustest.Positions(5, 6, 7) {
		t.Errorf("PodGPUs = %v, want {5,6,7}", got)
	}
	if got := c.PodGPUs(victim, "other"); got != 0 {
		t.Errorf("PodGPUs on another node = %v", got)
	}
}

// TestCacheNodeOfFollowsChanges: NodeOf remembers node objects by address,
// and still answers as Node does after the node gains, changes and loses
// its NodeGPU, and for another object of the same node.
func TestCacheNodeOfFollowsChanges(t *testing.T) {
	c, _ := newTestCache(t)
	obj := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}}
	check := func(step string, wantGPU bool, wantAllocated int) {
		t.Helper()
		for _, o := range []*v1.Node{obj, obj, {ObjectMeta: metav1.ObjectMeta{Name: "n"}}} {
			st, ok := c.NodeOf(o)
			want, wantOK := c.Node("n")
			if ok != wantGPU || ok != wantOK || st.Allocated != want.Allocated || st.Allocated.Len() != wantAllocated {
				t.Fatalf("%s: NodeOf = %v (%v), Node = %v (%v); want NodeGPU %v with %d allocated", step, st.Allocated, ok, want.Allocated, wantOK, wantGPU, wantAllocated)
			}
		}
	}
	check("no NodeGPU", false, 0)
	c.SetNodeGPU(gpustest.NodeGPU("n", "1", gpustest.NVSwitchSpec("n", 8), nil, nil))
	check("NodeGPU added", true, 0)
	c.SetNodeGPU(gpustest.NodeGPU("n", "2", gpustest.NVSwitchSpec("n", 8), nil, map[int]string{0: "a", 1: "b"}))
	check("allocations reported", true, 2)
	c.DeleteNodeGPU("n")
	check("NodeGPU deleted", false, 0)
	c.SetNodeGPU(gpustest.NodeGPU("n", "4", gpustest.NVSwitchSpec("n", 8), nil, map[int]string{3: "c"}))
	check("NodeGPU created again", true, 1)
}
