// Package core holds GantryQueue's decisions as plain functions over plain
// data: whether a workload may be admitted against its queue's and its
// ancestors' limits (this file), in fair-share order when it borrows
// (fair.go), and what it may reclaim (reclaim.go). The queue tree, usage,
// borrowing and shares they decide with are the queue model's
// (pkg/queuemodel), shared with gantry-controller and kubectl-gantry.
package core

import (
	"fmt"
	"slices"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/queuemodel"
)

// Queue and Tree are the queue model's (queuemodel): the tree, each
// queue's chain (Ancestry) and rolled-up usage (Rollup) are the same
// numbers gantry-controller writes into Queue status and kubectl-gantry
// shows.
type (
	Queue = queuemodel.Queue
	Tree  = queuemodel.Tree
)

// Add adds list to usage[queue] (queuemodel.Add).
func Add(usage map[string]v1.ResourceList, queue string, list v1.ResourceList) {
	queuemodel.Add(usage, queue, list)
}

// Sub takes list from usage[queue] (queuemodel.Sub).
func Sub(usage map[string]v1.ResourceList, queue string, list v1.ResourceList) {
	queuemodel.Sub(usage, queue, list)
}

// AddTo adds src to dst, resource by resource (queuemodel.AddTo).
func AddTo(dst, src v1.ResourceList) { queuemodel.AddTo(dst, src) }

// WithinGuarantee reports whether admitting demand keeps the queue and each
// ancestor within its guarantee (queuemodel.WithinGuarantee). Such a
// workload is never deferred for fairness, and may reclaim.
func WithinGuarantee(t Tree, usage map[string]v1.ResourceList, queue string, demand v1.ResourceList) bool {
	return queuemodel.WithinGuarantee(t, usage, queue, demand)
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
