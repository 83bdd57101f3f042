package core

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// Victim is what preemption removes whole: every running pod of one gang,
// or one pod outside gangs. Removing part of a gang would leave the rest of
// it holding GPUs it cannot use, the very thing gang scheduling prevents.
type Victim struct {
	// Key names the victim: the gang's key, or the pod's.
	Key string
	// Priority is the highest priority among its pods.
	Priority int32
	// Started is when it started running (the latest start among a gang's
	// pods): of two victims of one priority, the one that started last
	// loses least work and goes first.
	Started time.Time
	Pods    []VictimPod
	// Budgets names the budgets (VictimRules.Budgets) that taking the
	// victim draws its GPUs from: the queues reclaim takes back borrowed
	// GPUs from. None for preemption by priority.
	Budgets []string
}

// GPUs is how many GPUs the victim's pods hold.
func (v Victim) GPUs() int {
	n := 0
	for _, p := range v.Pods {
		n += p.GPUs
	}
	return n
}

// VictimRules are what a caller adds to the choice of victims.
type VictimRules struct {
	// Budgets caps, by name, how many GPUs the chosen victims may hold
	// together (each victim counts against every budget it names): what
	// a queue may lose to reclaim without going below its guarantee. A
	// victim naming a budget that is not here is never chosen.
	Budgets map[string]int
	// Terminating are pods already on their way out (deleted, in their
	// grace period): their room comes back without choosing anyone, so
	// the choice counts it as free, and chooses no victim at all when
	// that room is enough.
	Terminating []Victim
	// Kind says what the candidates are, for messages ("pod of lower
	// priority" if empty).
	Kind string
}

// VictimPod is one pod of a victim, on one node.
type VictimPod struct {
	Key  string
	Node string
	// GPUs is the pod's GPU count; Set its exact GPUs on a node with a
	// NodeGPU (zero if unknown: a count is freed then).
	GPUs     int
	Set      gpu.Set
	Requests Resources
}

// Preemption is what ChooseVictims decided: the victims, and the plan the
// gang has once they are gone.
type Preemption struct {
	Victims []Victim
	Plan    *Plan
}

// ChooseVictims finds the victims whose removal lets the gang (members) be
// planned on nodes, preempting as little as it can: candidates are taken
// least important first (lower priority, then the most recently started),
// the shortest such prefix that makes room is found, and then each victim
// of it, most important first, is spared if the gang still fits without
// removing it. candidates must all be of lower priority than the gang; the
// caller decides who may be preempted. A Failure says why no choice helps.
//
// With rules.Budgets, candidates are kept, in that order, only while the
// victims kept so far stay within every budget they draw on; since sparing
// only takes victims away, the final choice stays within them too.
// rules.Terminating are counted as gone before anything is chosen.
func ChooseVictims(members []Member, nodes []Node, candidates []Victim, opts Options, rules VictimRules) (*Preemption, error) {
	kind := rules.Kind
	if kind == "" {
		kind = "pod of lower priority"
	}
	if len(rules.Terminating) > 0 {
		gone := make([]bool, len(rules.Terminating))
		for i := range gone {
			gone[i] = true
		}
		nodes = without(nodes, rules.Terminating, gone)
		if _, err := PlanGang(members, nodes, opts); err == nil {
			return nil, &Failure{Message: fmt.Sprintf("the pods fit once %d terminating pods are gone", terminatingPods(rules.Terminating))}
		}
	}
	order := slices.Clone(candidates)
	slices.SortStableFunc(order, func(a, b Victim) int {
		if c := cmp.Compare(a.Priority, b.Priority); c != 0 {
			return c
		}
		if c := b.Started.Compare(a.Started); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	if rules.Budgets != nil {
		order = withinBudgets(order, rules.Budgets)
	}
	if len(order) == 0 {
		return nil, &Failure{Message: fmt.Sprintf("no %s runs on the nodes the gang may use", kind)}
	}
	plan := func(removed []bool) (*Plan, error) {
		return PlanGang(members, without(nodes, order, removed), opts)
	}
	removed := make([]bool, len(order))
	prefix := func(k int) []bool {
		for i := range removed {
			removed[i] = i < k
		}
		return removed
	}
	if _, err := plan(prefix(0)); err == nil {
		return nil, &Failure{Message: "the pods fit without preempting: what keeps them out is not room"}
	}
	if _, err := plan(prefix(len(order))); err != nil {
		var f *Failure
		if errors.As(err, &f) {
			return nil, &Failure{Message: fmt.Sprintf("preempting every %s would not make room: %s", kind, f.Message)}
		}
		return nil, err
	}
	// Freeing more never makes a gang fit less, so the shortest prefix that
	// fits can be searched for.
	lo, hi := 1, len(order)
	for lo < hi {
		mid := (lo + hi) / 2
		if _, err := plan(prefix(mid)); err == nil {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	k := lo
	prefix(k)
	for i := k - 1; i >= 0; i-- {
		removed[i] = false
		if _, err := plan(removed); err != nil {
			removed[i] = true
		}
	}
	final, err := plan(removed)
	if err != nil {
		// The spared set was checked to fit; unreachable unless the
		// planner is not deterministic.
		return nil, fmt.Errorf("planning with the chosen victims: %w", err)
	}
	out := &Preemption{Plan: final}
	for i, v := range order {
		if removed[i] {
			out.Victims = append(out.Victims, v)
		}
	}
	return out, nil
}

// withinBudgets keeps the victims of order, in order, that fit in what
// is left of every budget they name.
func withinBudgets(order []Victim, budgets map[string]int) []Victim {
	left := make(map[string]int, len(budgets))
	for k, v := range budgets {
		left[k] = v
	}
	kept := order[:0:0]
	for _, v := range order {
		n := v.GPUs()
		ok := true
		for _, b := range v.Budgets {
			if l, found := left[b]; !found || l < n {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		for _, b := range v.Budgets {
			left[b] -= n
		}
		kept = append(kept, v)
	}
	return kept
}

func terminatingPods(vs []Victim) int {
	n := 0
	for _, v := range vs {
		n += len(v.Pods)
	}
	return n
}

// without returns copies of nodes with the pods of order[i] removed where
// removed[i].
func without(nodes []Node, order []Victim, removed []bool) []Node {
	out := slices.Clone(nodes)
	index := make(map[string]int, len(out))
	for i := range out {
		index[out[i].Name] = i
	}
	copied := make([]bool, len(out))
	for vi, v := range order {
		if !removed[vi] {
			continue
		}
		for _, p := range v.Pods {
			i, ok := index[p.Node]
			if !ok {
				continue // a node the gang may not use
			}
			n := &out[i]
			if !copied[i] {
				copied[i] = true
				free := make(Resources, len(n.Free))
				for name, q := range n.Free {
					free[name] = q
				}
				n.Free = free
				if n.GPU != nil {
					st := *n.GPU
					n.GPU = &st
				}
			}
			for name, q := range p.Requests {
				n.Free[name] += q
			}
			n.FreeGPUs += p.GPUs
			if n.GPU != nil && p.GPUs > 0 {
				freed := p.Set & n.GPU.Allocated
				if freed.Len() < p.GPUs {
					// The exact GPUs are not known: free as many
					// allocated ones, preferring none in particular.
					for v := uint64(n.GPU.Allocated &^ freed); v != 0 && freed.Len() < p.GPUs; v &= v - 1 {
						freed |= gpu.Set(v & -v)
					}
				}
				n.GPU.Allocated &^= freed
			}
		}
	}
	return out
}
