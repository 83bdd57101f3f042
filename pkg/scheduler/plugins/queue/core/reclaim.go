package core

import (
	"slices"

	v1 "k8s.io/api/core/v1"
)

// Reclaim is what a workload within its guarantee may take back from
// queues that borrowed: for each queue, how much of resource it holds
// beyond its guarantee.
type Reclaim struct {
	tree     Tree
	resource v1.ResourceName
	// chain is the preemptor's queue and its ancestors.
	chain   []string
	budgets map[string]int
}

// NewReclaim prepares reclaim for a workload of queue with demand, or
// returns nil when it may not reclaim: only a workload that stays within
// its queue's guarantee and every ancestor's (WithinGuarantee) takes room
// back. usage is each queue's rolled-up usage without pods already
// terminating (they are leaving anyway), in whole units of resource.
func NewReclaim(t Tree, usage map[string]v1.ResourceList, queue string, demand v1.ResourceList, resource v1.ResourceName) *Reclaim {
	if d := demand[resource]; d.Sign() <= 0 {
		return nil
	}
	if !WithinGuarantee(t, usage, queue, demand) {
		return nil
	}
	chain, err := t.Ancestry(queue)
	if err != nil {
		return nil
	}
	budgets := map[string]int{}
	for name, q := range t {
		used := usage[name][resource]
		g := guaranteed(q, resource)
		if over := used.Value() - g.Value(); over > 0 {
			budgets[name] = int(over)
		}
	}
	return &Reclaim{tree: t, resource: resource, chain: chain, budgets: budgets}
}

// Budgets are, by queue, the GPUs (units of the resource) the queue holds
// beyond its guarantee: what reclaim may take from it and its subtree.
func (r *Reclaim) Budgets() map[string]int { return r.budgets }

// Victim says whether a running workload of queue may be taken back, and
// the budgets it draws on: the queue and its ancestors below the nearest
// queue it shares with the preemptor (the reclaimed room moves between
// their subtrees, not out of that common ancestor). Each must hold more
// than its guarantee; a workload of the preemptor's own queue or one of
// its ancestors is never reclaimed (within a queue, priority decides).
func (r *Reclaim) Victim(queue string) ([]string, bool) {
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
		budgets = append(budgets, name)
	}
	return budgets, len(budgets) > 0
}
