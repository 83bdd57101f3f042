// Package pods answers the questions about a pod that Gantry's scheduler,
// controller, device plugin and kubectl plugin must answer alike.
package pods

import v1 "k8s.io/api/core/v1"

// Finished reports whether the pod's phase is terminal: it holds nothing on
// its node any more and never will again.
func Finished(p *v1.Pod) bool {
	return p.Status.Phase == v1.PodSucceeded || p.Status.Phase == v1.PodFailed
}
