package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/clients"
	"github.com/gantry-gpu/gantry/pkg/controller"
	"github.com/gantry-gpu/gantry/pkg/controller/queue"
	"github.com/gantry-gpu/gantry/pkg/queuemodel"
)

// startQueueController runs a manager with only the Queue controller, as
// the service account, without leader election (one replica), evaluating
// 100ms after a change and every 500ms, until the test ends.
func startQueueController(t *testing.T) *controller.Manager {
	t.Helper()
	cfg := serviceAccountConfig()
	cfg.UserAgent = "gantry-controller-test/queue"
	cs, err := clients.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := controller.NewManager(cs.Kube, controller.ManagerOptions{BindAddress: "127.0.0.1:0", Workers: 1})
	informers := controller.NewInformers(cs)
	m.AddInformers(informers)
	queueController, err := queue.New(cs.Gantry, informers.Kube, informers.Gantry, informers.PodGroups, m.EventRecorder(queue.Name),
		queue.Options{Coalesce: 100 * time.Millisecond, Interval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m.Register(queueController)
	ctx, cancel := context.WithCancel(klog.NewContext(context.Background(), klog.Background().WithValues("instance", "queue")))
	stopped := make(chan struct{})
	var runErr error
	go func() {
		defer close(stopped)
		runErr = m.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-stopped:
			if runErr != nil && !errors.Is(runErr, context.Canceled) {
				t.Errorf("queue controller: %v", runErr)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("queue controller did not stop within 30s")
		}
	})
	poll(t, 30*time.Second, "the queue controller to sync", func(context.Context) (bool, error) {
		select {
		case <-stopped:
			return false, fmt.Errorf("controller stopped: %v", runErr)
		default:
		}
		return m.Addr() != nil && httpGet(m.Addr().String(), "/readyz") == nil, nil
	})
	return m
}

// createQueue creates a queue and, when the test ends (before the
// controller stops), deletes it and waits until the controller has let it
// go.
func createQueue(t *testing.T, name, parent string, guaranteedGPUs string) {
	t.Helper()
	q := &gantryv1alpha1.Queue{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: gantryv1alpha1.QueueSpec{Parent: parent}}
	if guaranteedGPUs != "" {
		q.Spec.Guaranteed = corev1.ResourceList{queue.GPUResource: resource.MustParse(guaranteedGPUs)}
	}
	if err := controlPlane.Client.Create(t.Context(), q); err != nil {
		t.Fatalf("creating queue %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := client.IgnoreNotFound(controlPlane.Client.Delete(ctx, &gantryv1alpha1.Queue{ObjectMeta: metav1.ObjectMeta{Name: name}})); err != nil {
			t.Errorf("deleting queue %s: %v", name, err)
		}
		for ctx.Err() == nil {
			if err := controlPlane.Client.Get(ctx, client.ObjectKey{Name: name}, &gantryv1alpha1.Queue{}); apierrors.IsNotFound(err) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Errorf("queue %s still exists 30s after its deletion", name)
	})
}

func getQueue(ctx context.Context, name string) (*gantryv1alpha1.Queue, error) {
	var q gantryv1alpha1.Queue
	err := controlPlane.Client.Get(ctx, client.ObjectKey{Name: name}, &q)
	return &q, err
}

// waitCondition waits for the queue's condition to have status and reason
// and returns it. The reason is waited for, not only checked: queues created
// one after another may be judged before the later ones are seen (a child
// created before its parent is ParentNotFound for a moment), and only the
// state the controller settles in is the behaviour under test.
func waitCondition(t *testing.T, name, condition string, status metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	var got *metav1.Condition
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		q, err := getQueue(ctx, name)
		if err != nil {
			return false, err
		}
		got = meta.FindStatusCondition(q.Status.Conditions, condition)
		return got != nil && got.Status == status && got.Reason == reason, nil
	})
	if err != nil {
		t.Fatalf("waiting for queue %s to be %s=%s (%s): %v; last seen %+v", name, condition, status, reason, err, got)
	}
	return *got
}

