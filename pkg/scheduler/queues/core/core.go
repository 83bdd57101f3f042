// Package core holds GantryQueue's decisions as plain functions over plain
// data: the queue tree, what each queue uses, whether a workload may be
// admitted against its queue's and its ancestors' limits (this file), in
// fair-share order when it borrows (fair.go), and what it may reclaim
// (reclaim.go).
package core

import (
	"fmt"
	"slices"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// Queue is what the decisions need of a Queue object.
type Queue struct {
	Name   string
	Parent string
	// Weight is spec.weight; below 1 counts as 1.
	Weight     int32
	Guaranteed v1.ResourceList
	Limit      v1.ResourceList
}

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

// Ancestry is the queue and its ancestors, the queue first. It fails when
// the queue does not exist, a parent does not exist, or the parent chain
// loops: then no limit along the chain can be trusted.
func (t Tree) Ancestry(name string) ([]string, error) {
	var chain []string
	for cur := name; cur != ""; cur = t[cur].Parent {
		if slices.Contains(chain, cur) {
			return nil, fmt.Errorf("the parent chain of queue %s loops (%s)", name, strings.Join(append(chain, cur), " -> "))
		}
		if _, ok := t[cur]; !ok {
			if cur == name {
				return nil, fmt.Errorf("queue %s does not exist", name)
			}
			return nil, fmt.Errorf("queue %s has an ancestor %s that does not exist", name, cur)
		}
		chain = append(chain, cur)
	}
	return chain, nil
}

// Rollup adds each queue's own usage to the queue and every ancestor, so
// that a queue's usage includes its descendants'. Usage of a queue that does
// not exist, or whose chain is broken, is counted as far up as the chain
// goes.
func (t Tree) Rollup(own map[string]v1.ResourceList) map[string]v1.ResourceList {
	out := map[string]v1.ResourceList{}
	for name, used := range own {
		seen := map[string]bool{}
		for cur := name; cur != "" && !seen[cur]; cur = t[cur].Parent {
			seen[cur] = true
			Add(out, cur, used)
			if _, ok := t[cur]; !ok {
				break
			}
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

// Workload is a pod, or a gang's unplaced members, asking to be admitted.
type Workload struct {
	// Queue and Source are what QueueOf says of the workload.
	Queue  string
	Source gantryv1alpha1.QueueSource
	// Gang is the gang's name, "" for a pod outside gangs.
	Gang string
	// Demand is what admitting the workload adds to its queue: the pod's
	// requests, or the requests of the gang's members not placed yet.
	Demand v1.ResourceList
	// GPUs is what each of those pods asks of the GPU resource (pods that
	// ask for none left out), for Fair's per-node room.
	GPUs []int64
}

// Code is the kind of a Verdict.
type Code int

const (
	// Admit: within every limit, or the workload is not governed.
	Admit Code = iota
	// Missing: the queue, or one of its ancestors, does not exist or its
	// parent chain loops; only a Queue change can cure it.
	Missing
	// OverLimit: admitting the workload would take a queue over a limit;
	// usage going down can cure it.
	OverLimit
	// Deferred: the workload would borrow, and a queue with a better claim
	// to idle capacity waits for it (see Fair); its workloads being placed,
	// or usage going down, can cure it.
	Deferred
)

// Verdict is the decision on a workload.
type Verdict struct {
	Code    Code
	Message string
}

// Options are the decisions' settings.
type Options struct {
	// RequireDefaultQueue makes a workload that names no queue wait for
	// the default queue to exist; else such a workload is not governed
	// while no Queue "default" exists.
	RequireDefaultQueue bool
}

// Governed reports whether the workload is subject to queues at all: not
// when no Queue exists (clusters that do not use queues are unaffected), nor
// when it names no queue and the default queue does not exist (unless
// RequireDefaultQueue), so a cluster can adopt queues team by team.
func Governed(t Tree, w Workload, o Options) bool {
	if len(t) == 0 {
		return false
	}
	if w.Source == gantryv1alpha1.QueueFromDefault && !o.RequireDefaultQueue {
		_, ok := t[w.Queue]
		return ok
	}
	return true
}

// Decide admits the workload if, for its queue and every ancestor with a
// limit on a resource it asks for, usage (rolled up, see Rollup) plus demand
// stays within the limit. It names the first queue, nearest first, that
// blocks.
func Decide(t Tree, usage map[string]v1.ResourceList, w Workload, o Options) Verdict {
	if !Governed(t, w, o) {
		return Verdict{Code: Admit}
	}
	chain, err := t.Ancestry(w.Queue)
	if err != nil {
		if _, ok := t[w.Queue]; !ok {
			return Verdict{Code: Missing, Message: fmt.Sprintf("queue %s does not exist (%s)", w.Queue, sourceText(w.Source))}
		}
		return Verdict{Code: Missing, Message: err.Error()}
	}
	for _, name := range chain {
		if msg := overLimit(t[name], usage[name], w); msg != "" {
			if name != w.Queue {
				msg = fmt.Sprintf("%s (an ancestor of queue %s)", msg, w.Queue)
			}
			return Verdict{Code: OverLimit, Message: msg}
		}
	}
	return Verdict{Code: Admit}
}

// overLimit says how the workload would take q over a limit, "" if it
// would not.
func overLimit(q Queue, used v1.ResourceList, w Workload) string {
	names := make([]v1.ResourceName, 0, len(q.Limit))
	for r := range q.Limit {
		names = append(names, r)
	}
	slices.Sort(names)
	for _, r := range names {
		need, ok := w.Demand[r]
		if !ok || need.Sign() <= 0 {
			continue
		}
		limit := q.Limit[r]
		total := used[r].DeepCopy()
		total.Add(need)
		if total.Cmp(limit) > 0 {
			who := "the pod needs"
			if w.Gang != "" {
				who = "the gang " + w.Gang + " needs"
			}
			inUse := used[r]
			return fmt.Sprintf("queue %s is at its limit of %s %s: %s in use, %s %s more",
				q.Name, limit.String(), r, quantity(inUse), who, need.String())
		}
	}
	return ""
}

func quantity(q resource.Quantity) string { return q.String() }

// sourceText says where a queue's name came from.
func sourceText(s gantryv1alpha1.QueueSource) string {
	switch s {
	case gantryv1alpha1.QueueFromPod:
		return "pod label " + gantryv1alpha1.QueueLabel
	case gantryv1alpha1.QueueFromPodGroup:
		return "PodGroup label " + gantryv1alpha1.QueueLabel
	case gantryv1alpha1.QueueFromNamespace:
		return "namespace label " + gantryv1alpha1.QueueLabel
	default:
		return "no " + gantryv1alpha1.QueueLabel + " label on the pod, its PodGroup or its namespace"
	}
}
