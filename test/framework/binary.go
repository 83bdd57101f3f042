package framework

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BuildBinary builds one of Gantry's commands (e.g. "./cmd/gantry-scheduler")
// into the test's temporary folder and returns its path. Go's build cache
// makes repeated builds cheap.
func BuildBinary(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = RepoRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// SchedulerConfig writes the shipped scheduler configuration
// (deploy/config/scheduler-config.yaml) into dir with its client connection
// pointed at kubeconfig, and returns the file's path. kube-scheduler ignores
// --kubeconfig once --config is given, so the path must be in the file.
func SchedulerConfig(kubeconfig, dir string) (string, error) {
	shipped, err := os.ReadFile(filepath.Join(RepoRoot(), "deploy", "config", "scheduler-config.yaml"))
	if err != nil {
		return "", fmt.Errorf("reading the shipped scheduler configuration: %w", err)
	}
	if bytes.Contains(shipped, []byte("\nclientConnection:")) {
		return "", fmt.Errorf("the shipped scheduler configuration sets clientConnection; SchedulerConfig would override it")
	}
	cfg := append(shipped, []byte(fmt.Sprintf("clientConnection:\n  kubeconfig: %q\n", kubeconfig))...)
	path := filepath.Join(dir, "scheduler-config.yaml")
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		return "", fmt.Errorf("writing scheduler configuration: %w", err)
	}
	return path, nil
}
