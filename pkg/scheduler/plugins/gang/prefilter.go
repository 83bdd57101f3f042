package gang

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs/core"
)

// cycleState is what PreFilter decided for a gang member.
type cycleState struct {
	gang string
	// node is the member's planned node; "" when PreFilter refused the
	// member itself (the gang could not be planned, or its plan leaves
	// the member out).
	node string
	// noRoom is set when the gang could not be planned for lack of room:
	// what preemption can cure.
	noRoom bool
	// held is, for a pod outside gangs, the GPUs that gangs' plans hold
	// for members not placed yet, by node (see heldFor), and gpus what
	// the pod asks for.
	held map[string]heldPlaces
	gpus int
}

// heldPlaces are the GPUs plans hold on a node, and for which gangs.
type heldPlaces struct {
	gpus  int
	gangs []string
}

// Clone implements fwk.StateData; the state never changes.
func (s *cycleState) Clone() fwk.StateData { return s }

func readState(cs fwk.CycleState) *cycleState {
	d, err := cs.Read(stateKey)
	if err != nil {
		return nil
	}
	s, _ := d.(*cycleState)
	return s
}

// PreFilter gives a gang member its place in the gang's plan, planning the
// gang first when it has no plan the member can use. A pod outside gangs
// skips the plugin unless plans hold places it must keep off (heldFor).
func (pl *Gang) PreFilter(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, nodes []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	name := gangs.Of(pod)
	if name == "" {
		held := pl.heldFor(pod)
		if len(held) == 0 {
			return nil, fwk.NewStatus(fwk.Skip)
		}
		cs.Write(stateKey, &cycleState{held: held, gpus: gpu.PodGPUs(pod, pl.resource)})
		return nil, nil
	}
	logger := klog.FromContext(ctx)
	key := gangs.Key(pod.Namespace, name)
	// PostFilter reads what PreFilter decided, failures included.
	cs.Write(stateKey, &cycleState{gang: key})
	pg, ok := pl.groups.Get(pod.Namespace, name)
	if !ok {
		return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, fmt.Sprintf("PodGroup %s not found", key))
	}
	// The pod got past the PreFilter plugins before this one.
	pl.book.Unblock(key, string(pod.UID))
	if expired := pl.book.Expire(); len(expired) > 0 {
		logger.V(2).Info("Gang plans expired before their members reserved them", "gangs", expired)
		pl.activateBlocked(logger, key)
	}
	if left := pl.victimsLeft(key); left > 0 && pl.book.HasPlan(key) {
		// The plan places members where preempted pods still are: keep
		// it (its places held) until they are gone; each deletion of an
		// assigned pod retries the members. Unresolvable: no other
		// preemption is to run for them meanwhile.
		return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, fmt.Sprintf("gang %s: waiting for %d preempted pods to terminate", key, left))
	}
	a, lookup := pl.book.Take(key, string(pod.UID))
	if lookup == core.Replan {
		var status *fwk.Status
		if a, lookup, status = pl.planGang(ctx, cs, pod, pg, nodes); status != nil {
			return nil, status
		}
	}
	if lookup == core.LeftOut {
		return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, fmt.Sprintf(
			"gang %s: the plan places the pods minMember %d needs and has no room for this one", key, pg.Spec.MinMember))
	}
	cs.Write(stateKey, &cycleState{gang: key, node: a.Node})
	// The set the plan chose is the set the pod gets (GantryGPUTopology
	// places it while it is free): one choice, not one per plugin.
	if p, ok := pl.gpus.(plannedSets); ok {
		p.SetPlanned(pod.UID, a.Node, a.GPUs)
	}
	logger.V(4).Info("Gang member takes its planned place", "pod", klog.KObj(pod), "gang", key, "node", a.Node, "gpus", a.GPUs)
	return &fwk.PreFilterResult{NodeNames: sets.New(a.Node)}, nil
}

