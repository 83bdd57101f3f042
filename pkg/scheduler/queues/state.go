// Package queues is gantry-scheduler's one view of the queues: what each
// queue uses and what waits in it (Accounting), the pods deferred for fair
// share (Deferrals), and the activation of pods when shares change. One
// State serves the whole scheduler; GantryQueue decides with it.
package queues

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	corelisters "k8s.io/client-go/listers/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	gantrylisters "github.com/gantry-gpu/gantry/pkg/generated/listers/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs"
	"github.com/gantry-gpu/gantry/pkg/scheduler/queues/core"
)

// queueSyncTimeout bounds how long the first scheduling cycle waits, once,
// for the Queues to be listed (see WaitForQueues).
const queueSyncTimeout = 30 * time.Second

// Informers are what State reads and watches.
type Informers struct {
	Pods       toolscache.SharedIndexInformer
	Namespaces toolscache.SharedIndexInformer
	Queues     toolscache.SharedIndexInformer
	// QueueLister and NamespaceLister read the informers above.
	QueueLister     gantrylisters.QueueLister
	NamespaceLister corelisters.NamespaceLister
}

// State is one scheduler's queues.
type State struct {
	logger    klog.Logger
	activator gangs.Activator
	gangs     *gangs.Index

	Accounting *Accounting
	Deferred   *Deferrals

	namespaces corelisters.NamespaceLister
	// queuesListed reports whether the Queue informer has listed.
	queuesListed func() bool
	waitOnce     sync.Once
	room         atomic.Pointer[ClusterRoom]
	// turns is the first profile's judge of whose turn it is.
	turns atomic.Pointer[func() func(queue string) bool]
	// podEvent applies a pod event to the accounting.
	podEvent func(obj any) PodChange
}

// ClusterRoom is the capacity shares are taken of and the idle room
// borrowers take, over the share resources.
type ClusterRoom struct {
	Names          []v1.ResourceName
	Capacity, Idle v1.ResourceList
	Nodes          core.NodeRoom
}

