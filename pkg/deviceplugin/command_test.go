package deviceplugin

import (
	"strings"
	"testing"
	"time"

	"github.com/gantry-gpu/gantry/pkg/nodelease"
)

func TestOptionsValidate(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(*Options)
		wantErr []string // substrings; none means valid
	}{
		{name: "defaults", mutate: func(*Options) {}},
		{name: "fixture backend", mutate: func(o *Options) { o.NVML = "fixture:dgx-a100" }},
		{name: "per-model resources", mutate: func(o *Options) { o.Resources = []string{"nvidia.com/a100=A100", "nvidia.com/gpu"} }},
		{name: "no API server needs no node name", mutate: func(o *Options) { o.PublishNodeGPU = false; o.NodeName = "" }},
		{name: "node name missing", mutate: func(o *Options) { o.NodeName = "" }, wantErr: []string{"--node-name"}},
		{name: "resource given twice", mutate: func(o *Options) { o.Resources = []string{"nvidia.com/gpu", "nvidia.com/gpu=A100"} }, wantErr: []string{`"nvidia.com/gpu" is given twice`}},
		{name: "no resource", mutate: func(o *Options) { o.Resources = nil }, wantErr: []string{"at least one resource"}},
		{name: "check interval too short", mutate: func(o *Options) { o.HealthCheckInterval = 0 }, wantErr: []string{"--health-check-interval"}},
		{name: "negative quiet period", mutate: func(o *Options) { o.RecoveryQuietPeriod = -time.Second }, wantErr: []string{"--recovery-quiet-period"}},
		{name: "bad metrics address", mutate: func(o *Options) { o.MetricsBindAddress = "localhost" }, wantErr: []string{"--metrics-bind-address"}},
		{name: "empty socket dir", mutate: func(o *Options) { o.KubeletSocketDir = "" }, wantErr: []string{"--kubelet-socket-dir"}},
		{name: "unknown backend", mutate: func(o *Options) { o.NVML = "cuda" }, wantErr: []string{`--nvml: "cuda"`}},
		{name: "fixture without name", mutate: func(o *Options) { o.NVML = "fixture:" }, wantErr: []string{`--nvml: "fixture:"`}},
		{name: "lease namespace missing", mutate: func(o *Options) { o.LeaseNamespace = "" }, wantErr: []string{"--lease-namespace must not be empty"}},
		{name: "lease namespace invalid", mutate: func(o *Options) { o.LeaseNamespace = "Gantry_System" }, wantErr: []string{`--lease-namespace: "Gantry_System"`}},
		{name: "lease duration too short", mutate: func(o *Options) { o.LeaseDuration = 500 * time.Millisecond }, wantErr: []string{"--lease-duration: 500ms is less than 1s"}},
		{name: "lease duration not whole seconds", mutate: func(o *Options) { o.LeaseDuration = 1500 * time.Millisecond }, wantErr: []string{"--lease-duration: 1.5s is not a whole number"}},
		{name: "node name too long for its lease", mutate: func(o *Options) { o.NodeName = strings.Repeat("n", 243) }, wantErr: []string{"--node-name", "too long for its Lease name"}},
		{name: "no API server needs no lease", mutate: func(o *Options) { o.PublishNodeGPU = false; o.LeaseNamespace = ""; o.LeaseDuration = 0 }},
		{name: "foreign resource domain", mutate: func(o *Options) { o.Resources = []string{"amd.com/gpu"} }, wantErr: []string{`--resource: "amd.com/gpu"`}},
		{
			name:    "every error reported",
			mutate:  func(o *Options) { o.NVML = "x"; o.Resources = []string{"nvidia.com/"} },
			wantErr: []string{"--nvml", "--resource"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := NewOptions()
			o.NodeName = "gpu-node-1"
			tc.mutate(o)
			err := o.Validate()
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors naming %v", tc.wantErr)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Validate() = %q, want it to contain %q", err, want)
				}
			}
		})
	}
}

func TestLeaseNamespaceDefaultsToThePodsOwn(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "gpu-operators")
	if got := NewOptions().LeaseNamespace; got != "gpu-operators" {
		t.Errorf("with $POD_NAMESPACE set: lease namespace %q, want gpu-operators", got)
	}
	t.Setenv("POD_NAMESPACE", "")
	if got := NewOptions().LeaseNamespace; got != nodelease.DefaultNamespace {
		t.Errorf("outside a pod: lease namespace %q, want %s", got, nodelease.DefaultNamespace)
	}
}
