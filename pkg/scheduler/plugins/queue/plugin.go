// Package queue is gantry-scheduler's queue plugin, GantryQueue: hierarchical
// GPU quotas with guarantees, borrowing in weighted fair-share order, and
// reclaim. A workload's queue is gantryv1alpha1.QueueOf (pod label
// gantry.dev/queue, else its PodGroup's, else its namespace's, else
// "default"). In PreFilter, for each pod (a gang's demand being that of its
// members not placed yet, so a gang is admitted whole or not at all):
//
//   - a workload whose queue (or an ancestor) does not exist, or whose
//     parent chain loops, waits, with a message that says where the
//     queue's name came from, until a Queue changes;
//   - limits: the queue and every ancestor keep usage (their descendants'
//     included) plus the workload's demand within their limits, or the
//     workload waits naming the queue that blocks;
//   - guarantees and borrowing (core.Fair): a workload that stays within
//     its queue's guarantee, and every ancestor's, is admitted; one that
//     borrows beyond a guarantee waits only if the idle room left once it
//     took its part could not hold what a sibling queue waits for: room it
//     is owed below its guarantee, or room it may take while its weighted
//     dominant share is below this queue's (DRF with weights). Within a
//     queue, pods go in the scheduling queue's order (GantryGang's:
//     priority, then age, gangs together).
//
// Refusals are UnschedulableAndUnresolvable: GantryGang then neither plans
// nor holds room for a gang its queue refuses, and no node's pods are
// preempted for it. The pod is tried again on the events EventsToRegister
// lists.
//
// Reclaim: a workload within its guarantee that does not fit takes room
// back from queues that borrowed, in GantryGang's PostFilter (the plugin
// registers itself as the scheduler's shared.Reclaimer): whole gangs and pods of
// queues above their guarantees, lowest priority first, then most
// recently started, fewest needed, never taking a queue below its
// guarantee; victims are marked DisruptionTarget and deleted with their
// grace period. With args fairShareReclaim, a borrowing workload may also
// take from sibling queues above their weighted share, as far as keeps
// their share no lower than its queue's once admitted (core.NewReclaim).
//
// Usage is what bound, non-terminal pods request, whoever scheduled them,
// plus this scheduler's reservations (the GPU resource counted as
// gpu.PodGPUs counts it); it is kept per queue event by event
// (queues.Accounting, shared by the scheduler's profiles), so a cycle
// reads sums.
//
// Inert where queues are not used: when no Queue exists the plugin skips
// every pod. A workload that names no queue is governed only once a Queue
// named "default" exists (or with args requireDefaultQueue), so a cluster
// can adopt queues one team at a time without stranding everyone else's
// workloads.
//
// The decisions live in pkg/scheduler/queues/core, the usage and
// deferrals in the scheduler's shared queues.State; this package speaks
// the framework's interfaces.
package queue

import (
	"context"
	"fmt"
	"slices"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	fwk "k8s.io/kube-scheduler/framework"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/names"
	"github.com/gantry-gpu/gantry/pkg/scheduler/queues"
	"github.com/gantry-gpu/gantry/pkg/scheduler/queues/core"
	"github.com/gantry-gpu/gantry/pkg/scheduler/shared"
)

// Name is the plugin's name in the registry and in scheduler configurations.
const Name = names.Queue

const stateKey fwk.StateKey = "PreFilter" + Name

var (
	_ fwk.PreEnqueuePlugin  = &Plugin{}
	_ fwk.PreFilterPlugin   = &Plugin{}
	_ fwk.FilterPlugin      = &Plugin{}
	_ fwk.ReservePlugin     = &Plugin{}
	_ fwk.EnqueueExtensions = &Plugin{}
)

// Plugin is GantryQueue.
type Plugin struct {
	args *QueueArgs
	opts core.Options
	// queues is the scheduler's (shared.State.Queues); acct and deferred
	// are its parts.
	queues   *queues.State
	acct     *queues.Accounting
	deferred *queues.Deferrals
	// members is the pod informer's indexer, with gangs.MembersIndex.
	members toolscache.Indexer
	// waitForQueues is queues.State.WaitForQueues; nil where the Queues
	// are given (unit tests).
	waitForQueues func(context.Context)
}

// New builds the plugin: args are validated first, so a bad configuration
// stops the scheduler at start with a message naming the field.
func New(ctx context.Context, obj runtime.Object, h fwk.Handle, ss *shared.State) (fwk.Plugin, error) {
	args, err := ParseArgs(obj)
	if err != nil {
		return nil, err
	}
	if err := ss.Attach(ctx, h, Name, v1.ResourceName(args.ResourceName)); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	index, err := ss.Gangs()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	qs, err := ss.Queues()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	pl := newPlugin(args, qs, index.MembersIndexer())
	pl.waitForQueues = qs.WaitForQueues
	qs.SetTurns(pl.turns)
	ss.SetReclaimer(pl)
	return pl, nil
}

