package queues

import (
	"maps"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/queuemodel"
	"github.com/gantry-gpu/gantry/pkg/scheduler/queues/core"
)

// Tree is the queues that exist now.
func (a *Accounting) Tree() core.Tree {
	queues, err := a.queues.List(labels.Everything())
	if err != nil {
		return core.Tree{}
	}
	return queuemodel.FromObjects(queues)
}

// PodRequests is what the pod asks for, by resource: the GPU resource as
// gpu.PodGPUs counts it, the rest as the scheduler does.
func PodRequests(pod *v1.Pod, gpuResource v1.ResourceName) v1.ResourceList {
	out := v1.ResourceList{}
	for r, q := range resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{}) {
		if r != gpuResource && !q.IsZero() {
			out[r] = q
		}
	}
	if n := gpu.PodGPUs(pod, gpuResource); n > 0 {
		out[gpuResource] = *resourceQuantity(int64(n))
	}
	return out
}

// Counted reports whether the pod already counts against its queue.
func (a *Accounting) Counted(uid types.UID) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	e := a.pods[uid]
	return e != nil && e.counted
}

// Usage is one cycle's copy of the sums.
type Usage struct {
	// Own is each queue's usage (descendants not included), Leaving what
	// its terminating pods hold of it.
	Own, Leaving map[string]v1.ResourceList
	// LeavingGPUs is, by node, the GPUs terminating pods hold there.
	LeavingGPUs map[string]int64
}

// Snapshot copies the sums for one decision.
func (a *Accounting) Snapshot() Usage {
	a.mu.RLock()
	defer a.mu.RUnlock()
	s := Usage{
		Own:         make(map[string]v1.ResourceList, len(a.own)),
		Leaving:     make(map[string]v1.ResourceList, len(a.leaving)),
		LeavingGPUs: maps.Clone(a.leavingGPUs),
	}
	for q, l := range a.own {
		s.Own[q] = l.DeepCopy()
	}
	for q, l := range a.leaving {
		s.Leaving[q] = l.DeepCopy()
	}
	return s
}

// Pending calls yield with each workload waiting in the queue until yield
// returns false; yield must not call back into a.
func (a *Accounting) Pending(queue string, yield func(core.Waiting) bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	for w, d := range a.pending[queue] {
		var gpus []int64
		for g, n := range d.gpus {
			for range n {
				gpus = append(gpus, g)
			}
		}
		if !yield(core.Waiting{Name: w, Demand: d.demand, GPUs: gpus, Since: d.since}) {
			return
		}
	}
}

// GPUsIn is what requests (PodRequests') ask of the GPU resource.
func GPUsIn(requests v1.ResourceList, gpuResource v1.ResourceName) int64 {
	q := requests[gpuResource]
	return q.Value()
}

func resourceQuantity(n int64) *resource.Quantity { return resource.NewQuantity(n, resource.DecimalSI) }
