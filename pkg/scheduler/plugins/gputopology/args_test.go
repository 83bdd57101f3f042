package gputopology

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestParseArgsDefaults(t *testing.T) {
	tests := []struct {
		name string
		obj  runtime.Object
		want *GPUTopologyArgs
	}{
		{
			name: "no pluginConfig entry",
			obj:  nil,
			want: DefaultArgs(),
		},
		{
			name: "empty raw args",
			obj:  &runtime.Unknown{},
			want: DefaultArgs(),
		},
		{
			name: "left-out fields keep their defaults",
			obj:  &runtime.Unknown{Raw: []byte(`{"packingWeight": 70}`), ContentType: runtime.ContentTypeJSON},
			want: &GPUTopologyArgs{ResourceName: "nvidia.com/gpu", QualityWeight: 60, PackingWeight: 70, NoNodeGPUScore: 10},
		},
		{
			name: "an explicit 0 is kept",
			obj:  &runtime.Unknown{Raw: []byte(`{"qualityWeight": 0, "noNodeGPUScore": 0}`)},
			want: &GPUTopologyArgs{ResourceName: "nvidia.com/gpu", QualityWeight: 0, PackingWeight: 40, NoNodeGPUScore: 0},
		},
		{
			name: "every field",
			obj: &runtime.Unknown{Raw: []byte(`{"resourceName": "example.com/gpu", "qualityWeight": 1, "packingWeight": 2,
				"noNodeGPUScore": 3}`)},
			want: &GPUTopologyArgs{ResourceName: "example.com/gpu", QualityWeight: 1, PackingWeight: 2, NoNodeGPUScore: 3},
		},
		{
			name: "YAML",
			obj:  &runtime.Unknown{Raw: []byte("qualityWeight: 90\n"), ContentType: runtime.ContentTypeYAML},
			want: &GPUTopologyArgs{ResourceName: "nvidia.com/gpu", QualityWeight: 90, PackingWeight: 40, NoNodeGPUScore: 10},
		},
		{
			name: "typed args are taken as given, with an empty resource name defaulted",
			obj:  &GPUTopologyArgs{QualityWeight: 1},
			want: &GPUTopologyArgs{ResourceName: "nvidia.com/gpu", QualityWeight: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseArgs(tt.obj)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseArgsRejectsBadFields(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want []string
	}{
		{"negative quality weight", `{"qualityWeight": -1}`, []string{"qualityWeight: Invalid value: -1: must be between 0 and 100"}},
		{"packing weight above 100", `{"packingWeight": 101}`, []string{"packingWeight: Invalid value: 101: must be between 0 and 100"}},
		{"both weights 0", `{"qualityWeight": 0, "packingWeight": 0}`, []string{"packingWeight: Invalid value: 0: qualityWeight and packingWeight cannot both be 0"}},
		{"no-NodeGPU score out of range", `{"noNodeGPUScore": 200}`, []string{"noNodeGPUScore: Invalid value: 200: must be between 0 and 100"}},
		{"native resource", `{"resourceName": "cpu"}`, []string{`resourceName: Invalid value: "cpu": must be an extended resource name`}},
		{"unqualified resource", `{"resourceName": "gpu!"}`, []string{`resourceName: Invalid value: "gpu!"`}},
		{"topology keys belong to GantryGang", `{"topologyKeys": ["rack"]}`, []string{`unknown field "topologyKeys"`}},
		{"several at once", `{"qualityWeight": -1, "noNodeGPUScore": -2}`, []string{"qualityWeight: Invalid value: -1", "noNodeGPUScore: Invalid value: -2"}},
		{"misspelt field", `{"qualityWieght": 10}`, []string{`unknown field "qualityWieght"`}},
		{"wrong type", `{"qualityWeight": "high"}`, []string{"decoding GantryGPUTopology args"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseArgs(&runtime.Unknown{Raw: []byte(tt.raw), ContentType: runtime.ContentTypeJSON})
			if err == nil {
				t.Fatal("ParseArgs accepted bad args")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestNewFailsOnBadArgs checks that bad args stop the plugin before it
// touches the handle (nil here), with the field named.
func TestNewFailsOnBadArgs(t *testing.T) {
	_, err := New(context.Background(), &GPUTopologyArgs{ResourceName: "nvidia.com/gpu", QualityWeight: -1, PackingWeight: 1}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "qualityWeight: Invalid value: -1: must be between 0 and 100") {
		t.Fatalf("New with a negative weight: err = %v", err)
	}
	if _, err := ParseArgs(&runtime.Unknown{Raw: []byte(`[]`)}); err == nil {
		t.Error("ParseArgs accepted a JSON list")
	}
}
