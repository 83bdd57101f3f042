// Package gputopology is gantry-scheduler's GPU-topology plugin,
// GantryGPUTopology. For pods that request whole GPUs it
//
//   - filters out nodes that cannot give the pod a healthy set of free GPUs
//     (or one linked well enough for the pod's gantry.dev/min-gpu-link);
//   - scores nodes by the quality of the best set and by best-fit packing
//     (core.Score);
//   - reserves the exact set in Reserve, so pods scheduled in one burst
//     never share a GPU, and writes it to the pod (gantry.dev/gpu-ids) in
//     the Binding that binds it, where the device plugin reads it and hands
//     exactly those GPUs to the kubelet.
//
// Nodes without a NodeGPU pass the filter and score NoNodeGPUScore: the
// plugin can say nothing about their GPUs, and NodeResourcesFit still checks
// the count. The decisions live in package core; this package gathers the
// state (Cache) and speaks the framework's interfaces.
package gputopology

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/gputopology/core"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/internal/perscheduler"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/internal/podevents"
	"github.com/gantry-gpu/gantry/pkg/scheduler/shared"
)

// Name is the plugin's name in the registry and in scheduler configurations.
const Name = "GantryGPUTopology"

const (
	// preFilterStateKey holds the pod's request and the per-node views of
	// one scheduling cycle.
	preFilterStateKey fwk.StateKey = "PreFilter" + Name
	// reserveStateKey holds the GPUs reserved for the pod, for Bind.
	reserveStateKey fwk.StateKey = "Reserve" + Name

	// syncWait bounds how long PreFilter waits, once, for the cache's
	// first lists: without them a GPU pod would be placed blind.
	syncWait = 5 * time.Second
)

var (
	_ fwk.PreFilterPlugin     = &GPUTopology{}
	_ fwk.FilterPlugin        = &GPUTopology{}
	_ fwk.PreScorePlugin      = &GPUTopology{}
	_ fwk.ScorePlugin         = &GPUTopology{}
	_ fwk.ReservePlugin       = &GPUTopology{}
	_ fwk.BindPlugin          = &GPUTopology{}
	_ fwk.EnqueueExtensions   = &GPUTopology{}
	_ fwk.PreFilterExtensions = &GPUTopology{}
)

// GPUTopology is the plugin.
type GPUTopology struct {
	args     *GPUTopologyArgs
	resource v1.ResourceName
	weights  core.Weights
	cache    *Cache
	client   kubernetes.Interface
	// pods is the scheduler's pod lister; the queueing hint for pod
	// deletions checks with it that a pod is really gone.
	pods corelisters.PodLister
}

// New builds the plugin: args are validated first, so a bad configuration
// stops the scheduler at start with a message naming the field.
func New(ctx context.Context, obj runtime.Object, h fwk.Handle, st *shared.State) (fwk.Plugin, error) {
	args, err := ParseArgs(obj)
	if err != nil {
		return nil, err
	}
	c, err := SharedCache(ctx, h, st)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return newPlugin(args, c, h.ClientSet(), h.SharedInformerFactory().Core().V1().Pods().Lister()), nil
}

func newPlugin(args *GPUTopologyArgs, c *Cache, client kubernetes.Interface, pods corelisters.PodLister) *GPUTopology {
	return &GPUTopology{
		args:     args,
		resource: v1.ResourceName(args.ResourceName),
		weights:  core.Weights{Quality: args.QualityWeight, Packing: args.PackingWeight},
		cache:    c,
		client:   client,
		pods:     pods,
	}
}

// Caches are shared by the plugin instances of one scheduler (one per
// profile that enables the plugin), keyed by the scheduler's informer
// factory: a GPU reserved by a pod of one profile must not be handed to a
// pod of another.
var sharedCaches perscheduler.Values[*Cache]

// SharedCache returns the cache of the scheduler h belongs to, the one
// GantryGPUTopology reserves GPUs in, building it if no plugin has yet: the
// gang plugin plans its members' GPU sets against it.
func SharedCache(ctx context.Context, h fwk.Handle, st *shared.State) (*Cache, error) {
	return sharedCaches.Get(ctx, h, func() (*Cache, error) {
		c := NewCache(klog.FromContext(ctx).WithValues("plugin", Name))
		if err := c.startInformers(h, st); err != nil {
			return nil, err
		}
		return c, nil
	})
}

