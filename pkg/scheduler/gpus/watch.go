package gputopology

import (
	"context"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	toolscache "k8s.io/client-go/tools/cache"
	fwk "k8s.io/kube-scheduler/framework"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/scheduler/shared"
)

// NodeGPUResource is the resource the plugin watches for NodeGPUs.
var NodeGPUResource = gantryv1alpha1.SchemeGroupVersion.WithResource("nodegpus")

// nodeGPUEvents names NodeGPU events in EventsToRegister: resource, version
// and group joined by dots. The scheduler builds its informer for them
// from the shared state's factory, the one the cache reads.
const nodeGPUEvents fwk.EventResource = "nodegpus.v1alpha1.gantry.dev"

// startInformers feeds the cache: pods from the scheduler's shared pod
// informer (which already leaves out finished pods), NodeGPUs from the
// shared state's typed informer, applied both from a handler of the
// cache's own (so the cache follows NodeGPUs whether or not the scheduler
// registered for their events) and before the scheduler's handler runs the
// queueing hints. The informers start with the scheduler's.
func (c *Cache) startInformers(h fwk.Handle, st *shared.State) error {
	podReg, err := h.SharedInformerFactory().Core().V1().Pods().Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.onPod(obj, false) },
		UpdateFunc: func(_, obj any) { c.onPod(obj, false) },
		DeleteFunc: func(obj any) { c.onPod(obj, true) },
	})
	if err != nil {
		return fmt.Errorf("watching pods: %w", err)
	}
	nodeGPUs := st.Informers.Gantry.Gantry().V1alpha1().NodeGPUs()
	lister := nodeGPUs.Lister()
	refresh := func(obj any) {
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
	ngReg, err := nodeGPUs.Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    refresh,
		UpdateFunc: func(_, obj any) { refresh(obj) },
		DeleteFunc: refresh,
	})
	if err != nil {
		return fmt.Errorf("watching NodeGPUs: %w", err)
	}
	st.Informers.RefreshFirst(NodeGPUResource, refresh)
	c.SetSyncedFunc(func() bool { return podReg.HasSynced() && ngReg.HasSynced() })
	return nil
}

func (c *Cache) onPod(obj any, deleted bool) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj, deleted = t.Obj, true
	}
	pod, ok := obj.(*v1.Pod)
	if !ok {
		c.logger.Error(nil, "Ignoring pod event with an unexpected object", "type", fmt.Sprintf("%T", obj))
		return
	}
	if deleted {
		c.DeletePod(pod)
		return
	}
	c.SetPod(pod)
}

// waitFor polls cond until it holds (true) or ctx ends (false).
func waitFor(ctx context.Context, cond func() bool) bool {
	return wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(context.Context) (bool, error) {
		return cond(), nil
	}) == nil
}
