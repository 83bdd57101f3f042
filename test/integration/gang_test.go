package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	configv1 "k8s.io/kube-scheduler/config/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/gang"
	"github.com/gantry-gpu/gantry/test/framework"
)

// gangTestLabel marks a gang test's nodes (label and NoSchedule taint, value
// the test's namespace): its pods select and tolerate it, every other pod in
// the shared control plane stays off them, and the test's scheduler plans
// its gangs on them alone.
const gangTestLabel = "gantry.dev/gang-test"

// gangTest is one test's namespace, nodes and in-process scheduler: the
// shipped "gantry" profile under a name of its own, with GantryGang enabled
// at every extension point and as the queue sort.
type gangTest struct {
	t             *testing.T
	ctx           context.Context
	ns            string
	schedulerName string
	config        string
}

func newGangTest(t *testing.T) *gangTest {
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	t.Cleanup(cancel)
	ns, err := controlPlane.CreateNamespace(ctx, "gang")
	if err != nil {
		t.Fatal(err)
	}
	g := &gangTest{t: t, ctx: ctx, ns: ns, schedulerName: "gantry-gang-test-" + ns}
	g.config, err = gangSchedulerConfig(t.TempDir(), g.schedulerName)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// gangSchedulerConfig writes the shipped profile (framework.
// InProcessSchedulerConfig), which enables GantryGang, with a short Permit
// timeout.
func gangSchedulerConfig(dir, schedulerName string) (string, error) {
	return framework.InProcessSchedulerConfig(controlPlane.Kubeconfig, dir, schedulerName, func(cfg *configv1.KubeSchedulerConfiguration) error {
		// The shipped profile enables GantryGang; the test only shortens
		// the Permit timeout.
		p := &cfg.Profiles[0]
		args, err := json.Marshal(map[string]any{"defaultPermitTimeoutSeconds": 10})
		if err != nil {
			return err
		}
		found := false
		for i := range p.PluginConfig {
			if p.PluginConfig[i].Name == gang.Name {
				p.PluginConfig[i].Args = runtime.RawExtension{Raw: args}
				found = true
			}
		}
		if !found {
			return fmt.Errorf("the shipped profile configures no %s", gang.Name)
		}
		return nil
	})
}

// startScheduler starts the test's scheduler; tests create their nodes
// first, so the scheduler's first lists already hold them.
func (g *gangTest) startScheduler() {
	g.t.Helper()
	framework.StartScheduler(g.ctx, g.t, g.config)
}

// addNodes creates n Ready nodes of gpus NVSwitch-linked GPUs each, with
// their NodeGPUs, labelled and tainted for the test.
func (g *gangTest) addNodes(n, gpus int) []string {
	g.t.Helper()
	var names []string
	for i := range n {
		name := fmt.Sprintf("%s-n%d", g.ns, i)
		c := controlPlane.Client
		ng := &gantryv1alpha1.NodeGPU{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: gangNodeGPUSpec(name, gpus)}
		if err := c.Create(g.ctx, ng); err != nil {
			g.t.Fatalf("creating NodeGPU %s: %v", name, err)
		}
		g.t.Cleanup(func() {
			_ = c.Delete(context.Background(), &gantryv1alpha1.NodeGPU{ObjectMeta: metav1.ObjectMeta{Name: name}})
			_ = c.Delete(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})
		})
		ng.Status = gantryv1alpha1.NodeGPUStatus{Capacity: int32(gpus), Healthy: int32(gpus)}
		if err := c.Status().Update(g.ctx, ng); err != nil {
			g.t.Fatalf("writing NodeGPU %s status: %v", name, err)
		}
		labels := map[string]string{gangTestLabel: g.ns, corev1.LabelHostname: name}
		node, err := controlPlane.CreateReadyNode(g.ctx, name, labels, corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("512Gi"),
			"nvidia.com/gpu": *resource.NewQuantity(int64(gpus), resource.DecimalSI),
		})
		if err != nil {
			g.t.Fatal(err)
		}
		node.Spec.Taints = []corev1.Taint{{Key: gangTestLabel, Value: g.ns, Effect: corev1.TaintEffectNoSchedule}}
		if err := c.Update(g.ctx, node); err != nil {
			g.t.Fatalf("tainting node %s: %v", name, err)
		}
		names = append(names, name)
	}
	return names
}

