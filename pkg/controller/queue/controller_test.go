package queue

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// TestPodEventsLeaveTerminalPodsOut: the pod informer is shared with
// controllers that keep finished pods, so the controller's pod handler must
// see a pod that finishes as deleted and a finished pod's changes not at
// all, as it would with a watch that leaves terminal pods out. The handler
// is called as the informer calls it, one event at a time.
func TestPodEventsLeaveTerminalPodsOut(t *testing.T) {
	evaluations := 0
	handler := eventHandler(func() { evaluations++ }, podChanged, notTerminal)

	running := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"},
		Spec:       corev1.PodSpec{NodeName: "n"},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	ready := running.DeepCopy()
	ready.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	succeeded := ready.DeepCopy()
	succeeded.Status.Phase = corev1.PodSucceeded
	relabelled := succeeded.DeepCopy()
	relabelled.Labels = map[string]string{gantryv1alpha1.QueueLabel: "team"}

	steps := []struct {
		what  string
		event func()
		want  bool
	}{
		{"a running pod listed", func() { handler.OnAdd(running, true) }, true},
		{"a running pod's condition changed", func() { handler.OnUpdate(running, ready) }, false},
		{"the pod succeeded", func() { handler.OnUpdate(ready, succeeded) }, true},
		{"a succeeded pod's labels changed", func() { handler.OnUpdate(succeeded, relabelled) }, false},
		{"a succeeded pod deleted", func() { handler.OnDelete(relabelled) }, false},
	}
	for _, s := range steps {
		before := evaluations
		s.event()
		if got := evaluations > before; got != s.want {
			t.Fatalf("%s: evaluation asked for = %v, want %v", s.what, got, s.want)
		}
	}
}
