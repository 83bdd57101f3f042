package queue

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// Reasons of the deletion condition and of the events about it and about
// validity.
const (
	// ReasonValid is the reason of a True Valid condition; a False one
	// has the reason of the queue's first problem (queuemodel.Reason*).
	ReasonValid = "Valid"
	// ReasonWorkloadsRunning: a deleted queue is kept because bound pods
	// still run in it.
	ReasonWorkloadsRunning = "WorkloadsRunning"
	// EventDeletionBlocked is the reason of the Warning event given when a
	// deleted queue is kept, and again when what keeps it changes.
	EventDeletionBlocked = "DeletionBlocked"
	// EventQueueValid is the reason of the Normal event given when a queue
	// that was invalid is valid again.
	EventQueueValid = "QueueValid"
)

const validMessage = "the parent chain reaches a root and the guarantees fit in the parent's"

// Event is an event due on a queue.
type Event struct {
	Type, Reason, Message string
}

// HasFinalizer reports whether the queue carries QueueInUseFinalizer.
func HasFinalizer(q *gantryv1alpha1.Queue) bool {
	return slices.Contains(q.Finalizers, gantryv1alpha1.QueueInUseFinalizer)
}

// DesiredStatus is the queue's status as the evaluation r says it should
// be, with the Valid and DeletionBlocked conditions; other conditions
// (written by others) are kept. It returns the events due: one per change
// of a condition, found by comparing with the status the queue has, so a
// resync or a new leader that finds the same facts gives none.
func DesiredStatus(q *gantryv1alpha1.Queue, r *Result, now metav1.Time) (gantryv1alpha1.QueueStatus, []Event) {
	st := *r.Status.DeepCopy()
	st.Conditions = slices.Clone(q.Status.Conditions)
	var events []Event

	valid := metav1.Condition{
		Type:               gantryv1alpha1.QueueConditionValid,
		Status:             metav1.ConditionTrue,
		Reason:             ReasonValid,
		Message:            validMessage,
		ObservedGeneration: q.Generation,
		LastTransitionTime: now,
	}
	if len(r.Problems) > 0 {
		valid.Status, valid.Reason, valid.Message = metav1.ConditionFalse, r.Problems[0].Reason, problemsMessage(r.Problems)
	}
	old := meta.FindStatusCondition(q.Status.Conditions, valid.Type)
	switch {
	case valid.Status == metav1.ConditionFalse && (old == nil || old.Status != valid.Status || old.Reason != valid.Reason || old.Message != valid.Message):
		events = append(events, Event{Type: corev1.EventTypeWarning, Reason: valid.Reason, Message: valid.Message})
	case valid.Status == metav1.ConditionTrue && old != nil && old.Status == metav1.ConditionFalse:
		events = append(events, Event{Type: corev1.EventTypeNormal, Reason: EventQueueValid, Message: "queue " + q.Name + " is valid again: " + validMessage})
	}
	meta.SetStatusCondition(&st.Conditions, valid)

	if q.DeletionTimestamp != nil && HasFinalizer(q) && r.BoundPods > 0 {
		blocked := metav1.Condition{
			Type:               gantryv1alpha1.QueueConditionDeletionBlocked,
			Status:             metav1.ConditionTrue,
			Reason:             ReasonWorkloadsRunning,
			Message:            DeletionMessage(q.Name, r.BoundPods, r.BoundWorkloads),
			ObservedGeneration: q.Generation,
			LastTransitionTime: now,
		}
		if old := meta.FindStatusCondition(q.Status.Conditions, blocked.Type); old == nil || old.Status != blocked.Status || old.Message != blocked.Message {
			events = append(events, Event{Type: corev1.EventTypeWarning, Reason: EventDeletionBlocked, Message: blocked.Message})
		}
		meta.SetStatusCondition(&st.Conditions, blocked)
	} else {
		meta.RemoveStatusCondition(&st.Conditions, gantryv1alpha1.QueueConditionDeletionBlocked)
	}
	return st, events
}
