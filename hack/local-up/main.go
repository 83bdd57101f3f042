// Command local-up runs Gantry on this machine without a cluster or GPUs:
// etcd and kube-apiserver from _output/tools (with Gantry's CRDs), a few
// GPU nodes registered as Ready, one gantry-device-plugin per node on an
// NVML fixture publishing the node's NodeGPU, gantry-scheduler with the
// shipped configuration, and a demo pod that opts in to Gantry. It prints
// what happens and how to point kubectl at the API server, and stops
// everything on Ctrl-C.
//
// No kubelet runs here yet (fake kubelets come with the local-cluster
// work), so bound pods stay Pending and the device plugins keep retrying
// their kubelet registration.
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

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/test/framework"
)

func main() {
	scheduler := flag.String("scheduler", "bin/gantry-scheduler", "Path of the gantry-scheduler binary.")
	devicePlugin := flag.String("device-plugin", "bin/gantry-device-plugin", "Path of the gantry-device-plugin binary.")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *scheduler, *devicePlugin); err != nil {
		fmt.Fprintf(os.Stderr, "local-up: %v\n", err)
		os.Exit(1)
	}
}

// nodes are the demo's GPU nodes and the NVML fixture each one runs.
var nodes = []struct{ name, fixture string }{
	{"gpu-node-0", "dgx-a100"},
	{"gpu-node-1", "dgx-h100"},
	{"gpu-node-2", "pcie-2island"},
}

func run(ctx context.Context, schedulerBin, devicePluginBin string) (err error) {
	for _, bin := range []string{schedulerBin, devicePluginBin} {
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("%s: %w (run `make build`)", bin, err)
		}
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

	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = p.Wait()
		}
	}()
	for _, n := range nodes {
		if _, err := cp.CreateReadyNode(ctx, n.name, map[string]string{"nvidia.com/gpu.present": "true"}, corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("96"), corev1.ResourceMemory: resource.MustParse("1Ti"),
			"nvidia.com/gpu": resource.MustParse("8"),
		}); err != nil {
			return err
		}
		socketDir := filepath.Join(dir, n.name, "device-plugins")
		if err := os.MkdirAll(socketDir, 0o755); err != nil {
			return err
		}
		p, err := startLogged(ctx, filepath.Join(dir, n.name, "gantry-device-plugin.log"), devicePluginBin,
			"--nvml=fixture:"+n.fixture, "--node-name="+n.name, "--kubeconfig="+kubeconfig,
			"--kubelet-socket-dir="+socketDir, "--pod-resources-socket=", "--metrics-bind-address=", "--publish-interval=10s")
		if err != nil {
			return err
		}
		procs = append(procs, p)
	}
	for _, n := range nodes {
		var ng gantryv1alpha1.NodeGPU
		if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			err := cp.Client.Get(ctx, client.ObjectKey{Name: n.name}, &ng)
			return err == nil && ng.Status.HeartbeatTime != nil, client.IgnoreNotFound(err)
		}); err != nil {
			return fmt.Errorf("node %s: no NodeGPU published (see %s): %w", n.name, filepath.Join(dir, n.name, "gantry-device-plugin.log"), err)
		}
		topo, err := gpu.FromSpec(ng.Spec)
		if err != nil {
			return err
		}
		fmt.Printf("local-up: node %s: gantry-device-plugin (fixture %s) published %d× %s, %d NVLink island(s), %d healthy\n",
			n.name, n.fixture, len(ng.Spec.GPUs), ng.Spec.GPUs[0].Model, len(topo.Islands()), ng.Status.Healthy)
	}

	config, err := framework.SchedulerConfig(kubeconfig, dir)
	if err != nil {
		return err
	}
	logPath := filepath.Join(dir, "gantry-scheduler.log")
	sched, err := startLogged(ctx, logPath, schedulerBin, "--config", config, "--secure-port=0", "-v=2")
	if err != nil {
		return err
	}
	procs = append(procs, sched)
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
	fmt.Printf("local-up: gantry-scheduler bound %s/%s to %s", ns, pod.Name, pod.Spec.NodeName)
	if ids := pod.Annotations[gantryv1alpha1.GPUIDsAnnotation]; ids != "" {
		fmt.Printf(" on GPUs %s", ids)
	}
	fmt.Println()
	fmt.Println("local-up: running; press Ctrl-C to stop and clean up")
	<-ctx.Done()
	fmt.Println("local-up: stopping")
	return nil
}

// startLogged starts a process whose output goes to a log file; it gets
// SIGTERM when ctx ends. The caller Waits for it.
func startLogged(ctx context.Context, logPath, bin string, args ...string) (*exec.Cmd, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// SIGTERM first, so the daemons shut down cleanly.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	return cmd, nil
}
