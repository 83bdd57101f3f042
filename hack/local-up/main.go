// Command local-up runs Gantry on this machine without a cluster or GPUs:
// etcd and kube-apiserver from _output/tools (with Gantry's CRDs), a few
// GPU nodes registered as Ready, gantry-scheduler with the shipped
// configuration, and a demo pod that opts in to Gantry. It prints what
// happens and how to point kubectl at the API server, and stops everything
// on Ctrl-C.
//
// The device plugin and fake kubelets join this once they exist; until then
// the nodes are API objects only, so bound pods stay Pending (no kubelet runs
// them).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gantry-gpu/gantry/test/framework"
)

func main() {
	scheduler := flag.String("scheduler", "bin/gantry-scheduler", "Path of the gantry-scheduler binary.")
	nodes := flag.Int("nodes", 3, "Number of 8-GPU nodes to register.")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *scheduler, *nodes); err != nil {
		fmt.Fprintf(os.Stderr, "local-up: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, schedulerBin string, nodes int) (err error) {
	if _, err := os.Stat(schedulerBin); err != nil {
		return fmt.Errorf("%s: %w (run `make build`)", schedulerBin, err)
	}
	fmt.Println("local-up: starting etcd and kube-apiserver ...")
	cp, err := framework.Start()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cp.Stop()) }()

	dir := filepath.Join(framework.RepoRoot(), "_output", "local-up")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	raw, err := os.ReadFile(cp.Kubeconfig)
	if err != nil {
		return err
	}
	if err := os.WriteFile(kubeconfig, raw, 0o600); err != nil {
		return err
	}
	fmt.Printf("local-up: API server is up; use it with\n\n    export KUBECONFIG=%s\n\n", kubeconfig)

	for i := range nodes {
		name := fmt.Sprintf("gpu-node-%d", i)
		if _, err := cp.CreateReadyNode(ctx, name, map[string]string{"nvidia.com/gpu.present": "true"}, corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("96"), corev1.ResourceMemory: resource.MustParse("1Ti"),
			"nvidia.com/gpu": resource.MustParse("8"),
		}); err != nil {
			return err
		}
		fmt.Printf("local-up: registered node %s with 8 GPUs\n", name)
	}

	config, err := framework.SchedulerConfig(kubeconfig, dir)
	if err != nil {
		return err
	}
	logPath := filepath.Join(dir, "gantry-scheduler.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	sched := exec.CommandContext(ctx, schedulerBin, "--config", config, "--secure-port=0", "-v=2")
	sched.Stdout, sched.Stderr = logFile, logFile
	if err := sched.Start(); err != nil {
		return fmt.Errorf("starting gantry-scheduler: %w", err)
	}
	defer func() { _ = sched.Wait() }()
	fmt.Printf("local-up: gantry-scheduler started (log: %s)\n", logPath)

	ns, err := cp.CreateNamespace(ctx, "demo")
	if err != nil {
		return err
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "train-0"},
		Spec: corev1.PodSpec{
			SchedulerName: "gantry",
			Containers: []corev1.Container{{
				Name: "train", Image: "registry.example/train:latest",
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("4")}},
			}},
		},
	}
	if err := cp.Client.Create(ctx, pod); err != nil {
		return err
	}
	fmt.Printf("local-up: created pod %s/%s asking for 4 GPUs with schedulerName gantry\n", ns, pod.Name)
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := wait.PollUntilContextCancel(waitCtx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		err := cp.Client.Get(ctx, client.ObjectKeyFromObject(pod), pod)
		return pod.Spec.NodeName != "", err
	}); err != nil {
		return fmt.Errorf("pod %s/%s was not bound (see %s): %w", ns, pod.Name, logPath, err)
	}
	fmt.Printf("local-up: gantry-scheduler bound %s/%s to %s\n", ns, pod.Name, pod.Spec.NodeName)
	fmt.Println("local-up: running; press Ctrl-C to stop and clean up")
	<-ctx.Done()
	fmt.Println("local-up: stopping")
	return nil
}
