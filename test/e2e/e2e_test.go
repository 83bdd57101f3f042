// Package e2e runs Gantry end to end on the local cluster of `make demo`
// (test/localcluster, the same code): real etcd, kube-apiserver and
// kube-controller-manager, KWOK as the kubelet of six fake GPU nodes, the
// rendered chart's RBAC, configuration and admission policy applied
// server-side, and gantry-device-plugin, gantry-scheduler and
// gantry-controller as processes acting as the chart's ServiceAccounts.
// It submits deploy/examples and checks what a user would: the training
// gang bound whole on NVLink-only GPU sets, the queues' accounting in
// Queue status, the canary bound by Gantry, the Job created from the 11:00
// CronJob completing, and the gang finishing.
//
// It runs only with GANTRY_E2E=1 (`make test-e2e`, which builds bin/
// first): `make test` runs `go test ./...`, and this package would start a
// second cluster of eight processes beside the integration tests' on a
// two-core machine, and needs the binaries `make build` makes.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/kubectlgantry"
	"github.com/gantry-gpu/gantry/test/framework"
	"github.com/gantry-gpu/gantry/test/localcluster"
)

func TestMain(m *testing.M) {
	if os.Getenv("GANTRY_E2E") != "1" {
		fmt.Println("e2e: not run: set GANTRY_E2E=1 (`make test-e2e` does, after `make tools build`)")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(string(b[:len(b)-1]))
	return len(b), nil
}

const (
	trainFor = "20s"
	inferFor = "5s"
)

func TestExamplesEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	binDir := os.Getenv("GANTRY_BIN_DIR")
	if binDir == "" {
		binDir = filepath.Join(framework.RepoRoot(), "bin")
	}
	dir := t.TempDir()
	cluster, err := localcluster.Up(ctx, localcluster.Options{Dir: dir, BinDir: binDir, Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range cluster.Processes() {
				t.Logf("--- %s (%s), last lines:\n%s", p.Name, p.Log, p.LogTail(15))
			}
		}
		if err := cluster.Down(); err != nil {
			t.Errorf("stopping the cluster: %v", err)
		}
	})
	c := cluster.CP.Client
	narrateCtx, stopNarrating := context.WithCancel(ctx)
	defer stopNarrating()
	go cluster.Narrate(narrateCtx, testLog{t})

	apply := func(file, runFor string) {
		t.Helper()
		objs, err := localcluster.LoadExample(file, runFor)
		if err != nil {
			t.Fatal(err)
		}
		if err := cluster.Apply(ctx, objs); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}

	apply("queues-two-teams.yaml", "")
	apply("pytorch-ddp-gang.yaml", trainFor)

	// The gang: all four members bound, each to its own node, each on a
	// set of 8 GPUs that are all NVLink to each other: only the DGX nodes
	// have that (the PCIe nodes' 8 GPUs are two NVLink islands, or none).
	gang := waitPods(ctx, t, c, "research", 4, time.Minute, func(p *corev1.Pod) bool { return p.Spec.NodeName != "" })
	nodes := map[string]bool{}
	for _, p := range gang {
		nodes[p.Spec.NodeName] = true
		pl, err := cluster.Placement(ctx, p)
		if err != nil {
			t.Fatalf("gang member %s: %v", p.Name, err)
		}
		if len(pl.Indexes) != 8 || pl.Weakest.Type != gpu.LinkNVLink {
			t.Errorf("gang member %s on %s: %s; want 8 GPUs joined by NVLink only", p.Name, p.Spec.NodeName, pl)
		}
		if p.Spec.SchedulerName != "gantry" {
			t.Errorf("gang member %s scheduler %q", p.Name, p.Spec.SchedulerName)
		}
	}
	if len(nodes) != 4 {
		t.Errorf("gang members on nodes %v, want four nodes", nodes)
	}
	waitPodGroupPhase(ctx, t, c, "research", "llm-ddp", schedv1alpha1.PodGroupRunning)

	// What the README tells users to run: kubectl gantry nodes, against
	// the cluster's kubeconfig, sees every node's GPUs and the gang's.
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "kubectl-gantry"), "nodes", "-o", "json", "--kubeconfig", cluster.Kubeconfig).Output()
	if err != nil {
		t.Fatalf("kubectl-gantry nodes: %v", err)
	}
	var view kubectlgantry.NodesView
	if err := json.Unmarshal(out, &view); err != nil {
		t.Fatalf("kubectl-gantry nodes -o json: %v\n%s", err, out)
	}
	if len(view.Nodes) != len(localcluster.DefaultNodes) {
		t.Errorf("kubectl-gantry nodes lists %d nodes, want %d", len(view.Nodes), len(localcluster.DefaultNodes))
	}
	for _, n := range view.Nodes {
		if !n.HasNodeGPU {
			t.Errorf("kubectl-gantry nodes: %s has no NodeGPU", n.Name)
		}
		if nodes[n.Name] && n.UsedGPUs != 8 {
			t.Errorf("kubectl-gantry nodes: %s (a gang member's node) uses %d GPUs, want 8", n.Name, n.UsedGPUs)
		}
	}

	// Queue accounting, from gantry-controller's Queue status: research
	// holds the gang's 32 GPUs, 24 of them beyond its guarantee of 8.
	waitQueue(ctx, t, c, "research", func(s gantryv1alpha1.QueueStatus) bool {
		return gpuCount(s.Allocated) == 32 && gpuCount(s.Borrowed) == 24
	}, "allocated 32 and borrowed 24 GPUs")
	waitQueue(ctx, t, c, "org", func(s gantryv1alpha1.QueueStatus) bool { return gpuCount(s.Allocated) >= 32 }, "at least 32 GPUs allocated (its child research)")

	// The canary: bound by Gantry with a GPU of its choosing, and running.
	apply("inference-canary.yaml", "")
	canary := waitPods(ctx, t, c, "inference", 1, time.Minute, func(p *corev1.Pod) bool {
		return p.Labels["track"] == "canary" && p.Status.Phase == corev1.PodRunning
	})[0]
	if canary.Spec.SchedulerName != "gantry" || canary.Annotations[gantryv1alpha1.GPUIDsAnnotation] == "" {
		t.Errorf("canary %s: scheduler %q, %s %q; want bound by gantry with its GPUs named", canary.Name, canary.Spec.SchedulerName, gantryv1alpha1.GPUIDsAnnotation, canary.Annotations[gantryv1alpha1.GPUIDsAnnotation])
	}
	// ... beside the stable replicas, which the default scheduler runs.
	waitPods(ctx, t, c, "inference", 9, time.Minute, func(p *corev1.Pod) bool {
		return p.Labels["track"] == "stable" && p.Spec.NodeName != "" && p.Spec.SchedulerName == corev1.DefaultSchedulerName
	})

	// The 11:00 batch, now: a Job from the CronJob completes.
	apply("daily-inference-cronjob.yaml", inferFor)
	job, err := cluster.TriggerCronJob(ctx, "inference", "daily-scoring", "daily-scoring-e2e")
	if err != nil {
		t.Fatal(err)
	}
	waitJob(ctx, t, c, job, 3*time.Minute)
	var scorers corev1.PodList
	if err := c.List(ctx, &scorers, client.InNamespace("inference"), client.MatchingLabels{"batch.kubernetes.io/job-name": job.Name}); err != nil {
		t.Fatal(err)
	}
	for _, p := range scorers.Items {
		if p.Status.Phase == corev1.PodSucceeded && p.Annotations[gantryv1alpha1.GPUIDsAnnotation] == "" {
			t.Errorf("scorer %s succeeded without %s: not bound by Gantry", p.Name, gantryv1alpha1.GPUIDsAnnotation)
		}
	}

	// The gang's Job completes after its run, the PodGroup is Finished,
	// and research's allocation goes back to nothing.
	var train batchv1.Job
	if err := c.Get(ctx, client.ObjectKey{Namespace: "research", Name: "llm-ddp"}, &train); err != nil {
		t.Fatal(err)
	}
	waitJob(ctx, t, c, &train, 3*time.Minute)
	waitPodGroupPhase(ctx, t, c, "research", "llm-ddp", schedv1alpha1.PodGroupFinished)
	waitQueue(ctx, t, c, "research", func(s gantryv1alpha1.QueueStatus) bool { return gpuCount(s.Allocated) == 0 }, "nothing allocated once the gang finished")
}

