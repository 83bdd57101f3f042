package queuemodel

import (
	"fmt"
	"iter"
	"slices"
	"strings"

	v1 "k8s.io/api/core/v1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// Queue is what the model needs of a Queue object.
type Queue struct {
	Name   string
	Parent string
	// Weight is spec.weight; below 1 counts as 1 (EffectiveWeight).
	Weight int32
	// Guaranteed and Limit are spec.guaranteed and spec.limit as written:
	// a resource they do not name is guaranteed zero and not limited.
	Guaranteed v1.ResourceList
	Limit      v1.ResourceList
}

// FromObject is the model of a Queue object. The lists are the object's
// own, not copies: the model only reads them.
func FromObject(q *gantryv1alpha1.Queue) Queue {
	return Queue{Name: q.Name, Parent: q.Spec.Parent, Weight: q.Spec.Weight, Guaranteed: q.Spec.Guaranteed, Limit: q.Spec.Limit}
}

// EffectiveWeight is the weight shares are divided by: spec.weight, at
// least 1.
func (q Queue) EffectiveWeight() int32 { return max(q.Weight, 1) }

// Tree is the queues by name.
type Tree map[string]Queue

// NewTree indexes queues by name.
func NewTree(queues ...Queue) Tree {
	t := make(Tree, len(queues))
	for _, q := range queues {
		t[q.Name] = q
	}
	return t
}

// FromObjects is the tree of the Queue objects.
func FromObjects(queues []*gantryv1alpha1.Queue) Tree {
	t := make(Tree, len(queues))
	for _, q := range queues {
		t[q.Name] = FromObject(q)
	}
	return t
}

// ChainError is why a queue's parent chain reaches no root: a queue on it
// does not exist, or it loops. No limit or guarantee along such a chain can
// be trusted.
type ChainError struct {
	// Queue is the queue whose chain was followed.
	Queue string
	// Missing is the queue of the chain that does not exist: Queue itself
	// or an ancestor; "" when the chain loops.
	Missing string
	// Loop is the chain from Queue up to and including the first queue
	// seen twice; nil when a queue is missing.
	Loop []string
}

func (e *ChainError) Error() string {
	switch {
	case e.Loop != nil:
		return fmt.Sprintf("the parent chain of queue %s loops (%s)", e.Queue, strings.Join(e.Loop, " -> "))
	case e.Missing == e.Queue:
		return fmt.Sprintf("queue %s does not exist", e.Queue)
	default:
		return fmt.Sprintf("queue %s has an ancestor %s that does not exist", e.Queue, e.Missing)
	}
}

// Ancestry is the queue and its ancestors, the queue first. It fails with
// a *ChainError when the queue does not exist, an ancestor does not exist,
// or the parent chain loops.
func (t Tree) Ancestry(name string) ([]string, error) {
	var chain []string
	for cur := name; cur != ""; cur = t[cur].Parent {
		if slices.Contains(chain, cur) {
			return nil, &ChainError{Queue: name, Loop: append(chain, cur)}
		}
		if _, ok := t[cur]; !ok {
			return nil, &ChainError{Queue: name, Missing: cur}
		}
		chain = append(chain, cur)
	}
	return chain, nil
}

// Upward yields the queue and then each ancestor, as far as the parent
// chain goes: a queue that does not exist is yielded and ends the walk, and
// a loop ends it before the first queue it would yield twice. This is how
// far usage counts (Rollup), so that the scheduler, the status and
// kubectl-gantry count a broken chain alike.
func (t Tree) Upward(name string) iter.Seq[string] {
	return func(yield func(string) bool) {
		var seen []string // chains are short: a slice beats a map
		for cur := name; cur != "" && !slices.Contains(seen, cur); cur = t[cur].Parent {
			seen = append(seen, cur)
			if !yield(cur) {
				return
			}
			if _, ok := t[cur]; !ok {
				return
			}
		}
	}
}

// Children indexes the tree by parent, each list sorted; the roots are
// under "". A queue whose parent does not exist is listed under that name.
func (t Tree) Children() map[string][]string {
	out := map[string][]string{}
	for name, q := range t {
		out[q.Parent] = append(out[q.Parent], name)
	}
	for _, c := range out {
		slices.Sort(c)
	}
	return out
}
