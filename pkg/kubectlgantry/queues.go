package kubectlgantry

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/queuemodel"
)

// QueuesView is the output of `kubectl gantry queues`.
//
// +kubebuilder:object:generate=true
// +kubebuilder:object:root=true
type QueuesView struct {
	metav1.TypeMeta `json:",inline"`
	// Queues are in tree order: each queue follows its parent, siblings by
	// name. Queues whose parent is missing come after the roots, and those
	// on or below a parent cycle last, as roots; a missing parent that
	// workloads name is a root with no Queue object, and its children
	// follow it.
	Queues []QueueRow `json:"queues"`
}

// QueueRow is one queue with its GPU accounting.
//
// +kubebuilder:object:generate=true
type QueueRow struct {
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
	// Depth is the distance from the queue's root (0 for a root).
	Depth  int   `json:"depth"`
	Weight int32 `json:"weight"`
	// GuaranteedGPUs and LimitGPUs are absent when the queue does not name
	// the GPU resource (guaranteed zero, no limit of its own).
	GuaranteedGPUs *int64 `json:"guaranteedGPUs,omitempty"`
	LimitGPUs      *int64 `json:"limitGPUs,omitempty"`
	// UsedGPUs are held by bound, non-terminal pods of this queue and of
	// every queue below it.
	UsedGPUs int64 `json:"usedGPUs"`
	// BorrowedGPUs is max(0, usedGPUs - guaranteedGPUs).
	BorrowedGPUs int64 `json:"borrowedGPUs"`
	// PendingGPUs are asked for by unbound, non-terminal pods of this queue
	// and of every queue below it.
	PendingGPUs int64 `json:"pendingGPUs"`
	// BoundPods and PendingPods count the GPU pods behind UsedGPUs and
	// PendingGPUs.
	BoundPods   int `json:"boundPods"`
	PendingPods int `json:"pendingPods"`
	// Problem says what is wrong with the queue, if anything: "no Queue
	// object" (workloads name a queue that does not exist); what the
	// Queue's Valid condition reports, in short ("parent X not found", "on
	// a parent cycle", "guarantees more than its parent", "guarantees more
	// than its parent's limit", "children guarantee more than it",
	// "children guarantee more than its limit"), joined by "; "; else
	// "over its limit".
	Problem string `json:"problem,omitempty"`
}

// BuildQueues computes the queue tree and what each queue uses from the
// pods, as described in the queues command's help, with the queue model
// the scheduler decides with (queuemodel): the same rollup, borrowed and
// validation.
func BuildQueues(s *State) QueuesView {
	res := s.gpuResource()
	tree := queuemodel.Tree{}
	for i := range s.Queues {
		q := queuemodel.FromObject(&s.Queues[i])
		tree[q.Name] = q
	}
	var pods []queuemodel.Pod
	for i := range s.Pods {
		pod := &s.Pods[i]
		n := int64(gpu.PodGPUs(pod, res))
		if n == 0 || terminal(pod) {
			continue
		}
		q, _ := s.podQueue(pod)
		pods = append(pods, queuemodel.Pod{Queue: q, Bound: bound(pod), Requests: corev1.ResourceList{res: *resource.NewQuantity(n, resource.DecimalSI)}})
	}
	usage := queuemodel.Account(tree, pods)
	problems := queuemodel.Validate(tree)

	// Queues that workloads name but that do not exist still hold GPUs:
	// they are shown as roots so nothing in use goes unaccounted.
	var ghosts []string
	for name := range usage.Own {
		if _, ok := tree[name]; !ok {
			ghosts = append(ghosts, name)
		}
	}
	children := tree.Children()
	roots := append(ghosts, children[""]...)
	sort.Strings(roots)
	// Then the queues whose parent is missing, with their subtrees, then
	// whatever no root reaches: queues on or below a parent cycle.
	var orphans, rest []string
	for name, q := range tree {
		if _, ok := tree[q.Parent]; q.Parent != "" && !ok {
			orphans = append(orphans, name)
		}
		rest = append(rest, name)
	}
	sort.Strings(orphans)
	sort.Strings(rest)

	view := QueuesView{TypeMeta: viewTypeMeta(KindQueuesView)}
	seen := map[string]bool{}
	var walk func(name string, depth int)
	walk = func(name string, depth int) {
		seen[name] = true
		view.Queues = append(view.Queues, queueRow(name, tree, depth, usage.Total[name], problems[name], res))
		for _, c := range children[name] {
			if !seen[c] {
				walk(c, depth+1)
			}
		}
	}
	for _, group := range [][]string{roots, orphans, rest} {
		for _, name := range group {
			if !seen[name] {
				walk(name, 0)
			}
		}
	}
	return view
}