// gangNodeGPUSpec is an NVSwitch node of n GPUs (UUIDs GPU-<node>-<i>).
func gangNodeGPUSpec(node string, n int) gantryv1alpha1.NodeGPUSpec {
	devs := make([]gpu.Device, n)
	links := map[[2]int]gpu.Link{}
	for a := range n {
		devs[a] = gpu.Device{Index: a, UUID: gangGPU(node, a), Model: "NVIDIA H100 80GB HBM3", MemoryMiB: 81920}
		for b := a + 1; b < n; b++ {
			links[[2]int{a, b}] = gpu.Link{Type: gpu.LinkNVLink, NVLinkLanes: 18}
		}
	}
	topo, err := gpu.NewTopology(devs, links)
	if err != nil {
		panic(err)
	}
	return topo.Spec("550.54.15")
}

// gangGPU is the UUID of GPU i of a gang test's node (gangNodeGPUSpec).
func gangGPU(node string, i int) string { return fmt.Sprintf("GPU-%s-%d", node, i) }

// bindWithGPUs binds pod to node with its GPUs named in the Binding, as
// gantry-scheduler binds.
func bindWithGPUs(ctx context.Context, t *testing.T, pod *corev1.Pod, node string, ids []string) {
	t.Helper()
	b := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name,
			Annotations: map[string]string{gantryv1alpha1.GPUIDsAnnotation: gantryv1alpha1.FormatGPUIDs(ids)}},
		Target: corev1.ObjectReference{Kind: "Node", Name: node},
	}
	if err := controlPlane.Client.SubResource("binding").Create(ctx, pod, b); err != nil {
		t.Fatalf("binding pod %s to %s: %v", pod.Name, node, err)
	}
}

// podGroup creates a PodGroup of the test.
func (g *gangTest) podGroup(name string, minMember int32) {
	g.t.Helper()
	pg := &schedv1alpha1.PodGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: g.ns, Name: name},
		Spec:       schedv1alpha1.PodGroupSpec{MinMember: minMember, ScheduleTimeoutSeconds: ptr.To[int32](10)},
	}
	if err := controlPlane.Client.Create(g.ctx, pg); err != nil {
		g.t.Fatalf("creating PodGroup %s: %v", name, err)
	}
}

// pods returns n pods of the gang (none when "") asking for gpus GPUs each,
// named <prefix>-<i>.
func (g *gangTest) pods(prefix, gangName string, n int, gpus int64) []*corev1.Pod {
	var out []*corev1.Pod
	for i := range n {
		p := gpuPod(g.ns, fmt.Sprintf("%s-%d", prefix, i), g.schedulerName, gpus)
		if gangName != "" {
			p.Labels = map[string]string{schedv1alpha1.PodGroupLabel: gangName}
		}
		p.Spec.NodeSelector = map[string]string{gangTestLabel: g.ns}
		p.Spec.Tolerations = []corev1.Toleration{{Key: gangTestLabel, Operator: corev1.TolerationOpEqual, Value: g.ns, Effect: corev1.TaintEffectNoSchedule}}
		out = append(out, p)
	}
	return out
}

// create creates pods concurrently, as a burst.
func (g *gangTest) create(pods ...*corev1.Pod) {
	g.t.Helper()
	createBurst(g.ctx, g.t, pods...)
}

// nodesOf returns the node each pod is bound to ("" when pending).
func (g *gangTest) nodesOf(pods []*corev1.Pod) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pods {
		var got corev1.Pod
		if err := controlPlane.Client.Get(g.ctx, client.ObjectKeyFromObject(p), &got); err != nil {
			return nil, err
		}
		out[p.Name] = got.Spec.NodeName
	}
	return out, nil
}

func countBound(nodes map[string]string) int {
	n := 0
	for _, node := range nodes {
		if node != "" {
			n++
		}
	}
	return n
}

// waitAllBound waits until every pod is bound.
func (g *gangTest) waitAllBound(pods []*corev1.Pod, timeout time.Duration) map[string]string {
	g.t.Helper()
	var last map[string]string
	err := wait.PollUntilContextTimeout(g.ctx, 100*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		var err error
		last, err = g.nodesOf(pods)
		return err == nil && countBound(last) == len(pods), err
	})
	if err != nil {
		g.t.Fatalf("pods not all bound: %v; bound: %v\n%s", err, last, g.conditions(pods))
	}
	return last
}

// assertNoneBound checks that none of the pods is bound.
func (g *gangTest) assertNoneBound(what string, pods []*corev1.Pod) {
	g.t.Helper()
	nodes, err := g.nodesOf(pods)
	if err != nil {
		g.t.Fatal(err)
	}
	if n := countBound(nodes); n != 0 {
		g.t.Fatalf("%s: %d of %d pods bound: %v", what, n, len(pods), nodes)
	}
}

