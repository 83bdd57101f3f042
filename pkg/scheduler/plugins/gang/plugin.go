// Package gang is gantry-scheduler's gang-scheduling plugin, GantryGang. Pods
// join a gang by the label scheduling.x-k8s.io/pod-group, whose value names
// a PodGroup (scheduling.x-k8s.io/v1alpha1, from scheduler-plugins) in the
// pod's namespace, as scheduler-plugins' Coscheduling and Kubeflow's training
// operator set it. A gang is placed all or nothing:
//
//   - PreEnqueue keeps a gang's pods out of the scheduling queue until its
//     PodGroup exists and it has minMember pods;
//   - QueueSort (Less) pops a gang's members one after another;
//   - PreFilter plans the whole gang against one snapshot when its first
//     member is popped (core.PlanGang), and restricts every member to its
//     planned node; places planned for a gang that has not reserved them
//     yet are kept from other gangs' plans, so two gangs never each hold
//     part of what they need;
//   - a plan that breaks (a member refused on its planned node, rejected
//     or unreserved, a wait run out) is dropped and made again when the
//     next member is popped; where the refusal came from what the planner
//     does not model (the members' anti-affinity, say), the next plans put
//     no more of the gang on that node for a while;
//   - Permit holds members until minMember of them are placed, then lets
//     them all go; a member that fails, or a wait that times out, rejects
//     every waiting member, so no partial gang is held or bound;
//   - pods outside gangs keep off the places plans hold too (Filter), unless
//     of a higher priority than the gang: otherwise the room preemption
//     made for a gang, waiting for its victims to leave, would go to the
//     first pod that fits it, and the gang would preempt again.
//
// The decisions live in package core; this package gathers the state and
// speaks the framework's interfaces.
package gang

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	corelisters "k8s.io/client-go/listers/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/names"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/gang/core"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/gputopology"
	gtcore "github.com/gantry-gpu/gantry/pkg/scheduler/plugins/gputopology/core"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/internal/perscheduler"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/internal/podevents"
	"github.com/gantry-gpu/gantry/pkg/scheduler/shared"
)

// Name is the plugin's name in the registry and in scheduler configurations.
const Name = "GantryGang"

// PodGroupLabel is the pod label that names the pod's PodGroup.
const PodGroupLabel = schedv1alpha1.PodGroupLabel

const (
	stateKey fwk.StateKey = "PreFilter" + Name

	// capTTL is how long a gang's plans keep to the members a node held
	// when a planned place there failed for a reason the planner does not
	// model (see capAfter), so that the next plans do not break the same
	// way.
	capTTL = 5 * time.Minute

	// timeoutSlack tells a wait that ran out from one cut short.
	timeoutSlack = 100 * time.Millisecond

	// Event reasons on the PodGroup.
	reasonUnschedulable = "GangUnschedulable"
	reasonReleased      = "GangReleased"
)

var (
	_ fwk.PreEnqueuePlugin  = &Gang{}
	_ fwk.QueueSortPlugin   = &Gang{}
	_ fwk.PreFilterPlugin   = &Gang{}
	_ fwk.FilterPlugin      = &Gang{}
	_ fwk.PostFilterPlugin  = &Gang{}
	_ fwk.ReservePlugin     = &Gang{}
	_ fwk.PermitPlugin      = &Gang{}
	_ fwk.EnqueueExtensions = &Gang{}
)

// GPUStates gives a node's GPU state, and false for a node without a usable
// NodeGPU. New uses the GPU-topology plugin's cache (the one
// GantryGPUTopology reserves in), so plans place exact GPU sets and check
// min-link; nil plans with GPU counts (allocatable minus requested).
type GPUStates interface {
	Node(name string) (gtcore.NodeState, bool)
}

// handle is what the plugin uses of fwk.Handle.
type handle interface {
	IterateOverWaitingPods(callback func(fwk.WaitingPod))
	Activate(logger klog.Logger, pods map[string]*v1.Pod)
	EventRecorder() events.EventRecorderLogger
}

// Gang is the plugin.
type Gang struct {
	args     *GangArgs
	resource v1.ResourceName
	h        handle
	pods     corelisters.PodLister
	// members is the pod informer's indexer, with MembersIndex.
	members toolscache.Indexer
	groups  *PodGroups
	book    *core.Book
	// gpus is nil when GPUs are counted.
	gpus GPUStates
	now  func() time.Time

	// waitDeadline maps the UID of a member waiting in Permit to when
	// its wait runs out, to tell a timeout from other rejections and to
	// stop counting a member whose wait has run out.
	waitDeadline sync.Map
	// cluster is nil where the plugin does not preempt (unit tests).
	cluster cluster
	// preemptions maps a gang's key to its last *preemption.
	preemptions sync.Map
	// reclaimer is the scheduler's, shared by its profiles.
	reclaimer *reclaimerSlot
}

