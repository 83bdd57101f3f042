package framework

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	configv1 "k8s.io/kube-scheduler/config/v1"
	"sigs.k8s.io/yaml"
)

// SchedulerPluginsTool is scheduler-plugins' scheduler binary (Coscheduling,
// CapacityScheduling), built by hack/build-tools.sh from its own tools
// module: its plugins compile only against the framework of their release,
// so the benchmarks run it as a process beside the in-process schedulers.
const SchedulerPluginsTool = "scheduler-plugins"

// StartSchedulerTool runs a kube-scheduler binary built by `make tools`
// with configFile, as its own process serving only on loopback. It returns
// once the scheduler reports ready (its informers and event handlers
// synced), and a function that stops it; the test's cleanup stops it too.
func StartSchedulerTool(ctx context.Context, t testing.TB, tool, configFile string) (stop func()) {
	t.Helper()
	bin, err := toolBinary(tool)
	if err != nil {
		t.Fatal(err)
	}
	port, err := FreeLoopbackPort()
	if err != nil {
		t.Fatal(err)
	}
	p, err := StartProcess(tool, filepath.Join(t.TempDir(), tool+".log"), bin,
		"--config="+configFile, "--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	stop = func() {
		if err := p.Stop(); err != nil {
			t.Errorf("stopping %s: %v", tool, err)
		}
	}
	t.Cleanup(stop)
	if err := p.WaitServing(ctx, 2*time.Minute, fmt.Sprintf("https://127.0.0.1:%d/readyz", port)); err != nil {
		t.Fatal(err)
	}
	return stop
}

// MarshalSchedulerConfig writes cfg as YAML without the extension points
// it leaves empty: configv1 marshals every one, and a scheduler binary of
// an older release (SchedulerPluginsTool) decodes strictly and refuses the
// extension points it does not know.
func MarshalSchedulerConfig(cfg *configv1.KubeSchedulerConfiguration) ([]byte, error) {
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	profiles, _ := doc["profiles"].([]any)
	for _, p := range profiles {
		profile, _ := p.(map[string]any)
		plugins, _ := profile["plugins"].(map[string]any)
		for point, set := range plugins {
			if m, ok := set.(map[string]any); ok && len(m) == 0 {
				delete(plugins, point)
			}
		}
	}
	return yaml.Marshal(doc)
}
