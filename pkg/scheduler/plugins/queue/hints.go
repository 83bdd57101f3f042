package queue

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/internal/podevents"
)

// queueEvents names Queue events in EventsToRegister (resource, version and
// group joined by dots). The scheduler builds its informer for them from
// the shared state's factory, the one the accounting reads.
const queueEvents fwk.EventResource = "queues.v1alpha1.gantry.dev"

// EventsToRegister lists what can make a pod this plugin refused
// schedulable: a Queue added, changed or deleted (its limit or the tree
// changed) and an assigned pod deleted (usage went down). Pods deferred
// for fair share are activated when shares change (queues.State.ShareChanged);
// namespace and PodGroup label changes activate their pods from the
// informers' handlers: the framework has no event for them.
func (pl *Plugin) EventsToRegister(context.Context) ([]fwk.ClusterEventWithHint, error) {
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: queueEvents, ActionType: fwk.Add | fwk.Update | fwk.Delete}, QueueingHintFn: pl.isSchedulableAfterQueueChange},
		{Event: fwk.ClusterEvent{Resource: fwk.Pod, ActionType: fwk.Delete}, QueueingHintFn: pl.isSchedulableAfterPodDelete},
	}, nil
}

// isSchedulableAfterQueueChange requeues the pods of the queue that changed
// and of its descendants. PreFilter reads the Queues from the informer that
// delivered the event, which has the change already.
func (pl *Plugin) isSchedulableAfterQueueChange(logger klog.Logger, pod *v1.Pod, oldObj, newObj any) (fwk.QueueingHint, error) {
	obj := newObj
	if obj == nil {
		obj = oldObj
	}
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	q, ok := obj.(*gantryv1alpha1.Queue)
	if !ok {
		return fwk.Queue, fmt.Errorf("a Queue event with an unexpected object %T", obj)
	}
	name := q.Name
	podQueue, _ := pl.workloadQueue(pod)
	tree := pl.acct.Tree()
	chain, cerr := tree.Ancestry(podQueue)
	if cerr != nil {
		// The pod's chain is broken: any Queue change may mend it.
		return fwk.Queue, nil
	}
	for _, q := range chain {
		if q == name {
			logger.V(5).Info("Queue of the pod changed", "pod", klog.KObj(pod), "queue", name)
			return fwk.Queue, nil
		}
	}
	return fwk.QueueSkip, nil
}

// isSchedulableAfterPodDelete requeues a pod refused over a limit when an
// assigned pod goes away (also when the scheduler stops assuming one):
// usage went down. Pods deferred for fair share are left to activation
// (queues.State.ShareChanged). The usage no longer counts the deleted pod:
// the shared state applies pod events before the scheduler's handler runs
// the hints.
func (pl *Plugin) isSchedulableAfterPodDelete(_ klog.Logger, pod *v1.Pod, oldObj, _ any) (fwk.QueueingHint, error) {
	_, assigned, err := podevents.DeletedAssignedPod(oldObj)
	if err != nil {
		return fwk.Queue, err
	}
	if !assigned || pl.deferred.Has(pod.UID) {
		return fwk.QueueSkip, nil
	}
	return fwk.Queue, nil
}
