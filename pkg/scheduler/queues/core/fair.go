package core

import (
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/gantry-gpu/gantry/pkg/queuemodel"
)

// Cluster is what fair-share admission looks at besides the tree.
type Cluster struct {
	// Usage is each queue's usage, rolled up (Tree.Rollup).
	Usage map[string]v1.ResourceList
	// Capacity is the cluster's allocatable amounts: shares are usage
	// over capacity.
	Capacity v1.ResourceList
	// Idle is capacity not held by any pod, queued or not, counting what
	// terminating pods hold as idle: it is on its way back.
	Idle v1.ResourceList
	// Resources are the resources shares are taken over (the dominant
	// one counts).
	Resources []v1.ResourceName
	// NodeRoom is the idle GPU room node by node (nil: judge by Idle
	// alone). A waiting workload claims idle room only where its pods fit
	// it, and a borrower waits only if its pods would take the room such a
	// claim needs.
	NodeRoom NodeRoom
	// Pending calls yield with each workload waiting in the queue itself
	// (not its descendants) until yield returns false.
	Pending func(queue string, yield func(Waiting) bool)
	// Now is the decision's time; StarvationAfter is how long a waiting
	// workload that fits in nothing idle may wait before it holds
	// borrowers back anyway (0: never).
	Now             time.Time
	StarvationAfter time.Duration
}

// Fair decides, for a workload within its limits (Decide admitted it),
// whether it may take idle capacity now. This is hierarchical weighted DRF
// with guarantees:
//
//   - A workload within its queue's guarantee, and every ancestor's, is
//     admitted: guarantees are promised (and taken back by reclaim).
//   - Otherwise, at each level of its chain where it would borrow (its
//     queue, or an ancestor, would go over its guarantee), each sibling's
//     claim on the idle room is summed: its waiting workloads (within the
//     sibling's limits) that stay within the sibling's guarantee (owed:
//     taking that room first would only make work for reclaim), and those
//     the sibling may take while its weighted dominant share
//     (queuemodel.DominantShare), counting those taken before, is below
//     this queue's, if they fit in the idle capacity or have waited
//     StarvationAfter. The workload waits if the idle room left once it
//     took its part cannot hold a sibling's claim; when it can, both go. Room is judged in totals
//     and, for the GPU resource, node by node (NodeRoom): a pod's GPUs
//     come from one node, so an 8-GPU pod claims only a node with 8 idle
//     GPUs, and a borrower's 8-GPU pod that takes the last such node is
//     what it claims, while a 1-GPU pod that fits a node's leftover GPU
//     takes nothing it needs.
//
// Shares are compared as they are, before either workload is admitted
// (DRF's rule: the queue furthest behind goes first), so equal shares tie
// and both go, and the order the scheduler offers pods in does not tilt
// the split. Two other comparisons were tried and dropped: comparing
// the sibling's share once admitted with this queue's before let the
// queue offered first run a pod past its share (on 16 GPUs, 9 to 7 at
// equal weights); comparing both once admitted counts a big workload's
// whole demand against its queue, so a queue far behind with a 64-GPU
// gang that fits the idle room now lost that room to a richer queue's
// 1-GPU pods, and then no longer fitted. Deferring only under contention
// (the room left cannot hold the sibling's claim) keeps idle room from
// waiting on an order that does not matter, and keeps two queues of equal
// share with many small pods from handing the turn back and forth pod by
// pod while room is plentiful.
//
// Idle capacity thus goes, among queues that want it, to the one with the
// lowest weighted dominant share, level by level: shares converge to the
// weights (queuemodel.FairShares, the fair share the Queue status shows).
// The guarantee against starvation: a queue below its guarantee gets room
// (borrowers defer to it, and reclaim takes borrowed room back); a queue
// whose share stays lower has, each time capacity frees up that fits one of
// its workloads, nobody with a higher share ahead of it; and a workload too
// big for the idle room (an 8-GPU gang among 1-GPU pods) is, after
// StarvationAfter, let to gather the room it needs. Until then, idle
// capacity is not kept idle for it.
//
// The workload's own pending pods are not counted as another's claim.
func Fair(t Tree, c Cluster, w Workload) Verdict {
	if WithinGuarantee(t, c.Usage, w.Queue, w.Demand) {
		return Verdict{Code: Admit}
	}
	chain, err := t.Ancestry(w.Queue)
	if err != nil {
		return Verdict{Code: Admit} // Decide reports broken chains
	}
	children := t.Children()
	// after is the idle room once this workload took its part.
	after := c.Idle.DeepCopy()
	for r, d := range w.Demand {
		if i, ok := after[r]; ok {
			i.Sub(d)
			after[r] = i
		}
	}
	// afterNodes is the per-node room once its pods took theirs; a pod
	// that fits no node takes none (it is not placed now either).
	afterNodes := c.NodeRoom.Clone()
	afterNodes.Place(w.GPUs)
	for _, name := range chain {
		q := t[name]
		if !queuemodel.WouldBorrow(q, c.Usage[name], w.Demand) {
			continue
		}
		mine := queuemodel.DominantShare(q, c.Usage[name], c.Capacity, c.Resources)
		for _, sib := range children[q.Parent] {
			if sib == name {
				continue
			}
			s := t[sib]
			// The sibling's claim is what its waiting workloads would
			// take of the idle room: those within its guarantee (owed),
			// and those it may take while its share, counting the ones
			// taken before, is below this queue's (mine). The workload
			// waits only if, once it took its part, the rest of the idle
			// room no longer holds that claim: when the room holds both,
			// both go, and no order needs keeping. Pending workloads come
			// in no order; the walk stops once the claim is too big, or
			// once the sibling's share has reached this queue's.
			claimed := v1.ResourceList{}
			claimedNodes := afterNodes.Clone()
			usage := v1.ResourceList{}
			AddTo(usage, c.Usage[sib])
			claim, below := false, false
			waiting(t, children, sib, c, w, func(x Waiting) bool {
				owed := !queuemodel.WouldBorrow(s, usage, x.Demand)
				if !owed {
					lower := queuemodel.DominantShare(s, usage, c.Capacity, c.Resources) < mine
					if !lower || !(c.fitsNow(x) || c.starving(x.Since)) {
						return lower
					}
				}
				AddTo(claimed, x.Demand)
				AddTo(usage, x.Demand)
				below = below || owed
				if !fits(claimed, after) || !claimedNodes.Place(x.GPUs) {
					claim = true
					return false
				}
				return true
			})
			if !claim {
				continue
			}
			borrower := "queue " + name
			if name != w.Queue {
				borrower = fmt.Sprintf("queue %s (an ancestor of queue %s)", name, w.Queue)
			}
			// The message names no numbers and no pod: the scheduler
			// writes a pod's condition only when it changes, and a
			// deferred pod is refused again and again while shares move.
			var msg string
			if below {
				msg = fmt.Sprintf("%s would borrow beyond its guarantee while queue %s, below its guarantee, waits", borrower, sib)
			} else {
				msg = fmt.Sprintf("%s would borrow beyond its guarantee while queue %s, with a lower weighted share, waits", borrower, sib)
			}
			return Verdict{Code: Deferred, Message: msg}
		}
	}
	return Verdict{Code: Admit}
}