// planGang plans every member of the pod's gang that is not bound or
// reserved yet, records the plan and takes the pod's place from it.
func (pl *Gang) planGang(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, pg *schedv1alpha1.PodGroup, nodes []fwk.NodeInfo) (core.Assignment, core.Lookup, *fwk.Status) {
	logger := klog.FromContext(ctx)
	name := gangs.Of(pod)
	key := gangs.Key(pod.Namespace, name)
	minMember := pg.Spec.MinMember

	placed, pending := pl.unplaced(pod, key)
	if ok, msg := core.Admit(key, true, minMember, placed+len(pending), nil); !ok {
		return core.Assignment{}, core.Replan, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, msg)
	}

	fp := pl.fingerprint(nodes, pending, placed, minMember)
	if msg, ok := pl.book.Failure(key, fp); ok {
		// Nothing the plan depends on changed since it last failed.
		return core.Assignment{}, core.Replan, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, msg)
	}
	fail := func(msg string) (core.Assignment, core.Lookup, *fwk.Status) {
		pl.book.SetFailure(key, msg, fp)
		pl.event(pg, v1.EventTypeWarning, reasonUnschedulable, msg)
		// The gang cannot be completed now: release what waits for it.
		pl.rejectWaiting(logger, key, pod.UID, msg)
		logger.V(2).Info("Gang cannot be placed whole", "gang", key, "pod", klog.KObj(pod), "reason", msg)
		return core.Assignment{}, core.Replan, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, msg)
	}

	others := make([]string, 0, len(pending))
	names := map[string]string{}
	for _, p := range pending {
		if p.UID != pod.UID {
			others = append(others, string(p.UID))
			names[string(p.UID)] = p.Name
		}
	}
	if m, why, blocked := pl.book.BlockedMember(key, others); blocked {
		return fail(fmt.Sprintf("PodGroup %s: pod %s cannot be scheduled: %s", key, names[m], why))
	}

	members := make([]core.Member, len(pending))
	for i, p := range pending {
		m, err := pl.member(p)
		if err != nil {
			return fail(fmt.Sprintf("PodGroup %s: pod %s: %v", key, p.Name, err))
		}
		members[i] = m
	}
	holds := pl.book.Holds(key, pl.pendingMembers())
	in := pl.planNodes(key, nodes, pending, members, holds)
	plan, err := core.PlanGang(members, in, pl.planOptions())
	// The gang may have more pods than minMember: then a plan needs only
	// as many as minMember lacks (at least this pod), and leaves the others
	// out until there is room.
	if need := max(int(minMember)-placed, 1); err != nil && need < len(members) {
		sub := make([]core.Member, 0, need)
		for _, m := range members {
			if m.Key == string(pod.UID) {
				sub = append(sub, m)
			}
		}
		for _, m := range members {
			if len(sub) < need && m.Key != string(pod.UID) {
				sub = append(sub, m)
			}
		}
		plan, err = core.PlanGang(sub, in, pl.planOptions())
	}
	if err != nil {
		var f *core.Failure
		if !errors.As(err, &f) {
			return core.Assignment{}, core.Replan, fwk.AsStatus(fmt.Errorf("planning gang %s: %w", key, err))
		}
		cs.Write(stateKey, &cycleState{gang: key, noRoom: true})
		return fail(fmt.Sprintf("PodGroup %s: %s", key, f.Message))
	}
	pl.book.SetPlan(key, plan, members, pl.permitTimeout(pg))
	logger.V(2).Info("Planned gang", "gang", key, "members", len(members), "placed", len(plan.Assignments),
		"alreadyPlaced", placed, "nodes", plan.Nodes, "domain", plan.DomainKey+"="+plan.DomainValue, "holdsOfOtherGangs", len(holds))
	// Members that an earlier failure of the gang left waiting for an
	// event come and take their places now.
	if siblings := plannedSiblings(pending, pod, plan); len(siblings) > 0 {
		pl.h.Activate(logger, siblings)
	}
	a, lookup := pl.book.Take(key, string(pod.UID))
	if lookup == core.Replan {
		// Only if the plan expired at once.
		return a, lookup, fwk.NewStatus(fwk.Unschedulable, fmt.Sprintf("gang %s: the plan expired before it was used", key))
	}
	return a, lookup, nil
}

