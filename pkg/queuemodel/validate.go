package queuemodel

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Reasons of the problems Validate finds. gantry-controller writes them as
// the reason of a False Valid condition and of the Warning events that
// report them.
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
// its children cannot be guaranteed any. The scheduler reads guarantees the
// same way (WithinGuarantee).
//
// Problems come per queue name, in a stable order (queues by name,
// resources by name); valid queues are absent. Only a queue's own parent
// missing is its problem: below it, queues are checked against their
// parents as usual. Queues with a cycle or a missing parent are not checked
// further: their guarantees have no parent to fit in.
func Validate(t Tree) map[string][]Problem {
	out := map[string][]Problem{}
	add := func(name, reason, format string, args ...any) {
		out[name] = append(out[name], Problem{Reason: reason, Message: fmt.Sprintf(format, args...)})
	}

	names := sortedNames(t)
	children := map[string][]Queue{}
	for _, name := range names {
		q := t[name]
		if q.Parent == "" {
			continue
		}
		if _, ok := t[q.Parent]; !ok {
			add(name, ReasonParentNotFound, "queue %s names parent %s, which does not exist", name, q.Parent)
			continue
		}
		var chainErr *ChainError
		if _, err := t.Ancestry(name); errors.As(err, &chainErr) && chainErr.Loop != nil {
			add(name, ReasonParentCycle, "queue %s reaches no root: its parent chain %s loops", name, strings.Join(chainErr.Loop, " -> "))
			continue
		}
		children[q.Parent] = append(children[q.Parent], q)
	}

	for _, name := range names {
		kids := children[name]
		if len(kids) == 0 {
			continue
		}
		parent := t[name]
		sums := map[v1.ResourceName]resource.Quantity{}
		for _, child := range kids {
			for _, r := range sortedResources(child.Guaranteed) {
				g := child.Guaranteed[r]
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
				if g, ok := child.Guaranteed[r]; ok && g.Sign() > 0 {
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
func parentBound(parent Queue, r v1.ResourceName) (bound resource.Quantity, isLimit, ok bool) {
	if g, found := parent.Guaranteed[r]; found {
		return g, false, true
	}
	if parent.Parent != "" {
		return resource.Quantity{}, false, true
	}
	if l, found := parent.Limit[r]; found {
		return l, true, true
	}
	return resource.Quantity{}, false, false
}

func sortedNames(t Tree) []string {
	out := make([]string, 0, len(t))
	for name := range t {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

func sortedResources[V any](m map[v1.ResourceName]V) []v1.ResourceName {
	out := make([]v1.ResourceName, 0, len(m))
	for r := range m {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}
