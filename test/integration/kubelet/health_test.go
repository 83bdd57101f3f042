package kubelet

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/deviceplugin"
	"github.com/gantry-gpu/gantry/test/framework"
)

// TestXIDTakesAGPUOutOfTheKubeletsHands injects an XID on one GPU of a real
// kubelet's node: the kubelet's allocatable drops by one, the next pod is
// never given that GPU, and once the GPU has passed its checks for the
// quiet period the kubelet counts it again.
func TestXIDTakesAGPUOutOfTheKubeletsHands(t *testing.T) {
	framework.SkipUnlessRootOnLinux(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	c := controlPlane.Client

	const quiet = 2 * time.Second
	k, dp := startGPUNode(ctx, t, "kubelet-gpu-xid", func(o *deviceplugin.Options) { o.RecoveryQuietPeriod = quiet })
	const faulty = 3
	if err := wait.PollUntilContextCancel(ctx, 10*time.Millisecond, true, func(context.Context) (bool, error) {
		return dp.fixture.Watching(faulty), nil
	}); err != nil {
		t.Fatalf("the device plugin never watched GPU %d's events", faulty)
	}
	dp.fixture.InjectXID(faulty, 48) // double-bit ECC error: the GPU must not take work
	if err := k.WaitAllocatable(ctx, framework.GPUResource, 7); err != nil {
		t.Fatal(err)
	}
	var ng gantryv1alpha1.NodeGPU
	if err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Name: k.NodeName}, &ng)
		return err == nil && ng.Status.Healthy == 7, client.IgnoreNotFound(err)
	}); err != nil {
		t.Fatalf("NodeGPU %s never counted 7 healthy GPUs (has %d): %v", k.NodeName, ng.Status.Healthy, err)
	}

	ns, err := controlPlane.CreateNamespace(ctx, "kubelet-xid")
	if err != nil {
		t.Fatal(err)
	}
	// Every healthy GPU, bound by nodeName as a pod of another scheduler:
	// the kubelet admits it against its allocatable of 7.
	pod := gpuPod(ns, "all-healthy", corev1.DefaultSchedulerName, 7)
	pod.Spec.NodeName = k.NodeName
	if err := c.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	ctr, err := k.Runtime.WaitCreated(ctx, ns, pod.Name, "train")
	if err != nil {
		t.Fatalf("%v; kubelet log %s ends with:\n%s", err, k.Process.Log, k.Process.LogTail(20))
	}
	got := idSet(ctr.Env[deviceplugin.VisibleDevicesEnv])
	if len(got) != 7 || slices.Contains(got, dp.uuid(faulty)) {
		t.Fatalf("container got GPUs %v; want the 7 healthy ones, not %s", got, dp.uuid(faulty))
	}

	// No new fault: the GPU comes back after the quiet period.
	if err := k.WaitAllocatable(ctx, framework.GPUResource, 8); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Name: k.NodeName}, &ng)
		return err == nil && ng.Status.Healthy == 8, client.IgnoreNotFound(err)
	}); err != nil {
		t.Fatalf("NodeGPU %s never counted 8 healthy GPUs again (has %d): %v", k.NodeName, ng.Status.Healthy, err)
	}
}
