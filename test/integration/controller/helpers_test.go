package controller

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"
)

// poll waits for cond, failing the test with what it waited for.
func poll(t *testing.T, timeout time.Duration, what string, cond wait.ConditionWithContextFunc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	if err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// never checks that cond stays false for the whole window: the one kind of
// wait a poll cannot shorten, used to show that something does not happen.
// cond's requests use the test's context, not the window's, so that the
// window closing does not fail them.
func never(t *testing.T, window time.Duration, what string, cond func(context.Context) (bool, error)) {
	t.Helper()
	var happened bool
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, window, true, func(context.Context) (bool, error) {
		ok, err := cond(t.Context())
		happened = ok
		return ok, err
	})
	switch {
	case happened:
		t.Fatalf("%s", what)
	case err != nil && !wait.Interrupted(err):
		t.Fatalf("checking that not %s: %v", what, err)
	}
}

func httpGet(addr, path string) error {
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
	}
	return nil
}

func httpBody(t *testing.T, addr, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newNamespace(t *testing.T) string {
	t.Helper()
	ns, err := controlPlane.CreateNamespace(t.Context(), "pgc")
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func createPodGroup(t *testing.T, ns, name string, minMember int32) *schedv1alpha1.PodGroup {
	t.Helper()
	pg := &schedv1alpha1.PodGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	pg.Spec.MinMember = minMember
	if err := controlPlane.Client.Create(t.Context(), pg); err != nil {
		t.Fatalf("creating PodGroup %s: %v", name, err)
	}
	return pg
}

func getPodGroup(ctx context.Context, t *testing.T, ns, name string) (*schedv1alpha1.PodGroup, error) {
	var pg schedv1alpha1.PodGroup
	err := controlPlane.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &pg)
	return &pg, err
}

// waitPhase waits for the PodGroup's status to reach phase and returns it.
func waitPhase(t *testing.T, ns, name string, phase schedv1alpha1.PodGroupPhase) *schedv1alpha1.PodGroup {
	t.Helper()
	var pg *schedv1alpha1.PodGroup
	poll(t, 30*time.Second, fmt.Sprintf("PodGroup %s/%s to be %s", ns, name, phase), func(ctx context.Context) (bool, error) {
		var err error
		if pg, err = getPodGroup(ctx, t, ns, name); err != nil {
			return false, err
		}
		return pg.Status.Phase == phase, nil
	})
	return pg
}

// createMember creates a pod of the gang with the given scheduler name.
func createMember(t *testing.T, ns, gang, name, schedulerName string) *corev1.Pod {
	t.Helper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{schedv1alpha1.PodGroupLabel: gang}},
		Spec: corev1.PodSpec{
			SchedulerName: schedulerName,
			Containers:    []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}},
		},
	}
	got, err := kube.CoreV1().Pods(ns).Create(t.Context(), p, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating pod %s: %v", name, err)
	}
	return got
}

// bind binds a pod to a node through pods/binding, as a scheduler does.
func bind(t *testing.T, p *corev1.Pod, node string) {
	t.Helper()
	b := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name, UID: p.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}
	if err := kube.CoreV1().Pods(p.Namespace).Bind(t.Context(), b, metav1.CreateOptions{}); err != nil {
		t.Fatalf("binding pod %s: %v", p.Name, err)
	}
}

// setPhase sets a pod's phase, as its kubelet does.
func setPhase(t *testing.T, p *corev1.Pod, phase corev1.PodPhase) {
	t.Helper()
	cur, err := kube.CoreV1().Pods(p.Namespace).Get(t.Context(), p.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Status.Phase = phase
	if _, err := kube.CoreV1().Pods(p.Namespace).UpdateStatus(t.Context(), cur, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("setting pod %s %s: %v", p.Name, phase, err)
	}
}

// events lists the events recorded on the PodGroup ns/name with reason.
func events(ctx context.Context, ns, name, reason string) ([]corev1.Event, error) {
	list, err := kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if e.InvolvedObject.Kind == "PodGroup" && e.InvolvedObject.Name == name && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out, nil
}

// waitEvent waits for an event with reason on the PodGroup and returns it.
func waitEvent(t *testing.T, ns, name, reason string) corev1.Event {
	t.Helper()
	var got []corev1.Event
	poll(t, 30*time.Second, fmt.Sprintf("a %s event on PodGroup %s/%s", reason, ns, name), func(ctx context.Context) (bool, error) {
		var err error
		got, err = events(ctx, ns, name, reason)
		return len(got) > 0, err
	})
	return got[0]
}

// onlyOnce checks that the PodGroup has exactly one Warning event with
// reason, given once (count 1: the recorder counts identical repeats),
// containing note.
func onlyOnce(t *testing.T, ns, name, reason, note string) {
	t.Helper()
	got, err := events(t.Context(), ns, name, reason)
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	for _, e := range got {
		notes = append(notes, fmt.Sprintf("%q x%d", e.Message, e.Count))
	}
	if len(got) != 1 || got[0].Count != 1 {
		t.Fatalf("%s events on %s: %s; want exactly one, given once", reason, name, strings.Join(notes, ", "))
	}
	if !strings.Contains(got[0].Message, note) {
		t.Errorf("%s event says %q, want it to contain %q", reason, got[0].Message, note)
	}
	if got[0].ReportingController != "gantry-controller/podgroup" || got[0].Type != corev1.EventTypeWarning {
		t.Errorf("%s event reported by %q, type %s", reason, got[0].ReportingController, got[0].Type)
	}
}
