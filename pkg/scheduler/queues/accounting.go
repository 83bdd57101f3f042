package queues

import (
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	gantrylisters "github.com/gantry-gpu/gantry/pkg/generated/listers/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/pods"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs"
	"github.com/gantry-gpu/gantry/pkg/scheduler/queues/core"
)

// Accounting is the scheduler's view of the queues, of the pods that count
// against them and of the workloads that wait in them, kept up to date
// event by event so that a scheduling cycle reads sums, not pods. It is
// safe for concurrent use.
//
// A pod counts while it is bound and not terminal (its node holds it,
// whoever scheduled it), or from this scheduler's Reserve until it is seen
// bound, is unreserved or is deleted, as the GPU-topology cache treats
// reservations: nothing is counted twice. A pod that is neither, not
// terminal, not being deleted and not gated waits: its requests add to its
// workload's (its gang's, or its own) pending demand in its queue.
//
// A pod's queue is resolved (resolve: QueueOf over the pod, its PodGroup
// and its namespace) when the pod is recorded, and again when its
// namespace's or PodGroup's labels change (Requeue*).
type Accounting struct {
	mu sync.RWMutex
	// queues is the Queue informer's lister: its store holds a Queue
	// before any handler, the scheduler's queueing hints included, hears
	// of it.
	queues gantrylisters.QueueLister
	// gpuResource is counted as gpu.PodGPUs counts it.
	gpuResource v1.ResourceName
	resolve     func(*v1.Pod) (string, gantryv1alpha1.QueueSource)

	pods map[types.UID]*podEntry
	// own is each queue's counted usage (descendants not included);
	// leaving is the part of it held by pods being deleted.
	own, leaving map[string]v1.ResourceList
	// leavingGPUs is, by node, the GPUs terminating pods hold there.
	leavingGPUs map[string]int64
	// pending is each queue's waiting workloads.
	pending map[string]map[string]*pendingWorkload
	// byNamespace and byGang index the pods for re-resolving queues.
	byNamespace, byGang map[string]map[types.UID]bool
	now                 func() time.Time
}

// pendingWorkload is what a workload's waiting pods ask for, and since
// when it has had some waiting.
type pendingWorkload struct {
	demand v1.ResourceList
	// gpus counts the waiting pods by what they ask of the GPU resource.
	gpus  map[int64]int
	since time.Time
}

// podEntry is one recorded pod and what it adds where.
type podEntry struct {
	pod      *v1.Pod
	queue    string
	requests v1.ResourceList
	reserved bool
	// counted and waiting say where requests were added: to own (and
	// leaving if the pod is being deleted), or to pending[queue][workload].
	counted, waiting bool
	leaving          bool
	workload         string
}

// NewAccounting returns empty accounting of gpuResource over the Queues
// of queues, finding pods' queues with resolve.
func NewAccounting(gpuResource v1.ResourceName, queues gantrylisters.QueueLister, resolve func(*v1.Pod) (string, gantryv1alpha1.QueueSource)) *Accounting {
	return &Accounting{
		queues:      queues,
		resolve:     resolve,
		gpuResource: gpuResource,
		pods:        map[types.UID]*podEntry{},
		own:         map[string]v1.ResourceList{},
		leaving:     map[string]v1.ResourceList{},
		leavingGPUs: map[string]int64{},
		pending:     map[string]map[string]*pendingWorkload{},
		now:         time.Now,
		byNamespace: map[string]map[types.UID]bool{},
		byGang:      map[string]map[types.UID]bool{},
	}
}

// workloadKey names what a waiting pod is part of: its gang, or itself.
func workloadKey(pod *v1.Pod) string {
	if key := gangs.KeyOf(pod); key != "" {
		return key
	}
	return "pod " + pod.Namespace + "/" + pod.Name
}

