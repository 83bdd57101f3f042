// Package queue is gantry-controller's Queue status controller. For every
// Queue (gantry.dev/v1alpha1) it
//   - validates the queue's place in the tree where the API server cannot
//     (queuemodel.Validate): parent cycles, missing parents, guarantees
//     that do not fit in the parent's; reported as the Valid condition and
//     a Warning event per change (status.go);
//   - keeps deleted queues while bound pods still run in them, with the
//     QueueInUseFinalizer, the DeletionBlocked condition and an event;
//   - writes the accounting into the status: allocated and pending
//     requests, borrowed amounts, fair share, workload counts, all computed
//     by the queue model the scheduler decides with (pkg/queuemodel);
//   - exports the same numbers as Prometheus gauges, and the GPU-seconds
//     each queue consumed, its borrowed part apart, as counters
//     (accounting.go, metrics.go).
//
// The decisions are plain Go (this file, status.go, accounting.go) so they
// can be tested without a cluster; controller.go is the client-go glue.
//
// A pod's queue is found as everywhere in Gantry (QueueOf): the pod's
// gantry.dev/queue label, else its PodGroup's, else its namespace's, else
// "default". Accounting counts non-terminal pods only: bound ones (a node
// set) are allocated, unbound ones pending.
package queue

import (
	"fmt"
	"strings"

	"github.com/gantry-gpu/gantry/pkg/pods"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/queuemodel"
)

// GPUResource is the GPU resource the controller accounts.
const GPUResource corev1.ResourceName = "nvidia.com/gpu"

// Resources are the resources a queue's status and metrics account.
var Resources = []corev1.ResourceName{GPUResource, corev1.ResourceCPU, corev1.ResourceMemory}

// WorkloadOf names a pod's workload: its gang (the PodGroup it names, in
// its namespace) or the pod alone.
func WorkloadOf(pod *corev1.Pod) string {
	if g := pods.Gang(pod); g != "" {
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

// Snapshot is what one evaluation of the tree looks at.
type Snapshot struct {
	Queues []*gantryv1alpha1.Queue
	// Pods are the cluster's non-terminal pods: Queue is the queue each
	// names (QueueOf), Workload WorkloadOf the pod, Bound whether it has a
	// node, Requests Requests(pod).
	Pods []queuemodel.Pod
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
	// Problems are queuemodel.Validate's for the queue.
	Problems []queuemodel.Problem
	// BoundPods and BoundWorkloads count the bound pods that name the
	// queue itself (not its children) and their workloads: what keeps a
	// deleted queue.
	BoundPods, BoundWorkloads int
}

// Evaluate accounts every queue of the snapshot with the queue model, so
// that the status shows the numbers the scheduler decides with:
//
//   - allocated and pending sum the requests of the queue's own pods and of
//     every queue below it (queuemodel.Account); pods naming a queue that
//     does not exist are in no queue's numbers;
//   - a workload is admitted in a queue when one of its pods there is
//     bound, pending when none is (a gang partly bound counts as
//     admitted);
//   - borrowed is queuemodel.Borrowed: allocated above guaranteed;
//   - fair share is queuemodel.FairShares of the cluster's capacity; queues
//     on a parent cycle or below a missing parent get none.
func Evaluate(s Snapshot) map[string]*Result {
	tree := queuemodel.FromObjects(s.Queues)
	problems := queuemodel.Validate(tree)
	usage := queuemodel.Account(tree, s.Pods)
	shares := queuemodel.FairShares(tree, s.Capacity, Resources)

	out := make(map[string]*Result, len(s.Queues))
	for _, q := range s.Queues {
		r := &Result{Problems: problems[q.Name]}
		if own := usage.Own[q.Name]; own != nil {
			r.BoundPods, r.BoundWorkloads = own.BoundPods, len(own.Admitted)
		}
		st := &r.Status
		if u := usage.Total[q.Name]; u != nil {
			st.Allocated = nonEmpty(u.Allocated)
			st.Pending = nonEmpty(u.Pending)
			st.Borrowed = nonEmpty(queuemodel.Borrowed(u.Allocated, q.Spec.Guaranteed))
			st.AdmittedWorkloads = int32(len(u.Admitted))
			st.PendingWorkloads = int32(u.PendingWorkloads())
		}
		st.FairShare = shares[q.Name]
		out[q.Name] = r
	}
	return out
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
func problemsMessage(problems []queuemodel.Problem) string {
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = p.Message
	}
	return strings.Join(msgs, "; ")
}
