package gang

import (
	"encoding/json"
	"hash/fnv"
	"slices"
	"strconv"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	resourcehelper "k8s.io/component-helpers/resource"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/features"

	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs/core"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gpus"
)

// Resource names of core.Resources for the native resources; extended and
// other scalar resources keep their own names.
const (
	resCPU     = string(v1.ResourceCPU) // millicores
	resMemory  = string(v1.ResourceMemory)
	resStorage = string(v1.ResourceEphemeralStorage)
	resPods    = string(v1.ResourcePods)
)

// member describes a pod to the planner: its GPUs, and its other requests
// as NodeResourcesFit counts them (overhead included, one pod slot).
func (pl *Gang) member(pod *v1.Pod) (core.Member, error) {
	m := core.Member{
		Key:      string(pod.UID),
		GPUs:     gpu.PodGPUs(pod, pl.resource),
		Requests: core.Resources{resPods: 1},
		Priority: corev1helpers.PodPriority(pod),
	}
	for name, q := range resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{}) {
		switch name {
		case pl.resource:
		case v1.ResourceCPU:
			m.Requests[resCPU] = q.MilliValue()
		default:
			m.Requests[string(name)] = q.Value()
		}
	}
	if pl.gpus != nil {
		// The link between GPUs can be checked only where their sets are
		// known; with counts, GantryGPUTopology's Filter checks it on the
		// planned node.
		l, err := gpus.MinLink(pod)
		if err != nil {
			return core.Member{}, err
		}
		m.MinLink = l
	}
	return m, nil
}

// planNodes describes the nodes to the planner for the gang's pending pods
// (members[i] is pending[i]): only nodes some member may run on, each with
// what is free on it in the cycle's snapshot less the places other gangs'
// plans hold, and with the caps PostFilter put on the gang's members per
// node. It sets each member's Allowed.
func (pl *Gang) planNodes(key string, nodes []fwk.NodeInfo, pending []*v1.Pod, members []core.Member, holds []core.Hold) []core.Node {
	// Members of one gang mostly share their node constraints: work each
	// distinct set of constraints out once.
	bySignature := map[string]sets.Set[string]{}
	usable := sets.New[string]()
	for i, p := range pending {
		sig := constraintSignature(p)
		allowed, ok := bySignature[sig]
		if !ok {
			allowed = sets.New[string]()
			for _, ni := range nodes {
				if n := ni.Node(); n != nil && eligible(p, n) {
					allowed.Insert(n.Name)
				}
			}
			bySignature[sig] = allowed
			usable = usable.Union(allowed)
		}
		members[i].Allowed = allowed.Has
	}
	// Caps count the members a node holds already.
	caps := pl.book.Caps(key)
	var on map[string]sets.Set[string]
	if len(caps) > 0 {
		ns, name := gangs.SplitKey(key)
		on = pl.membersOn(ns, name)
	}

	byName := map[string]*core.Node{}
	out := make([]core.Node, 0, usable.Len())
	for _, ni := range nodes {
		n := ni.Node()
		if n == nil || !usable.Has(n.Name) {
			continue
		}
		cn := pl.coreNode(ni)
		if c, ok := caps[n.Name]; ok {
			left := c - on[n.Name].Len()
			if left <= 0 {
				continue
			}
			cn.MaxMembers = left
		}
		out = append(out, cn)
	}
	for i := range out {
		byName[out[i].Name] = &out[i]
	}
	for _, h := range holds {
		n := byName[h.Assignment.Node]
		if n == nil {
			continue
		}
		for name, v := range h.Member.Requests {
			n.Free[name] -= v
		}
		holdGPUs(n, h)
	}
	return out
}

// holdGPUs takes the GPUs of a hold off a node.
func holdGPUs(n *core.Node, h core.Hold) {
	g := h.Member.GPUs
	if g <= 0 {
		return
	}
	n.FreeGPUs = max(n.FreeGPUs-g, 0)
	if n.GPU == nil {
		return
	}
	st := *n.GPU
	switch set := h.Assignment.GPUs; {
	case set.Len() == g && set&st.Allocated == 0:
		st.Allocated |= set
	default:
		// The planned set was taken since: hold as good a set as is left.
		if p := gpus.Place(st, gpus.Request{GPUs: g}); p.Fits {
			st.Allocated |= p.Set
		} else {
			st.Allocated |= st.Free()
		}
	}
	n.GPU = &st
}