// conditions describes the pods' PodScheduled conditions, for failures.
func (g *gangTest) conditions(pods []*corev1.Pod) string {
	var b strings.Builder
	for _, p := range pods {
		var got corev1.Pod
		if err := controlPlane.Client.Get(g.ctx, client.ObjectKeyFromObject(p), &got); err != nil {
			fmt.Fprintf(&b, "%s: %v\n", p.Name, err)
			continue
		}
		cond := "no PodScheduled condition"
		for _, c := range got.Status.Conditions {
			if c.Type == corev1.PodScheduled {
				cond = fmt.Sprintf("%s %s: %s", c.Status, c.Reason, c.Message)
			}
		}
		fmt.Fprintf(&b, "%s on %q: %s\n", p.Name, got.Spec.NodeName, cond)
	}
	return b.String()
}

// TestGangTwoGangsNeverBothPartlyBound: two gangs that each need 60% of the
// GPUs arrive together, their pods interleaved. One gang is bound whole and
// the other not at all — never both in part — and it stays so: the loser
// ends held in the scheduler's queue, with no member left waiting in Permit.
func TestGangTwoGangsNeverBothPartlyBound(t *testing.T) {
	g := newGangTest(t)
	g.addNodes(5, 4)
	g.startScheduler()
	g.podGroup("a", 3)
	g.podGroup("b", 3)
	a, b := g.pods("a", "a", 3, 4), g.pods("b", "b", 3, 4)
	g.create(a[0], b[0], a[1], b[1], a[2], b[2])

	var nodesA, nodesB map[string]string
	err := wait.PollUntilContextTimeout(g.ctx, 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		var err error
		if nodesA, err = g.nodesOf(a); err != nil {
			return false, err
		}
		if nodesB, err = g.nodesOf(b); err != nil {
			return false, err
		}
		return countBound(nodesA) == 3 || countBound(nodesB) == 3, nil
	})
	if err != nil {
		t.Fatalf("no gang bound whole: %v; a %v, b %v\n%s%s", err, nodesA, nodesB, g.conditions(a), g.conditions(b))
	}
	winner, loser, loserName := a, b, "b"
	if countBound(nodesB) == 3 {
		winner, loser, loserName = b, a, "a"
	}
	// The winner's members are on three distinct nodes (4 GPUs each).
	if nodes, _ := g.nodesOf(winner); len(map[string]bool{nodes[winner[0].Name]: true, nodes[winner[1].Name]: true, nodes[winner[2].Name]: true}) != 3 {
		t.Errorf("winning gang not on three nodes: %v", nodes)
	}
	// Why the loser is not bound: GantryGang says so on its PodGroup and
	// in each member's PodScheduled condition, and holds all three in the
	// queue, none in a scheduling cycle or waiting in Permit, so no Permit
	// timeout is left to run out on it.
	const why = "gang of 3 pods needs 12 GPUs placed together"
	g.waitPodGroupEvent(loserName, "GangUnschedulable", why)
	for _, p := range loser {
		g.waitPending(p, why)
	}
	g.waitHeld(gang.Name, len(loser))
	g.assertNoneBound("losing gang", loser)
	if nodes, err := g.nodesOf(winner); err != nil || countBound(nodes) != 3 {
		t.Fatalf("winning gang: %v %v", nodes, err)
	}
	t.Logf("losing gang %s:\n%s", loserName, g.conditions(loser))
}

// TestGangFitsAfterAnotherFinishes: a gang that cannot fit beside another
// stays wholly unbound, and is bound whole once the other's pods are gone.
func TestGangFitsAfterAnotherFinishes(t *testing.T) {
	g := newGangTest(t)
	g.addNodes(4, 4)
	g.startScheduler()
	g.podGroup("first", 3)
	first := g.pods("first", "first", 3, 4)
	g.create(first...)
	g.waitAllBound(first, 30*time.Second)

	g.podGroup("second", 3)
	second := g.pods("second", "second", 3, 4)
	g.create(second...)
	// GantryGang finds no room for it whole and holds every member.
	const why = "gang of 3 pods needs 12 GPUs placed together"
	g.waitPodGroupEvent("second", "GangUnschedulable", why)
	for _, p := range second {
		g.waitPending(p, why)
	}
	g.waitHeld(gang.Name, len(second))
	g.assertNoneBound("second gang beside the first", second)

	for _, p := range first {
		if err := controlPlane.Client.Delete(g.ctx, p, client.GracePeriodSeconds(0)); err != nil {
			t.Fatalf("deleting %s: %v", p.Name, err)
		}
	}
	g.waitAllBound(second, 45*time.Second)
}

