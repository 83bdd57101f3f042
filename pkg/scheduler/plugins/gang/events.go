package gang

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/internal/podevents"
)

// activateBlocked queues again the pods of gangs whose planning failed, but
// those of gang except: a plan was dropped, and its holds with it.
func (pl *Gang) activateBlocked(logger klog.Logger, except string) {
	for _, key := range pl.book.Blocked() {
		if key != except {
			pl.activateGang(logger, key)
		}
	}
}

// activateGang moves the gang's pending pods to the active queue.
func (pl *Gang) activateGang(logger klog.Logger, key string) {
	gangs.Activate(logger, pl.h, pl.members, key)
}

// event records an event on the PodGroup, of the API it came from: an
// upstream PodGroup's view keeps its kind and apiVersion
// (gangs.FromUpstream), a label-only gang's names scheduler-plugins'.
func (pl *Gang) event(pg *schedv1alpha1.PodGroup, eventType, reason, msg string) {
	r := pl.h.EventRecorder()
	if r == nil {
		return
	}
	if pg.Kind == "" {
		// scheduler-plugins' informer objects carry no kind; the
		// event's reference needs it.
		pg = pg.DeepCopy()
		pg.APIVersion, pg.Kind = schedv1alpha1.SchemeGroupVersion.String(), "PodGroup"
	}
	r.Eventf(pg, nil, eventType, reason, "Scheduling", "%s", msg)
}

// podGroupEvents names PodGroup events in EventsToRegister: resource,
// version and group joined by dots. The scheduler builds its informer for
// them from the shared state's factory, the one PodGroups reads.
const podGroupEvents fwk.EventResource = "podgroups.v1alpha1.scheduling.x-k8s.io"

// EventsToRegister lists the events that can make a gang's pod schedulable:
// its PodGroup created or changed, a pod of its gang created, an assigned
// pod deleted (room freed), a node added or changed. Pods of a gang that
// was gated for lack of members are also activated by the pod informer's
// handler when the missing pods appear: the queue does not run queueing
// hints for unscheduled pods that are added.
//
// Upstream PodGroups (scheduling.k8s.io) are not listed: the gang index's
// handlers of their informer activate a gang that they complete, as they
// do for scheduler-plugins' PodGroups. kube-scheduler delivers its own
// PodGroup events (fwk.PodGroup) only with its GenericWorkload gate on,
// which GantryGang refuses; and naming the resource
// ("podgroups.v1beta1.scheduling.k8s.io") would make it start a second,
// dynamic watch of it, one that never syncs where the API is not served.
func (pl *Gang) EventsToRegister(context.Context) ([]fwk.ClusterEventWithHint, error) {
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: podGroupEvents, ActionType: fwk.Add | fwk.Update}, QueueingHintFn: pl.isSchedulableAfterPodGroupChange},
		{Event: fwk.ClusterEvent{Resource: fwk.Pod, ActionType: fwk.Add}, QueueingHintFn: pl.isSchedulableAfterPodAdd},
		{Event: fwk.ClusterEvent{Resource: fwk.Pod, ActionType: fwk.Delete}, QueueingHintFn: pl.isSchedulableAfterPodDelete},
		{Event: fwk.ClusterEvent{Resource: fwk.Node, ActionType: fwk.Add | fwk.UpdateNodeAllocatable | fwk.UpdateNodeLabel | fwk.UpdateNodeTaint}},
	}, nil
}

// isSchedulableAfterPodGroupChange requeues the pods of the PodGroup that
// was added or changed. PreEnqueue reads the PodGroup from the informer
// that delivered the event, which has it already.
func (pl *Gang) isSchedulableAfterPodGroupChange(logger klog.Logger, pod *v1.Pod, _, newObj any) (fwk.QueueingHint, error) {
	pg, ok := newObj.(*schedv1alpha1.PodGroup)
	if !ok {
		return fwk.Queue, fmt.Errorf("PodGroup event with an unexpected object %T", newObj)
	}
	if pg.Namespace != pod.Namespace || pg.Name != gangs.Of(pod) {
		return fwk.QueueSkip, nil
	}
	logger.V(5).Info("PodGroup of the pod changed", "pod", klog.KObj(pod), "podGroup", klog.KObj(pg))
	return fwk.Queue, nil
}

// isSchedulableAfterPodAdd requeues a gang's pod when another pod of its
// gang appears.
func (pl *Gang) isSchedulableAfterPodAdd(_ klog.Logger, pod *v1.Pod, _, newObj any) (fwk.QueueingHint, error) {
	added, ok := newObj.(*v1.Pod)
	if !ok {
		return fwk.Queue, fmt.Errorf("added object is %T, not *v1.Pod", newObj)
	}
	name := gangs.Of(pod)
	if name == "" || added.Namespace != pod.Namespace || gangs.Of(added) != name || added.UID == pod.UID {
		return fwk.QueueSkip, nil
	}
	return fwk.Queue, nil
}

// isSchedulableAfterPodDelete requeues the pod when a pod that held room on
// a node goes away (also when the scheduler stops assuming one).
func (pl *Gang) isSchedulableAfterPodDelete(_ klog.Logger, _ *v1.Pod, oldObj, _ any) (fwk.QueueingHint, error) {
	_, assigned, err := podevents.DeletedAssignedPod(oldObj)
	if err != nil {
		return fwk.Queue, err
	}
	if !assigned {
		return fwk.QueueSkip, nil
	}
	return fwk.Queue, nil
}
