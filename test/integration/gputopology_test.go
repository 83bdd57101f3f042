package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/test/framework"
)

// gpuTopologyTestLabel marks a test's nodes (label and NoSchedule taint, value
// the test's namespace): its pods select and tolerate it, every other pod in
// the shared control plane, other tests' included, stays off them.
const gpuTopologyTestLabel = "gantry.dev/gputopology-test"

// gpuTopologyTest is one test's namespace, nodes and in-process
// gantry-scheduler, running the shipped "gantry" profile under a name of
// its own.
type gpuTopologyTest struct {
	t             *testing.T
	ctx           context.Context
	ns            string
	schedulerName string
	config        string
	stop          func()
}

func newGPUTopologyTest(t *testing.T) *gpuTopologyTest {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	ns, err := controlPlane.CreateNamespace(ctx, "gputopology")
	if err != nil {
		t.Fatal(err)
	}
	g := &gpuTopologyTest{t: t, ctx: ctx, ns: ns, schedulerName: "gantry-gputopology-test-" + ns}
	g.config, err = framework.InProcessSchedulerConfig(controlPlane.Kubeconfig, t.TempDir(), g.schedulerName)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// startScheduler starts (or restarts) the test's scheduler. Tests create
// their nodes first, so the scheduler's first lists already hold them.
func (g *gpuTopologyTest) startScheduler() {
	g.t.Helper()
	if g.stop != nil {
		g.stop()
	}
	g.stop = framework.StartScheduler(g.ctx, g.t, g.config)
}

func (g *gpuTopologyTest) uuid(node string, i int) string { return fmt.Sprintf("GPU-%s-%d", node, i) }

// nodeName makes a node name unique to the test.
func (g *gpuTopologyTest) nodeName(short string) string { return g.ns + "-" + short }

// addNode creates a NodeGPU of spec (health: unhealthy indexes; allocations:
// index → pod name, as the kubelet would report them) and a Ready node with
// as many nvidia.com/gpu, labelled and tainted for the test.
func (g *gpuTopologyTest) addNode(short string, topo func(node string) gantryv1alpha1.NodeGPUSpec, unhealthy []int, allocations map[int]string) string {
	g.t.Helper()
	name := g.nodeName(short)
	ng := &gantryv1alpha1.NodeGPU{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: topo(name)}
	c := controlPlane.Client
	if err := c.Create(g.ctx, ng); err != nil {
		g.t.Fatalf("creating NodeGPU %s: %v", name, err)
	}
	g.t.Cleanup(func() {
		_ = c.Delete(context.Background(), &gantryv1alpha1.NodeGPU{ObjectMeta: metav1.ObjectMeta{Name: name}})
		_ = c.Delete(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})
	})
	n := len(ng.Spec.GPUs)
	ng.Status = gantryv1alpha1.NodeGPUStatus{Capacity: int32(n), Healthy: int32(n - len(unhealthy)), Allocated: int32(len(allocations))}
	for _, i := range unhealthy {
		ng.Status.Health = append(ng.Status.Health, gantryv1alpha1.GPUHealth{Index: int32(i), Health: gantryv1alpha1.Unhealthy, Reason: "XID79"})
	}
	for i, pod := range allocations {
		ng.Status.Allocations = append(ng.Status.Allocations, gantryv1alpha1.GPUAllocation{Index: int32(i), PodNamespace: "elsewhere", PodName: pod})
	}
	slices.SortFunc(ng.Status.Allocations, func(a, b gantryv1alpha1.GPUAllocation) int { return int(a.Index - b.Index) })
	if err := c.Status().Update(g.ctx, ng); err != nil {
		g.t.Fatalf("writing NodeGPU %s status: %v", name, err)
	}

	node, err := controlPlane.CreateReadyNode(g.ctx, name, map[string]string{gpuTopologyTestLabel: g.ns}, corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("512Gi"),
		"nvidia.com/gpu": *resource.NewQuantity(int64(n), resource.DecimalSI),
	})
	if err != nil {
		g.t.Fatal(err)
	}
	node.Spec.Taints = []corev1.Taint{{Key: gpuTopologyTestLabel, Value: g.ns, Effect: corev1.TaintEffectNoSchedule}}
	if err := c.Update(g.ctx, node); err != nil {
		g.t.Fatalf("tainting node %s: %v", name, err)
	}
	return name
}