// waiting calls yield with each workload waiting in the subtree of queue
// root that its queue's chain limits admit; w's own is skipped. It stops
// when yield returns false.
func waiting(t Tree, children map[string][]string, root string, c Cluster, w Workload, yield func(Waiting) bool) {
	stack := []string{root}
	for len(stack) > 0 {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		stack = append(stack, children[name]...)
		if c.Pending == nil {
			return
		}
		stop := false
		c.Pending(name, func(x Waiting) bool {
			if x.Name == w.Gang && w.Gang != "" {
				return true
			}
			if Decide(t, c.Usage, Workload{Queue: name, Demand: x.Demand}, Options{RequireDefaultQueue: true}).Code != Admit {
				return true
			}
			if !yield(x) {
				stop = true
				return false
			}
			return true
		})
		if stop {
			return
		}
	}
}

// starving reports whether a workload waiting since then has waited long
// enough to hold borrowers back though it fits in nothing idle.
func (c Cluster) starving(since time.Time) bool {
	return c.StarvationAfter > 0 && !since.IsZero() && c.Now.Sub(since) >= c.StarvationAfter
}

// fitsNow reports whether a waiting workload fits the idle room now: its
// demand the idle totals, its pods the nodes' room.
func (c Cluster) fitsNow(x Waiting) bool {
	return fits(x.Demand, c.Idle) && c.NodeRoom.holds(x.GPUs)
}

// fits reports whether demand fits in idle, resource by resource;
// resources idle does not name are not limited.
func fits(demand, idle v1.ResourceList) bool {
	for r, d := range demand {
		if i, ok := idle[r]; ok && d.Cmp(i) > 0 {
			return false
		}
	}
	return true
}
