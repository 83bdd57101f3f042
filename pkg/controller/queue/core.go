// Package queue is gantry-controller's Queue status controller. For every
// Queue (gantry.dev/v1alpha1) it
//   - validates the queue's place in the tree where the API server cannot
//     (validate.go): parent cycles, missing parents, guarantees that do not
//     fit in the parent's; reported as the Valid condition and a Warning
//     event per change;
//   - keeps deleted queues while bound pods still run in them, with the
//     QueueInUseFinalizer, the DeletionBlocked condition and an event;
//   - writes the accounting into the status: allocated and pending
//     requests, borrowed amounts, fair share (fairshare.go), workload
//     counts;
//   - exports the same numbers as Prometheus gauges, and the GPU-seconds
//     each queue consumed, its borrowed part apart, as counters
//     (accounting.go).
//
// The decisions are plain Go (this file, validate.go, fairshare.go,
// accounting.go) so they can be tested without a cluster; controller.go
// is the client-go glue.
//
// A pod's queue is found as everywhere in Gantry (QueueOf): the pod's
// gantry.dev/queue label, else its PodGroup's, else its namespace's, else
// "default". Accounting counts non-terminal pods only: bound ones (a node
// set) are allocated, unbound ones pending.
package queue

import (
	"fmt"
	"math"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// GPUResource is the GPU resource the controller accounts.
const GPUResource corev1.ResourceName = "nvidia.com/gpu"

// Resources are the resources a queue's status and metrics account.
var Resources = []corev1.ResourceName{GPUResource, corev1.ResourceCPU, corev1.ResourceMemory}

// WorkloadOf names a pod's workload: its gang (the PodGroup it names, in
// its namespace) or the pod alone.
func WorkloadOf(pod *corev1.Pod) string {
	if g := pod.Labels[schedv1alpha1.PodGroupLabel]; g != "" {
		return "podgroup/" + pod.Namespace + "/" + g
	}
	return "pod/" + pod.Namespace + "/" + pod.Name
}

// Requests are what a pod holds of the accounted resources: GPUs as the
// kubelet's device manager hands them out (gpu.PodGPUs), CPU and memory
// as the scheduler counts them (init containers, sidecars, pod-level
// resources and overhead included).
func Requests(pod *corev1.Pod) corev1.ResourceList {
	all := resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{})
	out := corev1.ResourceList{}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := all[r]; ok && !q.IsZero() {
			out[r] = q
		}
	}
	if n := gpu.PodGPUs(pod, GPUResource); n > 0 {
		out[GPUResource] = *resource.NewQuantity(int64(n), resource.DecimalSI)
	}
	return out
}

// Pod is what the accounting needs of one non-terminal pod.
type Pod struct {
	// Namespace and Name, for messages.
	Namespace, Name string
	// Queue is the queue it names (QueueOf).
	Queue string
	// Workload is WorkloadOf the pod.
	Workload string
	// Bound is true once the pod has a node.
	Bound bool
	// Requests are Requests(pod).
	Requests corev1.ResourceList
}

// Snapshot is what one evaluation of the tree looks at.
type Snapshot struct {
	Queues []*gantryv1alpha1.Queue
	// Pods are the cluster's non-terminal pods.
	Pods []Pod
	// Capacity is the cluster's allocatable amount of each accounted
	// resource (schedulable Nodes' status.allocatable, summed): the root
	// level's capacity for fair shares.
	Capacity corev1.ResourceList
}

// Result is the evaluation of one queue.
type Result struct {
	// Status holds the accounting fields; conditions are left to
	// DesiredStatus.
	Status gantryv1alpha1.QueueStatus
	// Problems are Validate's for the queue.
	Problems []Problem
	// BoundPods and BoundWorkloads count the bound pods that name the
	// queue itself (not its children) and their workloads: what keeps a
	// deleted queue.
	BoundPods, BoundWorkloads int
}

// usage is one queue's accounting, its own or its subtree's.
type usage struct {
	allocated, pending corev1.ResourceList
	admitted, waiting  map[string]bool
}

func newUsage() *usage {
	return &usage{allocated: corev1.ResourceList{}, pending: corev1.ResourceList{}, admitted: map[string]bool{}, waiting: map[string]bool{}}
}

func (u *usage) add(o *usage) {
	addTo(u.allocated, o.allocated)
	addTo(u.pending, o.pending)
	for w := range o.admitted {
		u.admitted[w] = true
	}
	for w := range o.waiting {
		u.waiting[w] = true
	}
}

