package gang

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs/core"
)

const (
	// victimsGoneWait is how long a gang that preempted waits for its
	// victims to go before it may choose victims again: they are deleted
	// with their grace period, and while they terminate they still hold
	// their places.
	victimsGoneWait = 5 * time.Minute

	reasonPreempting = "GangPreempting"
)

// PodGPUs gives the GPUs a pod holds on a node; the GPU-topology plugin's
// *gpus.Cache satisfies it with GPUStates.
type PodGPUs interface {
	PodGPUs(pod *v1.Pod, nodeName string) gpu.Set
}

// cluster is what preemption uses of fwk.Handle: the cycle's
// snapshot, the waiting pods and the API.
type cluster interface {
	SnapshotSharedLister() fwk.SharedLister
	GetWaitingPod(uid types.UID) fwk.WaitingPod
	ClientSet() kubernetes.Interface
}

// preemption is a gang's preemption whose victims may still be
// terminating.
type preemption struct {
	victims []*v1.Pod
	until   time.Time
}

// preemptForGang makes room for a gang that could not be planned; see
// preempt. The plan the victims make room for is recorded as the gang's
// plan, its places held (other gangs plan around them) while the victims
// go and until the members take them or the plan expires.
func (pl *Gang) preemptForGang(ctx context.Context, pod *v1.Pod, pg *schedv1alpha1.PodGroup) (string, error) {
	key := gangs.Key(pg.Namespace, pg.Name)
	placed, pending := pl.unplaced(pod, key)
	need := max(int(pg.Spec.MinMember)-placed, 1)
	pods := pending[:min(need, len(pending))]
	msg, room, err := pl.preempt(ctx, pod, key, pods, func(msg string, room *madeRoom) {
		pl.event(pg, v1.EventTypeNormal, reasonPreempting, msg)
		// Held before the first victim goes: a pod that fits the room
		// it leaves must find it held already.
		if room != nil {
			pl.book.SetPlan(key, room.plan, room.members, max(pl.permitTimeout(pg), victimsGoneWait))
		}
	})
	if err != nil || room == nil {
		return msg, err
	}
	if siblings := plannedSiblings(pods, pod, room.plan); len(siblings) > 0 {
		pl.h.Activate(klog.FromContext(ctx), siblings)
	}
	return msg, nil
}

// plannedSiblings are the pods, pod aside, that plan places, keyed as
// h.Activate wants them.
func plannedSiblings(pods []*v1.Pod, pod *v1.Pod, plan *core.Plan) map[string]*v1.Pod {
	out := map[string]*v1.Pod{}
	for _, p := range pods {
		if _, ok := plan.Assignments[string(p.UID)]; ok && p.UID != pod.UID {
			out[p.Namespace+"/"+p.Name] = p
		}
	}
	return out
}

// preemptForPod makes room for a pod outside gangs that no node could
// take; see preempt. It runs after GantryPreemption, which preempts single
// pods as the default preemption does but never touches a gang's pod: here
// a pod may preempt whole gangs. It returns the node made room on, for the
// pod's nomination (the scheduler then keeps that room from pods of no
// higher priority, as after the default preemption), "" when none.
func (pl *Gang) preemptForPod(ctx context.Context, pod *v1.Pod) (string, string, error) {
	msg, room, err := pl.preempt(ctx, pod, "pod "+pod.Namespace+"/"+pod.Name, []*v1.Pod{pod}, func(msg string, _ *madeRoom) {
		if r := pl.h.EventRecorder(); r != nil {
			r.Eventf(pod, nil, v1.EventTypeNormal, reasonPreempting, "Preempting", "%s", msg)
		}
	})
	if err != nil || room == nil {
		return msg, "", err
	}
	return msg, room.plan.Assignments[string(pod.UID)].Node, nil
}

// madeRoom is what a preemption made room for: the plan its victims free
// places for, over the members it planned.
type madeRoom struct {
	plan    *core.Plan
	members []core.Member
}

