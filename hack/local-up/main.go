// Command local-up runs Gantry on this machine without a cluster or GPUs
// (`make demo`, `make run`): the local cluster of test/localcluster (etcd,
// kube-apiserver, kube-controller-manager, KWOK with fake GPU nodes, one
// gantry-device-plugin per node on an NVML fixture, gantry-scheduler and
// gantry-controller under the chart's identities, a stand-in default
// scheduler), then the workloads of deploy/examples: the two-team queues,
// the inference canary, the 4 × 8-GPU training gang and, at once rather
// than at 11:00, a Job created from the daily inference CronJob. Pods of
// the Jobs finish after a short simulated run (--run-for). It prints what
// happens in plain lines and how to point kubectl at the cluster, and
// stops everything on SIGINT or SIGTERM (`make demo-down`).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gantry-gpu/gantry/test/framework"
	"github.com/gantry-gpu/gantry/test/localcluster"
)

func main() {
	dir := flag.String("state-dir", filepath.Join(framework.RepoRoot(), "_output", "demo"), "Folder of the cluster's kubeconfig, logs and pids.")
	bin := flag.String("bin", filepath.Join(framework.RepoRoot(), "bin"), "Folder of gantry-scheduler, gantry-device-plugin and gantry-controller.")
	trainFor := flag.String("train-for", "90s", "Simulated run time of each training pod (sim.gantry.dev/run-for).")
	inferFor := flag.String("infer-for", "30s", "Simulated run time of each inference batch pod.")
	scenario := flag.Bool("scenario", true, "Submit the examples; false leaves the cluster empty.")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *dir, *bin, *trainFor, *inferFor, *scenario); err != nil {
		fmt.Fprintf(os.Stderr, "local-up: %v\n", err)
		os.Exit(1)
	}
}

func say(format string, args ...any) {
	fmt.Printf("%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

type lineWriter struct{}

func (lineWriter) Write(b []byte) (int, error) {
	fmt.Printf("%s  %s", time.Now().Format("15:04:05"), b)
	return len(b), nil
}

func run(ctx context.Context, dir, bin, trainFor, inferFor string, scenario bool) (err error) {
	started := time.Now()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	c, err := localcluster.Up(ctx, localcluster.Options{Dir: dir, BinDir: bin, Log: lineWriter{}})
	if err != nil {
		return err
	}
	defer func() {
		say("stopping every process")
		if derr := c.Down(); derr != nil {
			fmt.Fprintf(os.Stderr, "local-up: stopping: %v\n", derr)
		}
		say("stopped")
	}()
	say("the cluster is up after %s; point kubectl at it with", time.Since(started).Round(100*time.Millisecond))
	fmt.Printf("\n    export KUBECONFIG=%s\n    kubectl get nodes,pods -A\n    %s nodes -o map    # GPU map per node\n    %s queues\n    %s gangs -A\n\n  logs: %s\n\n",
		c.Kubeconfig, filepath.Join(bin, "kubectl-gantry"), filepath.Join(bin, "kubectl-gantry"), filepath.Join(bin, "kubectl-gantry"), filepath.Join(dir, "logs"))
	if err := os.WriteFile(filepath.Join(dir, "ready"), []byte(time.Now().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return err
	}
	if scenario {
		go c.Narrate(ctx, os.Stdout)
		if err := submit(ctx, c, trainFor, inferFor); err != nil {
			return err
		}
		go summarize(ctx, c, bin)
	}
	<-ctx.Done()
	return nil
}

// submit applies the examples in the order a platform team would.
func submit(ctx context.Context, c *localcluster.Cluster, trainFor, inferFor string) error {
	step := func(file, runFor, what string) error {
		objs, err := localcluster.LoadExample(file, runFor)
		if err != nil {
			return err
		}
		say("== applying deploy/examples/%s: %s", file, what)
		return c.Apply(ctx, objs)
	}
	if err := step("queues-two-teams.yaml", "", "Queue tree org -> research (8 GPUs guaranteed, limit 32), inference (8 guaranteed), default"); err != nil {
		return err
	}
	say("== skipping deploy/examples/kubeflow-pytorchjob.yaml: it needs Kubeflow's training operator, which this cluster does not run")
	if err := step("pytorch-ddp-gang.yaml", trainFor, "PyTorch DDP, 4 pods x 8 GPUs, one gang (PodGroup llm-ddp, minMember 4), queue research; each pod runs "+trainFor); err != nil {
		return err
	}
	if err := waitBound(ctx, c, "research", 4, 2*time.Minute); err != nil {
		say("the training gang is not bound yet (%v); going on", err)
	}
	// After the gang: the stable Deployment is on the default scheduler,
	// which knows nothing of gangs; applied first, it spreads over the DGX
	// nodes, and its ReplicaSet refills every GPU Gantry preempts for the
	// gang (two schedulers, one pool of GPUs: what the canary is for).
	if err := step("inference-canary.yaml", "", "llm-serve: 9 stable replicas on the default scheduler, 1 canary on Gantry (NVLink only)"); err != nil {
		return err
	}
	time.Sleep(5 * time.Second)
	if err := step("daily-inference-cronjob.yaml", inferFor, "CronJob daily-scoring at 11:00 (Europe/Berlin), 4 pods x 2 GPUs, queue inference, high priority; each pod runs "+inferFor); err != nil {
		return err
	}
	if _, err := c.TriggerCronJob(ctx, "inference", "daily-scoring", "daily-scoring-manual"); err != nil {
		return err
	}
	say("== it is 11:00 somewhere: created Job inference/daily-scoring-manual from CronJob daily-scoring (as `kubectl create job --from=cronjob/daily-scoring` does)")
	return nil
}

func waitBound(ctx context.Context, c *localcluster.Cluster, ns string, n int, timeout time.Duration) error {
	return localcluster.WaitFor(ctx, timeout, func(ctx context.Context) (bool, error) {
		var pods corev1.PodList
		if err := c.CP.Client.List(ctx, &pods, client.InNamespace(ns)); err != nil {
			return false, err
		}
		bound := 0
		for _, p := range pods.Items {
			if p.Spec.NodeName != "" {
				bound++
			}
		}
		return bound >= n, nil
	})
}

// summarize waits for the scenario's two Jobs and prints the GPU map.
func summarize(ctx context.Context, c *localcluster.Cluster, bin string) {
	for _, j := range []client.ObjectKey{{Namespace: "research", Name: "llm-ddp"}, {Namespace: "inference", Name: "daily-scoring-manual"}} {
		var job batchv1.Job
		err := localcluster.WaitFor(ctx, 15*time.Minute, func(ctx context.Context) (bool, error) {
			if err := c.CP.Client.Get(ctx, j, &job); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			return job.Status.CompletionTime != nil || job.Status.Failed > 0, nil
		})
		if err != nil {
			return
		}
	}
	say("== both Jobs are done; the Deployments keep running. The GPUs now (kubectl gantry nodes -o map):")
	out, err := exec.CommandContext(ctx, filepath.Join(bin, "kubectl-gantry"), "nodes", "-o", "map", "--kubeconfig", c.Kubeconfig).CombinedOutput()
	if err != nil {
		say("kubectl-gantry nodes: %v", err)
	}
	fmt.Printf("%s\n", out)
	say("== `make demo-down` stops everything")
}