// Name implements fwk.Plugin.
func (pl *GPUTopology) Name() string { return Name }

// preFilterState is one scheduling cycle's request. Nodes are read from the
// cache each time Filter, PreScore or Score asks: a node's state changes
// only when a pod lands on it or leaves it, or its NodeGPU changes, and
// choosing its set again is a memo lookup (gpu.Topology.BestSet), so a
// per-cycle copy of every node would cost more than it saves. Should a node
// change between Filter and Score, Score sees the newer state, and Reserve
// checks again under the cache's lock.
type preFilterState struct {
	req core.Request
	// overrides are nodes whose state AddPod/RemovePod changed (preemption
	// and nominated pods); copied on Clone.
	overrides map[string]core.NodeState
	// partlyUsedFits is set by Filter when a node with GPUs in use fits
	// the pod: then empty nodes take EmptyNodePenalty. Filter sees every
	// node that reaches Score, so it is known without another pass over
	// the nodes; shared by clones (Filter runs on nodes in parallel).
	partlyUsedFits *atomic.Bool
}

type nodeView struct {
	// hasGPU is false for a node without a usable NodeGPU.
	hasGPU    bool
	state     core.NodeState
	placement core.Placement
}

// Clone implements fwk.StateData.
func (s *preFilterState) Clone() fwk.StateData {
	c := *s
	c.overrides = maps.Clone(s.overrides)
	return &c
}

type reserveState struct {
	node  string
	uuids []string
}

// Clone implements fwk.StateData; the state is never modified.
func (s *reserveState) Clone() fwk.StateData { return s }

func getPreFilterState(cs fwk.CycleState) (*preFilterState, error) {
	d, err := cs.Read(preFilterStateKey)
	if err != nil {
		return nil, fmt.Errorf("reading %q from cycle state: %w", preFilterStateKey, err)
	}
	s, ok := d.(*preFilterState)
	if !ok {
		return nil, fmt.Errorf("%q in cycle state is %T, not *preFilterState", preFilterStateKey, d)
	}
	return s, nil
}

// view returns the node as this cycle sees it: its override, else the
// cache's state.
func (pl *GPUTopology) view(s *preFilterState, node *v1.Node) nodeView {
	st, ok := s.overrides[node.Name]
	if !ok {
		st, ok = pl.cache.NodeOf(node)
	}
	v := nodeView{hasGPU: ok, state: st}
	if ok {
		v.placement = core.Place(st, s.req)
	}
	return v
}

// PreFilter reads the pod's request. Pods that need no GPUs skip the
// plugin's Filter (and, through PreScore, its Score).
func (pl *GPUTopology) PreFilter(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	n := gpu.PodGPUs(pod, pl.resource)
	if n == 0 {
		return nil, fwk.NewStatus(fwk.Skip)
	}
	minLink, err := MinLink(pod)
	if err != nil {
		return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, err.Error())
	}
	if !pl.cache.HasSynced() {
		wctx, cancel := context.WithTimeout(ctx, syncWait)
		defer cancel()
		if !pl.cache.WaitForSync(wctx) {
			return nil, fwk.AsStatus(errors.New("the NodeGPU and pod caches have not synced yet"))
		}
	}
	cs.Write(preFilterStateKey, &preFilterState{req: core.Request{GPUs: n, MinLink: minLink}, partlyUsedFits: &atomic.Bool{}})
	return nil, nil
}

// PreFilterExtensions lets preemption and nominated pods change a node's
// GPUs for one evaluation.
func (pl *GPUTopology) PreFilterExtensions() fwk.PreFilterExtensions { return pl }

