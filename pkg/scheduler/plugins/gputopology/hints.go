package gputopology

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gpus"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/internal/podevents"
)

// nodeGPUEvents names NodeGPU events in EventsToRegister: resource, version
// and group joined by dots. The scheduler builds its informer for them
// from the shared state's factory, the one the GPU cache reads.
const nodeGPUEvents fwk.EventResource = "nodegpus.v1alpha1.gantry.dev"

// EventsToRegister lists the events that can make a pod this plugin
// rejected schedulable: a NodeGPU added, changed or deleted (GPUs freed or
// healed; a node without NodeGPU passes), a pod deleted (its GPUs freed, or
// its reservation dropped), the pod's own min-link annotation changed, a
// node added.
func (pl *GPUTopology) EventsToRegister(context.Context) ([]fwk.ClusterEventWithHint, error) {
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: nodeGPUEvents, ActionType: fwk.Add | fwk.Update | fwk.Delete}, QueueingHintFn: pl.isSchedulableAfterNodeGPUChange},
		{Event: fwk.ClusterEvent{Resource: fwk.Pod, ActionType: fwk.Delete}, QueueingHintFn: pl.isSchedulableAfterPodDelete},
		{Event: fwk.ClusterEvent{Resource: fwk.Pod, ActionType: fwk.Update}, QueueingHintFn: pl.isSchedulableAfterPodUpdate},
		{Event: fwk.ClusterEvent{Resource: fwk.Node, ActionType: fwk.Add}},
	}, nil
}

// isSchedulableAfterNodeGPUChange requeues the pod when the changed node
// could now take it. The cache already holds the change: it is applied
// before the scheduler's handler runs this hint (shared.State.Attach).
func (pl *GPUTopology) isSchedulableAfterNodeGPUChange(logger klog.Logger, pod *v1.Pod, oldObj, newObj any) (fwk.QueueingHint, error) {
	if newObj == nil {
		// A node without NodeGPU passes the filter.
		return fwk.Queue, nil
	}
	n, ok := newObj.(*gantryv1alpha1.NodeGPU)
	if !ok {
		return fwk.Queue, fmt.Errorf("NodeGPU event with an unexpected object %T", newObj)
	}
	if o, ok := oldObj.(*gantryv1alpha1.NodeGPU); ok && !placementChanged(o, n) {
		return fwk.QueueSkip, nil
	}
	st, ok := pl.cache.Node(n.Name)
	if !ok {
		return fwk.Queue, nil
	}
	minLink, err := gpus.MinLink(pod)
	if err != nil {
		return fwk.QueueSkip, nil
	}
	if p := gpus.Place(st, gpus.Request{GPUs: gpu.PodGPUs(pod, pl.resource), MinLink: minLink}); !p.Fits {
		logger.V(5).Info("NodeGPU changed but still cannot take the pod", "pod", klog.KObj(pod), "node", n.Name, "reason", p.Reason)
		return fwk.QueueSkip, nil
	}
	return fwk.Queue, nil
}

// placementChanged reports whether two copies of a NodeGPU differ in what
// can change a placement (not counters or metadata), so the
// device plugin's periodic status writes do not requeue every waiting pod.
func placementChanged(o, n *gantryv1alpha1.NodeGPU) bool {
	return !equality.Semantic.DeepEqual(o.Spec, n.Spec) ||
		!equality.Semantic.DeepEqual(o.Status.Health, n.Status.Health) ||
		!equality.Semantic.DeepEqual(o.Status.Allocations, n.Status.Allocations)
}

// isSchedulableAfterPodDelete requeues the pod when a pod that held or was
// to hold GPUs goes away. The cache has forgotten it already: the state
// applies pod events before the scheduler's handler runs the hints, and a
// pod the scheduler merely stops assuming gave its reservation back in
// Unreserve.
func (pl *GPUTopology) isSchedulableAfterPodDelete(logger klog.Logger, pod *v1.Pod, oldObj, _ any) (fwk.QueueingHint, error) {
	deleted, assigned, err := podevents.DeletedAssignedPod(oldObj)
	if err != nil {
		return fwk.Queue, err
	}
	if !assigned {
		return fwk.QueueSkip, nil
	}
	if gpu.PodGPUs(deleted, pl.resource) == 0 && deleted.Annotations[gantryv1alpha1.GPUIDsAnnotation] == "" {
		return fwk.QueueSkip, nil
	}
	logger.V(5).Info("A pod with GPUs went away", "pod", klog.KObj(pod), "deleted", klog.KObj(deleted), "node", deleted.Spec.NodeName)
	return fwk.Queue, nil
}

// isSchedulableAfterPodUpdate requeues the pod when its own
// min-GPU-link annotation changed, the one way to fix a bad value.
func (pl *GPUTopology) isSchedulableAfterPodUpdate(_ klog.Logger, pod *v1.Pod, oldObj, newObj any) (fwk.QueueingHint, error) {
	o, ok1 := oldObj.(*v1.Pod)
	n, ok2 := newObj.(*v1.Pod)
	if !ok1 || !ok2 {
		return fwk.Queue, fmt.Errorf("updated objects are %T and %T, not *v1.Pod", oldObj, newObj)
	}
	if n.UID != pod.UID || o.Annotations[gpus.MinLinkAnnotation] == n.Annotations[gpus.MinLinkAnnotation] {
		return fwk.QueueSkip, nil
	}
	return fwk.Queue, nil
}
