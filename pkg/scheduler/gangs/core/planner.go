// Package core plans the placement of a whole gang against one snapshot of
// the cluster, in plain Go. Placing every member before any of them
// reserves anything is what keeps two gangs from each holding half of what
// they need (scheduler-plugins' Coscheduling reserves member by member and
// can deadlock that way): either the plan covers every member, or no
// member is held.
package core

import (
	"cmp"
	"fmt"
	"slices"
	"sort"

	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gpus"
)

// Resources are amounts by resource name (CPU in millicores, memory in
// bytes, extended resources in units).
type Resources map[string]int64

// fits reports whether r covers req.
func (r Resources) fits(req Resources) bool {
	for name, v := range req {
		if r[name] < v {
			return false
		}
	}
	return true
}

func (r Resources) sub(req Resources) {
	for name, v := range req {
		r[name] -= v
	}
}

// Member is one pod of the gang.
type Member struct {
	// Key identifies the pod (namespace/name).
	Key string
	// GPUs is the whole GPUs the pod needs.
	GPUs int
	// MinLink is the worst link the pod accepts between its GPUs.
	MinLink gpu.LinkType
	// Requests are the pod's other requests, checked against Node.Free.
	Requests Resources
	// Priority is the pod's priority: a place held for the member is kept
	// from pods outside gangs of no higher priority.
	Priority int32
	// Allowed reports whether the member may run on the named node at all
	// (its node selector, affinity and tolerations); nil allows every node.
	Allowed func(node string) bool
}

// Node is what the planner knows of one node.
type Node struct {
	Name   string
	Labels map[string]string
	// GPU is the node's GPU state from its NodeGPU; nil for a node without
	// one, whose GPUs are counted, not placed.
	GPU *gpus.NodeState
	// FreeGPUs is the free GPU count of a node without NodeGPU.
	FreeGPUs int
	// Free are the node's unrequested resources other than GPUs.
	Free Resources
	// MaxMembers caps how many members the plan may put on the node, for
	// what the planner does not model (say, the members' anti-affinity
	// to each other); 0 means no cap.
	MaxMembers int
}

// Assignment is where one member goes.
type Assignment struct {
	Node string
	// GPUs is the exact set on a node with NodeGPU; zero otherwise.
	GPUs gpu.Set
}

// Plan places every member.
type Plan struct {
	// DomainKey and DomainValue name the topology domain the gang fits in:
	// the node label key and its value; both empty when only the whole
	// cluster fits it.
	DomainKey, DomainValue string
	Assignments            map[string]Assignment
	// Nodes is the number of distinct nodes used.
	Nodes int
}

// Options are how the planner places.
type Options struct {
	// TopologyKeys are node label keys of topology domains, most specific
	// first (GantryGang's args).
	TopologyKeys []string
	// Weights weigh a GPU set's quality against best-fit packing when the
	// planner chooses among nodes: GantryGPUTopology's, so a plan picks
	// the sets that plugin would pick. Zero weighs both alike.
	Weights gpus.Weights
}

func (o Options) weights() gpus.Weights {
	if o.Weights == (gpus.Weights{}) {
		return gpus.Weights{Quality: 1, Packing: 1}
	}
	return o.Weights
}

// Failure says why no plan exists, in words fit for an event.
type Failure struct {
	Message string
}

func (f *Failure) Error() string { return f.Message }

// PlanGang places every member on nodes, all inside one topology domain if
// possible: it tries each key of topologyKeys in order (most specific
// first, e.g. an NVLink clique, then a rack, then a spine), and the whole
// cluster last. At the first level where some domain fits the whole gang,
// it returns the best plan among that level's domains: fewest nodes, then
// best GPU sets, then the tightest fit (fewest GPUs left free in the
// domain, so big domains stay whole for big gangs).
func PlanGang(members []Member, nodes []Node, opts Options) (*Plan, error) {
	if len(members) == 0 {
		return &Plan{Assignments: map[string]Assignment{}}, nil
	}
	ordered := slices.Clone(members)
	// Biggest members first: they are the hardest to fit.
	slices.SortStableFunc(ordered, func(a, b Member) int {
		if c := cmp.Compare(b.GPUs, a.GPUs); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	need := 0
	for _, m := range members {
		need += m.GPUs
	}

	var bestFree int
	var bestDomain string
	for _, key := range append(slices.Clone(opts.TopologyKeys), "") {
		var best *Plan
		var bestRank planRank
		for _, d := range domains(nodes, key) {
			plan, rank, ok := placeIn(ordered, d.nodes, opts.weights())
			if !ok {
				if free := freeGPUs(d.nodes); free > bestFree || bestDomain == "" {
					bestFree, bestDomain = free, describe(key, d.value)
				}
				continue
			}
			if best == nil || rank.better(bestRank) {
				plan.DomainKey, plan.DomainValue = key, d.value
				best, bestRank = plan, rank
			}
		}
		if best != nil {
			return best, nil
		}
	}
	if len(nodes) == 0 {
		return nil, &Failure{Message: fmt.Sprintf("gang of %d pods needs %d GPUs; no node is available", len(members), need)}
	}
	return nil, &Failure{Message: fmt.Sprintf("gang of %d pods needs %d GPUs placed together; the best %s has %d free", len(members), need, bestDomain, bestFree)}
}

func describe(key, value string) string {
	if key == "" {
		return "cluster"
	}
	return fmt.Sprintf("domain %s=%s", key, value)
}

type domain struct {
	value string
	nodes []Node
}

// domains groups the nodes by the value of a label key; nodes without the
// label belong to no domain of that key. The empty key is one domain of
// every node.
func domains(nodes []Node, key string) []domain {
	if key == "" {
		return []domain{{nodes: nodes}}
	}
	byValue := map[string][]Node{}
	for _, n := range nodes {
		if v, ok := n.Labels[key]; ok {
			byValue[v] = append(byValue[v], n)
		}
	}
	out := make([]domain, 0, len(byValue))
	for v, ns := range byValue {
		out = append(out, domain{value: v, nodes: ns})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].value < out[j].value })
	return out
}