// AddPod counts the GPUs of a pod the framework adds to a node for one
// evaluation (a nominated pod): those it is annotated with, or else the
// set it would be given now.
func (pl *GPUTopology) AddPod(_ context.Context, cs fwk.CycleState, _ *v1.Pod, podInfoToAdd fwk.PodInfo, nodeInfo fwk.NodeInfo) *fwk.Status {
	s, err := getPreFilterState(cs)
	if err != nil {
		return fwk.AsStatus(err)
	}
	nodeName := nodeInfo.Node().Name
	v := pl.view(s, nodeInfo.Node())
	if !v.hasGPU {
		return nil
	}
	pod := podInfoToAdd.GetPod()
	held := pl.cache.Positions(nodeName, gantryv1alpha1.ParseGPUIDs(pod.Annotations[gantryv1alpha1.GPUIDsAnnotation]))
	if held == 0 {
		if n := gpu.PodGPUs(pod, pl.resource); n > 0 {
			if p := core.Place(v.state, core.Request{GPUs: n}); p.Fits {
				held = p.Set
			}
		}
	}
	if held != 0 {
		st := v.state
		st.Allocated |= held
		pl.override(s, nodeName, st)
	}
	return nil
}

// RemovePod frees the GPUs of a pod the framework removes from a node for
// one evaluation (a preemption victim).
func (pl *GPUTopology) RemovePod(_ context.Context, cs fwk.CycleState, _ *v1.Pod, podInfoToRemove fwk.PodInfo, nodeInfo fwk.NodeInfo) *fwk.Status {
	s, err := getPreFilterState(cs)
	if err != nil {
		return fwk.AsStatus(err)
	}
	nodeName := nodeInfo.Node().Name
	v := pl.view(s, nodeInfo.Node())
	if !v.hasGPU {
		return nil
	}
	if held := pl.cache.PodGPUs(podInfoToRemove.GetPod(), nodeName); held != 0 {
		st := v.state
		st.Allocated &^= held
		pl.override(s, nodeName, st)
	}
	return nil
}

func (pl *GPUTopology) override(s *preFilterState, nodeName string, st core.NodeState) {
	if s.overrides == nil {
		s.overrides = map[string]core.NodeState{}
	}
	s.overrides[nodeName] = st
}

// Filter rejects nodes with a NodeGPU that cannot give the pod a set now.
func (pl *GPUTopology) Filter(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, nodeInfo fwk.NodeInfo) *fwk.Status {
	s, err := getPreFilterState(cs)
	if err != nil {
		return fwk.AsStatus(err)
	}
	v := pl.view(s, nodeInfo.Node())
	if !v.hasGPU {
		return nil
	}
	if v.placement.Fits {
		if !v.state.Empty() {
			s.partlyUsedFits.Store(true)
		}
		return nil
	}
	code := fwk.Unschedulable
	if v.placement.Unresolvable {
		code = fwk.UnschedulableAndUnresolvable
	}
	klog.FromContext(ctx).V(5).Info("Node cannot give the pod GPUs", "pod", klog.KObj(pod), "node", klog.KObj(nodeInfo.Node()), "reason", v.placement.Reason)
	return fwk.NewStatus(code, v.placement.Reason)
}

// PreScore skips Score for pods that need no GPUs.
func (pl *GPUTopology) PreScore(_ context.Context, cs fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) *fwk.Status {
	if gpu.PodGPUs(pod, pl.resource) == 0 {
		return fwk.NewStatus(fwk.Skip)
	}
	if _, err := getPreFilterState(cs); err != nil {
		return fwk.AsStatus(err)
	}
	return nil
}

// Score ranks a node, 0 to 100 (core.Score); NoNodeGPUScore for a node
// without a NodeGPU.
func (pl *GPUTopology) Score(_ context.Context, cs fwk.CycleState, _ *v1.Pod, nodeInfo fwk.NodeInfo) (int64, *fwk.Status) {
	s, err := getPreFilterState(cs)
	if err != nil {
		return 0, fwk.AsStatus(err)
	}
	v := pl.view(s, nodeInfo.Node())
	if !v.hasGPU {
		return pl.args.NoNodeGPUScore, nil
	}
	if !v.placement.Fits {
		// Filter rejected it; only reachable if Score runs without Filter.
		return 0, nil
	}
	return core.Score(v.state, v.placement, s.req.GPUs, pl.weights, s.partlyUsedFits.Load()), nil
}

// ScoreExtensions implements fwk.ScorePlugin: scores are already 0..100.
func (pl *GPUTopology) ScoreExtensions() fwk.ScoreExtensions { return nil }