// coreNode describes a node of the snapshot: allocatable less requested
// (assumed pods included).
func (pl *Gang) coreNode(ni fwk.NodeInfo) core.Node {
	node := ni.Node()
	alloc, req := ni.GetAllocatable(), ni.GetRequested()
	free := core.Resources{
		resCPU:     alloc.GetMilliCPU() - req.GetMilliCPU(),
		resMemory:  alloc.GetMemory() - req.GetMemory(),
		resStorage: alloc.GetEphemeralStorage() - req.GetEphemeralStorage(),
		resPods:    int64(alloc.GetAllowedPodNumber() - len(ni.GetPods())),
	}
	reqScalar := req.GetScalarResources()
	for name, v := range alloc.GetScalarResources() {
		if name != pl.resource {
			free[string(name)] = v - reqScalar[name]
		}
	}
	n := core.Node{
		Name:     node.Name,
		Labels:   node.Labels,
		FreeGPUs: int(max(alloc.GetScalarResources()[pl.resource]-reqScalar[pl.resource], 0)),
		Free:     free,
	}
	if pl.gpus != nil {
		// The count is what NodeResourcesFit checks; a NodeGPU that shows
		// more free than the count knows less than the scheduler (pods
		// placed without annotation), and the node is counted instead.
		if st, ok := pl.gpus.Node(node.Name); ok && st.Free().Len() <= n.FreeGPUs {
			n.GPU = &st
		}
	}
	return n
}

// constraintSignature identifies the pod's node constraints that eligible
// checks.
func constraintSignature(p *v1.Pod) string {
	var required *v1.NodeSelector
	if p.Spec.Affinity != nil && p.Spec.Affinity.NodeAffinity != nil {
		required = p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	}
	b, err := json.Marshal(struct {
		NodeSelector map[string]string
		Required     *v1.NodeSelector
		Tolerations  []v1.Toleration
	}{p.Spec.NodeSelector, required, p.Spec.Tolerations})
	if err != nil {
		// Unreachable for API types; a unique signature is always right.
		return string(p.UID)
	}
	return string(b)
}

// eligible reports whether the pod may run on the node at all, by what the
// NodeAffinity, NodeUnschedulable and TaintToleration filters check: its
// node selector and required node affinity, the node's cordon, and the
// node's NoSchedule and NoExecute taints.
func eligible(p *v1.Pod, n *v1.Node) bool {
	if ok, err := nodeaffinity.GetRequiredNodeAffinity(p).Match(n); err != nil || !ok {
		return false
	}
	// As the TaintToleration filter does: comparison operators (Gt, Lt)
	// only where their feature gate is on.
	comparison := utilfeature.DefaultFeatureGate.Enabled(features.TaintTolerationComparisonOperators)
	logger := klog.Background()
	if n.Spec.Unschedulable && !corev1helpers.TolerationsTolerateTaint(logger, p.Spec.Tolerations, &v1.Taint{
		Key: v1.TaintNodeUnschedulable, Effect: v1.TaintEffectNoSchedule,
	}, comparison) {
		return false
	}
	_, untolerated := corev1helpers.FindMatchingUntoleratedTaint(logger, n.Spec.Taints, p.Spec.Tolerations, func(t *v1.Taint) bool {
		return t.Effect == v1.TaintEffectNoSchedule || t.Effect == v1.TaintEffectNoExecute
	}, comparison)
	return !untolerated
}

// fingerprint sums up what a gang's plan depends on: the nodes (each
// NodeInfo's generation changes with anything on it), the places other
// gangs hold (the book's version), the pods to place and minMember. While
// it stays the same, planning again would fail the same way.
func (pl *Gang) fingerprint(nodes []fwk.NodeInfo, pending []*v1.Pod, placed int, minMember int32) uint64 {
	h := fnv.New64a()
	write := func(s string) {
		_, _ = h.Write([]byte(s))
		_, _ = h.Write([]byte{0})
	}
	write(strconv.FormatUint(pl.book.Version(), 10))
	write(strconv.Itoa(placed))
	write(strconv.Itoa(int(minMember)))
	write(strconv.Itoa(len(nodes)))
	for _, ni := range nodes {
		if n := ni.Node(); n != nil {
			write(n.Name)
		}
		write(strconv.FormatInt(ni.GetGeneration(), 10))
	}
	uids := make([]string, len(pending))
	for i, p := range pending {
		uids[i] = string(p.UID)
	}
	slices.Sort(uids)
	for _, u := range uids {
		write(u)
	}
	return h.Sum64()
}

// planOptions are the planner's options: the gang args' topology keys, and
// the weights GantryGPUTopology scores GPU sets with (its args, through
// the scheduler's GPU cache), so a plan picks the set that plugin would.
func (pl *Gang) planOptions() core.Options {
	o := core.Options{TopologyKeys: pl.args.TopologyKeys}
	if w, ok := pl.gpus.(interface{ Weights() gpus.Weights }); ok {
		o.Weights = w.Weights()
	}
	return o
}
