package gpus

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gantry-gpu/gantry/pkg/gpu"
)

func TestMinLink(t *testing.T) {
	tests := []struct {
		annotations map[string]string
		want        gpu.LinkType
		wantErr     string
	}{
		{annotations: nil, want: gpu.LinkUnknown},
		{annotations: map[string]string{MinLinkAnnotation: "NVLink"}, want: gpu.LinkNVLink},
		{annotations: map[string]string{MinLinkAnnotation: " SingleSwitch "}, want: gpu.LinkSingleSwitch},
		{annotations: map[string]string{MinLinkAnnotation: "System"}, want: gpu.LinkSystem},
		{annotations: map[string]string{MinLinkAnnotation: "nvlink"}, wantErr: `annotation gantry.dev/min-gpu-link: "nvlink" is not a GPU link type; use one of NVLink, SameBoard,`},
		{annotations: map[string]string{MinLinkAnnotation: ""}, wantErr: "annotation gantry.dev/min-gpu-link"},
	}
	for _, tt := range tests {
		got, err := MinLink(&v1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: tt.annotations}})
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("MinLink(%v) error = %v, want %q", tt.annotations, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("MinLink(%v) = %v, %v; want %v", tt.annotations, got, err, tt.want)
		}
	}
}
