package kubectlgantry

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// nodeState: node-a (a dgx with GPU 7 unhealthy) holds a 2-GPU pod in
// island 0-3, a 1-GPU pod, a GPU the kubelet gave a pod the scheduler never
// placed, and a GPU on which the two disagree; node-b has GPUs but no
// NodeGPU.
func nodeState() *State {
	ngA := dgx("node-a")
	ngA.Status.Health = []gantryv1alpha1.GPUHealth{{Index: 7, Health: gantryv1alpha1.Unhealthy, Reason: "XID79"}, {Index: 0, Health: gantryv1alpha1.Healthy}}
	ngA.Status.Allocations = []gantryv1alpha1.GPUAllocation{
		{Index: 0, PodNamespace: "ns", PodName: "train-0"},
		{Index: 4, PodNamespace: "other", PodName: "legacy"},
		{Index: 5, PodNamespace: "other", PodName: "legacy"},
	}
	nodeB := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-b"}, Status: corev1.NodeStatus{Allocatable: gpus(4)}}
	cpuNode := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cpu-only"}}
	return &State{
		Now:      testNow,
		Nodes:    []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}}, nodeB, cpuNode},
		NodeGPUs: []gantryv1alpha1.NodeGPU{ngA},
		Pods: []corev1.Pod{
			pod("ns", "train-0", 2, on("node-a", uuid("node-a", 0), uuid("node-a", 1))),
			pod("ns", "infer", 1, on("node-a", uuid("node-a", 5))),
			pod("ns", "ghost", 1, on("node-a", "GPU-elsewhere")),
			pod("ns", "finished", 2, on("node-a", uuid("node-a", 2), uuid("node-a", 3)), phase(corev1.PodSucceeded)),
			pod("ns", "counted", 3, on("node-b")),
			pod("ns", "waiting", 1),
		},
	}
}

func TestBuildNodes(t *testing.T) {
	v := BuildNodes(nodeState(), nil)
	if len(v.Nodes) != 2 || v.Nodes[0].Name != "node-a" || v.Nodes[1].Name != "node-b" {
		t.Fatalf("nodes = %+v, want node-a and node-b (cpu-only has no GPUs)", v.Nodes)
	}
	a := v.Nodes[0]
	if !reflect.DeepEqual(a.NVLinkIslands, [][]int32{{0, 1, 2, 3}, {4, 5, 6, 7}}) {
		t.Errorf("islands = %v", a.NVLinkIslands)
	}
	if a.CapacityGPUs != 8 || a.UsedGPUs != 4 || a.FreeGPUs != 3 || a.UnhealthyGPUs != 1 {
		t.Errorf("counts: capacity %d used %d free %d unhealthy %d, want 8 4 3 1", a.CapacityGPUs, a.UsedGPUs, a.FreeGPUs, a.UnhealthyGPUs)
	}
	wantStates := []string{GPUUsed, GPUUsed, GPUFree, GPUFree, GPUUsed, GPUUsed, GPUFree, GPUUnhealthy}
	for i, g := range a.GPUs {
		if g.State != wantStates[i] {
			t.Errorf("GPU %d state %s, want %s", i, g.State, wantStates[i])
		}
	}
	if got := a.GPUs[5]; !reflect.DeepEqual(got.Pods, []string{"ns/infer", "other/legacy"}) || !strings.Contains(got.Mismatch, "scheduler assigned it to ns/infer, kubelet allocated it to other/legacy") {
		t.Errorf("GPU 5 = %+v, want both pods and a mismatch", got)
	}
	if a.GPUs[0].Mismatch != "" {
		t.Errorf("GPU 0: scheduler and kubelet agree, mismatch %q", a.GPUs[0].Mismatch)
	}
	if a.GPUs[7].HealthReason != "XID79" {
		t.Errorf("GPU 7 reason %q", a.GPUs[7].HealthReason)
	}
	if len(a.Problems) != 1 || !strings.Contains(a.Problems[0], "ns/ghost names GPU GPU-elsewhere") {
		t.Errorf("problems = %v", a.Problems)
	}
	b := v.Nodes[1]
	if b.HasNodeGPU || b.CapacityGPUs != 4 || b.UsedGPUs != 3 || b.FreeGPUs != 1 || !reflect.DeepEqual(b.Pods, []string{"ns/counted"}) {
		t.Errorf("node-b = %+v", b)
	}

	var buf bytes.Buffer
	if err := RenderNodesMap(&buf, v); err != nil {
		t.Fatal(err)
	}
	want := `NODE     GPUS   FREE   MAP                   LEGEND
node-a   8      3      [A A . . | B ! . X]   A=ns/train-0 B=other/legacy !=mismatch(see table) X=Unhealthy(XID79)
node-b   4      1      (no NodeGPU)          ns/counted

. free  X unhealthy  ! scheduler and kubelet disagree  | NVLink island boundary  letters: pods (legend)
`
	if got := buf.String(); got != want {
		t.Errorf("map:\n%s\nwant:\n%s", got, want)
	}
}

