package queue

import (
	"math"
	"sort"
)

// Claim is one sibling's part in a split of its parent's capacity of one
// resource.
type Claim struct {
	// Weight is spec.weight (at least 1).
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
// shared by the others in the same proportion. Two cases have no such λ:
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
	sort.Float64s(points)
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
