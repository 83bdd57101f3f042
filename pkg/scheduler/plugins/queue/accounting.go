package queue

import (
	"fmt"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/internal/resourceversion"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/queue/core"
)

// accounting is the plugin's view of the queues and of the pods that count
// against them. It is safe for concurrent use.
//
// A pod counts while it is bound and not terminal (its node holds it,
// whoever scheduled it), or from this scheduler's Reserve until it is seen
// bound, is unreserved or is deleted, as the GPU-topology cache treats
// reservations: a pod is in at most one of the two maps, so nothing is
// counted twice.
type accounting struct {
	mu sync.RWMutex
	// queues holds each Queue's latest copy; a deleted queue's entry has
	// no queue but keeps its version, so a late copy from before the
	// delete (through the scheduler's informer, in a queueing hint) does
	// not bring it back.
	queues   map[string]queueEntry
	bound    map[types.UID]*v1.Pod
	reserved map[types.UID]*v1.Pod
}

type queueEntry struct {
	queue           *gantryv1alpha1.Queue
	resourceVersion string
}

func newAccounting() *accounting {
	return &accounting{queues: map[string]queueEntry{}, bound: map[types.UID]*v1.Pod{}, reserved: map[types.UID]*v1.Pod{}}
}

// SetQueueObject records a Queue as an informer hands it over, typed or
// unstructured, if it is newer than the copy held, and returns it typed. A
// Queue that does not convert is an error for the caller to log.
func (a *accounting) SetQueueObject(obj any) (*gantryv1alpha1.Queue, error) {
	var q *gantryv1alpha1.Queue
	switch o := obj.(type) {
	case *gantryv1alpha1.Queue:
		q = o
	case *unstructured.Unstructured:
		q = &gantryv1alpha1.Queue{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.UnstructuredContent(), q); err != nil {
			return nil, fmt.Errorf("converting Queue %s: %w", o.GetName(), err)
		}
	default:
		return nil, fmt.Errorf("a Queue event with an unexpected object %T", obj)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.queues[q.Name]; ok && !resourceversion.Newer(e.resourceVersion, q.ResourceVersion) {
		return q, nil
	}
	a.queues[q.Name] = queueEntry{queue: q.DeepCopy(), resourceVersion: q.ResourceVersion}
	return q, nil
}

// DeleteQueueObject forgets a Queue an informer reports deleted and returns
// its name.
func (a *accounting) DeleteQueueObject(obj any) (string, error) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return "", fmt.Errorf("a Queue delete event with an unexpected object %T: %w", obj, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	rv := m.GetResourceVersion()
	if e, ok := a.queues[m.GetName()]; ok && rv != e.resourceVersion && resourceversion.Newer(rv, e.resourceVersion) {
		// What the view holds is newer: the queue was created again.
		return m.GetName(), nil
	}
	a.queues[m.GetName()] = queueEntry{resourceVersion: rv}
	return m.GetName(), nil
}

// Tree is the queues that exist now.
func (a *accounting) Tree() core.Tree {
	a.mu.RLock()
	defer a.mu.RUnlock()
	t := core.Tree{}
	for name, e := range a.queues {
		if e.queue != nil {
			t[name] = core.Queue{Name: name, Parent: e.queue.Spec.Parent, Limit: e.queue.Spec.Limit}
		}
	}
	return t
}

func terminal(pod *v1.Pod) bool {
	return pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed
}

// SetPod records a pod the informer reports added or updated.
func (a *accounting) SetPod(pod *v1.Pod) {
	if terminal(pod) {
		a.DeletePod(pod)
		return
	}
	if pod.Spec.NodeName == "" {
		// Not bound: only a reservation can count it.
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.reserved, pod.UID)
	a.bound[pod.UID] = pod
}

// DeletePod forgets a pod and any reservation it had.
func (a *accounting) DeletePod(pod *v1.Pod) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.bound, pod.UID)
	delete(a.reserved, pod.UID)
}

// Reserve counts a pod this scheduler placed but has not bound yet.
func (a *accounting) Reserve(pod *v1.Pod) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.bound[pod.UID]; ok {
		return
	}
	a.reserved[pod.UID] = pod
}

// Unreserve drops the pod's reservation, if any.
func (a *accounting) Unreserve(uid types.UID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.reserved, uid)
}

// Counted reports whether the pod already counts against its queue.
func (a *accounting) Counted(uid types.UID) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	_, b := a.bound[uid]
	_, r := a.reserved[uid]
	return b || r
}

// Pods lists the pods that count, bound and reserved.
func (a *accounting) Pods() []*v1.Pod {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]*v1.Pod, 0, len(a.bound)+len(a.reserved))
	for _, p := range a.bound {
		out = append(out, p)
	}
	for _, p := range a.reserved {
		out = append(out, p)
	}
	return out
}

func resourceQuantity(n int64) *resource.Quantity { return resource.NewQuantity(n, resource.DecimalSI) }
