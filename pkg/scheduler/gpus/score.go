package gpus

import "fmt"

// MaxScore is the highest node score, the framework's MaxNodeScore.
const MaxScore = 100

// Penalties subtracted from a node's score (see Score). They are constants,
// not arguments: they encode what Gantry is for (keep whole islands and
// whole nodes for large jobs) rather than a site's taste, and two weights
// are enough to tune the trade-off between topology and packing.
const (
	// IslandBreakPenalty is subtracted for every NVLink island that was
	// wholly free and would be partly used after the allocation.
	IslandBreakPenalty = 10
	// EmptyNodePenalty is subtracted from a node with no GPU in use when a
	// partly used node also fits the pod, so a whole node is touched only
	// when the partly used ones are clearly worse for the pod.
	EmptyNodePenalty = 10
)

// Weights weigh the two parts of a node's score. At least one is positive.
type Weights struct {
	Quality int64
	Packing int64
}

// Packing is how full the node's healthy GPUs are after the allocation, 0
// to 100: 100 × in use after / healthy, where "in use after" counts the
// healthy GPUs held now plus the ones the pod takes. Best fit: the node the
// pod fills most scores highest, so small pods fill partly used nodes and
// leave free ones whole. Unhealthy GPUs count neither way.
func Packing(n NodeState, gpus int) int64 {
	healthy := n.Healthy.Len()
	if healthy == 0 {
		return 0
	}
	used := healthy - (n.Free().Len() - gpus)
	return divRound(int64(MaxScore*used), int64(healthy))
}

// Score ranks a node that fits (p.Fits) for a pod of gpus GPUs, 0 to 100:
//
//	quality = p.Score.Quality()         the best set's bottleneck link, 0..100
//	packing = Packing(n, gpus)          best fit, 0..100
//	penalty = max(IslandBreakPenalty · p.Score.IslandsBroken,
//	              EmptyNodePenalty if n is Empty and partlyUsedFits, else 0)
//	score   = (w.Quality·quality + w.Packing·packing) / (w.Quality + w.Packing) − penalty
//	clamped to 0..100, the division rounded to the nearest integer.
//
// partlyUsedFits says whether another candidate node with GPUs in use fits
// the pod too; the plugin works it out over all candidates in PreScore. The
// two penalties are not added up: on an NVSwitch box the one island is the
// whole node, so breaking it and touching an empty node are the same loss.
// The quality of a one-GPU set is 100 everywhere, so single-GPU pods are
// placed by packing and the penalties alone.
func Score(n NodeState, p Placement, gpus int, w Weights, partlyUsedFits bool) int64 {
	total := w.Quality + w.Packing
	if total <= 0 {
		return 0
	}
	quality := int64(p.Score.Quality())
	s := divRound(w.Quality*quality+w.Packing*Packing(n, gpus), total)
	penalty := IslandBreakPenalty * int64(p.Score.IslandsBroken)
	if partlyUsedFits && n.Empty() {
		penalty = max(penalty, EmptyNodePenalty)
	}
	return min(max(s-penalty, 0), MaxScore)
}

// divRound divides non-negative a by positive b, rounding half up.
func divRound(a, b int64) int64 { return (a + b/2) / b }

// SetWeights records the scheduler's score weights, for the gang planner to
// choose sets as GantryGPUTopology scores them. Every profile must weigh
// alike: a second, different call is an error naming the fields.
func (c *Cache) SetWeights(w Weights) error {
	if c.weights.CompareAndSwap(nil, &w) {
		return nil
	}
	if cur := *c.weights.Load(); cur != w {
		return fmt.Errorf("qualityWeight %d and packingWeight %d differ from another profile's %d and %d: one scheduler's GPU sets are chosen by one rule",
			w.Quality, w.Packing, cur.Quality, cur.Packing)
	}
	return nil
}

// Weights returns the weights set by SetWeights; zero before any.
func (c *Cache) Weights() Weights {
	if w := c.weights.Load(); w != nil {
		return *w
	}
	return Weights{}
}
