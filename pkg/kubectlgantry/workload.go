package kubectlgantry

import (
	corev1 "k8s.io/api/core/v1"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// MinMemberLabel on a gang's pods makes a label-only gang: pods labelled
// with a pod-group name no PodGroup object has, and this label, form a gang
// with the largest minMember they name. It is the gang plugin's label
// (pkg/scheduler/plugins/gang), repeated so the plugin does not link the
// scheduler.
const MinMemberLabel = "gantry.dev/gang-min-member"

// QueueSource says where a workload's queue came from.
type QueueSource string

// Queue sources, in the order they are tried.
const (
	QueueFromPod       QueueSource = "pod"
	QueueFromPodGroup  QueueSource = "podGroup"
	QueueFromNamespace QueueSource = "namespace"
	QueueFromDefault   QueueSource = "default"
)

// queueOf is the queue of a pod: the pod's gantry.dev/queue label, else its
// PodGroup's, else its namespace's, else "default". pg and ns may be nil.
func queueOf(pod *corev1.Pod, pg *schedv1alpha1.PodGroup, ns *corev1.Namespace) (string, QueueSource) {
	if q := pod.Labels[gantryv1alpha1.QueueLabel]; q != "" {
		return q, QueueFromPod
	}
	if pg != nil {
		if q := pg.Labels[gantryv1alpha1.QueueLabel]; q != "" {
			return q, QueueFromPodGroup
		}
	}
	if ns != nil {
		if q := ns.Labels[gantryv1alpha1.QueueLabel]; q != "" {
			return q, QueueFromNamespace
		}
	}
	return gantryv1alpha1.DefaultQueueName, QueueFromDefault
}

// podQueue looks up the pod's PodGroup and namespace in s for queueOf.
func (s *State) podQueue(pod *corev1.Pod) (string, QueueSource) {
	var pg *schedv1alpha1.PodGroup
	if name := pod.Labels[schedv1alpha1.PodGroupLabel]; name != "" {
		pg = s.podGroup(pod.Namespace, name)
	}
	return queueOf(pod, pg, s.namespace(pod.Namespace))
}

// terminal reports whether the pod has finished and released its GPUs.
func terminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// bound reports whether the pod is on a node and holds its resources there.
func bound(pod *corev1.Pod) bool { return pod.Spec.NodeName != "" && !terminal(pod) }

func podKey(pod *corev1.Pod) string { return pod.Namespace + "/" + pod.Name }
