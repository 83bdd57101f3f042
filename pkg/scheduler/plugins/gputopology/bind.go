package gputopology

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
)

type reserveState struct {
	node  string
	uuids []string
}

// Clone implements fwk.StateData; the state is never modified.
func (s *reserveState) Clone() fwk.StateData { return s }

// Reserve chooses the pod's GPUs on the node and holds them in the cache.
// The choice is made again from the cache, not from the cycle's view: the
// cycle's view may be older than reservations and informer updates since.
func (pl *GPUTopology) Reserve(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, nodeName string) *fwk.Status {
	s, err := getPreFilterState(cs)
	if err != nil {
		if gpu.PodGPUs(pod, pl.resource) == 0 {
			return nil
		}
		return fwk.AsStatus(err)
	}
	res := pl.cache.Reserve(pod.UID, nodeName, s.req)
	if res.NoNodeGPU {
		return nil
	}
	if !res.Placement.Fits {
		return fwk.NewStatus(fwk.Unschedulable, "the node's GPUs changed since filtering: "+res.Placement.Reason)
	}
	cs.Write(reserveStateKey, &reserveState{node: nodeName, uuids: res.UUIDs})
	klog.FromContext(ctx).V(2).Info("Reserved GPUs", "pod", klog.KObj(pod), "node", nodeName,
		"gpus", res.UUIDs, "set", res.Placement.Score.String())
	return nil
}

// Unreserve releases the pod's GPUs. It is idempotent.
func (pl *GPUTopology) Unreserve(_ context.Context, cs fwk.CycleState, pod *v1.Pod, _ string) {
	pl.cache.Unreserve(pod.UID)
	cs.Delete(reserveStateKey)
}

func getReserveState(cs fwk.CycleState) (*reserveState, bool) {
	d, err := cs.Read(reserveStateKey)
	if err != nil {
		return nil, false
	}
	s, ok := d.(*reserveState)
	return s, ok
}

// Bind binds a pod that reserved GPUs and writes the set to it in the same
// API call: the Binding carries the annotation gantry.dev/gpu-ids, which the
// API server copies onto the pod as it sets spec.nodeName. The pod is thus
// never bound without its GPUs named (the device plugin may be asked for it
// at once), never annotated but unbound, and costs one write, not two.
// Pods that reserved no GPUs are left to DefaultBinder (Skip); the shipped
// profile orders this plugin's Bind before it.
func (pl *GPUTopology) Bind(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, nodeName string) *fwk.Status {
	r, ok := getReserveState(cs)
	if !ok {
		return fwk.NewStatus(fwk.Skip)
	}
	if r.node != nodeName {
		return fwk.AsStatus(fmt.Errorf("GPUs were reserved on node %s, but the pod is being bound to %s", r.node, nodeName))
	}
	ids := gantryv1alpha1.FormatGPUIDs(r.uuids)
	binding := &v1.Binding{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
			Annotations: map[string]string{gantryv1alpha1.GPUIDsAnnotation: ids},
		},
		Target: v1.ObjectReference{Kind: "Node", Name: nodeName},
	}
	if err := pl.client.CoreV1().Pods(pod.Namespace).Bind(ctx, binding, metav1.CreateOptions{}); err != nil {
		return fwk.AsStatus(fmt.Errorf("binding pod %s to %s with %s=%s: %w", klog.KObj(pod), nodeName, gantryv1alpha1.GPUIDsAnnotation, ids, err))
	}
	klog.FromContext(ctx).V(4).Info("Bound pod with its GPUs", "pod", klog.KObj(pod), "node", nodeName, "gpus", ids)
	return nil
}
