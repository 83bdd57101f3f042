package queuemodel

import (
	"math"
	"slices"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// A queue has two shares, and they answer different questions:
//
//   - DominantShare is where the queue stands now: the scheduler lets the
//     sibling with the lowest take idle capacity first (weighted DRF).
//   - FairShares is where those choices lead when every queue wants all it
//     can get: each queue's weighted fair share, guarantees as floors and
//     limits as caps. Queue status and metrics show it.
//
// Both divide by EffectiveWeight, count a resource the queue does not
// guarantee as guaranteed zero, and take the cluster's capacity as the
// schedulable nodes' allocatable amounts.

// DominantShare is the queue's weighted dominant share: the largest
// fraction of the cluster's capacity it uses of any of the resources, over
// its weight. Resources the cluster has none of do not count. usage is the
// queue's, rolled up (Rollup).
func DominantShare(q Queue, usage, capacity v1.ResourceList, resources []v1.ResourceName) float64 {
	var dominant float64
	for _, r := range resources {
		c := capacity[r]
		if c.Sign() <= 0 {
			continue
		}
		used := usage[r]
		dominant = math.Max(dominant, used.AsApproximateFloat64()/c.AsApproximateFloat64())
	}
	return dominant / float64(q.EffectiveWeight())
}

// FairShares computes each queue's fair share of the resources top down:
// the roots split the cluster's capacity, each queue's children split the
// queue's fair share, resource by resource (Split). Queues on a parent
// cycle or below a missing parent reach no root and get none (absent).
// Shares are rounded as a status shows them (see toQuantity).
func FairShares(t Tree, capacity v1.ResourceList, resources []v1.ResourceName) map[string]v1.ResourceList {
	out := map[string]v1.ResourceList{}
	children := t.Children()
	// Only child links are followed down from the roots, so a cycle
	// (which no root reaches) is never entered.
	var split func(level []string, capacity map[v1.ResourceName]float64)
	split = func(level []string, capacity map[v1.ResourceName]float64) {
		if len(level) == 0 {
			return
		}
		next := make([]map[v1.ResourceName]float64, len(level))
		for i := range next {
			next[i] = map[v1.ResourceName]float64{}
		}
		for _, r := range resources {
			claims := make([]Claim, len(level))
			for i, name := range level {
				claims[i] = claimOf(t[name], r)
			}
			for i, v := range Split(capacity[r], claims) {
				next[i][r] = v
			}
		}
		for i, name := range level {
			share := v1.ResourceList{}
			for _, r := range resources {
				share[r] = toQuantity(r, next[i][r])
			}
			out[name] = share
			split(children[name], next[i])
		}
	}
	rootCapacity := map[v1.ResourceName]float64{}
	for _, r := range resources {
		c := capacity[r]
		rootCapacity[r] = c.AsApproximateFloat64()
	}
	split(children[""], rootCapacity)
	return out
}

// claimOf is a queue's claim on its parent's capacity of r.
func claimOf(q Queue, r v1.ResourceName) Claim {
	c := Claim{Weight: float64(q.Weight), Cap: math.Inf(1)}
	if g, ok := q.Guaranteed[r]; ok {
		c.Floor = g.AsApproximateFloat64()
	}
	if l, ok := q.Limit[r]; ok {
		c.Cap = l.AsApproximateFloat64()
	}
	return c
}

// toQuantity rounds a share to what a status can show: whole bytes of
// memory, thousandths of anything else (2667m of 8 GPUs split three ways).
func toQuantity(r v1.ResourceName, v float64) resource.Quantity {
	if r == v1.ResourceMemory {
		return *resource.NewQuantity(int64(math.Round(v)), resource.BinarySI)
	}
	return *resource.NewMilliQuantity(int64(math.Round(v*1000)), resource.DecimalSI)
}

// Claim is one sibling's part in a split of its parent's capacity of one
// resource.
type Claim struct {
	// Weight is spec.weight (below 1 counts as 1, as EffectiveWeight).
	Weight float64
	// Floor is the guaranteed amount (0 when not named).
	Floor float64
	// Cap is the limit; +Inf when not named.
	Cap float64
}

// Split divides capacity among siblings: each gets
//
//	share_i = clamp(weight_i × λ, floor_i, cap_i)
//
// with one λ for all, chosen so that the shares add up to the capacity.
// This is weighted max-min fairness with guarantees as floors and limits as
// caps (water-filling): capacity beyond the guarantees goes to the siblings
// in proportion to their weights, and what a capped sibling cannot take is
// shared by the others in the same proportion. It is where the scheduler's
// fair-share admission leads for one resource: a sibling below its
// guarantee is served first, the others take turns by DominantShare, and
// none passes its limit. Two cases have no such λ:
//   - the floors alone reach the capacity (guarantees overcommit it): each
//     gets its floor, since a guarantee is promised whatever the capacity;
//     Validate reports the overcommit where a parent's guarantee is
//     exceeded;
//   - the caps add up to less than the capacity: each gets its cap, and the
//     rest stays unassigned.
//
// The split does not look at demand: a share is what the queue is entitled
// to when every queue wants all it can get, not a prediction of what it
// will use. Borrowing idle capacity beyond it is the scheduler's decision.
func Split(capacity float64, claims []Claim) []float64 {
	out := make([]float64, len(claims))
	if len(claims) == 0 {
		return out
	}
	var floors, caps float64
	for i, c := range claims {
		c = sane(c)
		claims[i] = c
		floors += c.Floor
		caps += c.Cap
	}
	switch {
	case floors >= capacity:
		for i, c := range claims {
			out[i] = c.Floor
		}
		return out
	case caps <= capacity:
		for i, c := range claims {
			out[i] = c.Cap
		}
		return out
	}
	total := func(lambda float64) float64 {
		var sum float64
		for _, c := range claims {
			sum += clamp(c.Weight*lambda, c.Floor, c.Cap)
		}
		return sum
	}
	// total is continuous, non-decreasing and linear between the points
	// where some sibling leaves its floor or reaches its cap: find the
	// segment where it crosses the capacity and solve on it.
	var points []float64
	for _, c := range claims {
		points = append(points, c.Floor/c.Weight)
		if !math.IsInf(c.Cap, 1) {
			points = append(points, c.Cap/c.Weight)
		}
	}
	slices.Sort(points)
	lo, flo := 0.0, total(0)
	lambda := math.NaN()
	for _, p := range points {
		fp := total(p)
		if fp >= capacity {
			if fp == flo {
				lambda = p
			} else {
				lambda = lo + (capacity-flo)*(p-lo)/(fp-flo)
			}
			break
		}
		lo, flo = p, fp
	}
	if math.IsNaN(lambda) {
		// Beyond the last point only the uncapped siblings grow, at the
		// sum of their weights (there is one: the caps exceed capacity).
		var free float64
		for _, c := range claims {
			if math.IsInf(c.Cap, 1) {
				free += c.Weight
			}
		}
		lambda = lo + (capacity-flo)/free
	}
	for i, c := range claims {
		out[i] = clamp(c.Weight*lambda, c.Floor, c.Cap)
	}
	return out
}

// sane makes a claim that CEL and defaulting should already have made so:
// a positive weight, no negative amounts, a cap no lower than the floor.
func sane(c Claim) Claim {
	if !(c.Weight >= 1) {
		c.Weight = 1
	}
	if !(c.Floor >= 0) || math.IsInf(c.Floor, 0) {
		c.Floor = 0
	}
	if math.IsNaN(c.Cap) || c.Cap < c.Floor {
		c.Cap = c.Floor
	}
	return c
}

func clamp(v, lo, hi float64) float64 { return math.Min(math.Max(v, lo), hi) }