func newPlugin(args *QueueArgs, qs *queues.State, members toolscache.Indexer) *Plugin {
	return &Plugin{
		args:     args,
		opts:     core.Options{RequireDefaultQueue: args.RequireDefaultQueue},
		queues:   qs,
		acct:     qs.Accounting,
		deferred: qs.Deferred,
		members:  members,
	}
}

// Name implements fwk.Plugin.
func (pl *Plugin) Name() string { return Name }

// workloadQueue is the pod's queue and where its name came from.
func (pl *Plugin) workloadQueue(pod *v1.Pod) (string, gantryv1alpha1.QueueSource) {
	return pl.queues.Resolve(pod)
}

// shareResources are the resources shares are taken over: the GPU
// resource and whatever a queue guarantees or limits.
func (pl *Plugin) shareResources(t core.Tree) []v1.ResourceName {
	seen := map[v1.ResourceName]bool{v1.ResourceName(pl.args.ResourceName): true}
	for _, q := range t {
		for r := range q.Guaranteed {
			seen[r] = true
		}
		for r := range q.Limit {
			seen[r] = true
		}
	}
	out := make([]v1.ResourceName, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// requests is what the pod asks for, by resource.
func (pl *Plugin) requests(pod *v1.Pod) v1.ResourceList {
	return queues.PodRequests(pod, v1.ResourceName(pl.args.ResourceName))
}

// workload is what admitting the pod adds: its requests, or for a gang's
// member the requests of the gang's live, ungated members that do not count
// yet; and what each of those pods asks of the GPU resource.
func (pl *Plugin) workload(pod *v1.Pod, w *core.Workload) {
	gpuResource := v1.ResourceName(pl.args.ResourceName)
	add := func(p *v1.Pod) {
		req := pl.requests(p)
		core.AddTo(w.Demand, req)
		if g := queues.GPUsIn(req, gpuResource); g > 0 {
			w.GPUs = append(w.GPUs, g)
		}
	}
	w.Demand = v1.ResourceList{}
	add(pod)
	name := gangs.Of(pod)
	if name == "" {
		return
	}
	w.Gang = gangs.Key(pod.Namespace, name)
	for _, p := range gangs.Members(pl.members, pod.Namespace, name) {
		if p.UID == pod.UID || p.Spec.NodeName != "" || len(p.Spec.SchedulingGates) > 0 || pl.acct.Counted(p.UID) {
			continue
		}
		add(p)
	}
}

// cycleState is what PreFilter decided on, for Filter and the extensions.
type cycleState struct {
	tree     core.Tree
	workload core.Workload
	// usage is the rolled-up usage of the workload's queue and ancestors.
	usage map[string]v1.ResourceList
	chain []string
}

// Clone implements fwk.StateData: AddPod and RemovePod change usage.
func (s *cycleState) Clone() fwk.StateData {
	c := *s
	c.usage = make(map[string]v1.ResourceList, len(s.usage))
	for k, v := range s.usage {
		c.usage[k] = v.DeepCopy()
	}
	return &c
}

func readState(cs fwk.CycleState) *cycleState {
	d, err := cs.Read(stateKey)
	if err != nil {
		return nil
	}
	s, _ := d.(*cycleState)
	return s
}

// PreFilter admits the pod, or its gang, against its queue's and
// ancestors' limits (core.Decide), then in fair-share order if it borrows
// (core.Fair); pods not governed by queues skip the plugin.
func (pl *Plugin) PreFilter(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, nodes []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	if pl.waitForQueues != nil {
		pl.waitForQueues(ctx)
	}
	tree := pl.acct.Tree()
	queueName, source := pl.workloadQueue(pod)
	w := core.Workload{Queue: queueName, Source: source}
	if !core.Governed(tree, w, pl.opts) {
		return nil, fwk.NewStatus(fwk.Skip)
	}
	pl.workload(pod, &w)
	snap := pl.acct.Snapshot()
	rolled := tree.Rollup(snap.Own)
	chain, _ := tree.Ancestry(queueName)
	usage := map[string]v1.ResourceList{}
	for _, q := range chain {
		usage[q] = rolled[q].DeepCopy()
	}
	cs.Write(stateKey, &cycleState{tree: tree, workload: w, usage: usage, chain: chain})
	v := core.Decide(tree, usage, w, pl.opts)
	if v.Code == core.Admit && !core.WithinGuarantee(tree, rolled, queueName, w.Demand) {
		// It would borrow: the order among borrowers needs the
		// cluster's room (a walk over the nodes, so only now).
		names := pl.shareResources(tree)
		capacity, idle, nodeRoom := room(nodes, names, v1.ResourceName(pl.args.ResourceName), snap.LeavingGPUs)
		// Terminating pods' room is on its way back: idle. Only the
		// resources idle names (the share resources): an amount of
		// another resource here would read as all the idle room there is
		// of it, and no waiting workload would fit.
		for _, l := range snap.Leaving {
			for r, q := range l {
				if i, ok := idle[r]; ok {
					i.Add(q)
					idle[r] = i
				}
			}
		}
		r := &queues.ClusterRoom{Names: names, Capacity: capacity, Idle: idle, Nodes: nodeRoom}
		pl.queues.SetRoom(r)
		v = core.Fair(tree, pl.cluster(rolled, r), w)
	}
	if v.Code == core.Deferred {
		pl.deferred.Add(queueName, pod)
		pl.deferred.Block(queueName, v.Message)
	} else {
		pl.deferred.Remove(pod.UID)
	}
	return nil, verdictStatus(v)
}

// PreEnqueue holds a pod out of the scheduling cycles while its queue is
// blocked (see deferrals) and the pod's own requests would borrow: its
// workload would be deferred again. A pod its queue's guarantee covers is
// never held here; PreFilter decides for it and for every other pod.
func (pl *Plugin) PreEnqueue(_ context.Context, pod *v1.Pod) *fwk.Status {
	queueName, _ := pl.workloadQueue(pod)
	why := pl.deferred.Blocked(queueName)
	if why == "" {
		return nil
	}
	tree := pl.acct.Tree()
	snap := pl.acct.Snapshot()
	if core.WithinGuarantee(tree, tree.Rollup(snap.Own), queueName, pl.requests(pod)) {
		return nil
	}
	pl.deferred.Add(queueName, pod)
	return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, why)
}

// verdictStatus turns a refusal into UnschedulableAndUnresolvable, limits
// and fair-share deferrals included: on Unschedulable the framework runs
// the PreFilter plugins after this one (for preemption), and GantryGang
// would then plan, and hold places for, a gang its queue does not admit;
// and preempting pods on a node cannot bring a queue within its limit, nor
// give it a better claim on idle capacity. The pod is tried again on the
// events EventsToRegister lists.
func verdictStatus(v core.Verdict) *fwk.Status {
	if v.Code == core.Admit {
		return nil
	}
	return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, v.Message)
}