// Reserve chooses the pod's GPUs on the node and holds them in the cache.
// The choice is made again from the cache, not from the cycle's view: the
// cycle's view may be older than reservations and informer updates since.
func (pl *GPUTopology) Reserve(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, nodeName string) *fwk.Status {
	s, err := getPreFilterState(cs)
	if err != nil {
		if gpu.PodGPUs(pod, pl.resource) == 0 {
			return nil
		}
		return fwk.AsStatus(err)
	}
	res := pl.cache.Reserve(pod.UID, nodeName, s.req)
	if res.NoNodeGPU {
		return nil
	}
	if !res.Placement.Fits {
		return fwk.NewStatus(fwk.Unschedulable, "the node's GPUs changed since filtering: "+res.Placement.Reason)
	}
	cs.Write(reserveStateKey, &reserveState{node: nodeName, uuids: res.UUIDs})
	klog.FromContext(ctx).V(2).Info("Reserved GPUs", "pod", klog.KObj(pod), "node", nodeName,
		"gpus", res.UUIDs, "set", res.Placement.Score.String())
	return nil
}

// Unreserve releases the pod's GPUs. It is idempotent.
func (pl *GPUTopology) Unreserve(_ context.Context, cs fwk.CycleState, pod *v1.Pod, _ string) {
	pl.cache.Unreserve(pod.UID)
	cs.Delete(reserveStateKey)
}

func getReserveState(cs fwk.CycleState) (*reserveState, bool) {
	d, err := cs.Read(reserveStateKey)
	if err != nil {
		return nil, false
	}
	s, ok := d.(*reserveState)
	return s, ok
}

// Bind binds a pod that reserved GPUs and writes the set to it in the same
// API call: the Binding carries the annotation gantry.dev/gpu-ids, which the
// API server copies onto the pod as it sets spec.nodeName. The pod is thus
// never bound without its GPUs named (the device plugin may be asked for it
// at once), never annotated but unbound, and costs one write, not two.
// Pods that reserved no GPUs are left to DefaultBinder (Skip); the shipped
// profile orders this plugin's Bind before it.
func (pl *GPUTopology) Bind(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, nodeName string) *fwk.Status {
	r, ok := getReserveState(cs)
	if !ok {
		return fwk.NewStatus(fwk.Skip)
	}
	if r.node != nodeName {
		return fwk.AsStatus(fmt.Errorf("GPUs were reserved on node %s, but the pod is being bound to %s", r.node, nodeName))
	}
	ids := gantryv1alpha1.FormatGPUIDs(r.uuids)
	binding := &v1.Binding{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
			Annotations: map[string]string{gantryv1alpha1.GPUIDsAnnotation: ids},
		},
		Target: v1.ObjectReference{Kind: "Node", Name: nodeName},
	}
	if err := pl.client.CoreV1().Pods(pod.Namespace).Bind(ctx, binding, metav1.CreateOptions{}); err != nil {
		return fwk.AsStatus(fmt.Errorf("binding pod %s to %s with %s=%s: %w", klog.KObj(pod), nodeName, gantryv1alpha1.GPUIDsAnnotation, ids, err))
	}
	klog.FromContext(ctx).V(4).Info("Bound pod with its GPUs", "pod", klog.KObj(pod), "node", nodeName, "gpus", ids)
	return nil
}

// EventsToRegister lists the events that can make a pod this plugin
// rejected schedulable: a NodeGPU added, changed or deleted (GPUs freed or
// healed; a node without NodeGPU passes), a pod deleted (its GPUs freed, or
// its reservation dropped), the pod's own min-link annotation changed, a
// node added.
func (pl *GPUTopology) EventsToRegister(context.Context) ([]fwk.ClusterEventWithHint, error) {
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: nodeGPUEvents, ActionType: fwk.Add | fwk.Update | fwk.Delete}, QueueingHintFn: pl.isSchedulableAfterNodeGPUChange},
		{Event: fwk.ClusterEvent{Resource: fwk.Pod, ActionType: fwk.Delete}, QueueingHintFn: pl.isSchedulableAfterPodDelete},
		{Event: fwk.ClusterEvent{Resource: fwk.Pod, ActionType: fwk.Update}, QueueingHintFn: pl.isSchedulableAfterPodUpdate},
		{Event: fwk.ClusterEvent{Resource: fwk.Node, ActionType: fwk.Add}},
	}, nil
}