// pod returns a pod of the test asking for gpus GPUs.
func (g *gpuTopologyTest) pod(name string, gpus int64, annotations map[string]string) *corev1.Pod {
	p := gpuPod(g.ns, name, g.schedulerName, gpus)
	p.Annotations = annotations
	p.Spec.NodeSelector = map[string]string{gpuTopologyTestLabel: g.ns}
	p.Spec.Tolerations = []corev1.Toleration{{Key: gpuTopologyTestLabel, Operator: corev1.TolerationOpEqual, Value: g.ns, Effect: corev1.TaintEffectNoSchedule}}
	return p
}

// create creates pods concurrently, as a burst.
func (g *gpuTopologyTest) create(pods ...*corev1.Pod) {
	g.t.Helper()
	createBurst(g.ctx, g.t, pods...)
}

// placement is where a pod was bound and the GPUs it was given.
type placement struct {
	node string
	gpus []string
}

// waitBound waits until every pod is bound and returns their placements.
func (g *gpuTopologyTest) waitBound(pods ...*corev1.Pod) map[string]placement {
	g.t.Helper()
	out := map[string]placement{}
	err := wait.PollUntilContextTimeout(g.ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		for _, p := range pods {
			if _, ok := out[p.Name]; ok {
				continue
			}
			var got corev1.Pod
			if err := controlPlane.Client.Get(ctx, client.ObjectKeyFromObject(p), &got); err != nil {
				return false, err
			}
			if got.Spec.NodeName == "" {
				return false, nil
			}
			out[p.Name] = placement{node: got.Spec.NodeName, gpus: gantryv1alpha1.ParseGPUIDs(got.Annotations[gantryv1alpha1.GPUIDsAnnotation])}
		}
		return true, nil
	})
	if err != nil {
		var pending []string
		for _, p := range pods {
			if _, ok := out[p.Name]; !ok {
				pending = append(pending, p.Name+": "+g.scheduledCondition(p))
			}
		}
		g.t.Fatalf("pods not bound: %v\n%s", err, strings.Join(pending, "\n"))
	}
	return out
}

func (g *gpuTopologyTest) scheduledCondition(p *corev1.Pod) string {
	var got corev1.Pod
	if err := controlPlane.Client.Get(g.ctx, client.ObjectKeyFromObject(p), &got); err != nil {
		return err.Error()
	}
	for _, c := range got.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			return fmt.Sprintf("%s %s: %s", c.Status, c.Reason, c.Message)
		}
	}
	return "no PodScheduled condition"
}

// waitUnschedulable waits until the scheduler has reported the pod
// unschedulable with a message containing want, and checks it is unbound.
func (g *gpuTopologyTest) waitUnschedulable(p *corev1.Pod, want string) {
	g.t.Helper()
	err := wait.PollUntilContextTimeout(g.ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var got corev1.Pod
		if err := controlPlane.Client.Get(ctx, client.ObjectKeyFromObject(p), &got); err != nil {
			return false, err
		}
		if got.Spec.NodeName != "" {
			return false, fmt.Errorf("pod %s was bound to %s", p.Name, got.Spec.NodeName)
		}
		for _, c := range got.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable && strings.Contains(c.Message, want) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		g.t.Fatalf("pod %s not reported unschedulable with %q: %v (condition: %s)", p.Name, want, err, g.scheduledCondition(p))
	}
}

// assertDisjoint checks that no GPU was given twice, nor any of taken, and
// that every pod got as many GPUs as it asked for, on its node.
func (g *gpuTopologyTest) assertDisjoint(placements map[string]placement, want map[string]int, taken ...string) {
	g.t.Helper()
	owner := map[string]string{}
	for _, id := range taken {
		owner[id] = "(already allocated)"
	}
	for name, p := range placements {
		if len(p.gpus) != want[name] {
			g.t.Errorf("pod %s got GPUs %v, want %d", name, p.gpus, want[name])
		}
		for _, id := range p.gpus {
			if !strings.HasPrefix(id, "GPU-"+p.node+"-") {
				g.t.Errorf("pod %s on %s got GPU %s of another node", name, p.node, id)
			}
			if prev, dup := owner[id]; dup {
				g.t.Errorf("GPU %s given to %s and %s", id, prev, name)
			}
			owner[id] = name
		}
	}
}