// queueEvents lists the events with reason on the queue now of that name
// (a cluster-scoped object's events are in the default namespace; an
// earlier queue of the same name, from a repeated run, had another UID).
func queueEvents(ctx context.Context, name, reason string) ([]corev1.Event, error) {
	q, err := getQueue(ctx, name)
	if err != nil {
		return nil, err
	}
	list, err := kube.CoreV1().Events(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if e.InvolvedObject.Kind == "Queue" && e.InvolvedObject.UID == q.UID && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out, nil
}

// TestQueueValidation: a parent cycle and a child guaranteed more than its
// parent get a False Valid condition naming the queues and the resource,
// and one Warning event each, not repeated by the resyncs; fixing the child
// makes it valid again.
func TestQueueValidation(t *testing.T) {
	m := startQueueController(t)
	createQueue(t, "qv-a", "qv-b", "")
	createQueue(t, "qv-b", "qv-a", "")
	createQueue(t, "qv-org", "", "8")
	createQueue(t, "qv-research", "qv-org", "16")

	c := waitCondition(t, "qv-a", gantryv1alpha1.QueueConditionValid, metav1.ConditionFalse, queuemodel.ReasonParentCycle)
	if !strings.Contains(c.Message, "qv-a -> qv-b -> qv-a") {
		t.Errorf("qv-a Valid condition: %s: %s", c.Reason, c.Message)
	}
	c = waitCondition(t, "qv-research", gantryv1alpha1.QueueConditionValid, metav1.ConditionFalse, queuemodel.ReasonGuaranteeExceedsParent)
	if want := "queue qv-research guarantees 16 nvidia.com/gpu, more than its parent qv-org's 8"; c.Message != want {
		t.Errorf("qv-research Valid condition: %q, want %q", c.Message, want)
	}
	waitCondition(t, "qv-org", gantryv1alpha1.QueueConditionValid, metav1.ConditionTrue, queue.ReasonValid)

	// Several evaluations after the events were given, still one event
	// each, given once.
	invalid := []struct{ queue, reason, note string }{
		{"qv-research", queuemodel.ReasonGuaranteeExceedsParent, "more than its parent qv-org's 8"},
		{"qv-a", queuemodel.ReasonParentCycle, "qv-a -> qv-b -> qv-a"},
	}
	for _, want := range invalid {
		poll(t, 30*time.Second, fmt.Sprintf("a %s event on %s", want.reason, want.queue), func(ctx context.Context) (bool, error) {
			got, err := queueEvents(ctx, want.queue, want.reason)
			return len(got) > 0, err
		})
	}
	waitEvaluations(t, m, 3)
	for _, want := range invalid {
		got, err := queueEvents(t.Context(), want.queue, want.reason)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Count != 1 || got[0].Type != corev1.EventTypeWarning || !strings.Contains(got[0].Message, want.note) {
			t.Errorf("%s events on %s: %+v; want one Warning, given once, containing %q", want.reason, want.queue, got, want.note)
		} else if got[0].ReportingController != "gantry-controller/queue" {
			t.Errorf("event reported by %q", got[0].ReportingController)
		}
	}

	q, err := getQueue(t.Context(), "qv-research")
	if err != nil {
		t.Fatal(err)
	}
	q.Spec.Guaranteed[queue.GPUResource] = resource.MustParse("4")
	if err := controlPlane.Client.Update(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, "qv-research", gantryv1alpha1.QueueConditionValid, metav1.ConditionTrue, queue.ReasonValid)
}

// waitEvaluations waits until the Queue controller has evaluated the tree n
// more times: its work queue's count of finished items
// (workqueue_work_duration_seconds_count), which the ticker feeds every
// Interval even when nothing changes.
func waitEvaluations(t *testing.T, m *controller.Manager, n float64) {
	t.Helper()
	series := fmt.Sprintf(`workqueue_work_duration_seconds_count{name="%s"}`, queue.Name)
	addr := m.Addr().String()
	from := metricValue(httpBody(t, addr, "/metrics"), series)
	poll(t, 30*time.Second, fmt.Sprintf("%v more evaluations of the queue tree", n), func(context.Context) (bool, error) {
		return metricValue(httpBody(t, addr, "/metrics"), series) >= from+n, nil
	})
}

// createGPUPod creates a pod asking for GPUs, with the given labels.
func createGPUPod(t *testing.T, ns, name string, gpus int64, podLabels map[string]string) *corev1.Pod {
	t.Helper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: podLabels},
		Spec: corev1.PodSpec{
			SchedulerName: "gantry",
			Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10", Resources: corev1.ResourceRequirements{
				Limits: corev1.ResourceList{queue.GPUResource: *resource.NewQuantity(gpus, resource.DecimalSI)},
			}}},
		},
	}
	got, err := kube.CoreV1().Pods(ns).Create(t.Context(), p, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating pod %s: %v", name, err)
	}
	return got
}