// preempt makes room for pods (a gang's unplaced members, or one pod; key
// names them) by preempting whole victims, says what it did ("" when
// nothing) and, when it chose victims, the room they make; chosen hears of
// both once the victims are chosen, before the first is evicted. It tries,
// in turn:
//   - reclaim, when the scheduler's Reclaimer (GantryQueue) allows it:
//     workloads of queues running on borrowed capacity, whatever their
//     priority, within what each queue may lose;
//   - priority: every running pod of a lower-priority gang, or single
//     lower-priority pods.
//
// Victims are chosen by core.ChooseVictims. Pods with preemptionPolicy
// Never do not preempt; pods whose earlier victims are still terminating
// wait for them instead of choosing more, and room that other pods'
// termination frees counts as free.
func (pl *Gang) preempt(ctx context.Context, pod *v1.Pod, key string, pods []*v1.Pod, chosen func(msg string, room *madeRoom)) (string, *madeRoom, error) {
	if pl.cluster == nil {
		return "", nil, nil
	}
	if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy == v1.PreemptNever {
		return "", nil, nil
	}
	logger := klog.FromContext(ctx)
	if left := pl.victimsLeft(key); left > 0 {
		return fmt.Sprintf("waiting for %d preempted pods to terminate", left), nil, nil
	}
	nodeInfos, err := pl.cluster.SnapshotSharedLister().NodeInfos().List()
	if err != nil {
		return "", nil, fmt.Errorf("listing the snapshot's nodes: %w", err)
	}
	members := make([]core.Member, len(pods))
	for i, p := range pods {
		if members[i], err = pl.member(p); err != nil {
			return "", nil, fmt.Errorf("pod %s: %w", p.Name, err)
		}
	}
	holds := pl.book.Holds(key, pl.pendingMembers())
	in := pl.planNodes(key, nodeInfos, pods, members, holds)

	type attempt struct {
		rules    core.VictimRules
		eligible func(*v1.Pod) ([]string, bool)
		why      string
	}
	var attempts []attempt
	if pl.reclaimers != nil {
		if r := pl.reclaimers.Reclaimer(); r != nil {
			if policy := r.ReclaimPolicy(pods); policy != nil {
				attempts = append(attempts, attempt{
					rules:    core.VictimRules{Budgets: policy.Budgets, Kind: "workload on borrowed capacity"},
					eligible: policy.Victim,
					why:      "to reclaim room for " + policy.For,
				})
			}
		}
	}
	prio := corev1helpers.PodPriority(pod)
	attempts = append(attempts, attempt{
		eligible: func(p *v1.Pod) ([]string, bool) { return nil, corev1helpers.PodPriority(p) < prio },
		why:      fmt.Sprintf("of lower priority than %d to make room", prio),
	})
	for _, a := range attempts {
		candidates, terminating, victimPods := pl.candidates(nodeInfos, a.eligible, key)
		a.rules.Terminating = terminating
		choice, err := core.ChooseVictims(members, in, candidates, pl.planOptions(), a.rules)
		if err != nil {
			var f *core.Failure
			if errors.As(err, &f) {
				logger.V(4).Info("No preemption", "pod", klog.KObj(pod), "for", key, "kind", a.rules.Kind, "reason", f.Message)
				if len(terminating) > 0 && strings.HasPrefix(f.Message, "the pods fit once") {
					// Waiting is all it takes: no other attempt.
					return "waiting for " + strings.TrimPrefix(f.Message, "the pods fit once "), nil, nil
				}
				continue
			}
			return "", nil, err
		}
		var victims []*v1.Pod
		var names []string
		for _, v := range choice.Victims {
			names = append(names, v.Key)
			for _, vp := range v.Pods {
				victims = append(victims, victimPods[vp.Key])
			}
		}
		pl.preemptions.Store(key, &preemption{victims: victims, until: pl.now().Add(victimsGoneWait)})
		msg := fmt.Sprintf("preempting %d pods (%s) %s", len(victims), strings.Join(names, ", "), a.why)
		var room *madeRoom
		if choice.Plan != nil {
			room = &madeRoom{plan: choice.Plan, members: members}
		}
		chosen(msg, room)
		logger.V(2).Info("Preempting", "pod", klog.KObj(pod), "for", key, "victims", names, "pods", len(victims), "kind", a.rules.Kind)
		for _, v := range victims {
			if err := pl.evict(ctx, v, key); err != nil {
				logger.Error(err, "Preempting a victim pod failed", "for", key, "victim", klog.KObj(v))
			}
		}
		return msg, room, nil
	}
	return "", nil, nil
}

// unplaced returns how many of the gang's live members are bound or
// reserved, and the others this scheduler would place, pod first.
func (pl *Gang) unplaced(pod *v1.Pod, key string) (int, []*v1.Pod) {
	placed := 0
	pending := []*v1.Pod{pod}
	for _, p := range pl.gangPods(pod.Namespace, gangs.Of(pod)) {
		switch {
		case p.UID == pod.UID:
		case p.Spec.NodeName != "" || pl.book.Reserved(key, string(p.UID)):
			placed++
		case len(p.Spec.SchedulingGates) == 0 && p.Spec.SchedulerName == pod.Spec.SchedulerName:
			pending = append(pending, p)
		}
	}
	return placed, pending
}

