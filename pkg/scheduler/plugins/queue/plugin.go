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
// registers itself as GantryGang's Reclaimer): whole gangs and pods of
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
// (accounting.go), so a cycle reads sums.
//
// Inert where queues are not used: when no Queue exists the plugin skips
// every pod. A workload that names no queue is governed only once a Queue
// named "default" exists (or with args requireDefaultQueue), so a cluster
// can adopt queues one team at a time without stranding everyone else's
// workloads.
//
// The decisions live in package core; this package gathers the state and
// speaks the framework's interfaces.
package queue

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	corelisters "k8s.io/client-go/listers/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/utils/ptr"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/gang"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/internal/perscheduler"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/internal/podevents"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/queue/core"
	"github.com/gantry-gpu/gantry/pkg/scheduler/shared"
)

// Name is the plugin's name in the registry and in scheduler configurations.
const Name = "GantryQueue"

// queueEvents names Queue events in EventsToRegister (resource, version and
// group joined by dots). The scheduler builds its informer for them from
// the shared state's factory, the one the accounting reads.
const queueEvents fwk.EventResource = "queues.v1alpha1.gantry.dev"

const (
	stateKey fwk.StateKey = "PreFilter" + Name

	// queueSyncTimeout bounds how long the first scheduling cycle waits,
	// once, for the Queues to be listed (see state.waitForQueues).
	queueSyncTimeout = 30 * time.Second
)

var (
	_ fwk.PreEnqueuePlugin  = &Plugin{}
	_ fwk.PreFilterPlugin   = &Plugin{}
	_ fwk.FilterPlugin      = &Plugin{}
	_ fwk.ReservePlugin     = &Plugin{}
	_ fwk.EnqueueExtensions = &Plugin{}
)

// podGroups gives a PodGroup by namespace and name: GantryGang's view.
type podGroups interface {
	Get(namespace, name string) (*schedv1alpha1.PodGroup, bool)
}

// Plugin is GantryQueue.
type Plugin struct {
	args       *QueueArgs
	opts       core.Options
	acct       *accounting
	namespaces corelisters.NamespaceLister
	groups     podGroups
	// members is the pod informer's indexer, with gang.MembersIndex
	// (GantryGang's shared state adds it; New asks for that state first).
	members toolscache.Indexer
	// waitForQueues is state.waitForQueues; nil where the Queues are
	// given (unit tests).
	waitForQueues func(context.Context)
	// deferred holds the pods last refused for fair share.
	deferred *deferrals
	// shareChanged is state.shareChanged for the scheduler; nil in unit
	// tests.
	shareChanged func(queue string)
	// room is the cluster's capacity and idle room as the last PreFilter
	// of a borrowing workload saw them (shared by the scheduler's
	// profiles): what activation judges whose turn it is by.
	room *atomic.Pointer[clusterRoom]
}

// clusterRoom is the capacity shares are taken of and the idle room
// borrowers take, over the share resources.
type clusterRoom struct {
	names          []v1.ResourceName
	capacity, idle v1.ResourceList
	nodes          core.NodeRoom
}

// New builds the plugin: args are validated first, so a bad configuration
// stops the scheduler at start with a message naming the field.
func New(ctx context.Context, obj runtime.Object, h fwk.Handle, ss *shared.State) (fwk.Plugin, error) {
	args, err := ParseArgs(obj)
	if err != nil {
		return nil, err
	}
	groups, err := gang.SharedPodGroups(ctx, h, ss)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	st, err := sharedState(ctx, h, ss, args, groups)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	f := h.SharedInformerFactory()
	pl := newPlugin(args, st.acct, f.Core().V1().Namespaces().Lister(), groups, f.Core().V1().Pods().Informer().GetIndexer())
	pl.waitForQueues = st.waitForQueues
	pl.deferred = st.deferred
	logger := klog.FromContext(ctx).WithValues("plugin", Name)
	pl.room = &st.room
	st.turns.CompareAndSwap(nil, &turnsFunc{pl.turns})
	pl.shareChanged = func(queue string) { st.shareChanged(logger, h, queue) }
	if err := gang.SetReclaimer(ctx, h, ss, pl); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return pl, nil
}

