package kubectlgantry

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// QueuesView is the output of `kubectl gantry queues`.
//
// +kubebuilder:object:generate=true
// +kubebuilder:object:root=true
type QueuesView struct {
	metav1.TypeMeta `json:",inline"`
	// Queues are in tree order: each queue follows its parent, siblings by
	// name; queues whose parent is missing or that sit on a parent cycle
	// come last, as roots.
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
	// object" (workloads name a queue that does not exist), "parent X not
	// found", "on a parent cycle", "over its limit".
	Problem string `json:"problem,omitempty"`
}

type queueUsage struct {
	used, pending          int64
	boundPods, pendingPods int
}

// BuildQueues computes the queue tree and what each queue uses from the
// pods, as described in the queues command's help.
func BuildQueues(s *State) QueuesView {
	res := s.gpuResource()
	own := map[string]*queueUsage{}
	for i := range s.Pods {
		pod := &s.Pods[i]
		n := int64(gpu.PodGPUs(pod, res))
		if n == 0 || terminal(pod) {
			continue
		}
		q, _ := s.podQueue(pod)
		u := own[q]
		if u == nil {
			u = &queueUsage{}
			own[q] = u
		}
		if bound(pod) {
			u.used += n
			u.boundPods++
		} else {
			u.pending += n
			u.pendingPods++
		}
	}

	queues := map[string]*gantryv1alpha1.Queue{}
	for i := range s.Queues {
		queues[s.Queues[i].Name] = &s.Queues[i]
	}
	// Queues that workloads name but that do not exist still hold GPUs:
	// show them as roots so nothing in use goes unaccounted.
	for name := range own {
		if queues[name] == nil {
			queues[name] = nil
		}
	}
	children := map[string][]string{}
	var roots, orphans []string
	for name, q := range queues {
		switch {
		case q == nil || q.Spec.Parent == "":
			roots = append(roots, name)
		case !exists(queues, q.Spec.Parent):
			orphans = append(orphans, name)
		default:
			children[q.Spec.Parent] = append(children[q.Spec.Parent], name)
		}
	}
	sort.Strings(roots)
	sort.Strings(orphans)
	for _, c := range children {
		sort.Strings(c)
	}

	view := QueuesView{TypeMeta: viewTypeMeta(KindQueuesView)}
	seen := map[string]bool{}
	// walk appends the queue and its subtree and returns the subtree's usage.
	var walk func(name string, depth int, problem string) queueUsage
	walk = func(name string, depth int, problem string) queueUsage {
		seen[name] = true
		idx := len(view.Queues)
		view.Queues = append(view.Queues, queueRow(name, queues[name], depth, problem, res))
		var total queueUsage
		if u := own[name]; u != nil {
			total = *u
		}
		for _, c := range children[name] {
			if seen[c] {
				continue
			}
			sub := walk(c, depth+1, "")
			total.used += sub.used
			total.pending += sub.pending
			total.boundPods += sub.boundPods
			total.pendingPods += sub.pendingPods
		}
		row := &view.Queues[idx]
		row.UsedGPUs, row.PendingGPUs = total.used, total.pending
		row.BoundPods, row.PendingPods = total.boundPods, total.pendingPods
		if row.GuaranteedGPUs != nil {
			row.BorrowedGPUs = max(0, total.used-*row.GuaranteedGPUs)
		} else {
			row.BorrowedGPUs = total.used
		}
		if row.Problem == "" && row.LimitGPUs != nil && total.used > *row.LimitGPUs {
			row.Problem = "over its limit"
		}
		return total
	}
	for _, r := range roots {
		walk(r, 0, "")
	}
	for _, o := range orphans {
		walk(o, 0, fmt.Sprintf("parent %s not found", queues[o].Spec.Parent))
	}
	// What is left is on a parent cycle: no root reaches it.
	var cyclic []string
	for name := range queues {
		if !seen[name] {
			cyclic = append(cyclic, name)
		}
	}
	sort.Strings(cyclic)
	onCycle := map[string]bool{}
	for _, c := range cyclic {
		onCycle[c] = true
		if !seen[c] {
			walk(c, 0, "")
		}
	}
	for i := range view.Queues {
		if q := &view.Queues[i]; onCycle[q.Name] && q.Problem == "" {
			q.Problem = "on a parent cycle"
		}
	}
	return view
}

func exists(queues map[string]*gantryv1alpha1.Queue, name string) bool {
	_, ok := queues[name]
	return ok
}

func queueRow(name string, q *gantryv1alpha1.Queue, depth int, problem string, res corev1.ResourceName) QueueRow {
	row := QueueRow{Name: name, Depth: depth, Weight: 1, Problem: problem}
	if q == nil {
		row.Problem = "no Queue object"
		return row
	}
	row.Parent = q.Spec.Parent
	if q.Spec.Weight > 0 {
		row.Weight = q.Spec.Weight
	}
	if v, ok := q.Spec.Guaranteed[res]; ok {
		n := v.Value()
		row.GuaranteedGPUs = &n
	}
	if v, ok := q.Spec.Limit[res]; ok {
		n := v.Value()
		row.LimitGPUs = &n
	}
	return row
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
