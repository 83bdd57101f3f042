// Package gpus is gantry-scheduler's one place for GPU sets: what each
// node's GPUs are and which are taken (Cache, fed by the pod and NodeGPU
// informers and by reservations), whether a node can give a pod a healthy
// set, which set (Place), and how the node ranks (Score). GantryGPUTopology
// filters, scores and reserves with it, and GantryGang plans its members'
// sets with it, so a gang's plan and the set reserved are chosen by the same
// rule. The decisions know nothing of the scheduler framework, so every
// rule is tested on topologies built in memory.
//
// Sets are chosen with gpu.BestSet, the function the device plugin uses for
// GetPreferredAllocation, so the scheduler and the node agree on what "best"
// means.
package gpus

import (
	"errors"
	"fmt"

	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// NodeState is what the scheduler knows of one node's GPUs.
type NodeState struct {
	// Topology is the node's GPUs and the links between them. Never nil in
	// a NodeState that is placed or scored.
	Topology *gpu.Topology
	// Healthy holds the GPUs that can take work.
	Healthy gpu.Set
	// Allocated holds the GPUs held by pods or reserved for them, healthy
	// or not.
	Allocated gpu.Set
}

// Free is the set of healthy GPUs that nothing holds.
func (n NodeState) Free() gpu.Set { return n.Healthy &^ n.Allocated }

// Empty reports whether no GPU of the node is held: the node is whole, the
// kind a large job needs.
func (n NodeState) Empty() bool { return n.Allocated&n.Topology.All() == 0 }

// Request is what a pod asks of a node's GPUs.
type Request struct {
	// GPUs is how many whole GPUs the pod needs; positive.
	GPUs int
	// MinLink is the worst link the pod accepts between any two of its
	// GPUs; gpu.LinkUnknown accepts every set.
	MinLink gpu.LinkType
	// Planned is the set a gang's plan chose for the pod on this node
	// (zero: none): Place gives it while it is still free, healthy, of
	// the size asked and linked well enough, so the set the plan was made
	// with is the set the pod gets.
	Planned gpu.Set
}

// Placement is the outcome of Place for one node.
type Placement struct {
	// Fits reports whether the node can give the pod a set now.
	Fits bool
	// Set and Score are the chosen set and its score when Fits.
	Set   gpu.Set
	Score gpu.SetScore
	// Reason says why the node does not fit, for the pod's events.
	Reason string
	// Unresolvable is set when the node would not fit even with every
	// healthy GPU free: preempting pods there cannot help.
	Unresolvable bool
}

// Place chooses the set of GPUs the node would give the request: the best
// set (gpu.BestSet) of its free healthy GPUs, provided its worst link meets
// req.MinLink. Because BestSet ranks the worst link first, the best set has
// the best worst link any set of that size can have, so checking MinLink on
// it alone is exact.
func Place(n NodeState, req Request) Placement {
	if req.GPUs <= 0 {
		return Placement{Reason: fmt.Sprintf("pod needs %d GPUs", req.GPUs), Unresolvable: true}
	}
	healthy, free := n.Healthy.Len(), n.Free()
	if healthy < req.GPUs {
		return Placement{
			Reason:       fmt.Sprintf("node has %d healthy GPUs, pod needs %d", healthy, req.GPUs),
			Unresolvable: true,
		}
	}
	if free.Len() < req.GPUs {
		return Placement{Reason: fmt.Sprintf("node has %d free healthy GPUs, pod needs %d", free.Len(), req.GPUs)}
	}
	if p := req.Planned; p != 0 && p.Len() == req.GPUs && p&^free == 0 {
		if score := n.Topology.Score(p, free); req.MinLink == gpu.LinkUnknown || score.Worst.Type >= req.MinLink {
			return Placement{Fits: true, Set: p, Score: score}
		}
	}
	set, score, err := n.Topology.BestSet(free, 0, req.GPUs)
	if err != nil {
		// Unreachable with the checks above; reported rather than hidden.
		return Placement{Reason: fmt.Sprintf("choosing %d GPUs: %v", req.GPUs, err), Unresolvable: !errors.Is(err, gpu.ErrTooFewGPUs)}
	}
	if req.MinLink != gpu.LinkUnknown && score.Worst.Type < req.MinLink {
		p := Placement{Reason: fmt.Sprintf("the best %d free GPUs on the node are linked by %s at worst, pod needs %s or better",
			req.GPUs, score.Worst, req.MinLink)}
		// Would any set do if every healthy GPU were free? If not, no
		// preemption on this node can make it fit.
		if _, best, err := n.Topology.BestSet(n.Healthy, 0, req.GPUs); err != nil || best.Worst.Type < req.MinLink {
			p.Unresolvable = true
		}
		return p
	}
	return Placement{Fits: true, Set: set, Score: score}
}