// TestQueueAccountingAndDeletion: bound pods show in allocated and
// borrowed, the GPU-seconds counters grow, and the queue cannot go while
// they run; it goes once they are gone.
func TestQueueAccountingAndDeletion(t *testing.T) {
	m := startQueueController(t)
	createQueue(t, "qd-team", "", "2")
	ns := newNamespace(t)
	// The namespace names the queue: its pods without a label of their own
	// are in it.
	nsObj, err := kube.CoreV1().Namespaces().Get(t.Context(), ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if nsObj.Labels == nil {
		nsObj.Labels = map[string]string{}
	}
	nsObj.Labels[gantryv1alpha1.QueueLabel] = "qd-team"
	if _, err := kube.CoreV1().Namespaces().Update(t.Context(), nsObj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	gang := map[string]string{"scheduling.x-k8s.io/pod-group": "train"}
	pods := []*corev1.Pod{
		createGPUPod(t, ns, "train-0", 2, gang),
		createGPUPod(t, ns, "train-1", 2, gang),
		createGPUPod(t, ns, "infer", 1, nil),
		createGPUPod(t, ns, "elsewhere", 4, map[string]string{gantryv1alpha1.QueueLabel: "qd-other"}),
	}
	poll(t, 30*time.Second, "qd-team to show 5 pending GPUs", func(ctx context.Context) (bool, error) {
		q, err := getQueue(ctx, "qd-team")
		if err != nil {
			return false, err
		}
		p := q.Status.Pending[queue.GPUResource]
		return p.Value() == 5 && q.Status.PendingWorkloads == 2, nil
	})
	q, err := getQueue(t.Context(), "qd-team")
	if err != nil {
		t.Fatal(err)
	}
	if !queue.HasFinalizer(q) {
		t.Errorf("qd-team has no %s finalizer: %v", gantryv1alpha1.QueueInUseFinalizer, q.Finalizers)
	}

	for _, p := range pods {
		bind(t, p, "gpu-node")
	}
	poll(t, 30*time.Second, "qd-team to show 5 allocated, 3 borrowed GPUs", func(ctx context.Context) (bool, error) {
		q, err = getQueue(ctx, "qd-team")
		if err != nil {
			return false, err
		}
		a, b := q.Status.Allocated[queue.GPUResource], q.Status.Borrowed[queue.GPUResource]
		return a.Value() == 5 && b.Value() == 3, nil
	})
	if q.Status.AdmittedWorkloads != 2 || q.Status.PendingWorkloads != 0 || len(q.Status.Pending) != 0 {
		t.Errorf("qd-team status: admitted %d, pending %d workloads, pending %v", q.Status.AdmittedWorkloads, q.Status.PendingWorkloads, q.Status.Pending)
	}

	addr := m.Addr().String()
	series := `gantry_queue_gpu_seconds_total{kind="borrowed",queue="qd-team"}`
	var first float64
	poll(t, 30*time.Second, "the borrowed GPU-seconds of qd-team to count", func(context.Context) (bool, error) {
		first = metricValue(httpBody(t, addr, "/metrics"), series)
		return first > 0, nil
	})
	poll(t, 30*time.Second, "the borrowed GPU-seconds of qd-team to grow", func(context.Context) (bool, error) {
		return metricValue(httpBody(t, addr, "/metrics"), series) >= first+3, nil // 3 borrowed GPUs for at least a second
	})
	metrics := httpBody(t, addr, "/metrics")
	for s, want := range map[string]float64{
		`gantry_queue_allocated{queue="qd-team",resource="nvidia.com/gpu"}`:  5,
		`gantry_queue_borrowed{queue="qd-team",resource="nvidia.com/gpu"}`:   3,
		`gantry_queue_guaranteed{queue="qd-team",resource="nvidia.com/gpu"}`: 2,
	} {
		if got := metricValue(metrics, s); got != want {
			t.Errorf("%s = %v, want %v\n%s", s, got, want, grepLines(metrics, "gantry_queue_"))
		}
	}
	if got := metricValue(metrics, `gantry_queue_gpu_seconds_total{kind="guaranteed",queue="qd-team"}`); got <= 0 {
		t.Errorf("guaranteed GPU-seconds of qd-team = %v, want > 0", got)
	}

	// Deleting the queue waits for its pods.
	if err := controlPlane.Client.Delete(t.Context(), &gantryv1alpha1.Queue{ObjectMeta: metav1.ObjectMeta{Name: "qd-team"}}); err != nil {
		t.Fatal(err)
	}
	c := waitCondition(t, "qd-team", gantryv1alpha1.QueueConditionDeletionBlocked, metav1.ConditionTrue, queue.ReasonWorkloadsRunning)
	if want := "3 pods of 2 workloads still run in queue qd-team"; c.Message != want {
		t.Errorf("DeletionBlocked says %q, want %q", c.Message, want)
	}
	poll(t, 30*time.Second, "a DeletionBlocked event on qd-team", func(ctx context.Context) (bool, error) {
		got, err := queueEvents(ctx, "qd-team", queue.EventDeletionBlocked)
		return len(got) > 0 && got[0].Type == corev1.EventTypeWarning, err
	})
	never(t, time.Second, "qd-team went while its pods run", func(ctx context.Context) (bool, error) {
		_, err := getQueue(ctx, "qd-team")
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})

	// A finished pod no longer holds the queue; deleted ones neither.
	setPhase(t, pods[0], corev1.PodSucceeded)
	waitConditionMessage(t, "qd-team", "2 pods of 2 workloads still run in queue qd-team")
	for _, p := range pods[1:3] {
		if err := kube.CoreV1().Pods(ns).Delete(t.Context(), p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
			t.Fatal(err)
		}
	}
	poll(t, 30*time.Second, "qd-team to be gone", func(ctx context.Context) (bool, error) {
		_, err := getQueue(ctx, "qd-team")
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	poll(t, 30*time.Second, "qd-team's metrics to be gone", func(context.Context) (bool, error) {
		return !strings.Contains(httpBody(t, addr, "/metrics"), `queue="qd-team"`), nil
	})
}

func waitConditionMessage(t *testing.T, name, message string) {
	t.Helper()
	poll(t, 30*time.Second, fmt.Sprintf("queue %s to say %q", name, message), func(ctx context.Context) (bool, error) {
		q, err := getQueue(ctx, name)
		if err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(q.Status.Conditions, gantryv1alpha1.QueueConditionDeletionBlocked)
		return c != nil && c.Message == message, nil
	})
}
