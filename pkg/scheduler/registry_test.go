package scheduler

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"
)

// kubeconfig points at a server that is never contacted: Setup builds
// clients and the plugins, it does not talk to the API server.
const kubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`

// setup runs kube-scheduler's setup with Gantry's plugins on config (the
// shipped configuration's text with replacements applied).
func setup(t *testing.T, replace ...string) error {
	t.Helper()
	shipped, err := os.ReadFile(filepath.Join("..", "..", "deploy", "config", "scheduler-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(shipped)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(cfg, replace[i]) {
			t.Fatalf("the shipped configuration has no %q to replace", replace[i])
		}
		cfg = strings.Replace(cfg, replace[i], replace[i+1], 1)
	}
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	cfg = strings.Replace(cfg, "leaderElect: true", "leaderElect: false", 1) + "clientConnection:\n  kubeconfig: " + kc + "\n"
	if err := os.WriteFile(kc, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := options.NewOptions()
	opts.ConfigFile = path
	opts.SecureServing.BindPort = 0
	_, _, err = Setup(ctx, opts)
	return err
}

func TestShippedConfigurationLoads(t *testing.T) {
	if err := setup(t); err != nil {
		t.Fatalf("the shipped configuration does not load with Gantry's plugins: %v", err)
	}
}

func TestBadPluginArgsStopTheScheduler(t *testing.T) {
	tests := []struct {
		name    string
		replace []string
		want    string
	}{
		{"negative weight", []string{"qualityWeight: 60", "qualityWeight: -1"}, "qualityWeight: Invalid value: -1: must be between 0 and 100"},
		{"misspelt field", []string{"packingWeight: 40", "packingWieght: 40"}, `unknown field "packingWieght"`},
		{"bad resource", []string{"resourceName: nvidia.com/gpu", "resourceName: cpu"}, `resourceName: Invalid value: "cpu"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := setup(t, tt.replace...)
			t.Log(err)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "GantryGPUTopology") {
				t.Errorf("setup error = %v, want one naming the plugin and %q", err, tt.want)
			}
		})
	}
}
