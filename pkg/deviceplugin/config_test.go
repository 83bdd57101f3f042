package deviceplugin

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestConfigFile(t *testing.T) {
	write := func(t *testing.T, body string) string {
		p := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("file over defaults, flags over file", func(t *testing.T) {
		path := write(t, `
nodeName: gpu-7
nvml: fixture:dgx-h100
resources: ["nvidia.com/h100=H100"]
ignoredXIDs: [13, 31]
recoveryQuietPeriod: 10m
cdi: true
metricsBindAddress: ""
leaseNamespace: gpu-operators
leaseDuration: 1m
`)
		cmd := NewCommand()
		if err := cmd.Flags().Parse([]string{"--config", path, "--recovery-quiet-period=1m", "--node-name=gpu-8"}); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		o := NewOptions()
		o.NodeName, o.RecoveryQuietPeriod = "gpu-8", time.Minute // what the flags set
		cfg.ApplyTo(o, cmd.Flags())
		if o.NodeName != "gpu-8" || o.RecoveryQuietPeriod != time.Minute {
			t.Errorf("flags lost to the file: node %q, quiet %s", o.NodeName, o.RecoveryQuietPeriod)
		}
		if o.NVML != "fixture:dgx-h100" || !slices.Equal(o.Resources, []string{"nvidia.com/h100=H100"}) ||
			!slices.Equal(o.IgnoredXIDs, []uint{13, 31}) || !o.CDI || o.MetricsBindAddress != "" ||
			o.LeaseNamespace != "gpu-operators" || o.LeaseDuration != time.Minute {
			t.Errorf("file not applied: %+v", o)
		}
		if o.HealthCheckInterval != NewOptions().HealthCheckInterval {
			t.Errorf("an unset field changed a default: %s", o.HealthCheckInterval)
		}
		if err := o.Validate(); err != nil {
			t.Errorf("Validate: %v", err)
		}
	})

	for _, tc := range []struct{ name, body, want string }{
		{"unknown field", "recoveryQuietPeriods: 5m\n", `unknown field "recoveryQuietPeriods"`},
		{"bad duration", "healthCheckInterval: soon\n", "soon"},
		{"wrong type", "cdi: maybe\n", "cdi"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(write(t, tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadConfig err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