// Evaluate accounts every queue of the snapshot.
//
// Allocated and pending sum the requests of the queue's own pods and of
// every queue below it, so a parent shows its subtree. A workload is
// admitted in a queue when one of its pods there is bound, pending when
// none is (a gang partly bound counts as admitted). Pods naming a queue that
// does not exist are in no queue's numbers.
//
// Borrowed is allocated above guaranteed, per resource, never negative; a
// resource the queue does not guarantee is borrowed whole.
//
// Fair share (Split) is computed top down, for each resource: the roots
// split the cluster's capacity, each queue's children split the queue's
// fair share. Queues on a parent cycle or below a missing parent reach no
// root and get none.
func Evaluate(s Snapshot) map[string]*Result {
	problems := Validate(s.Queues)
	byName := map[string]*gantryv1alpha1.Queue{}
	for _, q := range s.Queues {
		byName[q.Name] = q
	}

	own := map[string]*usage{}
	bound := map[string]map[string]int{} // queue -> workload -> bound pods
	for i := range s.Pods {
		p := &s.Pods[i]
		if byName[p.Queue] == nil {
			continue
		}
		u := own[p.Queue]
		if u == nil {
			u = newUsage()
			own[p.Queue] = u
		}
		if p.Bound {
			addTo(u.allocated, p.Requests)
			u.admitted[p.Workload] = true
			if bound[p.Queue] == nil {
				bound[p.Queue] = map[string]int{}
			}
			bound[p.Queue][p.Workload]++
		} else {
			addTo(u.pending, p.Requests)
			u.waiting[p.Workload] = true
		}
	}

	// Children of the queues that reach a root; a queue with a problem in
	// its chain (cycle, missing parent) is nobody's child.
	children := map[string][]string{}
	var roots []string
	for _, q := range sortedQueues(s.Queues) {
		switch {
		case q.Spec.Parent == "":
			roots = append(roots, q.Name)
		case byName[q.Spec.Parent] != nil && loopingChain(q, byName) == nil:
			children[q.Spec.Parent] = append(children[q.Spec.Parent], q.Name)
		}
	}

	out := make(map[string]*Result, len(s.Queues))
	for _, q := range s.Queues {
		r := &Result{Problems: problems[q.Name]}
		for _, n := range bound[q.Name] {
			r.BoundPods += n
			r.BoundWorkloads++
		}
		out[q.Name] = r
	}

	// Subtree usage, memoized; the visiting set stops a cycle (a queue on
	// one is in no children list, but a defensive guard costs little and
	// a malformed tree must never hang the controller).
	subtree := map[string]*usage{}
	visiting := map[string]bool{}
	var sum func(name string) *usage
	sum = func(name string) *usage {
		if u := subtree[name]; u != nil {
			return u
		}
		total := newUsage()
		if visiting[name] {
			return total
		}
		visiting[name] = true
		if u := own[name]; u != nil {
			total.add(u)
		}
		for _, c := range children[name] {
			total.add(sum(c))
		}
		subtree[name] = total
		return total
	}
	for _, q := range s.Queues {
		u := sum(q.Name)
		st := &out[q.Name].Status
		st.Allocated = nonEmpty(u.allocated)
		st.Pending = nonEmpty(u.pending)
		st.Borrowed = nonEmpty(borrowed(u.allocated, q.Spec.Guaranteed))
		st.AdmittedWorkloads = int32(len(u.admitted))
		for w := range u.waiting {
			if !u.admitted[w] {
				st.PendingWorkloads++
			}
		}
	}

	// Fair shares, top down.
	var share func(level []string, capacity map[corev1.ResourceName]float64)
	share = func(level []string, capacity map[corev1.ResourceName]float64) {
		if len(level) == 0 {
			return
		}
		next := make([]map[corev1.ResourceName]float64, len(level))
		for i := range next {
			next[i] = map[corev1.ResourceName]float64{}
		}
		for _, r := range Resources {
			claims := make([]Claim, len(level))
			for i, name := range level {
				claims[i] = claimOf(byName[name], r)
			}
			for i, v := range Split(capacity[r], claims) {
				next[i][r] = v
			}
		}
		for i, name := range level {
			st := &out[name].Status
			st.FairShare = corev1.ResourceList{}
			for _, r := range Resources {
				st.FairShare[r] = toQuantity(r, next[i][r])
			}
			share(children[name], next[i])
		}
	}
	rootCapacity := map[corev1.ResourceName]float64{}
	for _, r := range Resources {
		q := s.Capacity[r]
		rootCapacity[r] = q.AsApproximateFloat64()
	}
	share(roots, rootCapacity)
	return out
}

// claimOf is a queue's claim on its parent's capacity of r.
func claimOf(q *gantryv1alpha1.Queue, r corev1.ResourceName) Claim {
	c := Claim{Weight: float64(q.Spec.Weight), Cap: math.Inf(1)}
	if g, ok := q.Spec.Guaranteed[r]; ok {
		c.Floor = g.AsApproximateFloat64()
	}
	if l, ok := q.Spec.Limit[r]; ok {
		c.Cap = l.AsApproximateFloat64()
	}
	return c
}

// toQuantity rounds a share to what a status can show: whole bytes of
// memory, thousandths of anything else (2667m of 8 GPUs split three ways).
func toQuantity(r corev1.ResourceName, v float64) resource.Quantity {
	if r == corev1.ResourceMemory {
		return *resource.NewQuantity(int64(math.Round(v)), resource.BinarySI)
	}
	return *resource.NewMilliQuantity(int64(math.Round(v*1000)), resource.DecimalSI)
}

// borrowed is allocated above guaranteed, per resource, never negative.
func borrowed(allocated, guaranteed corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for r, a := range allocated {
		b := a.DeepCopy()
		if g, ok := guaranteed[r]; ok {
			b.Sub(g)
		}
		if b.Sign() > 0 {
			out[r] = b
		}
	}
	return out
}

func addTo(dst, src corev1.ResourceList) {
	for r, q := range src {
		cur := dst[r]
		cur.Add(q)
		dst[r] = cur
	}
}

// nonEmpty is nil for an empty list, which the status leaves out.
func nonEmpty(l corev1.ResourceList) corev1.ResourceList {
	if len(l) == 0 {
		return nil
	}
	return l
}

// DeletionMessage says what keeps a deleted queue.
func DeletionMessage(queue string, pods, workloads int) string {
	return fmt.Sprintf("%d %s of %d %s still run in queue %s", pods, plural(pods, "pod", "pods"), workloads, plural(workloads, "workload", "workloads"), queue)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// problemsMessage joins the messages of the problems, in Validate's order.
func problemsMessage(problems []Problem) string {
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = p.Message
	}
	return strings.Join(msgs, "; ")
}