// TestGangWaitsForMinMember: a gang with fewer pods than minMember stays out
// of the queue, none of its pods bound; the last pod brings it in whole.
func TestGangWaitsForMinMember(t *testing.T) {
	g := newGangTest(t)
	g.addNodes(3, 4)
	g.startScheduler()
	g.podGroup("g", 3)
	pods := g.pods("g", "g", 3, 2)
	g.create(pods[:2]...)
	// A plain pod goes through meanwhile: the scheduler is working.
	plain := g.pods("plain", "", 1, 1)
	g.create(plain...)
	g.waitAllBound(plain, 30*time.Second)
	// GantryGang's PreEnqueue keeps both out of the queue.
	g.waitHeld(gang.Name, 2)
	g.assertNoneBound("gang with 2 of minMember 3 pods", pods[:2])

	g.create(pods[2])
	g.waitAllBound(pods, 30*time.Second)
}

// TestGangMissingPodGroup: a pod naming a PodGroup that does not exist is
// not scheduled alone; once the PodGroup appears, it is.
func TestGangMissingPodGroup(t *testing.T) {
	g := newGangTest(t)
	g.addNodes(1, 4)
	g.startScheduler()
	orphan := g.pods("orphan", "missing", 1, 1)
	g.create(orphan...)
	plain := g.pods("plain", "", 1, 1)
	g.create(plain...)
	g.waitAllBound(plain, 30*time.Second)
	// GantryGang's PreEnqueue keeps it out of the queue.
	g.waitHeld(gang.Name, 1)
	g.assertNoneBound("pod of a missing PodGroup", orphan)

	g.podGroup("missing", 1)
	g.waitAllBound(orphan, 30*time.Second)
}

// TestGangReplansAroundWhatThePlannerDoesNotModel: the members of a gang
// keep off each other's nodes by pod anti-affinity, which the planner does
// not model, so its first plan puts two of them on one node. The member
// that breaks the plan there releases the one waiting in Permit, the next
// plan keeps it off that node, and the gang is bound whole, one per node.
func TestGangReplansAroundWhatThePlannerDoesNotModel(t *testing.T) {
	g := newGangTest(t)
	g.addNodes(3, 4)
	g.startScheduler()
	g.podGroup("spread", 3)
	pods := g.pods("spread", "spread", 3, 2)
	for _, p := range pods {
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{schedv1alpha1.PodGroupLabel: "spread"}},
				TopologyKey:   corev1.LabelHostname,
			}},
		}}
	}
	g.create(pods...)
	nodes := g.waitAllBound(pods, 60*time.Second)
	distinct := map[string]bool{}
	for _, n := range nodes {
		distinct[n] = true
	}
	if len(distinct) != 3 {
		t.Errorf("members share nodes: %v", nodes)
	}
}

// TestGangWaitsForARefusedMember: one member of a gang is refused by
// another plugin for good (an invalid GPU-link annotation). Its siblings are
// not placed and held meanwhile: no pod of the gang is bound. Once the
// annotation is fixed, the gang is bound whole.
func TestGangWaitsForARefusedMember(t *testing.T) {
	g := newGangTest(t)
	g.addNodes(3, 4)
	g.startScheduler()
	g.podGroup("g", 3)
	pods := g.pods("g", "g", 3, 2)
	pods[2].Annotations = map[string]string{gantryv1alpha1.MinGPULinkAnnotation: "fast"}
	g.create(pods...)
	// The event says which member holds the gang back and why. Its wording
	// depends on which pod of the burst completes the gang: the planner
	// reading g-2's request ("pod g-2: annotation ...") or g-2 refused
	// earlier by GantryGPUTopology ("pod g-2 cannot be scheduled:
	// annotation ..."); both name g-2 and its bad annotation.
	const why = `annotation gantry.dev/min-gpu-link: "fast" is not a GPU link type`
	g.waitPodGroupEventMatching("g", "GangUnschedulable", `pod g-2`, why)
	for _, p := range pods {
		g.waitPending(p, why)
	}
	g.assertNoneBound("gang with a refused member", pods)

	patch := []byte(`{"metadata":{"annotations":{"` + gantryv1alpha1.MinGPULinkAnnotation + `":"NVLink"}}}`)
	if err := controlPlane.Client.Patch(g.ctx, pods[2], client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatalf("fixing the annotation: %v", err)
	}
	g.waitAllBound(pods, 30*time.Second)
}