func gpuCount(l corev1.ResourceList) int64 {
	q, ok := l[framework.GPUResource]
	if !ok {
		return 0
	}
	return q.Value()
}

// waitPods waits until n pods of ns satisfy ok and returns them.
func waitPods(ctx context.Context, t *testing.T, c client.Client, ns string, n int, timeout time.Duration, ok func(*corev1.Pod) bool) []*corev1.Pod {
	t.Helper()
	var got []*corev1.Pod
	var all int
	err := localcluster.WaitFor(ctx, timeout, func(ctx context.Context) (bool, error) {
		var pods corev1.PodList
		if err := c.List(ctx, &pods, client.InNamespace(ns)); err != nil {
			return false, err
		}
		got, all = nil, len(pods.Items)
		for i := range pods.Items {
			if ok(&pods.Items[i]) {
				got = append(got, &pods.Items[i])
			}
		}
		return len(got) >= n, nil
	})
	if err != nil {
		t.Fatalf("namespace %s: %d of %d pods as wanted after %s, want %d: %v", ns, len(got), all, timeout, n, err)
	}
	return got
}

func waitPodGroupPhase(ctx context.Context, t *testing.T, c client.Client, ns, name string, phase schedv1alpha1.PodGroupPhase) {
	t.Helper()
	var pg schedv1alpha1.PodGroup
	if err := localcluster.WaitFor(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &pg)
		return err == nil && pg.Status.Phase == phase, client.IgnoreNotFound(err)
	}); err != nil {
		t.Fatalf("PodGroup %s/%s phase %q, want %q: %v", ns, name, pg.Status.Phase, phase, err)
	}
}

func waitQueue(ctx context.Context, t *testing.T, c client.Client, name string, ok func(gantryv1alpha1.QueueStatus) bool, want string) {
	t.Helper()
	var q gantryv1alpha1.Queue
	if err := localcluster.WaitFor(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Name: name}, &q); err != nil {
			return false, err
		}
		return ok(q.Status), nil
	}); err != nil {
		t.Fatalf("Queue %s status %+v, want %s: %v", name, q.Status, want, err)
	}
}

func waitJob(ctx context.Context, t *testing.T, c client.Client, job *batchv1.Job, timeout time.Duration) {
	t.Helper()
	if err := localcluster.WaitFor(ctx, timeout, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(job), job); err != nil {
			return false, err
		}
		for _, cond := range job.Status.Conditions {
			if cond.Status != corev1.ConditionTrue {
				continue
			}
			switch cond.Type {
			case batchv1.JobComplete:
				return true, nil
			case batchv1.JobFailed:
				return false, fmt.Errorf("job failed: %s: %s", cond.Reason, cond.Message)
			}
		}
		return false, nil
	}); err != nil {
		t.Fatalf("Job %s/%s did not complete (status %+v): %v", job.Namespace, job.Name, job.Status, err)
	}
}
