package integration

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	schedulingv1beta1 "k8s.io/api/scheduling/v1beta1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/component-base/metrics/testutil"
	schedmetrics "k8s.io/kubernetes/pkg/scheduler/metrics"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/gang"
	"github.com/gantry-gpu/gantry/test/framework"
)

// upstreamAPIServerFlags serve Kubernetes' own PodGroup API
// (scheduling.k8s.io/v1beta1) and spec.schedulingGroup, which the shared
// control plane does not.
var upstreamAPIServerFlags = map[string]string{
	"feature-gates":  "GenericWorkload=true",
	"runtime-config": "scheduling.k8s.io/v1beta1=true",
}

// TestGangUpstreamPodGroup: a gang declared by an upstream PodGroup (gang
// policy, minCount 3) and pods naming it in spec.schedulingGroup is held
// whole by GantryGang while it has 2 pods, and bound whole once the third
// comes; a gang that cannot be placed gets GantryGang's GangUnschedulable
// event on its upstream PodGroup and no pod bound. gantry-scheduler runs
// with its own GenericWorkload gate off, as it must.
func TestGangUpstreamPodGroup(t *testing.T) {
	if name := os.Getenv(framework.APIServerEnv); name != "" {
		t.Skipf("%s=%s: Kubernetes' scheduling.k8s.io/v1alpha3 PodGroup is served from 1.37 on", framework.APIServerEnv, name)
	}
	cp := framework.StartTWith(t, upstreamAPIServerFlags)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	ns, err := cp.CreateNamespace(ctx, "upstream")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		addUpstreamTestNode(ctx, t, cp, fmt.Sprintf("upstream-n%d", i), 4)
	}
	schedulerName := "gantry-upstream-" + ns
	config, err := framework.InProcessSchedulerConfig(cp.Kubeconfig, t.TempDir(), schedulerName)
	if err != nil {
		t.Fatal(err)
	}
	framework.StartScheduler(ctx, t, config)

	createUpstreamPodGroup(ctx, t, cp, ns, "train", 3)
	train := upstreamGangPods(ns, schedulerName, "train", 3, 4)
	for _, p := range train[:2] {
		if err := cp.Client.Create(ctx, p); err != nil {
			t.Fatalf("creating pod %s: %v", p.Name, err)
		}
	}
	// GantryGang's PreEnqueue holds both pods (2 of minCount 3): the
	// scheduler counts them as unschedulable because of GantryGang.
	held := schedmetrics.UnschedulableReason(gang.Name, schedulerName)
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		v, err := testutil.GetGaugeMetricValue(held)
		return v == 2, err
	})
	if err != nil {
		t.Fatalf("GantryGang does not hold the 2 pods of a gang of minCount 3: %v", err)
	}
	if bound := boundPods(ctx, t, cp, train[:2]); len(bound) != 0 {
		t.Fatalf("pods of a gang with 2 of minCount 3 pods bound: %v", bound)
	}

	if err := cp.Client.Create(ctx, train[2]); err != nil {
		t.Fatalf("creating pod %s: %v", train[2].Name, err)
	}
	var bound map[string]string
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		bound = boundPods(ctx, t, cp, train)
		return len(bound) == len(train), nil
	})
	if err != nil {
		t.Fatalf("gang not bound whole: %v; bound %v", err, bound)
	}
	if nodes := map[string]bool{bound["train-0"]: true, bound["train-1"]: true, bound["train-2"]: true}; len(nodes) != 3 {
		t.Errorf("a gang of three 4-GPU pods is not on three 4-GPU nodes: %v", bound)
	}

	// Every GPU is taken now: a second gang cannot be placed.
	createUpstreamPodGroup(ctx, t, cp, ns, "late", 2)
	late := upstreamGangPods(ns, schedulerName, "late", 2, 1)
	for _, p := range late {
		if err := cp.Client.Create(ctx, p); err != nil {
			t.Fatalf("creating pod %s: %v", p.Name, err)
		}
	}
	waitUpstreamPodGroupEvent(ctx, t, cp, ns, "late", "GangUnschedulable", "gang of 2 pods needs 2 GPUs")
	if bound := boundPods(ctx, t, cp, late); len(bound) != 0 {
		t.Fatalf("pods of a gang that does not fit bound: %v", bound)
	}
}