func newPlugin(args *QueueArgs, acct *accounting, namespaces corelisters.NamespaceLister, groups podGroups, members toolscache.Indexer) *Plugin {
	pl := &Plugin{
		args:       args,
		opts:       core.Options{RequireDefaultQueue: args.RequireDefaultQueue},
		acct:       acct,
		namespaces: namespaces,
		groups:     groups,
		members:    members,
		deferred:   newDeferrals(),
		room:       &atomic.Pointer[clusterRoom]{},
	}
	acct.setResolver(pl.workloadQueue)
	return pl
}

// state is shared by the plugin instances of one scheduler, keyed by its
// informer factory: a reservation made in one profile counts in all.
type state struct {
	acct *accounting
	// queuesListed reports whether the plugin's Queue informer has listed.
	queuesListed func() bool
	waitOnce     sync.Once
	deferred     *deferrals
	room         atomic.Pointer[clusterRoom]
	// turns is the first profile's Plugin.turns, for activation.
	turns atomic.Pointer[turnsFunc]
}

type turnsFunc struct {
	fn func() func(queue string) bool
}

// waitForQueues waits, once per scheduler and for at most
// queueSyncTimeout, for the Queues to be listed. The scheduler waits for its
// own informers before it schedules, not for this one, and until the Queues
// are listed the plugin would take the cluster for one without queues and
// let every pod pass. The wait is in the first scheduling cycle, as
// GantryGPUTopology's for its cache, not in New: the scheduler starts (and
// its health endpoints answer) meanwhile. Without the Queue CRD the list
// never completes, and the plugin stays inert rather than hold every cycle.
func (st *state) waitForQueues(ctx context.Context) {
	if st.queuesListed() {
		return
	}
	st.waitOnce.Do(func() {
		wctx, cancel := context.WithTimeout(ctx, queueSyncTimeout)
		defer cancel()
		if !toolscache.WaitForCacheSync(wctx.Done(), st.queuesListed) {
			klog.FromContext(ctx).Error(nil, "Queues not listed in time; queue limits apply once they are", "plugin", Name, "timeout", queueSyncTimeout)
		}
	})
}

var sharedStates perscheduler.Values[*state]

func sharedState(ctx context.Context, h fwk.Handle, ss *shared.State, args *QueueArgs, groups *gang.PodGroups) (*state, error) {
	return sharedStates.Get(ctx, h, func() (*state, error) {
		logger := klog.FromContext(ctx).WithValues("plugin", Name)
		queues := ss.Informers.Gantry.Gantry().V1alpha1().Queues()
		st := &state{acct: newAccounting(v1.ResourceName(args.ResourceName), queues.Lister()), deferred: newDeferrals()}
		if err := st.startInformers(logger, h, groups, queues.Informer()); err != nil {
			return nil, err
		}
		return st, nil
	})
}