// isSchedulableAfterNodeGPUChange requeues the pod when the changed node
// could now take it. The cache already holds the change: it is applied
// before the scheduler's handler runs this hint (startInformers).
func (pl *GPUTopology) isSchedulableAfterNodeGPUChange(logger klog.Logger, pod *v1.Pod, oldObj, newObj any) (fwk.QueueingHint, error) {
	if newObj == nil {
		// A node without NodeGPU passes the filter.
		return fwk.Queue, nil
	}
	n, ok := newObj.(*gantryv1alpha1.NodeGPU)
	if !ok {
		return fwk.Queue, fmt.Errorf("NodeGPU event with an unexpected object %T", newObj)
	}
	if o, ok := oldObj.(*gantryv1alpha1.NodeGPU); ok && !placementChanged(o, n) {
		return fwk.QueueSkip, nil
	}
	st, ok := pl.cache.Node(n.Name)
	if !ok {
		return fwk.Queue, nil
	}
	minLink, err := MinLink(pod)
	if err != nil {
		return fwk.QueueSkip, nil
	}
	if p := core.Place(st, core.Request{GPUs: gpu.PodGPUs(pod, pl.resource), MinLink: minLink}); !p.Fits {
		logger.V(5).Info("NodeGPU changed but still cannot take the pod", "pod", klog.KObj(pod), "node", n.Name, "reason", p.Reason)
		return fwk.QueueSkip, nil
	}
	return fwk.Queue, nil
}

// placementChanged reports whether two copies of a NodeGPU differ in what
// can change a placement (not heartbeat, counters, metadata), so the
// device plugin's periodic status writes do not requeue every waiting pod.
func placementChanged(o, n *gantryv1alpha1.NodeGPU) bool {
	return !equality.Semantic.DeepEqual(o.Spec, n.Spec) ||
		!equality.Semantic.DeepEqual(o.Status.Health, n.Status.Health) ||
		!equality.Semantic.DeepEqual(o.Status.Allocations, n.Status.Allocations)
}

// isSchedulableAfterPodDelete requeues the pod when a pod that held or was
// to hold GPUs goes away. The scheduler sends this event also for pods it
// merely stops assuming, and for pending pods that got bound; the cache
// forgets a bound pod here only if the scheduler's pod informer no longer
// has it, which it updates before it notifies.
func (pl *GPUTopology) isSchedulableAfterPodDelete(logger klog.Logger, pod *v1.Pod, oldObj, _ any) (fwk.QueueingHint, error) {
	deleted, assigned, err := podevents.DeletedAssignedPod(oldObj)
	if err != nil {
		return fwk.Queue, err
	}
	if !assigned {
		return fwk.QueueSkip, nil
	}
	if pl.podGone(deleted) {
		pl.cache.DeletePod(deleted)
	}
	if gpu.PodGPUs(deleted, pl.resource) == 0 && deleted.Annotations[gantryv1alpha1.GPUIDsAnnotation] == "" {
		return fwk.QueueSkip, nil
	}
	logger.V(5).Info("A pod with GPUs went away", "pod", klog.KObj(pod), "deleted", klog.KObj(deleted), "node", deleted.Spec.NodeName)
	return fwk.Queue, nil
}

func (pl *GPUTopology) podGone(pod *v1.Pod) bool {
	if pl.pods == nil {
		return false
	}
	cur, err := pl.pods.Pods(pod.Namespace).Get(pod.Name)
	if apierrors.IsNotFound(err) {
		return true
	}
	return err == nil && cur.UID != pod.UID
}

// isSchedulableAfterPodUpdate requeues the pod when its own
// min-GPU-link annotation changed, the one way to fix a bad value.
func (pl *GPUTopology) isSchedulableAfterPodUpdate(_ klog.Logger, pod *v1.Pod, oldObj, newObj any) (fwk.QueueingHint, error) {
	o, ok1 := oldObj.(*v1.Pod)
	n, ok2 := newObj.(*v1.Pod)
	if !ok1 || !ok2 {
		return fwk.Queue, fmt.Errorf("updated objects are %T and %T, not *v1.Pod", oldObj, newObj)
	}
	if n.UID != pod.UID || o.Annotations[MinLinkAnnotation] == n.Annotations[MinLinkAnnotation] {
		return fwk.QueueSkip, nil
	}
	return fwk.Queue, nil
}