func TestNodesTableAndSelection(t *testing.T) {
	v := BuildNodes(nodeState(), []string{"node-a", "nowhere"})
	if len(v.Nodes) != 2 || v.Nodes[1].Name != "nowhere" || len(v.Nodes[1].Problems) == 0 {
		t.Fatalf("nodes = %+v", v.Nodes)
	}
	var buf bytes.Buffer
	if err := RenderNodesTable(&buf, v); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, want := range []string{
		"NODE      GPU   MODEL                   MEMORY   NVLINK   STATE               POD",
		"node-a    0     NVIDIA A100-SXM4-80GB   80Gi     0-3      Used                ns/train-0\n",
		"node-a    7     NVIDIA A100-SXM4-80GB   80Gi     4-7      Unhealthy (XID79)   -\n",
		"ns/infer,other/legacy (MISMATCH: scheduler assigned it to ns/infer, kubelet allocated it to other/legacy)",
		"Problems:\n  node-a: ns/ghost names GPU GPU-elsewhere, which the node does not have\n  nowhere: no Node and no NodeGPU of this name\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}

func TestNodesUnnamedHolder(t *testing.T) {
	s := &State{
		NodeGPUs: []gantryv1alpha1.NodeGPU{dgx("n")},
		Pods:     []corev1.Pod{pod("ns", "by-count", 2, on("n"))},
	}
	v := BuildNodes(s, nil)
	if p := v.Nodes[0].Problems; len(p) != 1 || !strings.Contains(p[0], "ns/by-count holds 2 GPUs that neither gantry.dev/gpu-ids nor the NodeGPU's allocations name") {
		t.Errorf("problems = %v", p)
	}
}

func TestNodesStaleAllocations(t *testing.T) {
	ng := dgx("n")
	since := metav1.NewTime(time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC))
	ng.Status.Conditions = []metav1.Condition{{
		Type: gantryv1alpha1.NodeGPUAllocationsCurrent, Status: metav1.ConditionFalse, LastTransitionTime: since,
		Reason: gantryv1alpha1.ReasonPodResourcesUnavailable, Message: "allocations are the last ones read: connection refused",
	}}
	v := BuildNodes(&State{NodeGPUs: []gantryv1alpha1.NodeGPU{ng}}, nil)
	if p := v.Nodes[0].Problems; len(p) != 1 || !strings.Contains(p[0], "allocations are as of 2026-12-03T11:00:00Z") || !strings.Contains(p[0], "connection refused") {
		t.Errorf("problems = %v", p)
	}
}

func TestIndexRanges(t *testing.T) {
	for in, want := range map[string]string{"": "", "0": "0", "0 1 2 3": "0-3", "0 1 3 5 6": "0-1,3,5-6"} {
		var idx []int32
		for _, f := range strings.Fields(in) {
			idx = append(idx, int32(f[0]-'0'))
		}
		if got := indexRanges(idx); got != want {
			t.Errorf("indexRanges(%s) = %q, want %q", in, got, want)
		}
	}
}
