package queuemodel

import (
	v1 "k8s.io/api/core/v1"
)

// Rollup adds each queue's own usage to the queue and every ancestor, so
// that a queue's usage includes its descendants'. Usage of a queue that
// does not exist, or whose chain is broken, is counted as far up as the
// chain goes (Upward).
func (t Tree) Rollup(own map[string]v1.ResourceList) map[string]v1.ResourceList {
	out := map[string]v1.ResourceList{}
	for name, used := range own {
		for cur := range t.Upward(name) {
			Add(out, cur, used)
		}
	}
	return out
}

// Add adds list to usage[queue].
func Add(usage map[string]v1.ResourceList, queue string, list v1.ResourceList) {
	u := usage[queue]
	if u == nil {
		u = v1.ResourceList{}
		usage[queue] = u
	}
	AddTo(u, list)
}

// Sub takes list from usage[queue].
func Sub(usage map[string]v1.ResourceList, queue string, list v1.ResourceList) {
	u := usage[queue]
	if u == nil {
		return
	}
	for r, q := range list {
		d := u[r].DeepCopy()
		d.Sub(q)
		u[r] = d
	}
}

// AddTo adds src to dst, resource by resource.
func AddTo(dst, src v1.ResourceList) {
	for r, q := range src {
		sum := dst[r].DeepCopy()
		sum.Add(q)
		dst[r] = sum
	}
}

// Borrowed is what a queue holds beyond its guarantee, per resource, never
// negative: used minus guaranteed. A resource the queue does not guarantee
// is borrowed whole. This is status.borrowed, kubectl-gantry's BORROWED,
// and what the scheduler may reclaim from the queue.
func Borrowed(used, guaranteed v1.ResourceList) v1.ResourceList {
	out := v1.ResourceList{}
	for r, u := range used {
		b := u.DeepCopy()
		if g, ok := guaranteed[r]; ok {
			b.Sub(g)
		}
		if b.Sign() > 0 {
			out[r] = b
		}
	}
	return out
}

// WouldBorrow reports whether usage plus demand goes over the queue's
// guarantee of a resource the demand asks for: admitting the demand would
// make the queue borrow.
func WouldBorrow(q Queue, usage, demand v1.ResourceList) bool {
	for r, d := range demand {
		if d.Sign() <= 0 {
			continue
		}
		total := usage[r].DeepCopy()
		total.Add(d)
		if total.Cmp(q.Guaranteed[r]) > 0 {
			return true
		}
	}
	return false
}

// WithinGuarantee reports whether admitting demand keeps the queue and each
// ancestor within its guarantee, for every resource the demand asks for;
// usage is rolled up (Rollup). A root queue that guarantees nothing and
// groups other queues stands for the whole cluster (as Validate reads it)
// and does not count for its descendants' workloads; for its own workloads
// it guarantees nothing. A queue whose chain is broken is within nothing.
func WithinGuarantee(t Tree, usage map[string]v1.ResourceList, queue string, demand v1.ResourceList) bool {
	chain, err := t.Ancestry(queue)
	if err != nil {
		return false
	}
	for _, name := range chain {
		q := t[name]
		if q.Parent == "" && len(q.Guaranteed) == 0 && name != queue {
			continue
		}
		if WouldBorrow(q, usage[name], demand) {
			return false
		}
	}
	return true
}

// Pod is what the usage accounting needs of one pod that holds or asks for
// resources: one that has not succeeded or failed.
type Pod struct {
	// Queue is the queue the pod names (gantryv1alpha1.QueueOf); it need
	// not exist.
	Queue string
	// Workload names the pod's workload (its gang, or the pod alone), for
	// counting workloads; "" counts none.
	Workload string
	// Bound is true once the pod has a node: it holds its requests there.
	// An unbound pod asks for them.
	Bound bool
	// Requests are what the pod holds or asks for, as the caller counts.
	Requests v1.ResourceList
}

// Usage is what a queue's pods hold and ask for.
type Usage struct {
	// Allocated and Pending sum the requests of the bound and of the
	// unbound pods.
	Allocated, Pending v1.ResourceList
	// BoundPods and PendingPods count them.
	BoundPods, PendingPods int
	// Admitted are the workloads with a bound pod, Waiting those with an
	// unbound one; a gang partly bound is in both.
	Admitted, Waiting map[string]bool
}

func newUsage() *Usage {
	return &Usage{Allocated: v1.ResourceList{}, Pending: v1.ResourceList{}, Admitted: map[string]bool{}, Waiting: map[string]bool{}}
}

// PendingWorkloads counts the workloads waiting with no pod bound.
func (u *Usage) PendingWorkloads() int {
	n := 0
	for w := range u.Waiting {
		if !u.Admitted[w] {
			n++
		}
	}
	return n
}

func (u *Usage) add(o *Usage) {
	AddTo(u.Allocated, o.Allocated)
	AddTo(u.Pending, o.Pending)
	u.BoundPods += o.BoundPods
	u.PendingPods += o.PendingPods
	for w := range o.Admitted {
		u.Admitted[w] = true
	}
	for w := range o.Waiting {
		u.Waiting[w] = true
	}
}

// Accounting is the usage of every queue that pods name or that is above
// one they name.
type Accounting struct {
	// Own is the usage of the pods that name the queue itself, by the
	// name they give: queues that do not exist are included.
	Own map[string]*Usage
	// Total is each queue's usage with its descendants', rolled up as
	// Rollup does: the numbers the scheduler decides with.
	Total map[string]*Usage
}

// Account sums the pods' usage by queue and rolls it up the tree.
func Account(t Tree, pods []Pod) Accounting {
	acc := Accounting{Own: map[string]*Usage{}, Total: map[string]*Usage{}}
	for i := range pods {
		p := &pods[i]
		u := acc.Own[p.Queue]
		if u == nil {
			u = newUsage()
			acc.Own[p.Queue] = u
		}
		if p.Bound {
			AddTo(u.Allocated, p.Requests)
			u.BoundPods++
			if p.Workload != "" {
				u.Admitted[p.Workload] = true
			}
		} else {
			AddTo(u.Pending, p.Requests)
			u.PendingPods++
			if p.Workload != "" {
				u.Waiting[p.Workload] = true
			}
		}
	}
	for name, own := range acc.Own {
		for cur := range t.Upward(name) {
			total := acc.Total[cur]
			if total == nil {
				total = newUsage()
				acc.Total[cur] = total
			}
			total.add(own)
		}
	}
	return acc
}