// membersOn maps each node to the UIDs of the gang's members on it: bound,
// or past Reserve.
func (pl *Gang) membersOn(namespace, name string) map[string]sets.Set[string] {
	out := map[string]sets.Set[string]{}
	add := func(node, uid string) {
		if out[node] == nil {
			out[node] = sets.New[string]()
		}
		out[node].Insert(uid)
	}
	for uid, node := range pl.book.ReservedOn(gangs.Key(namespace, name)) {
		add(node, uid)
	}
	for _, p := range pl.gangPods(namespace, name) {
		if p.Spec.NodeName != "" {
			add(p.Spec.NodeName, string(p.UID))
		}
	}
	return out
}

// pendingMembers returns a function that reports whether a gang's member
// (by UID) still exists and is not bound, for Holds. It lists each gang's
// pods once.
func (pl *Gang) pendingMembers() func(gang, uid string) bool {
	pending := map[string]sets.Set[string]{}
	return func(gang, uid string) bool {
		uids, ok := pending[gang]
		if !ok {
			uids = sets.New[string]()
			ns, name := gangs.SplitKey(gang)
			for _, p := range pl.gangPods(ns, name) {
				if p.Spec.NodeName == "" {
					uids.Insert(string(p.UID))
				}
			}
			pending[gang] = uids
		}
		return uids.Has(uid)
	}
}

// heldFor returns the GPUs that gangs' plans hold, by node, for members
// not placed yet whose priority is not below the pod's (a pod of a higher
// priority may take a held place, as it may preempt: the gang plans
// again). Places held for members that ask for no GPU are not counted:
// GPUs are what gangs wait for.
func (pl *Gang) heldFor(pod *v1.Pod) map[string]heldPlaces {
	prio := corev1helpers.PodPriority(pod)
	var out map[string]heldPlaces
	for _, h := range pl.book.Holds("", pl.pendingMembers()) {
		if h.Member.GPUs <= 0 || h.Member.Priority < prio {
			continue
		}
		if out == nil {
			out = map[string]heldPlaces{}
		}
		hp := out[h.Assignment.Node]
		hp.gpus += h.Member.GPUs
		if !slices.Contains(hp.gangs, h.Gang) {
			hp.gangs = append(hp.gangs, h.Gang)
		}
		out[h.Assignment.Node] = hp
	}
	return out
}

// Filter keeps a gang member to its planned node (PreFilter's result already
// does; this covers paths that evaluate a nominated node first), and a pod
// outside gangs off the GPUs plans hold for members not placed yet.
// Refusals are UnschedulableAndUnresolvable: preempting the node's pods
// would make room the held places take first.
func (pl *Gang) Filter(_ context.Context, cs fwk.CycleState, _ *v1.Pod, nodeInfo fwk.NodeInfo) *fwk.Status {
	s := readState(cs)
	if s == nil || nodeInfo.Node() == nil {
		return nil
	}
	if s.held != nil {
		h, ok := s.held[nodeInfo.Node().Name]
		if !ok || s.gpus <= 0 {
			return nil
		}
		alloc, req := nodeInfo.GetAllocatable().GetScalarResources()[pl.resource], nodeInfo.GetRequested().GetScalarResources()[pl.resource]
		if free := int(max(alloc-req, 0)); free-h.gpus < s.gpus {
			return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, fmt.Sprintf("node's free %s held for gang %s (%d held, %d free)",
				pl.resource, strings.Join(h.gangs, ", "), h.gpus, free))
		}
		return nil
	}
	if s.node == "" || nodeInfo.Node().Name == s.node {
		return nil
	}
	return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, fmt.Sprintf("gang %s planned this pod on node %s", s.gang, s.node))
}

// PreFilterExtensions implements fwk.PreFilterPlugin: the plan does
// not change with the pods other plugins add or remove.
func (pl *Gang) PreFilterExtensions() fwk.PreFilterExtensions { return nil }
