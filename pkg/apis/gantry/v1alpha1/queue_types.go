package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// QueueLabel names a workload's queue. It is read from the pod, then from its
// PodGroup, then from its namespace; a workload that names none goes to
// DefaultQueueName.
const QueueLabel = "gantry.dev/queue"

// DefaultQueueName is the queue of workloads that name none.
const DefaultQueueName = "default"

// Queue is one node of the fairness tree. Workloads are admitted against
// their queue and every ancestor: within the guaranteed share always, beyond
// it by borrowing idle capacity up to the limit, in weighted fair-share order.
//
// +genclient
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=gq;gqueue,categories=gantry
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Parent",type=string,JSONPath=`.spec.parent`
// +kubebuilder:printcolumn:name="Weight",type=integer,JSONPath=`.spec.weight`
// +kubebuilder:printcolumn:name="Guaranteed GPUs",type=string,JSONPath=`.spec.guaranteed.nvidia\.com/gpu`
// +kubebuilder:printcolumn:name="Limit GPUs",type=string,JSONPath=`.spec.limit.nvidia\.com/gpu`
// +kubebuilder:printcolumn:name="Allocated GPUs",type=string,JSONPath=`.status.allocated.nvidia\.com/gpu`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="!has(self.spec.parent) || self.spec.parent != self.metadata.name",message="a queue cannot be its own parent",fieldPath=".spec.parent",reason=FieldValueInvalid
type Queue struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec QueueSpec `json:"spec,omitempty"`
	// +optional
	Status QueueStatus `json:"status,omitempty"`
}

// QueueSpec is what a platform team declares for a queue.
//
// The quantities are compared as quantities ("1Gi" > "1000Mi"); a value may
// be an integer or a string, as in a pod's resources. The maps are capped at
// 12 resources so that the API server's CEL cost estimate stays in budget.
//
// +kubebuilder:validation:XValidation:rule="!has(self.guaranteed) || !has(self.limit) || self.guaranteed.all(r, !(r in self.limit) || !(type(self.limit[r]) == int ? quantity('0').add(self.limit[r]) : quantity(self.limit[r])).isLessThan(type(self.guaranteed[r]) == int ? quantity('0').add(self.guaranteed[r]) : quantity(self.guaranteed[r])))",message="must not exceed spec.limit for any resource",fieldPath=".guaranteed",reason=FieldValueInvalid
type QueueSpec struct {
	// Parent is the name of the parent Queue; a queue without one is a root.
	// Cycles longer than a queue naming itself cannot be seen by the API
	// server; the scheduler treats every queue on such a cycle as invalid.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Parent string `json:"parent,omitempty"`

	// Weight is the queue's share of idle capacity relative to its siblings
	// when they borrow beyond their guarantees.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	Weight int32 `json:"weight,omitempty"`

	// Guaranteed is what the queue may always use, reclaiming it from queues
	// that borrow if need be. Resources it does not name are guaranteed zero.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=12
	// +kubebuilder:validation:XValidation:rule="self.all(r, type(self[r]) == int ? self[r] >= 0 : !self[r].startsWith('-'))",message="quantities must not be negative",reason=FieldValueInvalid
	Guaranteed corev1.ResourceList `json:"guaranteed,omitempty"`

	// Limit caps what the queue may use including borrowed capacity.
	// Resources it does not name are limited only by the parent and the cluster.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:MaxProperties=12
	// +kubebuilder:validation:XValidation:rule="self.all(r, type(self[r]) == int ? self[r] >= 0 : !self[r].startsWith('-'))",message="quantities must not be negative",reason=FieldValueInvalid
	Limit corev1.ResourceList `json:"limit,omitempty"`
}

// QueueStatus is the scheduler's accounting of a queue, kept current by it.
type QueueStatus struct {
	// Allocated is what the queue's admitted workloads hold now.
	// +optional
	Allocated corev1.ResourceList `json:"allocated,omitempty"`
	// Pending is what the queue's waiting workloads ask for.
	// +optional
	Pending corev1.ResourceList `json:"pending,omitempty"`
	// Borrowed is the part of Allocated beyond the guaranteed share.
	// +optional
	Borrowed corev1.ResourceList `json:"borrowed,omitempty"`
	// FairShare is the queue's weighted share of the cluster as last computed.
	// +optional
	FairShare corev1.ResourceList `json:"fairShare,omitempty"`
	// AdmittedWorkloads counts gangs and single pods admitted and not finished.
	// +optional
	AdmittedWorkloads int32 `json:"admittedWorkloads,omitempty"`
	// PendingWorkloads counts gangs and single pods waiting for admission.
	// +optional
	PendingWorkloads int32 `json:"pendingWorkloads,omitempty"`
	// Conditions such as Valid (the parent exists, no cycle) and Starving.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// QueueList is a list of Queues.
//
// +kubebuilder:object:root=true
type QueueList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Queue `json:"items"`
}

// Queue condition types, written by gantry-controller.
const (
	// QueueConditionValid is False when the queue's place in the tree is
	// wrong in a way the API server cannot see in one object: its parent
	// chain loops or names a queue that does not exist, or its guarantees
	// do not fit in its parent's. The reason names the first problem, the
	// message all of them.
	QueueConditionValid = "Valid"
	// QueueConditionDeletionBlocked is True while a deleted queue is kept
	// by QueueInUseFinalizer because bound pods still run in it.
	QueueConditionDeletionBlocked = "DeletionBlocked"
)

// QueueInUseFinalizer is put on every Queue by gantry-controller; it lifts
// it from a deleted queue once no bound, non-terminal pod names the queue,
// so that running workloads never lose the queue they are accounted to.
const QueueInUseFinalizer = "gantry.dev/queue-in-use"
