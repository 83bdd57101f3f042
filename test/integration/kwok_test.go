package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gantry-gpu/gantry/test/framework"
)

// TestKWOKJobRunsToCompletion: with kube-controller-manager's Job
// controller and KWOK running (framework.StartControllerManager,
// framework.StartKWOK), a Job's pod bound to a KWOK GPU node turns Running
// with a start time, Succeeds its sim.gantry.dev/run-for after it started,
// and the Job completes. No scheduler runs here: the test binds the pod
// itself, through a Binding as a scheduler would. Only the Job controller
// runs, and it is stopped when the test ends, because the package's other
// tests create pods with owners that do not exist (a garbage collector
// would delete them).
func TestKWOKJobRunsToCompletion(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := controlPlane.Client

	stopKCM, err := controlPlane.StartControllerManager(ctx, "job-controller")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stopKCM(); err != nil {
			t.Errorf("stopping kube-controller-manager: %v", err)
		}
	})
	stopKWOK, err := controlPlane.StartKWOK(ctx, framework.KWOKOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stopKWOK(); err != nil {
			t.Errorf("stopping kwok: %v", err)
		}
	})

	node, err := controlPlane.CreateKWOKGPUNode(ctx, "kwok-job-node", 8, map[string]string{"test": t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), node) })
	if got := node.Status.Allocatable[framework.GPUResource]; got.Value() != 8 {
		t.Errorf("node allocatable GPUs = %s, want 8", got.String())
	}
	if node.Labels[framework.GPUPresentLabel] != "true" {
		t.Errorf("node labels %v lack %s=true", node.Labels, framework.GPUPresentLabel)
	}

	// Many at once, as benchmarks make them: every one Ready.
	var many []framework.KWOKGPUNode
	for i := range 24 {
		many = append(many, framework.KWOKGPUNode{Name: fmt.Sprintf("kwok-many-%02d", i), GPUs: 8})
	}
	start := time.Now()
	if err := controlPlane.CreateKWOKGPUNodes(ctx, many, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d KWOK nodes Ready in %s", len(many), time.Since(start).Round(time.Millisecond))
	for _, n := range many {
		t.Cleanup(func() {
			_ = c.Delete(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name}})
		})
	}

	ns, err := controlPlane.CreateNamespace(ctx, "kwok-job")
	if err != nil {
		t.Fatal(err)
	}
	const runFor = 3 * time.Second
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "train"},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](0),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{framework.RunForAnnotation: "3s"}},
				Spec: corev1.PodSpec{
					// A scheduler no one runs: the test binds the pod.
					SchedulerName: "kwok-test-nobody",
					RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{
						Name: "train", Image: "registry.example/train:latest",
						Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{framework.GPUResource: resource.MustParse("2")}},
					}},
				},
			},
		},
	}
	if err := c.Create(ctx, job); err != nil {
		t.Fatal(err)
	}

	// The Job controller creates the pod.
	var pod corev1.Pod
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var pods corev1.PodList
		if err := c.List(ctx, &pods, client.InNamespace(ns)); err != nil {
			return false, err
		}
		if len(pods.Items) > 0 {
			pod = pods.Items[0]
			return true, nil
		}
		return false, nil
	}); err != nil {
		t.Fatalf("the Job controller created no pod: %v", err)
	}
	if err := c.SubResource("binding").Create(ctx, &pod, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: pod.Name},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node.Name},
	}); err != nil {
		t.Fatalf("binding pod %s: %v", pod.Name, err)
	}

	// KWOK runs it: Running, Ready, with a start time.
	var running corev1.Pod
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(&pod), &running); err != nil {
			return false, err
		}
		return running.Status.Phase != corev1.PodPending, nil
	}); err != nil {
		t.Fatalf("pod %s did not leave Pending on KWOK node %s: %v", pod.Name, node.Name, err)
	}
	if running.Status.Phase != corev1.PodRunning || running.Status.StartTime == nil || !podReady(&running) {
		t.Fatalf("pod %s: phase %s, startTime %v, ready %v; want Running, set, true", pod.Name, running.Status.Phase, running.Status.StartTime, podReady(&running))
	}

	// ... and Succeeds its run-for after it started.
	var done corev1.Pod
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(&pod), &done); err != nil {
			return false, err
		}
		return done.Status.Phase == corev1.PodSucceeded || done.Status.Phase == corev1.PodFailed, nil
	}); err != nil {
		t.Fatalf("pod %s did not finish: %v", pod.Name, err)
	}
	if done.Status.Phase != corev1.PodSucceeded {
		t.Fatalf("pod %s phase %s, want Succeeded", pod.Name, done.Status.Phase)
	}
	if len(done.Status.ContainerStatuses) != 1 || done.Status.ContainerStatuses[0].State.Terminated == nil ||
		done.Status.ContainerStatuses[0].State.Terminated.ExitCode != 0 {
		t.Fatalf("pod %s container statuses %+v, want one terminated with exit code 0", pod.Name, done.Status.ContainerStatuses)
	}
	finished := done.Status.ContainerStatuses[0].State.Terminated.FinishedAt.Time
	ran := finished.Sub(done.Status.StartTime.Time)
	// Times have one-second resolution; the stage rounds the end up.
	if ran < runFor-time.Second || ran > runFor+2*time.Second {
		t.Errorf("pod %s ran %s (startTime %s, finishedAt %s), want about %s", pod.Name, ran, done.Status.StartTime, finished, runFor)
	}

	// The Job completes.
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(job), job); err != nil {
			return false, err
		}
		for _, cond := range job.Status.Conditions {
			if cond.Type == batchv1.JobComplete && cond.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatalf("Job %s/%s did not complete (status %+v): %v", ns, job.Name, job.Status, err)
	}
	if job.Status.Succeeded != 1 {
		t.Errorf("Job succeeded = %d, want 1", job.Status.Succeeded)
	}

	// A running pod that is deleted goes away: KWOK terminates it and,
	// with no finalizers left, removes it.
	gone := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "server"},
		Spec: corev1.PodSpec{
			NodeName:   node.Name,
			Containers: []corev1.Container{{Name: "serve", Image: "registry.example/serve:latest"}},
		},
	}
	if err := c.Create(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKeyFromObject(gone), gone)
		return gone.Status.Phase == corev1.PodRunning, err
	}); err != nil {
		t.Fatalf("pod %s without run-for did not turn Running: %v", gone.Name, err)
	}
	if err := c.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKeyFromObject(gone), gone)
		return client.IgnoreNotFound(err) == nil && err != nil, client.IgnoreNotFound(err)
	}); err != nil {
		t.Fatalf("deleted pod %s was not removed (phase %s): %v", gone.Name, gone.Status.Phase, err)
	}

	// One annotated sim.gantry.dev/stop-after takes that long to go, not
	// its whole grace period.
	slow := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "slow-to-stop", Annotations: map[string]string{framework.StopAfterAnnotation: "3s"}},
		Spec: corev1.PodSpec{
			NodeName:                      node.Name,
			TerminationGracePeriodSeconds: ptr.To[int64](60),
			Containers:                    []corev1.Container{{Name: "serve", Image: "registry.example/serve:latest"}},
		},
	}
	if err := c.Create(ctx, slow); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKeyFromObject(slow), slow)
		return slow.Status.Phase == corev1.PodRunning, err
	}); err != nil {
		t.Fatalf("pod %s did not turn Running: %v", slow.Name, err)
	}
	deleted := time.Now()
	if err := c.Delete(ctx, slow); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKeyFromObject(slow), slow)
		return client.IgnoreNotFound(err) == nil && err != nil, client.IgnoreNotFound(err)
	}); err != nil {
		t.Fatalf("deleted pod %s was not removed (phase %s): %v", slow.Name, slow.Status.Phase, err)
	}
	// Whole seconds: the deletion began within the second before "deleted".
	if took := time.Since(deleted); took < 2*time.Second || took > 8*time.Second {
		t.Errorf("pod %s annotated %s=3s took %s to go, want about 3s", slow.Name, framework.StopAfterAnnotation, took)
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