// New builds the plugin: args are validated first, so a bad configuration
// stops the scheduler at start with a message naming the field.
func New(ctx context.Context, obj runtime.Object, h fwk.Handle, ss *shared.State) (fwk.Plugin, error) {
	args, err := ParseArgs(obj)
	if err != nil {
		return nil, err
	}
	st, err := sharedState(ctx, h, ss)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	gpus, err := gputopology.SharedCache(ctx, h, ss)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	pods := h.SharedInformerFactory().Core().V1().Pods()
	pl := newPlugin(args, h, pods.Lister(), pods.Informer().GetIndexer(), st.groups, st.book, gpus)
	pl.cluster = h
	pl.reclaimer = &st.reclaimer
	return pl, nil
}

func newPlugin(args *GangArgs, h handle, pods corelisters.PodLister, members toolscache.Indexer, groups *PodGroups, book *core.Book, gpus GPUStates) *Gang {
	return &Gang{
		args:     args,
		resource: v1.ResourceName(args.ResourceName),
		h:        h,
		pods:     pods,
		members:  members,
		groups:   groups,
		book:     book,
		gpus:     gpus,
		now:      time.Now,
	}
}

// state is shared by the plugin instances of one scheduler (one per profile
// that enables the plugin), keyed by the scheduler's informer factory: a
// place planned for a gang of one profile must be held from the gangs of
// another.
type state struct {
	groups    *PodGroups
	book      *core.Book
	reclaimer reclaimerSlot
}

var sharedStates perscheduler.Values[*state]

func sharedState(ctx context.Context, h fwk.Handle, ss *shared.State) (*state, error) {
	return sharedStates.Get(ctx, h, func() (*state, error) {
		logger := klog.FromContext(ctx).WithValues("plugin", Name)
		groups := ss.Informers.PodGroups.Scheduling().V1alpha1().PodGroups()
		st := &state{groups: NewPodGroups(logger, groups.Lister()), book: core.NewBook(nil)}
		if err := st.startInformers(logger, h, groups.Informer()); err != nil {
			return nil, err
		}
		return st, nil
	})
}

// Name implements fwk.Plugin.
func (pl *Gang) Name() string { return Name }

// gangOf returns the name of the pod's PodGroup, or "" for a pod outside
// gangs.
func gangOf(pod *v1.Pod) string { return pod.Labels[PodGroupLabel] }

// Key names a gang: its namespace and pod-group name, as GantryGang and
// GantryQueue key gangs (and MembersIndex indexes pods).
func Key(namespace, name string) string { return namespace + "/" + name }

// splitKey splits a gang key into namespace and name.
func splitKey(key string) (string, string) {
	ns, name, _ := strings.Cut(key, "/")
	return ns, name
}

// live reports whether a pod still counts for its gang: not finished and
// not being deleted.
func live(p *v1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != v1.PodSucceeded && p.Status.Phase != v1.PodFailed
}

// MembersIndex indexes the scheduler's pod informer by gang key (Key),
// for GantryGang and GantryQueue alike: listing a
// gang's pods is on every path of the plugin, and a label selector over the
// namespace (without even a namespace index on that informer) walked every
// pod of the cluster each time.
const MembersIndex = "gantry.dev/gang"

// MembersIndexFunc is MembersIndex's function: a pod's gang key, none outside
// gangs.
func MembersIndexFunc(obj any) ([]string, error) {
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return nil, nil
	}
	if name := gangOf(pod); name != "" {
		return []string{Key(pod.Namespace, name)}, nil
	}
	return nil, nil
}

// gangPods lists the gang's live pods.
func (pl *Gang) gangPods(namespace, name string) []*v1.Pod {
	return Members(pl.members, namespace, name)
}

// Members lists the gang's live pods from an indexer that has
// MembersIndex (the scheduler's pod informer, once GantryGang's shared
// state exists: SharedPodGroups makes sure of it).
func Members(members toolscache.Indexer, namespace, name string) []*v1.Pod {
	all, err := members.ByIndex(MembersIndex, Key(namespace, name))
	if err != nil {
		return nil
	}
	out := make([]*v1.Pod, 0, len(all))
	for _, obj := range all {
		if p, ok := obj.(*v1.Pod); ok && live(p) {
			out = append(out, p)
		}
	}
	return out
}

