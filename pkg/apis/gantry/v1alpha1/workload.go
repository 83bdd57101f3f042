package v1alpha1

// QueueSource says which object named a workload's queue.
type QueueSource string

// Where QueueOf found a workload's queue, in the order it looks.
const (
	QueueFromPod       QueueSource = "pod"
	QueueFromPodGroup  QueueSource = "podGroup"
	QueueFromNamespace QueueSource = "namespace"
	QueueFromDefault   QueueSource = "default"
)

// QueueOf is the queue of a workload, given the labels of its pod, of the
// pod's PodGroup and of its namespace (nil where there is none): the first
// QueueLabel found in that order, else DefaultQueueName. The scheduler, the
// controller and kubectl-gantry all decide a workload's queue with it.
func QueueOf(podLabels, podGroupLabels, namespaceLabels map[string]string) (string, QueueSource) {
	for _, from := range []struct {
		labels map[string]string
		source QueueSource
	}{{podLabels, QueueFromPod}, {podGroupLabels, QueueFromPodGroup}, {namespaceLabels, QueueFromNamespace}} {
		if q := from.labels[QueueLabel]; q != "" {
			return q, from.source
		}
	}
	return DefaultQueueName, QueueFromDefault
}

// GangMinMemberLabel on a gang's pods defines a label-only gang: pods
// labelled scheduling.x-k8s.io/pod-group with a name no PodGroup object
// has, and this label with the gang's minMember, form a gang as if such a
// PodGroup (with the default timeout) existed.
const GangMinMemberLabel = "gantry.dev/gang-min-member"
