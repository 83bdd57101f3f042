package gpus

import (
	"context"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	toolscache "k8s.io/client-go/tools/cache"

	gantrylisters "github.com/gantry-gpu/gantry/pkg/generated/listers/gantry/v1alpha1"
)

// Watch feeds the cache from the scheduler's pod informer (which already
// leaves out finished pods) and the NodeGPU informer, from handlers of the
// cache's own, and marks the cache synced once both have listed. It
// returns the functions that apply a pod event and a NodeGPU event: the
// scheduler's shared state also runs them before the scheduler's own
// handler sees the event, so queueing hints never read the cache older
// than the event. Both read the informer's store, not the event's object:
// the store holds the newest copy before any handler is told, so however
// the calls interleave, a late one never undoes a newer one.
func (c *Cache) Watch(pods, nodeGPUs toolscache.SharedIndexInformer, lister gantrylisters.NodeGPULister) (podEvent, nodeGPUEvent func(obj any), err error) {
	podStore := pods.GetStore()
	podEvent = func(obj any) { c.refreshPod(obj, podStore) }
	podReg, err := pods.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    podEvent,
		UpdateFunc: func(_, obj any) { podEvent(obj) },
		DeleteFunc: podEvent,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("watching pods: %w", err)
	}
	nodeGPUEvent = func(obj any) {
		if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		m, err := meta.Accessor(obj)
		if err != nil {
			c.logger.Error(err, "Ignoring NodeGPU event with an unexpected object", "type", fmt.Sprintf("%T", obj))
			return
		}
		c.RefreshNodeGPU(m.GetName(), lister)
	}
	ngReg, err := nodeGPUs.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    nodeGPUEvent,
		UpdateFunc: func(_, obj any) { nodeGPUEvent(obj) },
		DeleteFunc: nodeGPUEvent,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("watching NodeGPUs: %w", err)
	}
	c.SetSyncedFunc(func() bool { return podReg.HasSynced() && ngReg.HasSynced() })
	return podEvent, nodeGPUEvent, nil
}

// refreshPod applies the pod of an event as store has it now: the stored
// pod, or, when the store no longer holds that pod (same UID), its
// deletion.
func (c *Cache) refreshPod(obj any, store toolscache.Store) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*v1.Pod)
	if !ok {
		c.logger.Error(nil, "Ignoring pod event with an unexpected object", "type", fmt.Sprintf("%T", obj))
		return
	}
	stored, exists, err := store.Get(pod)
	cur, isPod := stored.(*v1.Pod)
	if err != nil || !exists || !isPod || cur.UID != pod.UID {
		c.DeletePod(pod)
		if isPod && exists {
			c.SetPod(cur)
		}
		return
	}
	c.SetPod(cur)
}

// waitFor polls cond until it holds (true) or ctx ends (false).
func waitFor(ctx context.Context, cond func() bool) bool {
	return wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(context.Context) (bool, error) {
		return cond(), nil
	}) == nil
}
