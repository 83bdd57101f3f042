package integration

import (
	"context"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	podresourcesv1 "k8s.io/kubelet/pkg/apis/podresources/v1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// TestNodeGPUKeepsAllocationsWhileTheKubeletIsDown takes the kubelet's
// PodResources socket away, as a kubelet restart does: the NodeGPU must
// keep the allocations last read and say they are stale (an empty list
// made the scheduler hand out GPUs that running pods held), also when the
// device plugin restarts during the outage, and follow the kubelet again
// once it is back.
func TestNodeGPUKeepsAllocationsWhileTheKubeletIsDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	n := newDevicePluginNode(ctx, t, "dp-node-outage", "dgx-a100")
	holding := func(pod string, gpus ...int) *podresourcesv1.PodResources {
		var ids []string
		for _, i := range gpus {
			ids = append(ids, n.uuid(i))
		}
		return &podresourcesv1.PodResources{Namespace: "default", Name: pod, Containers: []*podresourcesv1.ContainerResources{{
			Name: "main", Devices: []*podresourcesv1.ContainerDevices{{ResourceName: "nvidia.com/gpu", DeviceIds: ids}},
		}}}
	}
	current := func(ng *gantryv1alpha1.NodeGPU) metav1.ConditionStatus {
		if c := meta.FindStatusCondition(ng.Status.Conditions, gantryv1alpha1.NodeGPUAllocationsCurrent); c != nil {
			return c.Status
		}
		return metav1.ConditionUnknown
	}
	indexes := func(ng *gantryv1alpha1.NodeGPU) []int32 {
		var out []int32
		for _, a := range ng.Status.Allocations {
			out = append(out, a.Index)
		}
		return out
	}

	pr := &podResources{pods: []*podresourcesv1.PodResources{holding("train-0", 0, 1, 2)}}
	stopKubelet := servePodResources(t, n.opts.PodResourcesSocket, pr)
	stopDaemon := n.runDaemon(ctx, t)
	var ng gantryv1alpha1.NodeGPU
	n.waitNodeGPU(ctx, t, &ng, "the kubelet's allocations", func(ng *gantryv1alpha1.NodeGPU) bool { return ng.Status.Allocated == 3 })
	if current(&ng) != metav1.ConditionTrue {
		t.Errorf("AllocationsCurrent is %s with the kubelet up, want True", current(&ng))
	}

	stopKubelet()
	n.waitNodeGPU(ctx, t, &ng, "AllocationsCurrent False with the kubelet down", func(ng *gantryv1alpha1.NodeGPU) bool {
		return current(ng) == metav1.ConditionFalse
	})
	c := meta.FindStatusCondition(ng.Status.Conditions, gantryv1alpha1.NodeGPUAllocationsCurrent)
	if got := indexes(&ng); !slices.Equal(got, []int32{0, 1, 2}) || ng.Status.Allocated != 3 {
		t.Errorf("with the kubelet down: allocations %v (allocated %d), want GPUs 0-2 kept", got, ng.Status.Allocated)
	}
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != gantryv1alpha1.ReasonPodResourcesUnavailable {
		t.Errorf("with the kubelet down: condition %+v, want %s False, reason %s", c,
			gantryv1alpha1.NodeGPUAllocationsCurrent, gantryv1alpha1.ReasonPodResourcesUnavailable)
	}

	// A device plugin restarted while the kubelet is down has read nothing
	// yet: it must keep what the NodeGPU says. The status it writes when a
	// GPU fails shows that it did.
	stopDaemon()
	n.runDaemon(ctx, t)
	if err := wait.PollUntilContextCancel(ctx, 10*time.Millisecond, true, func(context.Context) (bool, error) {
		return n.fixture.Watching(6), nil
	}); err != nil {
		t.Fatalf("the restarted device plugin never watched GPU 6's events: %v", err)
	}
	n.fixture.InjectXID(6, 48)
	n.waitNodeGPU(ctx, t, &ng, "GPU 6 unhealthy, written by the restarted device plugin", func(ng *gantryv1alpha1.NodeGPU) bool {
		return ng.Status.Healthy == 7
	})
	if got := indexes(&ng); !slices.Equal(got, []int32{0, 1, 2}) || current(&ng) != metav1.ConditionFalse {
		t.Errorf("after a device-plugin restart with the kubelet down: allocations %v, AllocationsCurrent %s; want GPUs 0-2 kept, False",
			got, current(&ng))
	}

	// The kubelet is back; train-0 ended meanwhile and serve-0 holds GPU 4.
	pr.mu.Lock()
	pr.pods = []*podresourcesv1.PodResources{holding("serve-0", 4)}
	pr.mu.Unlock()
	servePodResources(t, n.opts.PodResourcesSocket, pr)
	n.waitNodeGPU(ctx, t, &ng, "the kubelet's allocations again", func(ng *gantryv1alpha1.NodeGPU) bool {
		return ng.Status.Allocated == 1
	})
	if got := indexes(&ng); !slices.Equal(got, []int32{4}) || ng.Status.Allocations[0].PodName != "serve-0" || current(&ng) != metav1.ConditionTrue {
		t.Errorf("with the kubelet back: allocations %+v, AllocationsCurrent %s; want GPU 4 held by serve-0, True", ng.Status.Allocations, current(&ng))
	}
}