// startInformers feeds the accounting: pods and namespaces from the
// scheduler's informers; Queues are read from their informer's lister. A
// namespace or PodGroup whose labels change may move its workloads to
// another queue: their queues are resolved again and its pending pods
// activated. The informers start with the scheduler's.
func (st *state) startInformers(logger klog.Logger, h fwk.Handle, groups *gang.PodGroups, queues toolscache.SharedIndexInformer) error {
	pods := h.SharedInformerFactory().Core().V1().Pods()
	acct := st.acct
	if _, err := pods.Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { st.setPod(logger, h, obj) },
		UpdateFunc: func(_, obj any) { st.setPod(logger, h, obj) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if pod, ok := obj.(*v1.Pod); ok {
				st.deferred.Remove(pod.UID)
				if c := acct.DeletePod(pod); c.queue != "" {
					st.shareChanged(logger, h, c.queue)
				}
			}
		},
	}); err != nil {
		return fmt.Errorf("watching pods: %w", err)
	}
	podIndexer := pods.Informer().GetIndexer()
	if _, err := h.SharedInformerFactory().Core().V1().Namespaces().Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
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
				activateNamespace(logger, h, podIndexer, n.Name)
			}
		},
	}); err != nil {
		return fmt.Errorf("watching namespaces: %w", err)
	}
	groups.OnLabelsChange(func(namespace, name string) {
		key := gang.Key(namespace, name)
		acct.RequeueGang(key)
		gang.ActivateGang(logger, h, podIndexer, key)
	})
	// A handler of the plugin's own: the scheduler only builds its
	// informer for Queues if EventsToRegister is asked, and the lister
	// must list either way.
	reg, err := queues.AddEventHandler(toolscache.ResourceEventHandlerFuncs{})
	if err != nil {
		return fmt.Errorf("watching Queues: %w", err)
	}
	st.queuesListed = reg.HasSynced
	return nil
}

// setPod records a pod the informer reports, and activates the deferred
// pods whose turn may have come if it started or stopped counting.
func (st *state) setPod(logger klog.Logger, h gang.Activator, obj any) {
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	if c := st.acct.SetPod(pod); c.became != 0 {
		st.shareChanged(logger, h, c.queue)
	}
}