// Filter repeats PreFilter's limit decision on the usage as the extensions
// left it: a higher-priority pod nominated to the node (AddPod) takes its
// share of the queues first. (Fair share is PreFilter's alone: it does not
// depend on the node.)
func (pl *Plugin) Filter(_ context.Context, cs fwk.CycleState, _ *v1.Pod, _ fwk.NodeInfo) *fwk.Status {
	s := readState(cs)
	if s == nil {
		return nil
	}
	return verdictStatus(core.Decide(s.tree, s.usage, s.workload, pl.opts))
}

// PreFilterExtensions implements fwk.PreFilterPlugin.
func (pl *Plugin) PreFilterExtensions() fwk.PreFilterExtensions { return pl }

// AddPod counts a pod the framework adds to a node (a nominated pod, or a
// victim reprieved in a preemption dry run) against its queues.
func (pl *Plugin) AddPod(_ context.Context, cs fwk.CycleState, _ *v1.Pod, info fwk.PodInfo, _ fwk.NodeInfo) *fwk.Status {
	pl.adjust(cs, info.GetPod(), core.Add)
	return nil
}

// RemovePod takes a pod the framework removes from a node (a victim in a
// preemption dry run) from its queues' usage.
func (pl *Plugin) RemovePod(_ context.Context, cs fwk.CycleState, _ *v1.Pod, info fwk.PodInfo, _ fwk.NodeInfo) *fwk.Status {
	pl.adjust(cs, info.GetPod(), core.Sub)
	return nil
}

func (pl *Plugin) adjust(cs fwk.CycleState, pod *v1.Pod, op func(map[string]v1.ResourceList, string, v1.ResourceList)) {
	s := readState(cs)
	if s == nil {
		return
	}
	q, _ := pl.workloadQueue(pod)
	chain, err := s.tree.Ancestry(q)
	if err != nil {
		return
	}
	req := pl.requests(pod)
	for _, name := range chain {
		if _, ok := s.usage[name]; ok {
			op(s.usage, name, req)
		}
	}
}

// Reserve counts the pod against its queue until it is seen bound; the
// queue's share rose, which may be other queues' turn.
func (pl *Plugin) Reserve(_ context.Context, _ fwk.CycleState, pod *v1.Pod, _ string) *fwk.Status {
	if q := pl.acct.Reserve(pod); q != "" {
		pl.queues.ShareChanged(q)
	}
	return nil
}

// Unreserve drops the pod's reservation; the queue's share fell.
func (pl *Plugin) Unreserve(_ context.Context, _ fwk.CycleState, pod *v1.Pod, _ string) {
	if q := pl.acct.Unreserve(pod.UID); q != "" {
		pl.queues.ShareChanged(q)
	}
}
