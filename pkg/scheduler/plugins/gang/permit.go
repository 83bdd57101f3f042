package gang

import (
	"context"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs/core"
)

// Reserve records that the member holds its place.
func (pl *Gang) Reserve(_ context.Context, _ fwk.CycleState, pod *v1.Pod, nodeName string) *fwk.Status {
	if name := gangs.Of(pod); name != "" {
		pl.book.Reserve(gangs.Key(pod.Namespace, name), string(pod.UID), nodeName)
	}
	return nil
}

// Unreserve runs when a member leaves after Reserve without being bound:
// rejected by a plugin, timed out in Permit, failed to bind, or deleted.
// Unless this plugin rejected it itself (the gang is being released
// already), the gang's plan is dropped and every waiting member rejected,
// so no part of the gang stays held; the framework's Unreserve releases
// their reservations.
func (pl *Gang) Unreserve(ctx context.Context, _ fwk.CycleState, pod *v1.Pod, _ string) {
	name := gangs.Of(pod)
	if name == "" {
		return
	}
	logger := klog.FromContext(ctx)
	key := gangs.Key(pod.Namespace, name)
	echo := pl.book.Unreserve(key, string(pod.UID))
	deadline, waited := pl.waitDeadline.LoadAndDelete(pod.UID)
	if echo {
		return
	}
	msg := fmt.Sprintf("gang %s: member %s left before the gang was placed whole (rejected, or failed to bind)", key, pod.Name)
	pg, found := pl.groups.Get(pod.Namespace, name)
	if found && waited && !pl.now().Before(deadline.(time.Time).Add(-timeoutSlack)) {
		msg = fmt.Sprintf("gang %s: waited %s in Permit without minMember %d members placed", key, pl.permitTimeout(pg), pg.Spec.MinMember)
	}
	dropped := pl.book.Drop(key)
	rejected := pl.rejectWaiting(logger, key, pod.UID, msg)
	if rejected > 0 && found {
		pl.event(pg, v1.EventTypeWarning, reasonReleased, fmt.Sprintf("%s; released %d waiting members", msg, rejected))
	}
	if dropped || rejected > 0 {
		pl.activateBlocked(logger, key)
	}
	logger.V(2).Info("Gang member unreserved", "gang", key, "pod", klog.KObj(pod), "reason", msg, "rejectedWaiting", rejected)
}

// Permit holds a gang member until minMember of the gang's members are
// bound, reserved or waiting here; then it lets every waiting member go.
func (pl *Gang) Permit(ctx context.Context, _ fwk.CycleState, pod *v1.Pod, _ string) (*fwk.Status, time.Duration) {
	name := gangs.Of(pod)
	if name == "" {
		return nil, 0
	}
	logger := klog.FromContext(ctx)
	key := gangs.Key(pod.Namespace, name)
	pg, ok := pl.groups.Get(pod.Namespace, name)
	if !ok {
		return fwk.NewStatus(fwk.Unschedulable, fmt.Sprintf("PodGroup %s not found", key)), 0
	}
	// A member counts while it is bound, or reserved or waiting here and
	// not leaving: rejected by this plugin, deleted, or with its wait run
	// out (their Unreserve may not have run yet). Counting one that is
	// leaving would let the others be bound without it.
	uid := string(pod.UID)
	live := sets.New[string]()
	var bound []string
	for _, p := range pl.gangPods(pod.Namespace, name) {
		live.Insert(string(p.UID))
		if p.Spec.NodeName != "" {
			bound = append(bound, string(p.UID))
		}
	}
	now := pl.now()
	counts := func(member string) bool {
		if member == uid {
			return true
		}
		if !live.Has(member) || pl.book.IsRejecting(key, member) {
			return false
		}
		d, ok := pl.waitDeadline.Load(types.UID(member))
		return !ok || now.Add(timeoutSlack).Before(d.(time.Time))
	}
	var reserved []string
	for _, m := range pl.book.ReservedMembers(key) {
		if counts(m) {
			reserved = append(reserved, m)
		}
	}
	var waiting []fwk.WaitingPod
	var waitingUIDs []string
	for _, wp := range pl.waitingMembers(key, pod.UID) {
		if m := string(wp.GetPod().UID); counts(m) {
			waiting = append(waiting, wp)
			waitingUIDs = append(waitingUIDs, m)
		}
	}
	n, quorum := core.Quorum(pg.Spec.MinMember, bound, reserved, waitingUIDs, []string{uid})
	if !quorum {
		timeout := pl.permitTimeout(pg)
		pl.waitDeadline.Store(pod.UID, now.Add(timeout))
		logger.V(3).Info("Gang member waits for the rest of the gang", "pod", klog.KObj(pod), "gang", key, "placed", n, "minMember", pg.Spec.MinMember)
		return fwk.NewStatus(fwk.Wait, fmt.Sprintf("gang %s has %d of minMember %d members placed", key, n, pg.Spec.MinMember)), timeout
	}
	for _, wp := range waiting {
		pl.waitDeadline.Delete(wp.GetPod().UID)
		wp.Allow(Name)
	}
	logger.V(2).Info("Gang placed: members allowed", "gang", key, "pod", klog.KObj(pod), "placed", n, "minMember", pg.Spec.MinMember, "allowedWaiting", len(waiting))
	return nil, 0
}

// waitingMembers returns the gang's members waiting in Permit on this
// plugin, except the pod with UID except.
func (pl *Gang) waitingMembers(key string, except types.UID) []fwk.WaitingPod {
	ns, name := gangs.SplitKey(key)
	var out []fwk.WaitingPod
	pl.h.IterateOverWaitingPods(func(wp fwk.WaitingPod) {
		p := wp.GetPod()
		if p.Namespace != ns || gangs.Of(p) != name || p.UID == except {
			return
		}
		for _, plugin := range wp.GetPendingPlugins() {
			if plugin == Name {
				out = append(out, wp)
				return
			}
		}
	})
	return out
}

// rejectWaiting rejects every member of the gang waiting in Permit but the
// pod with UID except, and returns how many.
func (pl *Gang) rejectWaiting(logger klog.Logger, key string, except types.UID, msg string) int {
	waiting := pl.waitingMembers(key, except)
	if len(waiting) == 0 {
		return 0
	}
	uids := make([]string, len(waiting))
	for i, wp := range waiting {
		uids[i] = string(wp.GetPod().UID)
	}
	// Before rejecting: their Unreserve must find them marked.
	pl.book.Rejecting(key, uids...)
	for _, wp := range waiting {
		wp.Reject(Name, msg)
	}
	logger.V(3).Info("Rejected the gang's waiting members", "gang", key, "count", len(waiting), "reason", msg)
	return len(waiting)
}