// nodeGPUSpec builds the NodeGPU spec of n GPUs (UUIDs GPU-<node>-<i>, the
// first half on NUMA node 0) linked by link.
func nodeGPUSpec(n int, link func(a, b int) gpu.Link) func(string) gantryv1alpha1.NodeGPUSpec {
	return func(node string) gantryv1alpha1.NodeGPUSpec {
		devs := make([]gpu.Device, n)
		links := map[[2]int]gpu.Link{}
		for a := range n {
			devs[a] = gpu.Device{Index: a, UUID: fmt.Sprintf("GPU-%s-%d", node, a), NUMANode: a * 2 / n, Model: "NVIDIA A100-SXM4-80GB", MemoryMiB: 81920}
			for b := a + 1; b < n; b++ {
				links[[2]int{a, b}] = link(a, b)
			}
		}
		topo, err := gpu.NewTopology(devs, links)
		if err != nil {
			panic(err)
		}
		return topo.Spec("550.54.15")
	}
}

// nvswitchSpec: every pair NVLinked through NVSwitches (DGX-like).
func nvswitchSpec(n int) func(string) gantryv1alpha1.NodeGPUSpec {
	return nodeGPUSpec(n, func(int, int) gpu.Link { return gpu.Link{Type: gpu.LinkNVLink, NVLinkLanes: 12} })
}

// twoIslandSpec: an 8-GPU PCIe server with two 4-GPU NVLink islands, one per
// socket, that reach each other only across the sockets.
var twoIslandSpec = nodeGPUSpec(8, func(a, b int) gpu.Link {
	if a/4 == b/4 {
		return gpu.Link{Type: gpu.LinkNVLink, NVLinkLanes: 4}
	}
	return gpu.Link{Type: gpu.LinkSystem}
})

// TestGPUTopologyPrefersAFreeNVLinkIsland: a 4-GPU pod goes to the node with
// a wholly free NVLink island, not to the node whose four free GPUs straddle
// the sockets, and gets exactly that island. A pod that demands NVLink then
// waits rather than take the straddling GPUs; one that does not takes them.
func TestGPUTopologyPrefersAFreeNVLinkIsland(t *testing.T) {
	g := newGPUTopologyTest(t)
	island := g.addNode("island", twoIslandSpec, nil, map[int]string{0: "holder", 1: "holder"})
	straddle := g.addNode("straddle", twoIslandSpec, nil, map[int]string{0: "holder", 1: "holder", 4: "holder", 5: "holder"})
	g.startScheduler()

	first := g.pod("first", 4, nil)
	g.create(first)
	got := g.waitBound(first)["first"]
	if got.node != island {
		t.Fatalf("4-GPU pod bound to %s, want %s (its free NVLink island); GPUs %v", got.node, island, got.gpus)
	}
	want := []string{g.uuid(island, 4), g.uuid(island, 5), g.uuid(island, 6), g.uuid(island, 7)}
	if !slices.Equal(got.gpus, want) {
		t.Errorf("4-GPU pod got %v, want the island %v", got.gpus, want)
	}

	nvlinkOnly := g.pod("nvlink-only", 4, map[string]string{"gantry.dev/min-gpu-link": "NVLink"})
	g.create(nvlinkOnly)
	g.waitUnschedulable(nvlinkOnly, "pod needs NVLink or better")

	anyLink := g.pod("any-link", 4, nil)
	g.create(anyLink)
	if got := g.waitBound(anyLink)["any-link"]; got.node != straddle {
		t.Errorf("a pod without a link minimum bound to %s, want %s", got.node, straddle)
	}

	badLink := g.pod("bad-link", 1, map[string]string{"gantry.dev/min-gpu-link": "fast"})
	g.create(badLink)
	g.waitUnschedulable(badLink, `annotation gantry.dev/min-gpu-link: "fast" is not a GPU link type`)
}

// TestGPUTopologyPacksPartlyUsedNodes: 1-GPU pods fill a partly used node
// before touching an empty one.
func TestGPUTopologyPacksPartlyUsedNodes(t *testing.T) {
	g := newGPUTopologyTest(t)
	partly := g.addNode("partly", nvswitchSpec(8), nil, map[int]string{0: "holder", 1: "holder", 2: "holder"})
	empty := g.addNode("empty", nvswitchSpec(8), nil, nil)
	g.startScheduler()

	// Five fit on the partly used node; the sixth must go to the empty one.
	var pods []*corev1.Pod
	want := map[string]int{}
	for i := range 6 {
		pods = append(pods, g.pod(fmt.Sprintf("single-%d", i), 1, nil))
		want[pods[i].Name] = 1
	}
	g.create(pods...)
	placements := g.waitBound(pods...)
	perNode := map[string]int{}
	for _, p := range placements {
		perNode[p.node]++
	}
	if perNode[partly] != 5 || perNode[empty] != 1 {
		t.Errorf("pods per node %v, want 5 on %s and 1 on %s", perNode, partly, empty)
	}
	g.assertDisjoint(placements, want, g.uuid(partly, 0), g.uuid(partly, 1), g.uuid(partly, 2))
}