// schedulablePods counts the gang's live pods that the scheduler may place:
// those still held by scheduling gates are not in the running yet.
func schedulablePods(pods []*v1.Pod) int {
	n := 0
	for _, p := range pods {
		if len(p.Spec.SchedulingGates) == 0 {
			n++
		}
	}
	return n
}

// otherSchedulers describes the gang's pods, not yet bound, that name
// another scheduler than schedulerName.
func otherSchedulers(pods []*v1.Pod, schedulerName string) []string {
	var out []string
	for _, p := range pods {
		if p.Spec.NodeName == "" && p.Spec.SchedulerName != schedulerName {
			out = append(out, fmt.Sprintf("%s (%s)", p.Name, p.Spec.SchedulerName))
		}
	}
	slices.Sort(out)
	return out
}

// permitTimeout is how long the gang's members wait in Permit.
func (pl *Gang) permitTimeout(pg *schedv1alpha1.PodGroup) time.Duration {
	if s := pg.Spec.ScheduleTimeoutSeconds; s != nil && *s > 0 {
		return time.Duration(min(int64(*s), MaxPermitTimeoutSeconds)) * time.Second
	}
	return pl.args.DefaultPermitTimeout()
}

// PreEnqueue keeps a gang's pod out of the queue while its PodGroup does not
// exist or the gang has fewer than minMember pods: scheduling any of them
// could only end in a wait that times out. The pod is queued again when the
// PodGroup appears or changes (EventsToRegister) or a pod of the gang
// appears (the pod informer's handler activates the gang).
func (pl *Gang) PreEnqueue(_ context.Context, pod *v1.Pod) *fwk.Status {
	name := gangOf(pod)
	if name == "" {
		return nil
	}
	key := Key(pod.Namespace, name)
	pg, found := pl.groups.Get(pod.Namespace, name)
	var minMember int32
	pods := 0
	var others []string
	if found {
		minMember = pg.Spec.MinMember
		members := pl.gangPods(pod.Namespace, name)
		pods = schedulablePods(members)
		others = otherSchedulers(members, pod.Spec.SchedulerName)
	}
	if ok, msg := core.Admit(key, found, minMember, pods, others); !ok {
		if !found && !pl.groups.HasSynced() {
			msg += " (PodGroups are still being listed)"
		}
		if _, err := implicitMinMember(pod); !found && err != nil {
			msg += "; " + err.Error()
		}
		return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, msg)
	}
	return nil
}

// Less implements QueueSort: priority, then the gang's age, then keys (see
// core.Less).
func (pl *Gang) Less(a, b fwk.QueuedEntityInfo) bool {
	return core.Less(pl.sortKey(a), pl.sortKey(b))
}

// queuedPod is what a queued single pod offers beyond fwk.QueuedEntityInfo.
type queuedPod interface {
	GetPodInfo() fwk.PodInfo
}

func (pl *Gang) sortKey(q fwk.QueuedEntityInfo) core.SortKey {
	qp, ok := q.(queuedPod)
	if !ok {
		// An upstream pod group (GenericWorkload), queued whole: by
		// priority and time, as the default sort does.
		return core.SortKey{Priority: q.GetPriority(), Time: q.GetTimestamp()}
	}
	pod := qp.GetPodInfo().GetPod()
	podKey := pod.Namespace + "/" + pod.Name
	k := core.SortKey{Priority: corev1helpers.PodPriority(pod), Time: q.GetTimestamp(), Group: podKey, Pod: podKey}
	if name := gangOf(pod); name != "" {
		if pg, ok := pl.groups.Get(pod.Namespace, name); ok {
			k.Time = pg.CreationTimestamp.Time
			k.Group = Key(pod.Namespace, name)
		}
	}
	return k
}

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
	name := gangOf(pod)
	if name == "" {
		held := pl.heldFor(pod)
		if len(held) == 0 {
			return nil, fwk.NewStatus(fwk.Skip)
		}
		cs.Write(stateKey, &cycleState{held: held, gpus: gpu.PodGPUs(pod, pl.resource)})
		return nil, nil
	}
	logger := klog.FromContext(ctx)
	key := Key(pod.Namespace, name)
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
	logger.V(4).Info("Gang member takes its planned place", "pod", klog.KObj(pod), "gang", key, "node", a.Node)
	return &fwk.PreFilterResult{NodeNames: sets.New(a.Node)}, nil
}

