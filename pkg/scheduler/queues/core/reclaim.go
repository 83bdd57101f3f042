package core

import (
	"slices"

	v1 "k8s.io/api/core/v1"

	"github.com/gantry-gpu/gantry/pkg/queuemodel"
)

// ReclaimRequest is a workload that found no room, asking what it may take
// back from other queues.
type ReclaimRequest struct {
	// Queue and Demand are the workload's (a gang's unplaced members').
	Queue  string
	Demand v1.ResourceList
	// Priority is the workload's pod priority: reclaiming for a fair
	// share (not a guarantee) takes no pod of a higher priority.
	Priority int32
	// Resource is what reclaim counts, in whole units (GPUs).
	Resource v1.ResourceName
	// FairShare lets a workload that would borrow reclaim room held beyond
	// the fair share (see NewReclaim); without it only a workload within
	// its guarantees reclaims.
	FairShare bool
}

// Reclaim is what a workload may take back from queues that borrowed: for
// each queue, how many units of the resource it may lose.
type Reclaim struct {
	tree Tree
	// chain is the preemptor's queue and its ancestors.
	chain    []string
	budgets  map[string]int
	priority int32
	// fair marks the queues reclaimed from for a fair share, not a
	// guarantee: their pods of a higher priority than the preemptor's stay.
	fair map[string]bool
	// guaranteed: the workload stays within every guarantee of its chain.
	guaranteed bool
}

// NewReclaim prepares reclaim for a workload, or returns nil when it may
// take nothing. usage is each queue's rolled-up usage without pods already
// terminating (they are leaving anyway).
//
// The room moves between sibling subtrees: a queue X may lose pods to the
// workload at the level where X's subtree and the workload's chain part,
// that is where X is a sibling of C, the workload's queue or an ancestor.
// Every queue on the victim's side keeps its guarantee (it loses at most
// what it holds beyond it). Then, at that level:
//
//   - if the workload stays within its guarantees (WithinGuarantee: every
//     queue of its chain, a root that stands for the cluster aside), or C
//     stays within its own guarantee with the demand, X may lose all it
//     holds beyond its guarantee: that room is owed;
//   - else, with FairShare, X may lose only what keeps its weighted share
//     of the resource no lower than C's once the workload is admitted:
//     (usage(X) − lost) / weight(X) ≥ (usage(C) + demand) / weight(C).
//     This is Kueue's LessThanOrEqualToFinalShare rule: it cannot
//     ping-pong (X taking the room back would need a share lower than C's
//     after losing it), and shares converge to the weights. Pods of X of a
//     higher priority than the workload's stay: a fair share is a weaker
//     claim than a guarantee.
//
// A workload of the preemptor's own queue or of an ancestor is never
// reclaimed (within a queue, priority decides).
func NewReclaim(t Tree, usage map[string]v1.ResourceList, req ReclaimRequest) *Reclaim {
	d := req.Demand[req.Resource]
	if d.Sign() <= 0 {
		return nil
	}
	chain, err := t.Ancestry(req.Queue)
	if err != nil {
		return nil
	}
	within := WithinGuarantee(t, usage, req.Queue, req.Demand)
	if !within && !req.FairShare {
		return nil
	}
	units := func(name string) int64 {
		u := usage[name][req.Resource]
		return u.Value()
	}
	r := &Reclaim{tree: t, chain: chain, budgets: map[string]int{}, priority: req.Priority, fair: map[string]bool{}, guaranteed: within}
	// level maps a queue that is a sibling of a chain member to that
	// member.
	level := map[string]string{}
	children := t.Children()
	for _, c := range chain {
		for _, sib := range children[t[c].Parent] {
			if sib != c {
				level[sib] = c
			}
		}
	}
	anyBudget := false
	for name, q := range t {
		if slices.Contains(chain, name) {
			continue
		}
		// What the queue borrowed is what it may lose (queuemodel.Borrowed:
		// the number status.borrowed shows).
		borrowed := queuemodel.Borrowed(usage[name], q.Guaranteed)[req.Resource]
		budget := borrowed.Value()
		if c, ok := level[name]; ok && !within && queuemodel.WouldBorrow(t[c], usage[c], req.Demand) {
			// (usage(X) − lost)·w(C) ≥ (usage(C) + d)·w(X)
			wx, wc := int64(q.EffectiveWeight()), int64(t[c].EffectiveWeight())
			keep := ceilDiv((units(c)+d.Value())*wx, wc)
			budget = min(budget, units(name)-keep)
			r.fair[name] = true
		}
		if budget > 0 {
			r.budgets[name] = int(budget)
			anyBudget = true
		}
	}
	if !anyBudget {
		return nil
	}
	return r
}

func ceilDiv(a, b int64) int64 {
	if a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}

// Budgets are, by queue, the units of the resource the queue may lose: what
// reclaim may take from it and its subtree.
func (r *Reclaim) Budgets() map[string]int { return r.budgets }

// ForGuarantee reports whether the workload reclaims for its guarantees
// (it stays within every guarantee of its chain) rather than for its fair
// share.
func (r *Reclaim) ForGuarantee() bool { return r.guaranteed }

// Victim says whether a running workload of queue, of pod priority
// priority, may be taken back, and the budgets it draws on: the queue and
// its ancestors below the nearest queue it shares with the preemptor (the
// reclaimed room moves between their subtrees, not out of that common
// ancestor). Each must have a budget left.
func (r *Reclaim) Victim(queue string, priority int32) ([]string, bool) {
	chain, err := r.tree.Ancestry(queue)
	if err != nil {
		return nil, false
	}
	var budgets []string
	for _, name := range chain {
		if slices.Contains(r.chain, name) {
			break
		}
		if r.budgets[name] <= 0 {
			return nil, false
		}
		if r.fair[name] && priority > r.priority {
			return nil, false
		}
		budgets = append(budgets, name)
	}
	return budgets, len(budgets) > 0
}
