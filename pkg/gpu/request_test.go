package gpu

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
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

func TestPodGPUs(t *testing.T) {
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
			if got := PodGPUs(pod, res); got != tt.want {
				t.Errorf("GPURequest = %d, want %d", got, tt.want)
			}
		})
	}
}
