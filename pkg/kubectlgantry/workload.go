package kubectlgantry

import (
	corev1 "k8s.io/api/core/v1"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	"github.com/gantry-gpu/gantry/pkg/pods"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// queueOf is the queue of a pod (gantryv1alpha1.QueueOf); pg and ns may be
// nil.
func queueOf(pod *corev1.Pod, pg *schedv1alpha1.PodGroup, ns *corev1.Namespace) (string, gantryv1alpha1.QueueSource) {
	var pgLabels, nsLabels map[string]string
	if pg != nil {
		pgLabels = pg.Labels
	}
	if ns != nil {
		nsLabels = ns.Labels
	}
	return gantryv1alpha1.QueueOf(pod.Labels, pgLabels, nsLabels)
}

// podQueue looks up the pod's PodGroup and namespace in s for queueOf.
func (s *State) podQueue(pod *corev1.Pod) (string, gantryv1alpha1.QueueSource) {
	var pg *schedv1alpha1.PodGroup
	if name := pods.Gang(pod); name != "" {
		pg = s.podGroup(pod.Namespace, name)
	}
	return queueOf(pod, pg, s.namespace(pod.Namespace))
}

// terminal reports whether the pod has finished and released its GPUs.
func terminal(pod *corev1.Pod) bool {
	return pods.Finished(pod)
}

// bound reports whether the pod is on a node and holds its resources there.
func bound(pod *corev1.Pod) bool { return pod.Spec.NodeName != "" && !terminal(pod) }

func podKey(pod *corev1.Pod) string { return pod.Namespace + "/" + pod.Name }