// activateNamespace moves the namespace's pending pods to the active queue;
// the scheduling queue ignores those it does not hold as unschedulable.
func activateNamespace(logger klog.Logger, h fwk.Handle, pods toolscache.Indexer, namespace string) {
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

// Name implements fwk.Plugin.
func (pl *Plugin) Name() string { return Name }

// workloadQueue is the pod's queue and where its name came from.
func (pl *Plugin) workloadQueue(pod *v1.Pod) (string, gantryv1alpha1.QueueSource) {
	var groupLabels, nsLabels map[string]string
	if name := pod.Labels[gang.PodGroupLabel]; name != "" && pl.groups != nil {
		if pg, ok := pl.groups.Get(pod.Namespace, name); ok {
			groupLabels = pg.Labels
		}
	}
	if ns, err := pl.namespaces.Get(pod.Namespace); err == nil {
		nsLabels = ns.Labels
	}
	return gantryv1alpha1.QueueOf(pod.Labels, groupLabels, nsLabels)
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
	return podRequests(pod, v1.ResourceName(pl.args.ResourceName))
}

// workload is what admitting the pod adds: its requests, or for a gang's
// member the requests of the gang's live, ungated members that do not count
// yet; and what each of those pods asks of the GPU resource.
func (pl *Plugin) workload(pod *v1.Pod, w *core.Workload) {
	gpuResource := v1.ResourceName(pl.args.ResourceName)
	add := func(p *v1.Pod) {
		req := pl.requests(p)
		core.AddTo(w.Demand, req)
		if g := gpusIn(req, gpuResource); g > 0 {
			w.GPUs = append(w.GPUs, g)
		}
	}
	w.Demand = v1.ResourceList{}
	add(pod)
	name := pod.Labels[gang.PodGroupLabel]
	if name == "" {
		return
	}
	w.Gang = gang.Key(pod.Namespace, name)
	for _, p := range gang.Members(pl.members, pod.Namespace, name) {
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
	rolled := tree.Rollup(snap.own)
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
		capacity, idle, nodeRoom := room(nodes, names, v1.ResourceName(pl.args.ResourceName), snap.leavingGPUs)
		// Terminating pods' room is on its way back: idle. Only the
		// resources idle names (the share resources): an amount of
		// another resource here would read as all the idle room there is
		// of it, and no waiting workload would fit.
		for _, l := range snap.leaving {
			for r, q := range l {
				if i, ok := idle[r]; ok {
					i.Add(q)
					idle[r] = i
				}
			}
		}
		r := &clusterRoom{names: names, capacity: capacity, idle: idle, nodes: nodeRoom}
		pl.room.Store(r)
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

// cluster is what core.Fair looks at besides the tree.
func (pl *Plugin) cluster(usage map[string]v1.ResourceList, r *clusterRoom) core.Cluster {
	return core.Cluster{
		Usage:     usage,
		Capacity:  r.capacity,
		Idle:      r.idle,
		NodeRoom:  r.nodes,
		Resources: r.names,
		Pending:   pl.acct.Pending,
		Now:       time.Now(),
		// StarvationSeconds is defaulted (never nil) by ParseArgs.
		StarvationAfter: time.Duration(ptr.Deref(pl.args.StarvationSeconds, 0)) * time.Second,
	}
}

// turns returns a function that reports whether it may be queue's turn
// now: whether a borrower of the queue asking for one unit of the GPU
// resource would be admitted (core.Fair; a bigger workload is deferred
// whenever the smallest is). It judges by the room the last borrowing
// PreFilter saw (every queue's turn, before any did): activation only
// retries deferred pods, PreFilter decides.
func (pl *Plugin) turns() func(queue string) bool {
	r := pl.room.Load()
	if r == nil {
		return func(string) bool { return true }
	}
	tree := pl.acct.Tree()
	snap := pl.acct.Snapshot()
	c := pl.cluster(tree.Rollup(snap.own), r)
	probe := v1.ResourceList{v1.ResourceName(pl.args.ResourceName): *resource.NewQuantity(1, resource.DecimalSI)}
	return func(queue string) bool {
		return core.Fair(tree, c, core.Workload{Queue: queue, Demand: probe, GPUs: []int64{1}}).Code != core.Deferred
	}
}

// room sums the cycle's schedulable nodes' allocatable amounts of the
// resources, and what of them pods (assumed ones included) do not request:
// the capacity shares are taken of and the idle room borrowers take; and
// counts the nodes by their idle amount of the GPU resource, counting
// what terminating pods hold there (leaving, by node name) as idle, as
// PreFilter counts it in the totals. The snapshot is what Filter will see,
// so they agree.
func room(nodes []fwk.NodeInfo, names []v1.ResourceName, gpuResource v1.ResourceName, leaving map[string]int64) (capacity, idle v1.ResourceList, nodeRoom core.NodeRoom) {
	nodeRoom = core.NodeRoom{}
	alloc := make([]int64, len(names))
	free := make([]int64, len(names))
	for _, ni := range nodes {
		if n := ni.Node(); n == nil || n.Spec.Unschedulable {
			continue
		}
		a, r := ni.GetAllocatable(), ni.GetRequested()
		for i, name := range names {
			var av, rv int64
			switch name {
			case v1.ResourceCPU:
				av, rv = a.GetMilliCPU(), r.GetMilliCPU()
			case v1.ResourceMemory:
				av, rv = a.GetMemory(), r.GetMemory()
			default:
				av, rv = a.GetScalarResources()[name], r.GetScalarResources()[name]
			}
			alloc[i] += av
			free[i] += max(av-rv, 0)
			if name == gpuResource {
				if gpus := min(max(av-rv, 0)+leaving[ni.Node().Name], av); gpus > 0 {
					nodeRoom[gpus]++
				}
			}
		}
	}
	capacity, idle = v1.ResourceList{}, v1.ResourceList{}
	for i, name := range names {
		if name == v1.ResourceCPU {
			capacity[name] = *resource.NewMilliQuantity(alloc[i], resource.DecimalSI)
			idle[name] = *resource.NewMilliQuantity(free[i], resource.DecimalSI)
			continue
		}
		capacity[name] = *resource.NewQuantity(alloc[i], resource.DecimalSI)
		idle[name] = *resource.NewQuantity(free[i], resource.DecimalSI)
	}
	return capacity, idle, nodeRoom
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
	if core.WithinGuarantee(tree, tree.Rollup(snap.own), queueName, pl.requests(pod)) {
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
	if q := pl.acct.Reserve(pod); q != "" && pl.shareChanged != nil {
		pl.shareChanged(q)
	}
	return nil
}

// Unreserve drops the pod's reservation; the queue's share fell.
func (pl *Plugin) Unreserve(_ context.Context, _ fwk.CycleState, pod *v1.Pod, _ string) {
	if q := pl.acct.Unreserve(pod.UID); q != "" && pl.shareChanged != nil {
		pl.shareChanged(q)
	}
}

// ReclaimPolicy implements gang.Reclaimer: pods (a gang's unplaced
// members, or one pod, all of one workload) that found no room may take it
// back from queues above their guarantees (core.NewReclaim): all they hold
// beyond it when the workload stays within its queue's guarantee and every
// ancestor's; with args fairShareReclaim, when it borrows, what keeps their
// weighted share no lower than its queue's once admitted. A workload whose
// queue is deferred (another queue is owed the room) reclaims nothing.
// Pods already terminating do not count as usage here: they are leaving
// anyway.
func (pl *Plugin) ReclaimPolicy(pods []*v1.Pod) *gang.ReclaimPolicy {
	if len(pods) == 0 {
		return nil
	}
	tree := pl.acct.Tree()
	queueName, source := pl.workloadQueue(pods[0])
	if !core.Governed(tree, core.Workload{Queue: queueName, Source: source}, pl.opts) {
		return nil
	}
	demand := v1.ResourceList{}
	for _, p := range pods {
		core.AddTo(demand, pl.requests(p))
	}
	snap := pl.acct.Snapshot()
	for q, l := range snap.leaving {
		core.Sub(snap.own, q, l)
	}
	rolled := tree.Rollup(snap.own)
	r := core.NewReclaim(tree, rolled, core.ReclaimRequest{
		Queue:     queueName,
		Demand:    demand,
		Priority:  corev1helpers.PodPriority(pods[0]),
		Resource:  v1.ResourceName(pl.args.ResourceName),
		FairShare: ptr.Deref(pl.args.FairShareReclaim, false),
	})
	if r == nil || (!r.ForGuarantee() && pl.deferred.Blocked(queueName) != "") {
		return nil
	}
	why := "the fair share of queue " + queueName
	if r.ForGuarantee() {
		why = "the guarantee of queue " + queueName
	}
	return &gang.ReclaimPolicy{
		For: why,
		Victim: func(p *v1.Pod) ([]string, bool) {
			q, src := pl.workloadQueue(p)
			if !core.Governed(tree, core.Workload{Queue: q, Source: src}, pl.opts) {
				return nil, false
			}
			return r.Victim(q, corev1helpers.PodPriority(p))
		},
		Budgets: r.Budgets(),
	}
}

// EventsToRegister lists what can make a pod this plugin refused
// schedulable: a Queue added, changed or deleted (its limit or the tree
// changed) and an assigned pod deleted (usage went down). Pods deferred
// for fair share are activated when shares change (state.shareChanged);
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
// (see state.shareChanged). The hint runs in the scheduler's handler, which
// may run ahead of the plugin's own on the same informer, so it forgets the
// pod first: the pod it requeues must not meet usage that still counts the
// deleted one.
func (pl *Plugin) isSchedulableAfterPodDelete(_ klog.Logger, pod *v1.Pod, oldObj, _ any) (fwk.QueueingHint, error) {
	deleted, assigned, err := podevents.DeletedAssignedPod(oldObj)
	if err != nil {
		return fwk.Queue, err
	}
	if !assigned || pl.deferred.Has(pod.UID) {
		return fwk.QueueSkip, nil
	}
	pl.acct.DeletePod(deleted)
	return fwk.Queue, nil
}