// New builds the scheduler's queues, counting gpuResource, and starts
// feeding them from inf: pods and namespaces from the scheduler's
// informers, Queues read from their informer's lister. A namespace or
// PodGroup whose labels change may move its workloads to another queue:
// their queues are resolved again and its pending pods activated.
func New(logger klog.Logger, gpuResource v1.ResourceName, inf Informers, gangIndex *gangs.Index, activator gangs.Activator) (*State, error) {
	st := &State{
		logger:     logger,
		activator:  activator,
		gangs:      gangIndex,
		Deferred:   NewDeferrals(),
		namespaces: inf.NamespaceLister,
	}
	st.Accounting = NewAccounting(gpuResource, inf.QueueLister, st.Resolve)
	podStore := inf.Pods.GetStore()
	st.podEvent = func(obj any) PodChange { return st.Accounting.RefreshPod(obj, podStore) }
	if _, err := inf.Pods.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    st.onPod,
		UpdateFunc: func(_, obj any) { st.onPod(obj) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if pod, ok := obj.(*v1.Pod); ok {
				st.Deferred.Remove(pod.UID)
			}
			// A pod that stops waiting changes its queue's turn too.
			if c := st.podEvent(obj); c.Queue != "" {
				st.ShareChanged(c.Queue)
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("watching pods: %w", err)
	}
	acct := st.Accounting
	if _, err := inf.Namespaces.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if n, ok := obj.(*v1.Namespace); ok {
				acct.RequeueNamespace(n.Name)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(*v1.Namespace)
			n, ok2 := newObj.(*v1.Namespace)
			if ok1 && ok2 && !equality.Semantic.DeepEqual(o.Labels, n.Labels) {
				acct.RequeueNamespace(n.Name)
				activateNamespace(logger, activator, inf.Pods.GetIndexer(), n.Name)
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("watching namespaces: %w", err)
	}
	gangIndex.PodGroups.OnLabelsChange(func(namespace, name string) {
		key := gangs.Key(namespace, name)
		acct.RequeueGang(key)
		gangIndex.Activate(logger, key)
	})
	// A handler of the state's own: the scheduler only builds its informer
	// for Queues if a plugin's EventsToRegister asks, and the lister must
	// list either way.
	reg, err := inf.Queues.AddEventHandler(toolscache.ResourceEventHandlerFuncs{})
	if err != nil {
		return nil, fmt.Errorf("watching Queues: %w", err)
	}
	st.queuesListed = reg.HasSynced
	return st, nil
}

// PodEvent applies a pod event to the accounting, reading the pod
// informer's store: the scheduler's state runs it before the scheduler's
// own handler sees the event, so a hint never reads usage older than it.
func (st *State) PodEvent(obj any) { st.podEvent(obj) }

// onPod records a pod event, and activates the deferred pods whose turn
// may have come if the pod started or stopped counting.
func (st *State) onPod(obj any) {
	c := st.podEvent(obj)
	if c.Became != 0 {
		st.ShareChanged(c.Queue)
	}
}

// Resolve is the pod's queue and where its name came from: QueueOf over
// the pod, its PodGroup and its namespace.
func (st *State) Resolve(pod *v1.Pod) (string, gantryv1alpha1.QueueSource) {
	var groupLabels, nsLabels map[string]string
	if name := gangs.Of(pod); name != "" && st.gangs != nil {
		if pg, ok := st.gangs.PodGroups.Get(pod.Namespace, name); ok {
			groupLabels = pg.Labels
		}
	}
	if st.namespaces != nil {
		if ns, err := st.namespaces.Get(pod.Namespace); err == nil {
			nsLabels = ns.Labels
		}
	}
	return gantryv1alpha1.QueueOf(pod.Labels, groupLabels, nsLabels)
}

// WaitForQueues waits, once per scheduler and for at most
// queueSyncTimeout, for the Queues to be listed. The scheduler waits for
// its own informers before it schedules, not for this one, and until the
// Queues are listed the queue plugin would take the cluster for one without
// queues and let every pod pass. The wait is in the first scheduling cycle,
// not at start: the scheduler starts (and its health endpoints answer)
// meanwhile. Without the Queue CRD the list never completes, and the
// plugin stays inert rather than hold every cycle.
func (st *State) WaitForQueues(ctx context.Context) {
	if st.queuesListed == nil || st.queuesListed() {
		return
	}
	st.waitOnce.Do(func() {
		wctx, cancel := context.WithTimeout(ctx, queueSyncTimeout)
		defer cancel()
		if !toolscache.WaitForCacheSync(wctx.Done(), st.queuesListed) {
			klog.FromContext(ctx).Error(nil, "Queues not listed in time; queue limits apply once they are", "timeout", queueSyncTimeout)
		}
	})
}

// Room is the cluster's room as the last PreFilter of a borrowing workload
// saw it, nil before any.
func (st *State) Room() *ClusterRoom { return st.room.Load() }

// SetRoom records the room a borrowing workload's PreFilter saw.
func (st *State) SetRoom(r *ClusterRoom) { st.room.Store(r) }

// SetTurns sets, once, how ShareChanged judges whose turn it may be: the
// first profile's queue plugin's judge (every profile's decides alike).
func (st *State) SetTurns(turns func() func(queue string) bool) {
	st.turns.CompareAndSwap(nil, &turns)
}

// activateNamespace moves the namespace's pending pods to the active queue;
// the scheduling queue ignores those it does not hold as unschedulable.
func activateNamespace(logger klog.Logger, h gangs.Activator, pods toolscache.Indexer, namespace string) {
	objs, err := pods.ByIndex(toolscache.NamespaceIndex, namespace)
	if err != nil {
		// No namespace index on this informer: walk it.
		objs = pods.List()
	}
	pending := map[string]*v1.Pod{}
	for _, obj := range objs {
		if p, ok := obj.(*v1.Pod); ok && p.Namespace == namespace && p.Spec.NodeName == "" {
			pending[p.Namespace+"/"+p.Name] = p
		}
	}
	if len(pending) > 0 {
		logger.V(4).Info("Namespace labels changed, activating its pending pods", "namespace", namespace, "pods", len(pending))
		h.Activate(logger, pending)
	}
}
