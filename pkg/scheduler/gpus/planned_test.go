package gpus

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gpus/gpustest"
)

// TestPlacePlannedSet: a gang plan's set is the set placed while it is
// free and meets the request; otherwise the best set is.
func TestPlacePlannedSet(t *testing.T) {
	topo := twoIslandBox(t)
	all := topo.All()
	island := gpustest.Positions(4, 5)
	straddle := gpustest.Positions(3, 4)
	tests := []struct {
		name      string
		allocated gpu.Set
		req       Request
		// want is the set placed; zero: the best set, as without a plan.
		want gpu.Set
	}{
		{"planned and free", 0, Request{GPUs: 2, Planned: island}, island},
		{"planned, straddling, no link asked", 0, Request{GPUs: 2, Planned: straddle}, straddle},
		{"planned set taken since", gpustest.Positions(4), Request{GPUs: 2, Planned: island}, 0},
		{"planned set of the wrong size", 0, Request{GPUs: 2, Planned: gpustest.Positions(4)}, 0},
		{"planned set below the link asked", 0, Request{GPUs: 2, MinLink: gpu.LinkNVLink, Planned: straddle}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := NodeState{Topology: topo, Healthy: all, Allocated: tt.allocated}
			if tt.want == 0 {
				unplanned := tt.req
				unplanned.Planned = 0
				tt.want = Place(n, unplanned).Set
			}
			p := Place(n, tt.req)
			if !p.Fits || p.Set != tt.want {
				t.Fatalf("Place = %v fits=%v (%s), want %v", p.Set, p.Fits, p.Reason, tt.want)
			}
		})
	}
}

// TestReserveTakesThePlannedSet: Reserve gives the pod the set its gang's
// plan chose for that node, once, and forgets it.
func TestReserveTakesThePlannedSet(t *testing.T) {
	c, _ := newTestCache(t)
	c.SetNodeGPU(gpustest.NodeGPU("n", "1", gpustest.NVSwitchSpec("n", 8), nil, nil))
	c.SetPlanned("p", "n", gpustest.Positions(5, 6))
	if got := c.Planned("p", "other"); got != 0 {
		t.Fatalf("planned on another node = %v", got)
	}
	res := c.Reserve("p", "n", Request{GPUs: 2})
	if !res.Placement.Fits || res.Placement.Set != gpustest.Positions(5, 6) {
		t.Fatalf("reserved %v, want the planned {5,6}", res.Placement.Set)
	}
	if _, _, ok := c.PlannedFor("p"); ok {
		t.Error("the planned set outlived Reserve")
	}
}

func TestSetWeightsOnePerScheduler(t *testing.T) {
	c, _ := newTestCache(t)
	if err := c.SetWeights(Weights{Quality: 60, Packing: 40}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetWeights(Weights{Quality: 60, Packing: 40}); err != nil {
		t.Fatalf("same weights again: %v", err)
	}
	err := c.SetWeights(Weights{Quality: 1, Packing: 1})
	if err == nil || !strings.Contains(err.Error(), "qualityWeight 1 and packingWeight 1 differ from another profile's 60 and 40") {
		t.Fatalf("different weights: err = %v", err)
	}
	if got := c.Weights(); got != (Weights{Quality: 60, Packing: 40}) {
		t.Errorf("Weights = %v", got)
	}
}

// TestRefreshPodReadsTheStore: a late event for a pod the store no longer
// holds forgets it instead of recording it again, and a pod recreated
// under its name is the stored one.
func TestRefreshPodReadsTheStore(t *testing.T) {
	c, _ := newTestCache(t)
	c.SetNodeGPU(gpustest.NodeGPU("n", "1", gpustest.NVSwitchSpec("n", 8), nil, nil))
	store := toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)
	old := gpustest.Bound(gpustest.GPUPod("a", 2), "n", 0, 1)
	// The pod was deleted: the store has forgotten it, and a handler still
	// delivers its earlier add.
	c.refreshPod(old, store)
	if got := allocated(t, c, "n"); got != 0 {
		t.Fatalf("a deleted pod's late event allocated %v", got)
	}
	// Recreated under its name with a new UID, on other GPUs.
	recreated := gpustest.Bound(gpustest.GPUPod("a", 2), "n", 4, 5)
	recreated.UID = types.UID("uid-a-2")
	if err := store.Add(recreated); err != nil {
		t.Fatal(err)
	}
	c.refreshPod(old, store)
	if got := allocated(t, c, "n"); got != gpustest.Positions(4, 5) {
		t.Fatalf("allocated %v, want the recreated pod's {4,5}", got)
	}
}
