package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/test/framework"
)

func TestBinariesPrintVersionAndHelp(t *testing.T) {
	for _, name := range []string{"gantry-scheduler", "gantry-device-plugin"} {
		t.Run(name, func(t *testing.T) {
			bin := framework.BuildBinary(t, "./cmd/"+name)

			out, err := exec.Command(bin, "--version").CombinedOutput()
			if err != nil {
				t.Fatalf("%s --version: %v\n%s", name, err, out)
			}
			if !strings.HasPrefix(string(out), name+" ") || !strings.Contains(string(out), "kubernetes v1.37.2") {
				t.Errorf("%s --version printed %q, want the binary's name and the pinned kubernetes version", name, out)
			}

			out, err = exec.Command(bin, "--help").CombinedOutput()
			if err != nil {
				t.Fatalf("%s --help: %v\n%s", name, err, out)
			}
			if !strings.Contains(string(out), "Usage:") || !strings.Contains(string(out), name) {
				t.Errorf("%s --help printed no usage:\n%s", name, out)
			}
		})
	}
}

func TestDevicePluginRejectsBadFlags(t *testing.T) {
	bin := framework.BuildBinary(t, "./cmd/gantry-device-plugin")
	out, err := exec.Command(bin, "--nvml=gpu-please", "--resource=amd.com/gpu", "--node-name=n1").CombinedOutput()
	if err == nil {
		t.Fatalf("gantry-device-plugin accepted invalid flags:\n%s", out)
	}
	for _, want := range []string{`--nvml: "gpu-please"`, `--resource: "amd.com/gpu"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output does not name the bad flag (%s):\n%s", want, out)
		}
	}
}

// TestSchedulerBindsOptedInPods runs the real gantry-scheduler binary with the
// shipped configuration against the control plane: it must take its leader
// lease, bind a pod that names schedulerName gantry, and leave alone a pod
// that names the default scheduler.
func TestSchedulerBindsOptedInPods(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c := controlPlane.Client
	bin := framework.BuildBinary(t, "./cmd/gantry-scheduler")

	logPath := filepath.Join(t.TempDir(), "gantry-scheduler.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// Run as the scheduler's service account, so the test proves that
	// deploy/rbac/scheduler.yaml grants enough.
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gantry-system"}}); client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
	if _, err := controlPlane.ApplyManifest(ctx, filepath.Join(framework.RepoRoot(), "deploy", "rbac", "scheduler.yaml")); err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := controlPlane.ImpersonatingKubeconfig("system:serviceaccount:gantry-system:gantry-scheduler",
		[]string{"system:serviceaccounts", "system:serviceaccounts:gantry-system", "system:authenticated"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	config, err := framework.SchedulerConfig(kubeconfig, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sched := exec.CommandContext(ctx, bin,
		"--config", config,
		"--secure-port=0", // nothing to serve in a test; no port to collide on
		"-v=2",
	)
	sched.Stdout, sched.Stderr = logFile, logFile
	if err := sched.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = sched.Wait()
		_ = logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("gantry-scheduler log:\n%s", tail(b, 80))
		}
	})

	if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		var lease coordinationv1.Lease
		if err := c.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "gantry-scheduler"}, &lease); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "", nil
	}); err != nil {
		t.Fatalf("gantry-scheduler never took its leader lease: %v", err)
	}

	ns, err := controlPlane.CreateNamespace(ctx, "sched-binary")
	if err != nil {
		t.Fatal(err)
	}
	nodeName := "gpu-node-" + ns
	// The node's GPUs are described, so the scheduler also picks them and
	// names them on the pod through the Binding. The NodeGPU comes before
	// the node: the scheduler learns them from different watches, and a
	// pod scheduled onto a node whose NodeGPU it has not seen yet is bound
	// by count, without GPUs named.
	if err := c.Create(ctx, nvswitchNode(nodeName)); err != nil {
		t.Fatal(err)
	}
	// Other tests' nodes share the API server: pin the pods to this one.
	if _, err := controlPlane.CreateReadyNode(ctx, nodeName, map[string]string{"gantry-test": ns}, corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("512Gi"),
		"nvidia.com/gpu": resource.MustParse("8"),
	}); err != nil {
		t.Fatal(err)
	}
	gantryPod := gpuPod(ns, "opted-in", "gantry", 4)
	defaultPod := gpuPod(ns, "default-scheduler", corev1.DefaultSchedulerName, 1)
	for _, p := range []*corev1.Pod{gantryPod, defaultPod} {
		p.Spec.NodeSelector = map[string]string{"gantry-test": ns}
		if err := c.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(gantryPod), gantryPod); err != nil {
			return false, err
		}
		return gantryPod.Spec.NodeName != "", nil
	}); err != nil {
		t.Fatalf("the pod that opted in to gantry was not bound: %v", err)
	}
	if gantryPod.Spec.NodeName != nodeName {
		t.Errorf("pod bound to %q, want %q", gantryPod.Spec.NodeName, nodeName)
	}
	if ids := gantryv1alpha1.ParseGPUIDs(gantryPod.Annotations[gantryv1alpha1.GPUIDsAnnotation]); len(ids) != 4 {
		t.Errorf("pod annotated with GPUs %v, want 4", ids)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(defaultPod), defaultPod); err != nil {
		t.Fatal(err)
	}
	if defaultPod.Spec.NodeName != "" {
		t.Errorf("gantry-scheduler bound a pod of the default scheduler to %q", defaultPod.Spec.NodeName)
	}
}

func gpuPod(ns, name, schedulerName string, gpus int64) *corev1.Pod {
	q := *resource.NewQuantity(gpus, resource.DecimalSI)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{
			SchedulerName: schedulerName,
			Containers: []corev1.Container{{
				Name:  "train",
				Image: "registry.example/train:latest",
				Resources: corev1.ResourceRequirements{
					Limits: corev1.ResourceList{"nvidia.com/gpu": q},
				},
			}},
		},
	}
}

func tail(b []byte, lines int) []byte {
	all := bytes.Split(b, []byte("\n"))
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return bytes.Join(all, []byte("\n"))
}
