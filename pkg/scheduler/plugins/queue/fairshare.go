package queue

import (
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/utils/ptr"

	"github.com/gantry-gpu/gantry/pkg/scheduler/queues"
	"github.com/gantry-gpu/gantry/pkg/scheduler/queues/core"
)

// cluster is what core.Fair looks at besides the tree.
func (pl *Plugin) cluster(usage map[string]v1.ResourceList, r *queues.ClusterRoom) core.Cluster {
	return core.Cluster{
		Usage:     usage,
		Capacity:  r.Capacity,
		Idle:      r.Idle,
		NodeRoom:  r.Nodes,
		Resources: r.Names,
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
	r := pl.queues.Room()
	if r == nil {
		return func(string) bool { return true }
	}
	tree := pl.acct.Tree()
	snap := pl.acct.Snapshot()
	c := pl.cluster(tree.Rollup(snap.Own), r)
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