func freeGPUs(nodes []Node) int {
	free := 0
	for _, n := range nodes {
		if n.GPU != nil {
			free += n.GPU.Free().Len()
		} else {
			free += n.FreeGPUs
		}
	}
	return free
}

// planRank orders plans of one level: fewer nodes, better GPU sets, tighter fit.
type planRank struct {
	nodes    int
	quality  int // sum of the members' set qualities
	leftover int // GPUs left free in the domain
}

func greater(a, b [3]int64) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return false
}

// capacity is how many members like m the node could still take, by GPU
// count and the other resources.
func (w *working) capacity(m Member) int {
	n := 1 << 30
	if m.GPUs > 0 {
		n = w.freeGPUs / m.GPUs
	}
	for name, v := range m.Requests {
		if v > 0 {
			n = min(n, int(w.free[name]/v))
		}
	}
	if w.node.MaxMembers > 0 {
		n = min(n, w.node.MaxMembers-w.members)
	}
	return n
}

func (r planRank) better(o planRank) bool {
	if r.nodes != o.nodes {
		return r.nodes < o.nodes
	}
	if r.quality != o.quality {
		return r.quality > o.quality
	}
	return r.leftover < o.leftover
}

// working is a node's state while a plan is built.
type working struct {
	node     Node
	gpu      gpus.NodeState
	freeGPUs int
	free     Resources
	used     bool
	members  int
}

// placeIn places the members, biggest first, each on the node of the domain
// that scores best for it, preferring nodes the gang already uses. It is a
// greedy first-fit-decreasing: fast and, for gangs of equal members (the
// usual data-parallel job), exact in the number of nodes used.
func placeIn(members []Member, nodes []Node, weights gpus.Weights) (*Plan, planRank, bool) {
	ws := make([]*working, len(nodes))
	for i, n := range nodes {
		w := &working{node: n, freeGPUs: n.FreeGPUs, free: Resources{}}
		for k, v := range n.Free {
			w.free[k] = v
		}
		if n.GPU != nil {
			w.gpu = *n.GPU
			w.freeGPUs = n.GPU.Free().Len()
		}
		ws[i] = w
	}
	plan := &Plan{Assignments: make(map[string]Assignment, len(members))}
	rank := planRank{}
	for i, m := range members {
		remaining := len(members) - i
		var best *working
		var bestPlacement gpus.Placement
		var bestKey [3]int64
		for _, w := range ws {
			if !w.free.fits(m.Requests) || w.freeGPUs < m.GPUs {
				continue
			}
			if m.Allowed != nil && !m.Allowed(w.node.Name) {
				continue
			}
			if w.node.MaxMembers > 0 && w.members >= w.node.MaxMembers {
				continue
			}
			var p gpus.Placement
			var score int64
			if w.node.GPU != nil && m.GPUs > 0 {
				p = gpus.Place(w.gpu, gpus.Request{GPUs: m.GPUs, MinLink: m.MinLink})
				if !p.Fits {
					continue
				}
				score = gpus.Score(w.gpu, p, m.GPUs, weights, false)
			} else if m.MinLink > gpu.LinkUnknown && m.GPUs > 1 {
				continue // the link cannot be known on a node without NodeGPU
			}
			// Fewer nodes means fewer cross-node hops for the job's
			// collectives, so locality comes before packing: a node the
			// gang already uses first, then a node that can take more of
			// the members still to place (as many as there are, at most),
			// and only then the node's own score.
			key := [3]int64{0, int64(min(w.capacity(m), remaining)), score}
			if w.used {
				key[0] = 1
			}
			if best == nil || greater(key, bestKey) || (key == bestKey && w.node.Name < best.node.Name) {
				best, bestPlacement, bestKey = w, p, key
			}
		}
		if best == nil {
			return nil, rank, false
		}
		a := Assignment{Node: best.node.Name}
		if best.node.GPU != nil && m.GPUs > 0 {
			a.GPUs = bestPlacement.Set
			best.gpu.Allocated |= bestPlacement.Set
			rank.quality += bestPlacement.Score.Quality()
		}
		best.freeGPUs -= m.GPUs
		best.free.sub(m.Requests)
		best.members++
		if !best.used {
			best.used = true
			rank.nodes++
		}
		plan.Assignments[m.Key] = a
	}
	for _, w := range ws {
		rank.leftover += w.freeGPUs
	}
	plan.Nodes = rank.nodes
	return plan, rank, true
}