// planGang plans every member of the pod's gang that is not bound or
// reserved yet, records the plan and takes the pod's place from it.
func (pl *Gang) planGang(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, pg *schedv1alpha1.PodGroup, nodes []fwk.NodeInfo) (core.Assignment, core.Lookup, *fwk.Status) {
	logger := klog.FromContext(ctx)
	name := gangOf(pod)
	key := Key(pod.Namespace, name)
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
	plan, err := core.PlanGang(members, in, pl.args.TopologyKeys)
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
		plan, err = core.PlanGang(sub, in, pl.args.TopologyKeys)
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
	for uid, node := range pl.book.ReservedOn(Key(namespace, name)) {
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
			ns, name := splitKey(gang)
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

// PostFilter runs when a gang member fits no node: its planned node no
// longer fits it (other plugins' Filter said so), or the gang could not be
// planned. The plan is dropped and every waiting member released. Plan
// failures are UnschedulableAndUnresolvable on every node, so
// DefaultPreemption (which the default profile runs before this plugin)
// finds no victims for one member of a gang that cannot be placed whole.
func (pl *Gang) PostFilter(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, statuses fwk.NodeToStatusReader) (*fwk.PostFilterResult, *fwk.Status) {
	name := gangOf(pod)
	if name == "" {
		if !pl.preemptionMayHelp(statuses) {
			// A PreFilter refused the pod (its queue deferred it, say)
			// or every node's refusal is one no victim can cure: the
			// walk over every pod preemption needs would be in vain.
			return nil, fwk.NewStatus(fwk.Unschedulable)
		}
		msg, node, err := pl.preemptForPod(ctx, pod)
		if err != nil {
			return nil, fwk.AsStatus(fmt.Errorf("preempting for pod %s: %w", klog.KObj(pod), err))
		}
		if node != "" {
			return framework.NewPostFilterResultWithNominatedNode(node), fwk.NewStatus(fwk.Unschedulable, msg)
		}
		return nil, fwk.NewStatus(fwk.Unschedulable, msg)
	}
	logger := klog.FromContext(ctx)
	key := Key(pod.Namespace, name)
	s := readState(cs)
	if s == nil {
		// Another plugin's PreFilter refused the member before this
		// plugin saw it: the gang cannot be completed without it.
		return pl.memberRefused(logger, pod, key, statuses.Get(""))
	}
	if s.node == "" {
		// This plugin's PreFilter refused the pod and said why; if for
		// lack of room, lower-priority pods may make way.
		if s.noRoom {
			if pg, ok := pl.groups.Get(pod.Namespace, name); ok {
				msg, err := pl.preemptForGang(ctx, pod, pg)
				if err != nil {
					return nil, fwk.AsStatus(fmt.Errorf("preempting for gang %s: %w", key, err))
				}
				if msg != "" {
					return nil, fwk.NewStatus(fwk.Unschedulable, msg)
				}
			}
		}
		return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable)
	}
	reason := "it was filtered out"
	if st := statuses.Get(s.node); st != nil {
		if msg := st.Message(); msg != "" {
			reason = msg
		}
		if capAfter(st) {
			// The planner does not model what rejected the pod there
			// (say, the members' anti-affinity to each other): for a
			// while, the next plans put no more of the gang on the node
			// than it holds now, so they do not break the same way.
			there := len(pl.membersOn(pod.Namespace, name)[s.node])
			pl.book.Cap(key, s.node, there, pl.now().Add(capTTL))
		}
	}
	msg := fmt.Sprintf("gang %s: planned node %s does not fit pod %s: %s; planning the gang again", key, s.node, pod.Name, reason)
	dropped := pl.book.Drop(key)
	rejected := pl.rejectWaiting(logger, key, pod.UID, msg)
	if dropped || rejected > 0 {
		pl.activateBlocked(logger, key)
	}
	logger.V(2).Info("Gang plan broke", "gang", key, "pod", klog.KObj(pod), "node", s.node, "reason", reason, "rejectedWaiting", rejected)
	return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, msg)
}

// preemptionMayHelp reports whether some node refused the pod for a
// reason preemption can cure (Unschedulable, not UnschedulableAndUnresolvable;
// a PreFilter's refusal marks every node with its own status).
func (pl *Gang) preemptionMayHelp(statuses fwk.NodeToStatusReader) bool {
	if pl.cluster == nil {
		return false
	}
	nodes, err := statuses.NodesForStatusCode(pl.cluster.SnapshotSharedLister().NodeInfos(), fwk.Unschedulable)
	return err != nil || len(nodes) > 0
}

