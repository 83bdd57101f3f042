package core

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gpus"
)

// topology builds n GPUs in islands of islandSize (NVLink x12 inside an
// island, System between islands; one NUMA node per island).
func topology(t *testing.T, n, islandSize int) *gpu.Topology {
	t.Helper()
	var devs []gpu.Device
	links := map[[2]int]gpu.Link{}
	for i := range n {
		devs = append(devs, gpu.Device{Index: i, UUID: fmt.Sprintf("GPU-%d", i), NUMANode: i / islandSize})
		for j := i + 1; j < n; j++ {
			l := gpu.Link{Type: gpu.LinkSystem}
			if i/islandSize == j/islandSize {
				l = gpu.Link{Type: gpu.LinkNVLink, NVLinkLanes: 12}
			}
			links[[2]int{i, j}] = l
		}
	}
	topo, err := gpu.NewTopology(devs, links)
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// gpuNode is a node with a NodeGPU of 8 GPUs in islands of islandSize, the
// first `used` of them allocated, and 64 CPUs.
func gpuNode(t *testing.T, name, rack string, islandSize, used int) Node {
	topo := topology(t, 8, islandSize)
	st := &gpus.NodeState{Topology: topo, Healthy: topo.All(), Allocated: gpu.Set(1)<<used - 1}
	labels := map[string]string{}
	if rack != "" {
		labels["rack"] = rack
	}
	return Node{Name: name, Labels: labels, GPU: st, Free: Resources{"cpu": 64000}}
}

func members(n, gpus int, cpu int64) []Member {
	var out []Member
	for i := range n {
		out = append(out, Member{Key: fmt.Sprintf("ns/worker-%d", i), GPUs: gpus, Requests: Resources{"cpu": cpu}})
	}
	return out
}

func nodesOf(p *Plan) map[string]int {
	out := map[string]int{}
	for _, a := range p.Assignments {
		out[a.Node]++
	}
	return out
}

func TestPlanGang(t *testing.T) {
	cases := []struct {
		name       string
		members    []Member
		nodes      []Node
		keys       []string
		wantDomain string         // "key=value", or "" for the whole cluster
		wantNodes  map[string]int // members per node
		wantErr    string
	}{{
		name:    "whole gang inside the one rack that fits it",
		members: members(2, 8, 1000),
		nodes: []Node{
			gpuNode(t, "a1", "a", 8, 0), gpuNode(t, "a2", "a", 8, 0),
			gpuNode(t, "b1", "b", 8, 0), gpuNode(t, "b2", "b", 8, 4),
		},
		keys:       []string{"rack"},
		wantDomain: "rack=a",
		wantNodes:  map[string]int{"a1": 1, "a2": 1},
	}, {
		name:    "the rack it fills exactly beats a bigger one",
		members: members(2, 8, 1000),
		nodes: []Node{
			gpuNode(t, "a1", "a", 8, 0), gpuNode(t, "a2", "a", 8, 0), gpuNode(t, "a3", "a", 8, 0),
			gpuNode(t, "b1", "b", 8, 0), gpuNode(t, "b2", "b", 8, 0),
		},
		keys:       []string{"rack"},
		wantDomain: "rack=b",
		wantNodes:  map[string]int{"b1": 1, "b2": 1},
	}, {
		name:       "across racks when no rack fits it",
		members:    members(2, 8, 1000),
		nodes:      []Node{gpuNode(t, "a1", "a", 8, 0), gpuNode(t, "b1", "b", 8, 0), gpuNode(t, "b2", "b", 8, 2)},
		keys:       []string{"rack"},
		wantDomain: "",
		wantNodes:  map[string]int{"a1": 1, "b1": 1},
	}, {
		name:      "small members packed on the fewest nodes",
		members:   members(4, 2, 1000),
		nodes:     []Node{gpuNode(t, "n1", "", 8, 0), gpuNode(t, "n2", "", 8, 0)},
		wantNodes: map[string]int{"n1": 4},
	}, {
		name:    "one node that takes the whole gang beats a tighter fit for its first member",
		members: members(2, 2, 1000),
		nodes:   []Node{gpuNode(t, "nearly-full", "", 8, 6), gpuNode(t, "roomy", "", 8, 0)},
		// Best fit for one 2-GPU pod is the nearly full node, but then the
		// gang would span two nodes.
		wantNodes: map[string]int{"roomy": 2},
	}, {
		name:      "CPU requests spread members that GPUs alone would pack",
		members:   members(2, 2, 40000),
		nodes:     []Node{gpuNode(t, "n1", "", 8, 0), gpuNode(t, "n2", "", 8, 0)},
		wantNodes: map[string]int{"n1": 1, "n2": 1},
	}, {
		name:    "a partly used node is preferred to an empty one",
		members: members(1, 4, 1000),
		nodes:   []Node{gpuNode(t, "empty", "", 4, 0), gpuNode(t, "half", "", 4, 4)},
		// The half-used node has one whole free island: the set is as good
		// and the empty node stays whole.
		wantNodes: map[string]int{"half": 1},
	}, {
		name:    "NVLink-only members avoid nodes without NodeGPU",
		members: []Member{{Key: "ns/w0", GPUs: 4, MinLink: gpu.LinkNVLink}},
		nodes: []Node{
			{Name: "plain", FreeGPUs: 8, Free: Resources{"cpu": 64000}},
			gpuNode(t, "islands", "", 4, 0),
		},
		wantNodes: map[string]int{"islands": 1},
	}, {
		name:      "nodes without NodeGPU are counted",
		members:   members(2, 4, 0),
		nodes:     []Node{{Name: "plain", FreeGPUs: 8}},
		wantNodes: map[string]int{"plain": 2},
	}, {
		name:    "too big for the cluster",
		members: members(3, 8, 1000),
		nodes:   []Node{gpuNode(t, "a1", "a", 8, 0), gpuNode(t, "a2", "a", 8, 4)},
		keys:    []string{"rack"},
		wantErr: "gang of 3 pods needs 24 GPUs placed together; the best domain rack=a has 12 free",
	}, {
		name:    "no nodes",
		members: members(2, 1, 0),
		wantErr: "no node is available",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := PlanGang(tc.members, tc.nodes, Options{TopologyKeys: tc.keys})
			if tc.wantErr != "" {
				var f *Failure
				if !errors.As(err, &f) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want a Failure containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(plan.Assignments) != len(tc.members) {
				t.Fatalf("plan places %d of %d members", len(plan.Assignments), len(tc.members))
			}
			domain := ""
			if plan.DomainKey != "" {
				domain = plan.DomainKey + "=" + plan.DomainValue
			}
			if domain != tc.wantDomain {
				t.Errorf("domain %q, want %q", domain, tc.wantDomain)
			}
			if got := nodesOf(plan); fmt.Sprint(got) != fmt.Sprint(tc.wantNodes) {
				t.Errorf("members per node %v, want %v", got, tc.wantNodes)
			}
			if plan.Nodes != len(tc.wantNodes) {
				t.Errorf("plan.Nodes = %d, want %d", plan.Nodes, len(tc.wantNodes))
			}
		})
	}
}

func TestPlanGangGivesDisjointNVLinkSets(t *testing.T) {
	// Two 4-GPU members on one two-island node get one island each.
	n := gpuNode(t, "n1", "", 4, 0)
	plan, err := PlanGang(members(2, 4, 0), []Node{n}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var union gpu.Set
	for key, a := range plan.Assignments {
		if a.GPUs.Len() != 4 {
			t.Fatalf("%s got %v", key, a.GPUs)
		}
		if union&a.GPUs != 0 {
			t.Fatalf("members share GPUs: %v", plan.Assignments)
		}
		union |= a.GPUs
		if a.GPUs != 0b00001111 && a.GPUs != 0b11110000 {
			t.Errorf("%s got %v, not a whole NVLink island", key, a.GPUs)
		}
	}
	// The planner worked on a copy: the caller's node state is untouched.
	if n.GPU.Allocated != 0 {
		t.Errorf("PlanGang changed the input node: allocated %v", n.GPU.Allocated)
	}
}

func TestPlanGangIsDeterministic(t *testing.T) {
	nodes := []Node{gpuNode(t, "c", "", 8, 0), gpuNode(t, "a", "", 8, 0), gpuNode(t, "b", "", 8, 0)}
	first, err := PlanGang(members(3, 8, 0), nodes, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		again, err := PlanGang(members(3, 8, 0), nodes, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(again.Assignments) != fmt.Sprint(first.Assignments) {
			t.Fatalf("plans differ: %v vs %v", first.Assignments, again.Assignments)
		}
	}
}

func BenchmarkPlanGang(b *testing.B) {
	t := &testing.T{}
	// 1,000 nodes of 8 GPUs in 50 racks, a quarter of them half used; a gang of 8×8 GPUs.
	var nodes []Node
	for i := range 1000 {
		used := 0
		if i%4 == 0 {
			used = 4
		}
		nodes = append(nodes, gpuNode(t, fmt.Sprintf("n%04d", i), fmt.Sprintf("rack-%02d", i%50), 8, used))
	}
	gang := members(8, 8, 1000)
	b.ResetTimer()
	for range b.N {
		if _, err := PlanGang(gang, nodes, Options{TopologyKeys: []string{"rack"}}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPlanGangKeepsMembersToAllowedNodes(t *testing.T) {
	onlyB := func(node string) bool { return node[0] == 'b' }
	ms := members(2, 8, 1000)
	for i := range ms {
		ms[i].Allowed = onlyB
	}
	nodes := []Node{gpuNode(t, "a1", "a", 8, 0), gpuNode(t, "a2", "a", 8, 0), gpuNode(t, "b1", "b", 8, 0), gpuNode(t, "b2", "b", 8, 0)}
	plan, err := PlanGang(ms, nodes, Options{TopologyKeys: []string{"rack"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := nodesOf(plan); fmt.Sprint(got) != fmt.Sprint(map[string]int{"b1": 1, "b2": 1}) {
		t.Errorf("members per node %v, want b1 and b2", got)
	}
	for i := range ms {
		ms[i].Allowed = func(string) bool { return false }
	}
	if _, err := PlanGang(ms, nodes, Options{TopologyKeys: []string{"rack"}}); err == nil {
		t.Error("a plan for members allowed nowhere")
	}
}

func TestPlanGangHonoursMaxMembers(t *testing.T) {
	// Four 2-GPU members would pack two 8-GPU nodes; n1 takes one at most.
	nodes := []Node{gpuNode(t, "n1", "", 8, 0), gpuNode(t, "n2", "", 8, 4), gpuNode(t, "n3", "", 8, 4)}
	nodes[0].MaxMembers = 1
	plan, err := PlanGang(members(4, 2, 1000), nodes, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := nodesOf(plan); got["n1"] > 1 {
		t.Errorf("members per node %v: n1 over its cap", got)
	}
	if got := nodesOf(plan); got["n1"]+got["n2"]+got["n3"] != 4 {
		t.Errorf("members per node %v", got)
	}
}
