package shared

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	toolscache "k8s.io/client-go/tools/cache"
)

// refreshers are the functions run before the scheduler's own handlers see
// an event of a resource (RefreshFirst).
type refreshers struct {
	mu  sync.RWMutex
	fns map[schema.GroupVersionResource][]func(obj any)
}

func (r *refreshers) add(gvr schema.GroupVersionResource, fn func(obj any)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fns == nil {
		r.fns = map[schema.GroupVersionResource][]func(obj any){}
	}
	r.fns[gvr] = append(r.fns[gvr], fn)
}

func (r *refreshers) run(gvr schema.GroupVersionResource, obj any) {
	r.mu.RLock()
	fns := r.fns[gvr]
	r.mu.RUnlock()
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	for _, fn := range fns {
		fn(obj)
	}
}

// RefreshFirst has fn run with each object of resource gvr, in the
// informer's delivery to the scheduler, before the scheduler's handler
// (and so the plugins' queueing hints) sees the event. State derived from
// the informer is brought up to date there, in an event handler, and hints
// only read it: a pod a hint requeues never meets state older than the
// event that requeued it. fn reads the informer's store, not the object it
// is given: the store holds the newest copy before any handler is told, so
// a late call never undoes a newer one. Register before the scheduler
// starts its informers.
func (i *Informers) RefreshFirst(gvr schema.GroupVersionResource, fn func(obj any)) {
	i.refresh.add(gvr, fn)
}

// refreshingInformer is a GenericInformer whose handlers run the
// resource's refreshers first.
type refreshingInformer struct {
	informers.GenericInformer
	gvr     schema.GroupVersionResource
	refresh *refreshers
}

func (r *refreshingInformer) Informer() toolscache.SharedIndexInformer {
	return &refreshingSharedInformer{SharedIndexInformer: r.GenericInformer.Informer(), gvr: r.gvr, refresh: r.refresh}
}

type refreshingSharedInformer struct {
	toolscache.SharedIndexInformer
	gvr     schema.GroupVersionResource
	refresh *refreshers
}

func (s *refreshingSharedInformer) wrap(h toolscache.ResourceEventHandler) toolscache.ResourceEventHandler {
	return &refreshingHandler{next: h, gvr: s.gvr, refresh: s.refresh}
}

func (s *refreshingSharedInformer) AddEventHandler(h toolscache.ResourceEventHandler) (toolscache.ResourceEventHandlerRegistration, error) {
	return s.SharedIndexInformer.AddEventHandler(s.wrap(h))
}

func (s *refreshingSharedInformer) AddEventHandlerWithResyncPeriod(h toolscache.ResourceEventHandler, resync time.Duration) (toolscache.ResourceEventHandlerRegistration, error) {
	return s.SharedIndexInformer.AddEventHandlerWithResyncPeriod(s.wrap(h), resync)
}

func (s *refreshingSharedInformer) AddEventHandlerWithOptions(h toolscache.ResourceEventHandler, opts toolscache.HandlerOptions) (toolscache.ResourceEventHandlerRegistration, error) {
	return s.SharedIndexInformer.AddEventHandlerWithOptions(s.wrap(h), opts)
}

type refreshingHandler struct {
	next    toolscache.ResourceEventHandler
	gvr     schema.GroupVersionResource
	refresh *refreshers
}

func (h *refreshingHandler) OnAdd(obj any, initial bool) {
	h.refresh.run(h.gvr, obj)
	h.next.OnAdd(obj, initial)
}

func (h *refreshingHandler) OnUpdate(oldObj, newObj any) {
	h.refresh.run(h.gvr, newObj)
	h.next.OnUpdate(oldObj, newObj)
}

func (h *refreshingHandler) OnDelete(obj any) {
	h.refresh.run(h.gvr, obj)
	h.next.OnDelete(obj)
}
