package gputopology

import (
	"context"
	"errors"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	fwk "k8s.io/kube-scheduler/framework"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// NodeGPUResource is the resource the plugin watches for NodeGPUs.
var NodeGPUResource = gantryv1alpha1.SchemeGroupVersion.WithResource("nodegpus")

// nodeGPUEvents names NodeGPU events in EventsToRegister: resource, version
// and group joined by dots, from which the scheduler builds a dynamic
// informer of its own to drive requeueing.
const nodeGPUEvents fwk.EventResource = "nodegpus.v1alpha1.gantry.dev"

// startInformers feeds the cache: pods from the scheduler's shared pod
// informer (which already leaves out finished pods), NodeGPUs from a dynamic
// informer of the plugin's own. The handle does not expose the scheduler's
// dynamic informer factory, and a dynamic informer, unlike a typed one,
// still lists when one NodeGPU does not decode: the cache converts each
// object itself and sets aside only the bad one. The informers stop with ctx.
func (c *Cache) startInformers(ctx context.Context, h fwk.Handle) error {
	if h.KubeConfig() == nil {
		return errors.New("the framework handle has no kubeconfig to watch NodeGPUs with")
	}
	cfg := rest.CopyConfig(h.KubeConfig())
	cfg = rest.AddUserAgent(cfg, "gantry-scheduler/"+Name)
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("building a dynamic client for NodeGPUs: %w", err)
	}

	podReg, err := h.SharedInformerFactory().Core().V1().Pods().Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.onPod(obj, false) },
		UpdateFunc: func(_, obj any) { c.onPod(obj, false) },
		DeleteFunc: func(obj any) { c.onPod(obj, true) },
	})
	if err != nil {
		return fmt.Errorf("watching pods: %w", err)
	}

	factory := dynamicinformer.NewDynamicSharedInformerFactory(client, 0)
	ngReg, err := factory.ForResource(NodeGPUResource).Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.setNodeGPUObject(obj) },
		UpdateFunc: func(_, obj any) { c.setNodeGPUObject(obj) },
		DeleteFunc: c.onNodeGPUDelete,
	})
	if err != nil {
		return fmt.Errorf("watching NodeGPUs: %w", err)
	}
	c.SetSyncedFunc(func() bool { return podReg.HasSynced() && ngReg.HasSynced() })
	factory.Start(ctx.Done())
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

func (c *Cache) onNodeGPUDelete(obj any) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		c.logger.Error(err, "Ignoring NodeGPU delete event with an unexpected object", "type", fmt.Sprintf("%T", obj))
		return
	}
	c.DeleteNodeGPU(m.GetName(), m.GetResourceVersion())
}

// waitFor polls cond until it holds (true) or ctx ends (false).
func waitFor(ctx context.Context, cond func() bool) bool {
	return wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(context.Context) (bool, error) {
		return cond(), nil
	}) == nil
}
