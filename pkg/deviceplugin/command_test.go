package deviceplugin

import (
	"strings"
	"testing"
)

func TestOptionsValidate(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(*Options)
		wantErr []string // substrings; none means valid
	}{
		{name: "defaults", mutate: func(*Options) {}},
		{name: "fixture backend", mutate: func(o *Options) { o.NVML = "fixture:dgx-a100" }},
		{name: "per-model resource", mutate: func(o *Options) { o.ResourceName = "nvidia.com/a100" }},
		{name: "empty socket dir", mutate: func(o *Options) { o.KubeletSocketDir = "" }, wantErr: []string{"--kubelet-socket-dir"}},
		{name: "unknown backend", mutate: func(o *Options) { o.NVML = "cuda" }, wantErr: []string{`--nvml: "cuda"`}},
		{name: "fixture without name", mutate: func(o *Options) { o.NVML = "fixture:" }, wantErr: []string{`--nvml: "fixture:"`}},
		{name: "foreign resource domain", mutate: func(o *Options) { o.ResourceName = "gpu" }, wantErr: []string{`--resource-name: "gpu"`}},
		{
			name:    "every error reported",
			mutate:  func(o *Options) { o.NVML = "x"; o.ResourceName = "nvidia.com/" },
			wantErr: []string{"--nvml", "--resource-name"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := NewOptions()
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