// addUpstreamTestNode creates a Ready node of gpus NVSwitch-linked GPUs
// with its NodeGPU.
func addUpstreamTestNode(ctx context.Context, t *testing.T, cp *framework.ControlPlane, name string, gpus int) {
	t.Helper()
	ng := &gantryv1alpha1.NodeGPU{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: gangNodeGPUSpec(name, gpus)}
	if err := cp.Client.Create(ctx, ng); err != nil {
		t.Fatalf("creating NodeGPU %s: %v", name, err)
	}
	ng.Status = gantryv1alpha1.NodeGPUStatus{Capacity: int32(gpus), Healthy: int32(gpus)}
	if err := cp.Client.Status().Update(ctx, ng); err != nil {
		t.Fatalf("writing NodeGPU %s status: %v", name, err)
	}
	if _, err := cp.CreateReadyNode(ctx, name, map[string]string{corev1.LabelHostname: name}, corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("512Gi"),
		"nvidia.com/gpu": *resource.NewQuantity(int64(gpus), resource.DecimalSI),
	}); err != nil {
		t.Fatal(err)
	}
}

// createUpstreamPodGroup creates an upstream PodGroup of the gang policy.
func createUpstreamPodGroup(ctx context.Context, t *testing.T, cp *framework.ControlPlane, ns, name string, minCount int32) {
	t.Helper()
	pg := &schedulingv1beta1.PodGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: schedulingv1beta1.PodGroupSpec{
			SchedulingPolicy: schedulingv1beta1.PodGroupSchedulingPolicy{Gang: &schedulingv1beta1.GangSchedulingPolicy{MinCount: minCount}},
		},
	}
	if err := cp.Client.Create(ctx, pg); err != nil {
		t.Fatalf("creating PodGroup %s: %v", name, err)
	}
}

// upstreamGangPods returns n pods named <group>-<i> asking for gpus GPUs
// each, in the upstream PodGroup group by spec.schedulingGroup.
func upstreamGangPods(ns, schedulerName, group string, n int, gpus int64) []*corev1.Pod {
	var out []*corev1.Pod
	for i := range n {
		p := gpuPod(ns, fmt.Sprintf("%s-%d", group, i), schedulerName, gpus)
		p.Spec.SchedulingGroup = &corev1.PodSchedulingGroup{PodGroupName: ptr.To(group)}
		out = append(out, p)
	}
	return out
}

// boundPods maps each bound pod's name to its node.
func boundPods(ctx context.Context, t *testing.T, cp *framework.ControlPlane, pods []*corev1.Pod) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range pods {
		var got corev1.Pod
		if err := cp.Client.Get(ctx, client.ObjectKeyFromObject(p), &got); err != nil {
			t.Fatalf("reading pod %s: %v", p.Name, err)
		}
		if got.Spec.NodeName != "" {
			out[p.Name] = got.Spec.NodeName
		}
	}
	return out
}

// waitUpstreamPodGroupEvent waits for an event with reason on the upstream
// PodGroup (kind and apiVersion of scheduling.k8s.io) whose note contains
// want.
func waitUpstreamPodGroupEvent(ctx context.Context, t *testing.T, cp *framework.ControlPlane, ns, podGroup, reason, want string) {
	t.Helper()
	var seen []string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var list eventsv1.EventList
		if err := cp.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		seen = seen[:0]
		for _, e := range list.Items {
			r := e.Regarding
			seen = append(seen, fmt.Sprintf("%s %s/%s %s: %s", r.APIVersion, r.Kind, r.Name, e.Reason, e.Note))
			if r.APIVersion == schedulingv1beta1.SchemeGroupVersion.String() && r.Kind == "PodGroup" && r.Name == podGroup &&
				e.Reason == reason && containsAll(e.Note, []string{want}) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no %s event on the upstream PodGroup %s saying %q: %v; events: %v", reason, podGroup, want, err, seen)
	}
}
