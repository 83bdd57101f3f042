package controller

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	"github.com/gantry-gpu/gantry/test/framework"
)

// TestBinary runs the real gantry-controller binary with its flags as the
// service account: it prints its version, takes the Lease, serves health
// and metrics where --bind-address says, keeps PodGroup status, and on
// SIGTERM releases the Lease.
func TestBinary(t *testing.T) {
	bin := framework.BuildBinary(t, "./cmd/gantry-controller")
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "gantry-controller ") || !strings.Contains(string(out), "kubernetes v1.37.2") {
		t.Fatalf("gantry-controller --version: %v: %q", err, out)
	}

	kubeconfig, err := controlPlane.ImpersonatingKubeconfig(serviceAccount,
		[]string{"system:serviceaccounts", "system:serviceaccounts:" + systemNamespace, "system:authenticated"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := freeLoopbackAddr(t)
	logPath := filepath.Join(t.TempDir(), "gantry-controller.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--kubeconfig", kubeconfig,
		"--leader-elect-namespace", systemNamespace,
		"--bind-address", addr,
		"--workers", "1",
		"-v=2",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		_ = logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("gantry-controller log:\n%s", b)
		}
	})

	poll(t, 30*time.Second, "gantry-controller to be ready on "+addr, func(context.Context) (bool, error) {
		return httpGet(addr, "/readyz") == nil, nil
	})
	if err := httpGet(addr, "/healthz"); err != nil {
		t.Error(err)
	}
	ns := newNamespace(t)
	createPodGroup(t, ns, "via-binary", 1)
	createMember(t, ns, "via-binary", "only", "gantry")
	waitPhase(t, ns, "via-binary", schedv1alpha1.PodGroupScheduling)
	if m := httpBody(t, addr, "/metrics"); metricValue(m, `gantry_controller_podgroups{phase="Scheduling"}`) < 1 {
		t.Errorf("/metrics does not count the Scheduling PodGroup:\n%s", grepLines(m, "gantry_controller_podgroups"))
	}

	var lease coordinationv1.Lease
	key := client.ObjectKey{Namespace: systemNamespace, Name: leaseName}
	if err := controlPlane.Client.Get(t.Context(), key, &lease); err != nil {
		t.Fatal(err)
	}
	if h := lease.Spec.HolderIdentity; h == nil || *h == "" {
		t.Fatalf("the binary is ready but the Lease has no holder")
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("gantry-controller exited on SIGTERM with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("gantry-controller did not exit within 30s of SIGTERM")
	}
	if err := controlPlane.Client.Get(t.Context(), key, &lease); err != nil {
		t.Fatal(err)
	}
	if h := lease.Spec.HolderIdentity; h != nil && *h != "" {
		t.Errorf("after SIGTERM the Lease is still held by %q", *h)
	}
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
