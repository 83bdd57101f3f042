package queue

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// Reasons of a False Valid condition, and of the Warning events that report
// them.
const (
	// ReasonParentNotFound: spec.parent names no Queue.
	ReasonParentNotFound = "ParentNotFound"
	// ReasonParentCycle: following spec.parent from the queue comes back to
	// a queue already seen, so the queue reaches no root.
	ReasonParentCycle = "ParentCycle"
	// ReasonGuaranteeExceedsParent: the queue guarantees more of a resource
	// than its parent does; the parent cannot reclaim for it what it is not
	// guaranteed itself.
	ReasonGuaranteeExceedsParent = "GuaranteeExceedsParent"
	// ReasonGuaranteeExceedsParentLimit: the queue guarantees more of a
	// resource than its root parent's limit; see parentBound.
	ReasonGuaranteeExceedsParentLimit = "GuaranteeExceedsParentLimit"
	// ReasonChildGuaranteesExceedGuarantee: on a parent, its children
	// together guarantee more of a resource than it does.
	ReasonChildGuaranteesExceedGuarantee = "ChildGuaranteesExceedGuarantee"
	// ReasonChildGuaranteesExceedLimit: on a root parent, its children
	// together guarantee more of a resource than its limit.
	ReasonChildGuaranteesExceedLimit = "ChildGuaranteesExceedLimit"
	// ReasonValid is the reason of a True Valid condition.
	ReasonValid = "Valid"
)

// Problem is one thing wrong with a queue's place in the tree.
type Problem struct {
	Reason  string
	Message string
}

// Validate finds what the API server cannot see in one Queue: parent
// chains that loop or name a missing queue, and guarantees that do not fit
// in the parent's. Within one object the CRD's CEL rules already reject a
// queue naming itself as parent, negative amounts and a guarantee above the
// limit, so those are not repeated here.
//
// A parent bounds its children's guarantees of a resource by its own
// guarantee of it, with one exception (see parentBound): a root that does
// not name a guarantee of the resource stands for the whole cluster, so only
// its limit, if it names one, bounds them. A non-root parent that names no
// guarantee of a resource guarantees zero of it (QueueSpec.Guaranteed), so
// its children cannot be guaranteed any.
//
// Problems come per queue name, in a stable order (queues by name,
// resources by name); valid queues are absent. Queues with a cycle or a
// missing parent are not checked further: their guarantees have no parent
// to fit in.
func Validate(queues []*gantryv1alpha1.Queue) map[string][]Problem {
	byName := make(map[string]*gantryv1alpha1.Queue, len(queues))
	for _, q := range queues {
		byName[q.Name] = q
	}
	out := map[string][]Problem{}
	add := func(name, reason, format string, args ...any) {
		out[name] = append(out[name], Problem{Reason: reason, Message: fmt.Sprintf(format, args...)})
	}

	children := map[string][]*gantryv1alpha1.Queue{}
	for _, q := range sortedQueues(queues) {
		if q.Spec.Parent == "" {
			continue
		}
		if _, ok := byName[q.Spec.Parent]; !ok {
			add(q.Name, ReasonParentNotFound, "queue %s names parent %s, which does not exist", q.Name, q.Spec.Parent)
			continue
		}
		if chain := loopingChain(q, byName); chain != nil {
			add(q.Name, ReasonParentCycle, "queue %s reaches no root: its parent chain %s loops", q.Name, strings.Join(chain, " -> "))
			continue
		}
		children[q.Spec.Parent] = append(children[q.Spec.Parent], q)
	}

	parents := make([]string, 0, len(children))
	for name := range children {
		parents = append(parents, name)
	}
	sort.Strings(parents)
	for _, name := range parents {
		parent, kids := byName[name], children[name]
		sums := map[corev1.ResourceName]resource.Quantity{}
		for _, child := range kids {
			for _, r := range sortedResources(child.Spec.Guaranteed) {
				g := child.Spec.Guaranteed[r]
				if g.Sign() <= 0 {
					continue
				}
				sum := sums[r]
				sum.Add(g)
				sums[r] = sum
				bound, isLimit, ok := parentBound(parent, r)
				if !ok || g.Cmp(bound) <= 0 {
					continue
				}
				if isLimit {
					add(child.Name, ReasonGuaranteeExceedsParentLimit, "queue %s guarantees %s %s, more than its parent %s's limit of %s",
						child.Name, g.String(), r, parent.Name, bound.String())
				} else {
					add(child.Name, ReasonGuaranteeExceedsParent, "queue %s guarantees %s %s, more than its parent %s's %s",
						child.Name, g.String(), r, parent.Name, bound.String())
				}
			}
		}
		for _, r := range sortedResources(sums) {
			sum := sums[r]
			bound, isLimit, ok := parentBound(parent, r)
			if !ok || sum.Cmp(bound) <= 0 {
				continue
			}
			var parts []string
			for _, child := range kids {
				if g, ok := child.Spec.Guaranteed[r]; ok && g.Sign() > 0 {
					parts = append(parts, child.Name+" "+g.String())
				}
			}
			if len(parts) < 2 {
				continue // one child alone: reported on the child
			}
			if isLimit {
				add(parent.Name, ReasonChildGuaranteesExceedLimit, "children of queue %s (%s) together guarantee %s %s, more than %s's limit of %s",
					parent.Name, strings.Join(parts, ", "), sum.String(), r, parent.Name, bound.String())
			} else {
				add(parent.Name, ReasonChildGuaranteesExceedGuarantee, "children of queue %s (%s) together guarantee %s %s, more than %s's %s",
					parent.Name, strings.Join(parts, ", "), sum.String(), r, parent.Name, bound.String())
			}
		}
	}
	return out
}

// parentBound is the most of resource r the parent's children may be
// guaranteed, together and each: the parent's own guarantee of r; for a
// root that names none, its limit of r (isLimit), or no bound (ok false),
// because a root's guarantee is the cluster itself; for any other parent
// that names none, zero.
//
// The limit is not checked where the parent names a guarantee: CEL keeps
// the guarantee within the limit, so the guarantee is the tighter bound and
// one message is enough.
func parentBound(parent *gantryv1alpha1.Queue, r corev1.ResourceName) (bound resource.Quantity, isLimit, ok bool) {
	if g, found := parent.Spec.Guaranteed[r]; found {
		return g, false, true
	}
	if parent.Spec.Parent != "" {
		return resource.Quantity{}, false, true
	}
	if l, found := parent.Spec.Limit[r]; found {
		return l, true, true
	}
	return resource.Quantity{}, false, false
}

// loopingChain is q's parent chain up to and including the first queue
// seen twice, or nil if the chain ends at a root or a missing parent.
func loopingChain(q *gantryv1alpha1.Queue, byName map[string]*gantryv1alpha1.Queue) []string {
	seen := map[string]bool{}
	var chain []string
	for cur := q; cur != nil; {
		chain = append(chain, cur.Name)
		if seen[cur.Name] {
			return chain
		}
		seen[cur.Name] = true
		if cur.Spec.Parent == "" {
			return nil
		}
		cur = byName[cur.Spec.Parent]
	}
	return nil
}

func sortedQueues(queues []*gantryv1alpha1.Queue) []*gantryv1alpha1.Queue {
	out := append([]*gantryv1alpha1.Queue(nil), queues...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func sortedResources[V any](m map[corev1.ResourceName]V) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(m))
	for r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
