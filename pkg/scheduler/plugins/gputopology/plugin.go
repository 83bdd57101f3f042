// Package gputopology is gantry-scheduler's GPU-topology plugin,
// GantryGPUTopology. For pods that request whole GPUs it
//
//   - filters out nodes that cannot give the pod a healthy set of free GPUs
//     (or one linked well enough for the pod's gantry.dev/min-gpu-link);
//   - scores nodes by the quality of the best set and by best-fit packing
//     (gpus.Score);
//   - reserves the exact set in Reserve, so pods scheduled in one burst
//     never share a GPU, and writes it to the pod (gantry.dev/gpu-ids) in
//     the Binding that binds it, where the device plugin reads it and hands
//     exactly those GPUs to the kubelet.
//
// Nodes without a NodeGPU pass the filter and score NoNodeGPUScore: the
// plugin can say nothing about their GPUs, and NodeResourcesFit still checks
// the count. The GPU sets are chosen by pkg/scheduler/gpus, over the
// scheduler's one GPU cache (shared.State.GPUs); this package speaks the
// framework's interfaces. A member of a gang gets the set its gang's plan
// chose (gpus.Request.Planned) while that set is still free.
package gputopology

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gpus"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/names"
	"github.com/gantry-gpu/gantry/pkg/scheduler/shared"
)

// Name is the plugin's name in the registry and in scheduler configurations.
const Name = names.GPUTopology

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
	weights  gpus.Weights
	// cache is the scheduler's GPU cache (shared.State.GPUs).
	cache  *gpus.Cache
	client kubernetes.Interface
}

// New builds the plugin: args are validated first, so a bad configuration
// stops the scheduler at start with a message naming the field.
func New(ctx context.Context, obj runtime.Object, h fwk.Handle, st *shared.State) (fwk.Plugin, error) {
	args, err := ParseArgs(obj)
	if err != nil {
		return nil, err
	}
	if err := st.Attach(ctx, h, Name, v1.ResourceName(args.ResourceName)); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	c, err := st.GPUs()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	pl := newPlugin(args, c, h.ClientSet())
	if err := c.SetWeights(pl.weights); err != nil {
		return nil, fmt.Errorf("%s args: %w", Name, err)
	}
	return pl, nil
}

func newPlugin(args *GPUTopologyArgs, c *gpus.Cache, client kubernetes.Interface) *GPUTopology {
	return &GPUTopology{
		args:     args,
		resource: v1.ResourceName(args.ResourceName),
		weights:  gpus.Weights{Quality: args.QualityWeight, Packing: args.PackingWeight},
		cache:    c,
		client:   client,
	}
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
	req gpus.Request
	// overrides are nodes whose state AddPod/RemovePod changed (preemption
	// and nominated pods); copied on Clone.
	overrides map[string]gpus.NodeState
	// partlyUsedFits is set by Filter when a node with GPUs in use fits
	// the pod: then empty nodes take EmptyNodePenalty. Filter sees every
	// node that reaches Score, so it is known without another pass over
	// the nodes; shared by clones (Filter runs on nodes in parallel).
	partlyUsedFits *atomic.Bool
	// plan is the set the pod's gang plan chose, looked up once, at the
	// first Filter: GantryGang plans in its PreFilter, which may run after
	// this plugin's. Shared by clones.
	plan *plannedSet
}

// plannedSet is the node and GPU set a gang's plan chose for the pod.
type plannedSet struct {
	once sync.Once
	uid  types.UID
	node string
	set  gpu.Set
}

// on returns the planned set if node is the planned node.
func (p *plannedSet) on(c *gpus.Cache, node string) gpu.Set {
	if p == nil {
		return 0
	}
	p.once.Do(func() { p.node, p.set, _ = c.PlannedFor(p.uid) })
	if p.node == node {
		return p.set
	}
	return 0
}

type nodeView struct {
	// hasGPU is false for a node without a usable NodeGPU.
	hasGPU    bool
	state     gpus.NodeState
	placement gpus.Placement
}

// Clone implements fwk.StateData.
func (s *preFilterState) Clone() fwk.StateData {
	c := *s
	c.overrides = maps.Clone(s.overrides)
	return &c
}

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
		req := s.req
		req.Planned = s.plan.on(pl.cache, node.Name)
		v.placement = gpus.Place(st, req)
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
	minLink, err := gpus.MinLink(pod)
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
	cs.Write(preFilterStateKey, &preFilterState{
		req:            gpus.Request{GPUs: n, MinLink: minLink},
		partlyUsedFits: &atomic.Bool{},
		plan:           &plannedSet{uid: pod.UID},
	})
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
			if p := gpus.Place(v.state, gpus.Request{GPUs: n}); p.Fits {
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

func (pl *GPUTopology) override(s *preFilterState, nodeName string, st gpus.NodeState) {
	if s.overrides == nil {
		s.overrides = map[string]gpus.NodeState{}
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

// Score ranks a node, 0 to 100 (gpus.Score); NoNodeGPUScore for a node
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
	return gpus.Score(v.state, v.placement, s.req.GPUs, pl.weights, s.partlyUsedFits.Load()), nil
}

// ScoreExtensions implements fwk.ScorePlugin: scores are already 0..100.
func (pl *GPUTopology) ScoreExtensions() fwk.ScoreExtensions { return nil }