// PodChange says how recording a pod changed its queue's usage.
type PodChange struct {
	// Queue is the pod's queue ("" when the pod was not known and is
	// not now).
	Queue string
	// Became is +1 when the pod started counting, -1 when it stopped,
	// 0 otherwise.
	Became int
}

// SetPod records a pod the informer reports added or updated.
func (a *Accounting) SetPod(pod *v1.Pod) PodChange {
	if pods.Finished(pod) {
		return a.DeletePod(pod)
	}
	queue := a.queueOf(pod)
	requests := PodRequests(pod, a.gpuResource)
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.entryLocked(pod, queue, requests)
	was := e.counted
	a.unapply(e)
	e.pod, e.queue, e.requests = pod, queue, requests
	if pod.Spec.NodeName != "" {
		e.reserved = false
	}
	a.apply(e)
	c := PodChange{Queue: queue}
	switch {
	case e.counted && !was:
		c.Became = 1
	case !e.counted && was:
		c.Became = -1
	}
	return c
}

// entryLocked returns the pod's entry, recording a new one (with the
// queue and requests given, nothing applied yet) if there is none.
func (a *Accounting) entryLocked(pod *v1.Pod, queue string, requests v1.ResourceList) *podEntry {
	e := a.pods[pod.UID]
	if e == nil {
		e = &podEntry{pod: pod, queue: queue, requests: requests}
		a.pods[pod.UID] = e
		index(a.byNamespace, pod.Namespace, pod.UID)
		if key := gangs.KeyOf(pod); key != "" {
			index(a.byGang, key, pod.UID)
		}
	}
	return e
}

// queueOf resolves the pod's queue.
func (a *Accounting) queueOf(pod *v1.Pod) string {
	q, _ := a.resolve(pod)
	return q
}

func index(m map[string]map[types.UID]bool, key string, uid types.UID) {
	s := m[key]
	if s == nil {
		s = map[types.UID]bool{}
		m[key] = s
	}
	s[uid] = true
}

func unindex(m map[string]map[types.UID]bool, key string, uid types.UID) {
	if s := m[key]; s != nil {
		delete(s, uid)
		if len(s) == 0 {
			delete(m, key)
		}
	}
}

// apply adds the entry's requests where its state says.
func (a *Accounting) apply(e *podEntry) {
	p := e.pod
	switch {
	case p.Spec.NodeName != "" || e.reserved:
		e.counted = true
		e.leaving = p.DeletionTimestamp != nil
		core.Add(a.own, e.queue, e.requests)
		if e.leaving {
			core.Add(a.leaving, e.queue, e.requests)
			if p.Spec.NodeName != "" {
				a.leavingGPUs[p.Spec.NodeName] += GPUsIn(e.requests, a.gpuResource)
			}
		}
	case p.DeletionTimestamp == nil && len(p.Spec.SchedulingGates) == 0:
		e.waiting = true
		e.workload = workloadKey(p)
		w := a.pending[e.queue]
		if w == nil {
			w = map[string]*pendingWorkload{}
			a.pending[e.queue] = w
		}
		d := w[e.workload]
		if d == nil {
			d = &pendingWorkload{demand: v1.ResourceList{}, gpus: map[int64]int{}, since: a.now()}
			w[e.workload] = d
		}
		core.AddTo(d.demand, e.requests)
		if g := GPUsIn(e.requests, a.gpuResource); g > 0 {
			d.gpus[g]++
		}
	}
}

// unapply takes back what apply added.
func (a *Accounting) unapply(e *podEntry) {
	if e.counted {
		core.Sub(a.own, e.queue, e.requests)
		if e.leaving {
			core.Sub(a.leaving, e.queue, e.requests)
			if node := e.pod.Spec.NodeName; node != "" {
				if a.leavingGPUs[node] -= GPUsIn(e.requests, a.gpuResource); a.leavingGPUs[node] <= 0 {
					delete(a.leavingGPUs, node)
				}
			}
		}
	}
	if e.waiting {
		if w := a.pending[e.queue]; w != nil {
			if d := w[e.workload]; d != nil {
				subFrom(d.demand, e.requests)
				if g := GPUsIn(e.requests, a.gpuResource); g > 0 {
					if d.gpus[g]--; d.gpus[g] <= 0 {
						delete(d.gpus, g)
					}
				}
				if allZero(d.demand) {
					delete(w, e.workload)
				}
			}
			if len(w) == 0 {
				delete(a.pending, e.queue)
			}
		}
	}
	e.counted, e.waiting, e.leaving = false, false, false
}