// queueRow is the row of queue name: its spec (none when no Queue object
// has the name), its usage rolled up, and its problems.
func queueRow(name string, tree queuemodel.Tree, depth int, u *queuemodel.Usage, problems []queuemodel.Problem, res corev1.ResourceName) QueueRow {
	row := QueueRow{Name: name, Depth: depth, Weight: 1}
	var used, pending corev1.ResourceList
	if u != nil {
		used, pending = u.Allocated, u.Pending
		row.BoundPods, row.PendingPods = u.BoundPods, u.PendingPods
	}
	row.UsedGPUs, row.PendingGPUs = gpuCount(used, res), gpuCount(pending, res)
	q, ok := tree[name]
	if !ok {
		row.BorrowedGPUs = row.UsedGPUs
		row.Problem = "no Queue object"
		return row
	}
	row.Parent = q.Parent
	row.Weight = q.EffectiveWeight()
	if v, ok := q.Guaranteed[res]; ok {
		n := v.Value()
		row.GuaranteedGPUs = &n
	}
	if v, ok := q.Limit[res]; ok {
		n := v.Value()
		row.LimitGPUs = &n
	}
	row.BorrowedGPUs = gpuCount(queuemodel.Borrowed(used, q.Guaranteed), res)
	var texts []string
	for _, p := range problems {
		texts = append(texts, problemText(p, q))
	}
	row.Problem = strings.Join(texts, "; ")
	if row.Problem == "" && row.LimitGPUs != nil && row.UsedGPUs > *row.LimitGPUs {
		row.Problem = "over its limit"
	}
	return row
}

// problemText says a validation problem in a few words, for the table;
// Queue status has the whole message.
func problemText(p queuemodel.Problem, q queuemodel.Queue) string {
	switch p.Reason {
	case queuemodel.ReasonParentNotFound:
		return fmt.Sprintf("parent %s not found", q.Parent)
	case queuemodel.ReasonParentCycle:
		return "on a parent cycle"
	case queuemodel.ReasonGuaranteeExceedsParent:
		return "guarantees more than its parent"
	case queuemodel.ReasonGuaranteeExceedsParentLimit:
		return "guarantees more than its parent's limit"
	case queuemodel.ReasonChildGuaranteesExceedGuarantee:
		return "children guarantee more than it"
	case queuemodel.ReasonChildGuaranteesExceedLimit:
		return "children guarantee more than its limit"
	}
	return p.Message
}

func gpuCount(l corev1.ResourceList, res corev1.ResourceName) int64 {
	q := l[res]
	return q.Value()
}

// RenderQueuesTable writes the queue tree, children indented under their
// parent.
func RenderQueuesTable(w io.Writer, v QueuesView) error {
	if len(v.Queues) == 0 {
		_, err := fmt.Fprintln(w, "No queues found, and no GPU pods.")
		return err
	}
	t := newTable(w, "QUEUE", "WEIGHT", "GUARANTEED", "LIMIT", "USED", "BORROWED", "PENDING", "PODS", "PROBLEM")
	for _, q := range v.Queues {
		t.row(strings.Repeat("  ", q.Depth)+q.Name, strconv.Itoa(int(q.Weight)), optInt(q.GuaranteedGPUs), optInt(q.LimitGPUs),
			strconv.FormatInt(q.UsedGPUs, 10), strconv.FormatInt(q.BorrowedGPUs, 10), strconv.FormatInt(q.PendingGPUs, 10),
			fmt.Sprintf("%d/%d", q.BoundPods, q.BoundPods+q.PendingPods), orDash(q.Problem))
	}
	return t.flush()
}