// candidates gathers the victims preemption may choose from: running pods
// that eligible accepts, grouped so that a gang is taken whole. A gang with
// any pod eligible refuses, or waiting in Permit, is not a candidate (nor
// is the preemptor's own gang, key). It returns them, the pods already
// terminating (their room is on its way back), and their pods by UID.
func (pl *Gang) candidates(nodeInfos []fwk.NodeInfo, eligible func(*v1.Pod) ([]string, bool), key string) ([]core.Victim, []core.Victim, map[string]*v1.Pod) {
	byKey := map[string]*core.Victim{}
	protected := map[string]bool{}
	pods := map[string]*v1.Pod{}
	var order []string
	var terminating []core.Victim
	for _, ni := range nodeInfos {
		node := ni.Node()
		if node == nil {
			continue
		}
		for _, pi := range ni.GetPods() {
			p := pi.GetPod()
			if p.DeletionTimestamp != nil {
				// Going already: its room comes back on its own.
				terminating = append(terminating, core.Victim{Key: string(p.UID), Pods: []core.VictimPod{pl.victimPod(p, node.Name)}})
				continue
			}
			vkey := "pod " + p.Namespace + "/" + p.Name
			if name := gangs.Of(p); name != "" {
				vkey = gangs.Key(p.Namespace, name)
			}
			if vkey == key {
				continue
			}
			budgets, ok := eligible(p)
			if !ok || pl.cluster.GetWaitingPod(p.UID) != nil {
				protected[vkey] = true
				continue
			}
			pp := corev1helpers.PodPriority(p)
			v := byKey[vkey]
			if v == nil {
				v = &core.Victim{Key: vkey, Priority: pp, Budgets: budgets}
				byKey[vkey] = v
				order = append(order, vkey)
			}
			v.Priority = max(v.Priority, pp)
			started := p.CreationTimestamp.Time
			if p.Status.StartTime != nil {
				started = p.Status.StartTime.Time
			}
			if started.After(v.Started) {
				v.Started = started
			}
			v.Pods = append(v.Pods, pl.victimPod(p, node.Name))
			pods[string(p.UID)] = p
		}
	}
	out := make([]core.Victim, 0, len(order))
	for _, k := range order {
		if !protected[k] {
			out = append(out, *byKey[k])
		}
	}
	return out, terminating, pods
}

// victimPod describes what the pod frees on its node.
func (pl *Gang) victimPod(p *v1.Pod, nodeName string) core.VictimPod {
	m, err := pl.member(p)
	if err != nil {
		// A bad min-link annotation does not matter to what the pod
		// frees.
		m.GPUs = 0
	}
	vp := core.VictimPod{Key: string(p.UID), Node: nodeName, GPUs: m.GPUs, Requests: m.Requests}
	if g, ok := pl.gpus.(PodGPUs); ok && m.GPUs > 0 {
		vp.Set = g.PodGPUs(p, nodeName)
	}
	return vp
}

// victimsLeft counts the pods of the gang's last preemption that still
// exist, forgetting the preemption once none do or its wait is over.
func (pl *Gang) victimsLeft(key string) int {
	v, ok := pl.preemptions.Load(key)
	if !ok {
		return 0
	}
	p := v.(*preemption)
	left := 0
	for _, victim := range p.victims {
		if cur, err := pl.pods.Pods(victim.Namespace).Get(victim.Name); err == nil && cur.UID == victim.UID {
			left++
		}
	}
	if left == 0 || !pl.now().Before(p.until) {
		pl.preemptions.Delete(key)
		return 0
	}
	return left
}

// evict marks the victim with the DisruptionTarget condition, as the
// default preemption does, so its controller knows why it went, and
// deletes it with its grace period.
func (pl *Gang) evict(ctx context.Context, victim *v1.Pod, key string) error {
	client := pl.cluster.ClientSet()
	cond := corev1apply.PodCondition().
		WithType(v1.DisruptionTarget).
		WithStatus(v1.ConditionTrue).
		WithReason(v1.PodReasonPreemptionByScheduler).
		WithMessage(fmt.Sprintf("%s: preempted to make room for %s", Name, key)).
		WithLastTransitionTime(metav1.Now())
	apply := corev1apply.Pod(victim.Name, victim.Namespace).WithStatus(corev1apply.PodStatus().WithConditions(cond))
	if _, err := client.CoreV1().Pods(victim.Namespace).ApplyStatus(ctx, apply, metav1.ApplyOptions{FieldManager: "gantry-scheduler", Force: true}); err != nil && !apierrors.IsNotFound(err) {
		klog.FromContext(ctx).V(2).Info("Could not mark the victim's DisruptionTarget condition", "victim", klog.KObj(victim), "err", err)
	}
	if r := pl.h.EventRecorder(); r != nil {
		r.Eventf(victim, nil, v1.EventTypeNormal, "Preempted", "Preempting", "Preempted by %s", key)
	}
	uid := victim.UID
	err := client.CoreV1().Pods(victim.Namespace).Delete(ctx, victim.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting %s: %w", klog.KObj(victim), err)
	}
	return nil
}
