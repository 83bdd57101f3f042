package queue

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	spinformers "sigs.k8s.io/scheduler-plugins/pkg/generated/informers/externalversions"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	gantryinformers "github.com/gantry-gpu/gantry/pkg/generated/informers/externalversions"
)

// TestPodEventsLeaveTerminalPodsOut: the pod informer is shared with
// controllers that keep finished pods, so the controller's handler must see
// a pod that finishes as deleted and a finished pod's changes not at all,
// as it would with a watch that leaves terminal pods out.
func TestPodEventsLeaveTerminalPodsOut(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"},
		Spec:       corev1.PodSpec{NodeName: "n"},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	kube := fake.NewClientset(pod)
	kubeInformers := informers.NewSharedInformerFactory(kube, 0)
	// Never started: only the pod events are under test.
	gantryInformers := gantryinformers.NewSharedInformerFactory(nil, 0)
	podGroupInformers := spinformers.NewSharedInformerFactory(nil, 0)
	c, err := New(nil, kubeInformers, gantryInformers, podGroupInformers, record.NewFakeRecorder(10), Options{Coalesce: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.queue.ShutDown()
	ctx, cancel := context.WithCancel(t.Context())
	kubeInformers.Start(ctx.Done())
	defer func() {
		cancel()
		kubeInformers.Shutdown()
	}()
	// The first three handlers are the kube factory's: pods, namespaces, nodes.
	if !cache.WaitForCacheSync(ctx.Done(), c.hasSynced[:3]...) {
		t.Fatal("the pod, namespace and node informers did not sync")
	}

	// expectEvaluation reports whether a change asked for an evaluation,
	// and takes it from the work queue.
	expectEvaluation := func(what string, want bool) {
		t.Helper()
		deadline := time.Now().Add(200 * time.Millisecond)
		for c.queue.Len() == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if got := c.queue.Len() > 0; got != want {
			t.Fatalf("%s: evaluation asked for = %v, want %v", what, got, want)
		}
		if want {
			key, _ := c.queue.Get()
			c.queue.Done(key)
			c.queue.Forget(key)
		}
	}
	update := func(mutate func(*corev1.Pod)) {
		t.Helper()
		cur, err := kube.CoreV1().Pods("ns").Get(t.Context(), "p", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mutate(cur)
		if _, err := kube.CoreV1().Pods("ns").Update(t.Context(), cur, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	expectEvaluation("a running pod listed", true)
	update(func(p *corev1.Pod) {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	})
	expectEvaluation("a running pod's condition changed", false)
	update(func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded })
	expectEvaluation("the pod succeeded", true)
	update(func(p *corev1.Pod) { p.Labels = map[string]string{gantryv1alpha1.QueueLabel: "team"} })
	expectEvaluation("a succeeded pod's labels changed", false)
	if err := kube.CoreV1().Pods("ns").Delete(t.Context(), "p", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectEvaluation("a succeeded pod deleted", false)
}
