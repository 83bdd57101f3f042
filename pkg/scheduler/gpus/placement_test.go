package gpus

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// devices returns n GPUs, the first half on NUMA node 0 and the rest on 1.
func devices(n int) []gpu.Device {
	out := make([]gpu.Device, n)
	for i := range out {
		out[i] = gpu.Device{Index: i, UUID: fmt.Sprintf("GPU-%02d", i), NUMANode: i * 2 / n}
	}
	return out
}

func mustTopology(t testing.TB, devs []gpu.Device, links map[[2]int]gpu.Link) *gpu.Topology {
	t.Helper()
	topo, err := gpu.NewTopology(devs, links)
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// twoIslandBox is an 8-GPU PCIe server with two 4-GPU NVLink islands, one
// per socket: 0-3 and 4-7 are NVLinked (4 lanes) within their island and
// reach the other island only across the inter-socket link.
func twoIslandBox(t testing.TB) *gpu.Topology {
	links := map[[2]int]gpu.Link{}
	for a := range 8 {
		for b := a + 1; b < 8; b++ {
			if a/4 == b/4 {
				links[[2]int{a, b}] = gpu.Link{Type: gpu.LinkNVLink, NVLinkLanes: 4}
			} else {
				links[[2]int{a, b}] = gpu.Link{Type: gpu.LinkSystem}
			}
		}
	}
	return mustTopology(t, devices(8), links)
}

// nvswitchBox is an n-GPU NVSwitch server (DGX-like): every pair is
// NVLinked through the switches with 12 lanes.
func nvswitchBox(t testing.TB, n int) *gpu.Topology {
	links := map[[2]int]gpu.Link{}
	for a := range n {
		for b := a + 1; b < n; b++ {
			links[[2]int{a, b}] = gpu.Link{Type: gpu.LinkNVLink, NVLinkLanes: 12}
		}
	}
	return mustTopology(t, devices(n), links)
}

// pcieBox is an 8-GPU server without NVLink: pairs (0,1), (2,3), ... share
// a PCIe switch, GPUs of one socket meet at its host bridge, and the two
// sockets talk across the inter-socket link.
func pcieBox(t testing.TB) *gpu.Topology {
	links := map[[2]int]gpu.Link{}
	for a := range 8 {
		for b := a + 1; b < 8; b++ {
			switch {
			case a/2 == b/2:
				links[[2]int{a, b}] = gpu.Link{Type: gpu.LinkSingleSwitch}
			case a/4 == b/4:
				links[[2]int{a, b}] = gpu.Link{Type: gpu.LinkHostBridge}
			default:
				links[[2]int{a, b}] = gpu.Link{Type: gpu.LinkSystem}
			}
		}
	}
	return mustTopology(t, devices(8), links)
}

func set(positions ...int) gpu.Set {
	var s gpu.Set
	for _, p := range positions {
		s = s.Add(p)
	}
	return s
}

// state is a node with every GPU healthy except unhealthy, and allocated held.
func state(topo *gpu.Topology, allocated, unhealthy gpu.Set) NodeState {
	return NodeState{Topology: topo, Healthy: topo.All() &^ unhealthy, Allocated: allocated}
}

func TestPlace(t *testing.T) {
	islands, nvswitch, pcie := twoIslandBox(t), nvswitchBox(t, 8), pcieBox(t)
	tests := []struct {
		name             string
		node             NodeState
		req              Request
		wantFits         bool
		wantSet          gpu.Set
		wantReason       string
		wantUnresolvable bool
	}{
		{
			name:     "four GPUs take the wholly free island, not two halves",
			node:     state(islands, set(0, 1), 0),
			req:      Request{GPUs: 4},
			wantFits: true, wantSet: set(4, 5, 6, 7),
		},
		{
			name:     "two GPUs finish the used island and keep the free one whole",
			node:     state(islands, set(0, 1), 0),
			req:      Request{GPUs: 2},
			wantFits: true, wantSet: set(2, 3),
		},
		{
			name:     "unhealthy GPUs are never chosen",
			node:     state(nvswitch, 0, set(0, 1, 2)),
			req:      Request{GPUs: 4},
			wantFits: true, wantSet: set(4, 5, 6, 7), // one NUMA node
		},
		{
			name:       "too few free healthy GPUs",
			node:       state(nvswitch, set(0, 1, 2, 3), set(4)),
			req:        Request{GPUs: 4},
			wantReason: "node has 3 free healthy GPUs, pod needs 4",
		},
		{
			name:       "too few healthy GPUs at all cannot be fixed by preemption",
			node:       state(nvswitch, 0, set(0, 1, 2, 3, 4)),
			req:        Request{GPUs: 4},
			wantReason: "node has 3 healthy GPUs, pod needs 4", wantUnresolvable: true,
		},
		{
			name:     "an NVLink minimum is met by a free island",
			node:     state(islands, set(0), 0),
			req:      Request{GPUs: 4, MinLink: gpu.LinkNVLink},
			wantFits: true, wantSet: set(4, 5, 6, 7),
		},
		{
			name:       "an NVLink minimum rejects free GPUs that straddle the sockets",
			node:       state(islands, set(0, 1, 4, 5), 0),
			req:        Request{GPUs: 4, MinLink: gpu.LinkNVLink},
			wantReason: "the best 4 free GPUs on the node are linked by System at worst, pod needs NVLink or better",
		},
		{
			name:       "an NVLink minimum on a box without NVLink is unresolvable",
			node:       state(pcie, 0, 0),
			req:        Request{GPUs: 2, MinLink: gpu.LinkNVLink},
			wantReason: "the best 2 free GPUs on the node are linked by SingleSwitch at worst, pod needs NVLink or better", wantUnresolvable: true,
		},
		{
			name:     "a PCIe minimum is met by a pair on one switch",
			node:     state(pcie, set(0), 0),
			req:      Request{GPUs: 2, MinLink: gpu.LinkSingleSwitch},
			wantFits: true, wantSet: set(2, 3),
		},
		{
			name:     "one GPU meets any minimum",
			node:     state(pcie, 0, 0),
			req:      Request{GPUs: 1, MinLink: gpu.LinkNVLink},
			wantFits: true, wantSet: set(0),
		},
		{
			name:     "a sixteen-GPU NVSwitch box fits eight",
			node:     state(nvswitchBox(t, 16), set(0, 1, 2, 3, 8), 0),
			req:      Request{GPUs: 8},
			wantFits: true, wantSet: set(4, 5, 6, 7, 9, 10, 11, 12),
		},
		{
			name:       "more GPUs than the node has",
			node:       state(nvswitch, 0, 0),
			req:        Request{GPUs: 65},
			wantReason: "node has 8 healthy GPUs, pod needs 65", wantUnresolvable: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Place(tt.node, tt.req)
			if got.Fits != tt.wantFits {
				t.Fatalf("Fits = %v (%s), want %v", got.Fits, got.Reason, tt.wantFits)
			}
			if got.Fits && got.Set != tt.wantSet {
				t.Errorf("Set = %v, want %v", got.Set, tt.wantSet)
			}
			if got.Reason != tt.wantReason {
				t.Errorf("Reason = %q, want %q", got.Reason, tt.wantReason)
			}
			if got.Unresolvable != tt.wantUnresolvable {
				t.Errorf("Unresolvable = %v, want %v", got.Unresolvable, tt.wantUnresolvable)
			}
		})
	}
}

func TestPlaceRejectsNonPositiveRequests(t *testing.T) {
	got := Place(state(nvswitchBox(t, 8), 0, 0), Request{GPUs: 0})
	if got.Fits || !got.Unresolvable || !strings.Contains(got.Reason, "0 GPUs") {
		t.Errorf("Place(0 GPUs) = %+v, want an unresolvable rejection", got)
	}
}