// memberRefused releases a gang whose member was refused, by status st,
// before this plugin planned it. A refusal that no cluster event can cure
// (UnschedulableAndUnresolvable) blocks the gang's plans until the member
// passes, so its siblings are not placed and held in vain meanwhile.
func (pl *Gang) memberRefused(logger klog.Logger, pod *v1.Pod, key string, st *fwk.Status) (*fwk.PostFilterResult, *fwk.Status) {
	reason := "refused by another plugin"
	if st != nil && st.Message() != "" {
		reason = st.Message()
	}
	if st != nil && st.Code() == fwk.UnschedulableAndUnresolvable {
		pl.book.Block(key, string(pod.UID), reason)
	}
	msg := fmt.Sprintf("gang %s: member %s cannot be scheduled: %s", key, pod.Name, reason)
	dropped := pl.book.Drop(key)
	rejected := pl.rejectWaiting(logger, key, pod.UID, msg)
	if dropped || rejected > 0 {
		pl.activateBlocked(logger, key)
	}
	logger.V(2).Info("Gang member refused before planning", "gang", key, "pod", klog.KObj(pod), "reason", reason, "rejectedWaiting", rejected)
	return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, msg)
}

// capAfter reports whether the gang's plans should cap its members on a
// node where a member's planned place failed with status st. The planner
// counts resources and GPUs as NodeResourcesFit and GantryGPUTopology do,
// and checks node affinity, taints and cordons: when those reject a
// planned place, the snapshot has moved on, and a fresh plan sees it.
// Anything else (pod affinity and anti-affinity, topology spread, ports,
// volumes) it does not model, and the same plan would break again.
func capAfter(st *fwk.Status) bool {
	switch st.Plugin() {
	case names.NodeResourcesFit, gputopology.Name:
		return st.Code() == fwk.UnschedulableAndUnresolvable
	case names.NodeAffinity, names.TaintToleration, names.NodeUnschedulable:
		return false
	}
	return st.IsRejected()
}

// Reserve records that the member holds its place.
func (pl *Gang) Reserve(_ context.Context, _ fwk.CycleState, pod *v1.Pod, nodeName string) *fwk.Status {
	if name := gangOf(pod); name != "" {
		pl.book.Reserve(Key(pod.Namespace, name), string(pod.UID), nodeName)
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
	name := gangOf(pod)
	if name == "" {
		return
	}
	logger := klog.FromContext(ctx)
	key := Key(pod.Namespace, name)
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
	name := gangOf(pod)
	if name == "" {
		return nil, 0
	}
	logger := klog.FromContext(ctx)
	key := Key(pod.Namespace, name)
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
	ns, name := splitKey(key)
	var out []fwk.WaitingPod
	pl.h.IterateOverWaitingPods(func(wp fwk.WaitingPod) {
		p := wp.GetPod()
		if p.Namespace != ns || gangOf(p) != name || p.UID == except {
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
	ActivateGang(logger, pl.h, pl.members, key)
}

// Activator is what activation uses of fwk.Handle.
type Activator interface {
	Activate(logger klog.Logger, pods map[string]*v1.Pod)
}

// ActivateGang moves the gang's pending pods (members, an indexer with
// MembersIndex) to the active queue; the queue ignores those it does not
// hold in its unschedulable or backoff areas.
func ActivateGang(logger klog.Logger, h Activator, members toolscache.Indexer, key string) {
	ns, name := splitKey(key)
	pods := map[string]*v1.Pod{}
	for _, p := range Members(members, ns, name) {
		if p.Spec.NodeName == "" {
			pods[p.Namespace+"/"+p.Name] = p
		}
	}
	if len(pods) > 0 {
		logger.V(4).Info("Activating gang", "gang", key, "pods", len(pods))
		h.Activate(logger, pods)
	}
}

// event records an event on the PodGroup.
func (pl *Gang) event(pg *schedv1alpha1.PodGroup, eventType, reason, msg string) {
	r := pl.h.EventRecorder()
	if r == nil {
		return
	}
	if pg.Kind == "" {
		// The informer's objects carry no kind; the event's reference
		// needs it.
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
	if pg.Namespace != pod.Namespace || pg.Name != gangOf(pod) {
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
	name := gangOf(pod)
	if name == "" || added.Namespace != pod.Namespace || gangOf(added) != name || added.UID == pod.UID {
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
