// Package podevents reads the objects of the pod events the scheduler hands
// to Gantry's plugins' queueing hints, the same way for every plugin.
package podevents

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
)

// DeletedAssignedPod returns the pod a delete event carries, unwrapping the
// informer's tombstone (a delete seen only on relist), and whether it was
// assigned to a node: only then did it hold room that its deletion frees.
func DeletedAssignedPod(oldObj any) (*v1.Pod, bool, error) {
	if t, ok := oldObj.(toolscache.DeletedFinalStateUnknown); ok {
		oldObj = t.Obj
	}
	pod, ok := oldObj.(*v1.Pod)
	if !ok {
		return nil, false, fmt.Errorf("deleted object is %T, not *v1.Pod", oldObj)
	}
	return pod, pod.Spec.NodeName != "", nil
}
