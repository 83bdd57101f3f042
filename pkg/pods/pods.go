// Package pods answers the questions about a pod that Gantry's scheduler,
// controller, device plugin and kubectl plugin must answer alike.
package pods

import v1 "k8s.io/api/core/v1"

// Finished reports whether the pod's phase is terminal: it holds nothing on
// its node any more and never will again.
func Finished(p *v1.Pod) bool {
	return p.Status.Phase == v1.PodSucceeded || p.Status.Phase == v1.PodFailed
}

// Gang is the name of the pod's gang in its namespace, "" for a pod outside
// gangs: the PodGroup named by its scheduling.x-k8s.io/pod-group label
// (scheduler-plugins' PodGroup, or a label-only gang), else the
// scheduling.k8s.io PodGroup its spec.schedulingGroup names. The label
// wins when a pod has both.
func Gang(p *v1.Pod) string {
	if name := p.Labels[podGroupLabel]; name != "" {
		return name
	}
	if g := p.Spec.SchedulingGroup; g != nil && g.PodGroupName != nil {
		return *g.PodGroupName
	}
	return ""
}

// podGroupLabel is scheduler-plugins' pod-group label
// (sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1.PodGroupLabel),
// spelled out to keep this package free of that module.
const podGroupLabel = "scheduling.x-k8s.io/pod-group"
