package gputopology

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gantry-gpu/gantry/pkg/gpu"
)

func container(limit, request string) v1.Container {
	c := v1.Container{Name: "c"}
	if limit != "" {
		c.Resources.Limits = v1.ResourceList{"nvidia.com/gpu": resource.MustParse(limit)}
	}
	if request != "" {
		c.Resources.Requests = v1.ResourceList{"nvidia.com/gpu": resource.MustParse(request)}
	}
	return c
}

func sidecar(limit string) v1.Container {
	c := container(limit, "")
	always := v1.ContainerRestartPolicyAlways
	c.RestartPolicy = &always
	return c
}

func TestGPURequest(t *testing.T) {
	tests := []struct {
		name           string
		containers     []v1.Container
		initContainers []v1.Container
		resource       v1.ResourceName
		want           int
	}{
		{name: "no GPUs", containers: []v1.Container{container("", "")}, want: 0},
		{name: "one container", containers: []v1.Container{container("4", "")}, want: 4},
		{name: "request without limit", containers: []v1.Container{container("", "2")}, want: 2},
		{name: "limit wins over request", containers: []v1.Container{container("3", "3")}, want: 3},
		{name: "containers add up", containers: []v1.Container{container("2", ""), container("1", ""), container("", "")}, want: 3},
		{
			name:           "a larger init container raises the peak",
			containers:     []v1.Container{container("2", "")},
			initContainers: []v1.Container{container("4", ""), container("1", "")},
			want:           4,
		},
		{
			name:           "a smaller init container does not add",
			containers:     []v1.Container{container("2", ""), container("2", "")},
			initContainers: []v1.Container{container("3", "")},
			want:           4,
		},
		{
			name:           "sidecars add to the app containers",
			containers:     []v1.Container{container("2", "")},
			initContainers: []v1.Container{sidecar("1")},
			want:           3,
		},
		{
			name:           "an init container after a sidecar runs beside it",
			containers:     []v1.Container{container("1", "")},
			initContainers: []v1.Container{sidecar("1"), container("4", "")},
			want:           5,
		},
		{name: "other resources do not count", containers: []v1.Container{container("4", "")}, resource: "example.com/gpu", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &v1.Pod{Spec: v1.PodSpec{Containers: tt.containers, InitContainers: tt.initContainers}}
			res := tt.resource
			if res == "" {
				res = "nvidia.com/gpu"
			}
			if got := GPURequest(pod, res); got != tt.want {
				t.Errorf("GPURequest = %d, want %d", got, tt.want)
			}
		})
	}
}

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
