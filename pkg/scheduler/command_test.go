package scheduler

import (
	"bytes"
	"strings"
	"testing"

	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/kubernetes/pkg/features"
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

// TestFeatureGateDefaults: gantry-scheduler turns NominatedNodeNameForExpectation
// off by default (nominations of Permit-waiting gang members outlive a
// restart and block the gang); TestGangSchedulerRestartMidBurst shows why.
func TestFeatureGateDefaults(t *testing.T) {
	t.Cleanup(func() {
		_ = utilfeature.DefaultMutableFeatureGate.SetFromMap(map[string]bool{string(features.NominatedNodeNameForExpectation): true})
	})
	_ = NewCommand()
	if utilfeature.DefaultFeatureGate.Enabled(features.NominatedNodeNameForExpectation) {
		t.Errorf("%s is on by default", features.NominatedNodeNameForExpectation)
	}
}
