package queue

import (
	"fmt"
	"maps"
	"slices"

	"github.com/gantry-gpu/gantry/pkg/pods"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// The informers' updates that change what an evaluation reads: the others
// (most of them) are not worth one.

// podChanged: what the accounting reads of a pod is its node, labels and
// requests; status updates (conditions, container states) are most pod
// updates and change none of them.
func podChanged(oldObj, newObj any) bool {
	o, ok1 := oldObj.(*corev1.Pod)
	n, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 {
		return true
	}
	return o.Spec.NodeName != n.Spec.NodeName || !maps.Equal(o.Labels, n.Labels) ||
		!equality.Semantic.DeepEqual(Requests(o), Requests(n))
}

// notTerminal passes the pods that have not succeeded or failed, and
// anything that is not a pod.
func notTerminal(obj any) bool {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	p, ok := obj.(*corev1.Pod)
	return !ok || !pods.Finished(p)
}

// queueLabelChanged: namespaces and PodGroups matter only for their queue
// label (PodGroup status is written often).
func queueLabelChanged(oldObj, newObj any) bool {
	o, err1 := metaAccessor(oldObj)
	n, err2 := metaAccessor(newObj)
	if err1 != nil || err2 != nil {
		return true
	}
	return o.GetLabels()[gantryv1alpha1.QueueLabel] != n.GetLabels()[gantryv1alpha1.QueueLabel]
}

// nodeChanged: nodes update their status every few seconds; only
// allocatable and schedulability change the capacity.
func nodeChanged(oldObj, newObj any) bool {
	o, ok1 := oldObj.(*corev1.Node)
	n, ok2 := newObj.(*corev1.Node)
	if !ok1 || !ok2 {
		return true
	}
	return o.Spec.Unschedulable != n.Spec.Unschedulable || !equality.Semantic.DeepEqual(o.Status.Allocatable, n.Status.Allocatable)
}

// queueChanged: the controller's own status writes come back as updates
// and need no evaluation; spec, finalizer and deletion changes do.
func queueChanged(oldObj, newObj any) bool {
	o, err1 := metaAccessor(oldObj)
	n, err2 := metaAccessor(newObj)
	if err1 != nil || err2 != nil {
		return true
	}
	return o.GetGeneration() != n.GetGeneration() || !slices.Equal(o.GetFinalizers(), n.GetFinalizers()) ||
		(o.GetDeletionTimestamp() == nil) != (n.GetDeletionTimestamp() == nil)
}

func metaAccessor(obj any) (metav1.Object, error) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	o, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T is not an object", obj)
	}
	return o, nil
}