func subFrom(dst, src v1.ResourceList) {
	for r, q := range src {
		d := dst[r].DeepCopy()
		d.Sub(q)
		dst[r] = d
	}
}

func allZero(l v1.ResourceList) bool {
	for _, q := range l {
		if !q.IsZero() {
			return false
		}
	}
	return true
}

// DeletePod forgets a pod and any reservation it had, and says which queue
// it was in and whether it stopped counting.
func (a *Accounting) DeletePod(pod *v1.Pod) PodChange {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.pods[pod.UID]
	if e == nil {
		return PodChange{}
	}
	c := PodChange{Queue: e.queue}
	if e.counted {
		c.Became = -1
	}
	a.unapply(e)
	delete(a.pods, pod.UID)
	unindex(a.byNamespace, e.pod.Namespace, pod.UID)
	if key := gangs.KeyOf(e.pod); key != "" {
		unindex(a.byGang, key, pod.UID)
	}
	return c
}

// Reserve counts a pod this scheduler placed but has not bound yet, and
// says its queue ("" if it counted already).
func (a *Accounting) Reserve(pod *v1.Pod) string {
	queue := a.queueOf(pod)
	requests := PodRequests(pod, a.gpuResource)
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.entryLocked(pod, queue, requests)
	if e.counted {
		return ""
	}
	a.unapply(e)
	e.reserved = true
	a.apply(e)
	return e.queue
}

// Unreserve drops the pod's reservation, if any, and says its queue ("" if
// it had none).
func (a *Accounting) Unreserve(uid types.UID) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.pods[uid]
	if e == nil || !e.reserved {
		return ""
	}
	a.unapply(e)
	e.reserved = false
	a.apply(e)
	return e.queue
}

// Requeue re-resolves the queues of the pods of a namespace, or of a gang
// (namespace/name), after labels that choose queues changed there.
func (a *Accounting) RequeueNamespace(namespace string) { a.requeue(a.byNamespace, namespace) }

// RequeueGang re-resolves the queues of a gang's pods.
func (a *Accounting) RequeueGang(key string) { a.requeue(a.byGang, key) }

func (a *Accounting) requeue(m map[string]map[types.UID]bool, key string) {
	a.mu.RLock()
	var pods []*v1.Pod
	for uid := range m[key] {
		if e := a.pods[uid]; e != nil {
			pods = append(pods, e.pod)
		}
	}
	a.mu.RUnlock()
	for _, p := range pods {
		queue := a.queueOf(p)
		a.mu.Lock()
		if e := a.pods[p.UID]; e != nil && e.pod == p && e.queue != queue {
			a.unapply(e)
			e.queue = queue
			a.apply(e)
		}
		a.mu.Unlock()
	}
}

// RefreshPod records the pod of an event as store has it now: the stored
// pod, or, when the store no longer holds that pod (same UID), its
// deletion. Reading the store, not the event's object, a late call never
// undoes a newer one, however the handlers that call it interleave.
func (a *Accounting) RefreshPod(obj any, store toolscache.Store) PodChange {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return PodChange{}
	}
	stored, exists, err := store.Get(pod)
	cur, isPod := stored.(*v1.Pod)
	if err != nil || !exists || !isPod || cur.UID != pod.UID {
		c := a.DeletePod(pod)
		if isPod && exists {
			a.SetPod(cur)
		}
		return c
	}
	return a.SetPod(cur)
}