// TestGPUTopologyAvoidsUnhealthyGPUs: GPUs marked Unhealthy in the NodeGPU
// are never given, and a pod that would need one waits, saying why.
func TestGPUTopologyAvoidsUnhealthyGPUs(t *testing.T) {
	g := newGPUTopologyTest(t)
	sick := g.addNode("sick", nvswitchSpec(8), []int{0, 2, 4, 6}, nil)
	g.startScheduler()

	var pods []*corev1.Pod
	for i := range 4 {
		pods = append(pods, g.pod(fmt.Sprintf("single-%d", i), 1, nil))
	}
	g.create(pods...)
	placements := g.waitBound(pods...)
	want := map[string]int{}
	for _, p := range pods {
		want[p.Name] = 1
	}
	g.assertDisjoint(placements, want, g.uuid(sick, 0), g.uuid(sick, 2), g.uuid(sick, 4), g.uuid(sick, 6))

	// The node's allocatable still says 8 (NodeResourcesFit would pass);
	// only the plugin knows that no healthy GPU is left.
	fifth := g.pod("fifth", 1, nil)
	g.create(fifth)
	g.waitUnschedulable(fifth, "node has 0 free healthy GPUs, pod needs 1")
}

// TestGPUTopologyBurstNeverSharesAGPU: pods created at once on one node
// never get overlapping GPUs, whatever order they are scheduled in.
func TestGPUTopologyBurstNeverSharesAGPU(t *testing.T) {
	g := newGPUTopologyTest(t)
	node := g.addNode("burst", nvswitchSpec(16), nil, nil)
	g.startScheduler()

	sizes := []int64{4, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1}
	var pods []*corev1.Pod
	want := map[string]int{}
	for i, n := range sizes {
		p := g.pod(fmt.Sprintf("burst-%d", i), n, nil)
		pods = append(pods, p)
		want[p.Name] = int(n)
	}
	g.create(pods...)
	placements := g.waitBound(pods...)
	g.assertDisjoint(placements, want)
	for name, p := range placements {
		if p.node != node {
			t.Errorf("%s bound to %s, want %s", name, p.node, node)
		}
	}
}

// TestGPUTopologySchedulerRestart: a new scheduler rebuilds the GPUs in use
// from the pods' annotations and the NodeGPU's allocations, and gives none
// of them again.
func TestGPUTopologySchedulerRestart(t *testing.T) {
	g := newGPUTopologyTest(t)
	node := g.addNode("restart", nvswitchSpec(8), nil, map[int]string{0: "legacy"})
	g.startScheduler()

	before := []*corev1.Pod{g.pod("before-0", 2, nil), g.pod("before-1", 2, nil)}
	g.create(before...)
	placements := g.waitBound(before...)

	// The kubelet has not reported these pods (there is none): after the
	// restart only their annotations say which GPUs they hold.
	g.startScheduler()

	after := []*corev1.Pod{g.pod("after-0", 1, nil), g.pod("after-1", 1, nil), g.pod("after-2", 1, nil)}
	g.create(after...)
	for name, p := range g.waitBound(after...) {
		placements[name] = p
	}
	want := map[string]int{"before-0": 2, "before-1": 2, "after-0": 1, "after-1": 1, "after-2": 1}
	g.assertDisjoint(placements, want, g.uuid(node, 0))

	// Every GPU is now held; allocatable (8) says one more fits by count.
	last := g.pod("last", 1, nil)
	g.create(last)
	g.waitUnschedulable(last, "node has 0 free healthy GPUs, pod needs 1")

	// Deleting a pod (at once: no kubelet is there to confirm) frees its
	// GPUs and requeues the waiting one.
	if err := controlPlane.Client.Delete(g.ctx, after[0], client.GracePeriodSeconds(0)); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	got := g.waitBound(last)["last"]
	if !slices.Equal(got.gpus, placements["after-0"].gpus) {
		t.Errorf("the waiting pod got %v, want the deleted pod's %v", got.gpus, placements["after-0"].gpus)
	}
}
