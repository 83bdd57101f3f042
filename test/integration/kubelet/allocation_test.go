package kubelet

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	podresourcesv1 "k8s.io/kubelet/pkg/apis/podresources/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/deviceplugin"
	"github.com/gantry-gpu/gantry/test/framework"
)

// TestContainersGetTheChosenGPUs runs gantry-scheduler and
// gantry-device-plugin (dgx-a100 fixture) with a real kubelet and checks
// Gantry's central promise end to end: the GPUs the scheduler picks (and
// writes in gantry.dev/gpu-ids) are the GPUs the kubelet hands the
// container (NVIDIA_VISIBLE_DEVICES as the runtime received it), a kubelet
// restart keeps every allocation, a pod of another scheduler gets only
// free GPUs, and NodeGPU shows the kubelet's allocations, that pod's
// included.
func TestContainersGetTheChosenGPUs(t *testing.T) {
	framework.SkipUnlessRootOnLinux(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	c := controlPlane.Client

	k, dp := startGPUNode(ctx, t, "kubelet-gpu-0")
	const schedulerName = "gantry-kubelet-test"
	ns := startScheduler(ctx, t, "kubelet", schedulerName)
	var ng gantryv1alpha1.NodeGPU

	// gpusOf waits for the container of the pod and returns the GPUs it
	// was given.
	gpusOf := func(pod string) []string {
		t.Helper()
		ctr, err := k.Runtime.WaitCreated(ctx, ns, pod, "train")
		if err != nil {
			t.Fatalf("%v; kubelet log %s ends with:\n%s", err, k.Process.Log, k.Process.LogTail(20))
		}
		return idSet(ctr.Env[deviceplugin.VisibleDevicesEnv])
	}

	var held []string // GPUs of the Gantry pods, for the later steps
	if !t.Run("scheduler's choice reaches the container", func(t *testing.T) {
		pod := gpuPod(ns, "scheduled", schedulerName, 2)
		if err := c.Create(ctx, pod); err != nil {
			t.Fatal(err)
		}
		got := gpusOf("scheduled")
		if err := c.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
			t.Fatal(err)
		}
		want := idSet(pod.Annotations[gantryv1alpha1.GPUIDsAnnotation])
		if pod.Spec.NodeName != k.NodeName || len(want) != 2 {
			t.Fatalf("gantry-scheduler bound the pod to %q with GPUs %v; want %s and 2 GPUs", pod.Spec.NodeName, want, k.NodeName)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("container got GPUs %v; gantry-scheduler chose %v", got, want)
		}
		held = append(held, got...)

		// A choice the device plugin would not make itself (on this
		// fabric its best pair is the lowest-numbered free one): the two
		// highest-numbered free GPUs, written as the scheduler writes
		// them, on a pod bound by nodeName.
		var chosen []string
		for i := dp.fixture.Len() - 1; i >= 0 && len(chosen) < 2; i-- {
			if !slices.Contains(held, dp.uuid(i)) {
				chosen = append(chosen, dp.uuid(i))
			}
		}
		pinned := gpuPod(ns, "pinned", schedulerName, 2)
		pinned.Spec.NodeName = k.NodeName
		pinned.Annotations = map[string]string{gantryv1alpha1.GPUIDsAnnotation: strings.Join(chosen, ",")}
		if err := c.Create(ctx, pinned); err != nil {
			t.Fatal(err)
		}
		if got, want := gpusOf("pinned"), idSet(strings.Join(chosen, ",")); !slices.Equal(got, want) {
			t.Fatalf("container got GPUs %v; the annotation chose %v", got, want)
		}
		held = append(held, chosen...)
	}) {
		return
	}

	if !t.Run("kubelet restart keeps allocations", func(t *testing.T) {
		before := podDevices(ctx, t, k.PodResourcesSocket)
		if err := k.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		// The device plugin registers again with the new kubelet.
		if err := k.WaitAllocatable(ctx, framework.GPUResource, 8); err != nil {
			t.Fatal(err)
		}
		// The kubelet lists a pod once it has the pod from the API server
		// again; its GPUs come from the checkpoint, or from a new
		// allocation were the checkpoint lost.
		var after map[string][]string
		keys := []string{ns + "/scheduled", ns + "/pinned"}
		err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			after = podDevices(ctx, t, k.PodResourcesSocket)
			return len(after[keys[0]]) > 0 && len(after[keys[1]]) > 0, nil
		})
		if err != nil {
			t.Fatalf("the restarted kubelet never listed the pods' GPUs: %v (has %v)", err, after)
		}
		for _, key := range keys {
			if len(before[key]) != 2 || !slices.Equal(after[key], before[key]) {
				t.Errorf("pod %s held GPUs %v before the restart and %v after", key, before[key], after[key])
			}
		}
		for _, ctr := range k.Runtime.Created() {
			if ctr.Attempt != 0 {
				t.Errorf("container %s of pod %s was created again after the restart (attempt %d)", ctr.Name, ctr.PodName, ctr.Attempt)
			}
		}
	}) {
		return
	}

	t.Run("other scheduler's pod gets free GPUs and shows in NodeGPU", func(t *testing.T) {
		// Bound by nodeName, as a pod of another scheduler: no
		// annotation, nothing in gantry-scheduler's books.
		other := gpuPod(ns, "other", corev1.DefaultSchedulerName, 4)
		other.Spec.NodeName = k.NodeName
		if err := c.Create(ctx, other); err != nil {
			t.Fatal(err)
		}
		got := gpusOf("other")
		var free []string
		for i := range dp.fixture.Len() {
			if !slices.Contains(held, dp.uuid(i)) {
				free = append(free, dp.uuid(i))
			}
		}
		slices.Sort(free)
		if !slices.Equal(got, free) {
			t.Fatalf("container of the other scheduler's pod got GPUs %v; the free ones were %v", got, free)
		}

		// NodeGPU shows every GPU held, by the pod holding it.
		want := map[int32]string{}
		for _, pod := range []string{"scheduled", "pinned", "other"} {
			ctr, _ := k.Runtime.WaitCreated(ctx, ns, pod, "train")
			for _, id := range idSet(ctr.Env[deviceplugin.VisibleDevicesEnv]) {
				want[int32(dp.index(id))] = pod
			}
		}
		var gotAlloc map[int32]string
		err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			if err := c.Get(ctx, client.ObjectKey{Name: k.NodeName}, &ng); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			gotAlloc = map[int32]string{}
			for _, a := range ng.Status.Allocations {
				if a.PodNamespace == ns {
					gotAlloc[a.Index] = a.PodName
				}
			}
			return fmt.Sprint(gotAlloc) == fmt.Sprint(want) && ng.Status.Allocated == 8, nil
		})
		if err != nil {
			t.Fatalf("NodeGPU allocations %v (allocated %d); want %v, all 8", gotAlloc, ng.Status.Allocated, want)
		}
	})
}

// podDevices reads the kubelet's PodResources: the GPUs (sorted) held by
// each pod, by namespace/name.
func podDevices(ctx context.Context, t *testing.T, socket string) map[string][]string {
	t.Helper()
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := podresourcesv1.NewPodResourcesListerClient(conn).List(ctx, &podresourcesv1.ListPodResourcesRequest{})
	if err != nil {
		t.Fatalf("listing the kubelet's pod resources: %v", err)
	}
	out := map[string][]string{}
	for _, pod := range resp.PodResources {
		for _, ctr := range pod.Containers {
			for _, dev := range ctr.Devices {
				if dev.ResourceName == string(framework.GPUResource) {
					out[pod.Namespace+"/"+pod.Name] = append(out[pod.Namespace+"/"+pod.Name], dev.DeviceIds...)
				}
			}
		}
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out
}
