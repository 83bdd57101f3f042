package scheduler

import (
	"bytes"
	"strings"
	"testing"
)

func TestVersionFlagPrintsGantryBuild(t *testing.T) {
	exited := -1
	exit = func(code int) { exited = code; panic("exit") }
	t.Cleanup(func() { exit = realExit })

	cmd := NewCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--version"})
	func() {
		defer func() {
			if r := recover(); r != nil && r != "exit" {
				panic(r)
			}
		}()
		_ = cmd.Execute()
	}()

	if exited != 0 {
		t.Fatalf("--version exit code = %d, want 0", exited)
	}
	if !strings.HasPrefix(out.String(), BinaryName+" ") {
		t.Errorf("--version printed %q, want it to start with %q", out.String(), BinaryName)
	}
}

func TestCommandIsKubeSchedulers(t *testing.T) {
	cmd := NewCommand()
	for _, flag := range []string{"config", "leader-elect", "secure-port", "kubeconfig"} {
		if cmd.Flags().Lookup(flag) == nil {
			t.Errorf("flag --%s missing: the command should be kube-scheduler's", flag)
		}
	}
	if cmd.Use != BinaryName {
		t.Errorf("Use = %q, want %q", cmd.Use, BinaryName)
	}
}
