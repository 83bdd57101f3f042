package gputopology

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// twoIslandSpec is an 8-GPU PCIe server with two 4-GPU NVLink islands, one
// per socket (0-3 and 4-7), that reach each other across the sockets only.
func twoIslandSpec(node string) gantryv1alpha1.NodeGPUSpec {
	return spec(node, 8, func(a, b int) gpu.Link {
		if a/4 == b/4 {
			return gpu.Link{Type: gpu.LinkNVLink, NVLinkLanes: 4}
		}
		return gpu.Link{Type: gpu.LinkSystem}
	})
}

// nvswitchSpec is an n-GPU NVSwitch server: every pair NVLinked, 12 lanes.
func nvswitchSpec(node string, n int) gantryv1alpha1.NodeGPUSpec {
	return spec(node, n, func(int, int) gpu.Link { return gpu.Link{Type: gpu.LinkNVLink, NVLinkLanes: 12} })
}

// spec builds a NodeGPU spec of n GPUs (UUIDs uuid(node, i), first half on
// NUMA node 0) linked by link.
func spec(node string, n int, link func(a, b int) gpu.Link) gantryv1alpha1.NodeGPUSpec {
	devs := make([]gpu.Device, n)
	links := map[[2]int]gpu.Link{}
	for a := range n {
		devs[a] = gpu.Device{Index: a, UUID: uuid(node, a), NUMANode: a * 2 / n, Model: "NVIDIA A100-SXM4-80GB"}
		for b := a + 1; b < n; b++ {
			links[[2]int{a, b}] = link(a, b)
		}
	}
	topo, err := gpu.NewTopology(devs, links)
	if err != nil {
		panic(err)
	}
	return topo.Spec("550.54.15")
}

func uuid(node string, i int) string { return fmt.Sprintf("GPU-%s-%d", node, i) }

func uuids(node string, idx ...int) []string {
	out := make([]string, len(idx))
	for i, x := range idx {
		out[i] = uuid(node, x)
	}
	return out
}

// nodeGPU wraps a spec with the status a device plugin would publish.
func nodeGPU(name, rv string, s gantryv1alpha1.NodeGPUSpec, unhealthy []int, allocated map[int]string) *gantryv1alpha1.NodeGPU {
	ng := &gantryv1alpha1.NodeGPU{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: rv}, Spec: s}
	for _, i := range unhealthy {
		ng.Status.Health = append(ng.Status.Health, gantryv1alpha1.GPUHealth{Index: int32(i), Health: gantryv1alpha1.Unhealthy, Reason: "XID79"})
	}
	for i, pod := range allocated {
		ng.Status.Allocations = append(ng.Status.Allocations, gantryv1alpha1.GPUAllocation{Index: int32(i), PodNamespace: "ns", PodName: pod})
	}
	return ng
}

// gpuPod is a pod in namespace ns asking for gpus nvidia.com/gpu.
func gpuPod(name string, gpus int64) *v1.Pod {
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "c"}}},
	}
	if gpus > 0 {
		p.Spec.Containers[0].Resources.Limits = v1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(gpus, resource.DecimalSI)}
	}
	return p
}

// bound returns pod bound to node, annotated with the GPUs at idx.
func bound(pod *v1.Pod, node string, idx ...int) *v1.Pod {
	p := pod.DeepCopy()
	p.Spec.NodeName = node
	if len(idx) > 0 {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		ids := ""
		for i, u := range uuids(node, idx...) {
			if i > 0 {
				ids += ","
			}
			ids += u
		}
		p.Annotations[gantryv1alpha1.GPUIDsAnnotation] = ids
	}
	return p
}

func positions(idx ...int) gpu.Set {
	var s gpu.Set
	for _, i := range idx {
		s = s.Add(i)
	}
	return s
}

// testLogger logs to the test and keeps the lines for assertions.
type testLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *testLogger) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

func newTestLogger(t testing.TB) (klog.Logger, *testLogger) {
	tl := &testLogger{}
	return funcr.New(func(prefix, args string) {
		t.Log(prefix, args)
		tl.mu.Lock()
		defer tl.mu.Unlock()
		tl.lines = append(tl.lines, prefix+" "+args)
	}, funcr.Options{Verbosity: 5}), tl
}

func newTestCache(t testing.TB) (*Cache, *testLogger) {
	logger, logs := newTestLogger(t)
	return NewCache(logger), logs
}

func klogDiscard() klog.Logger { return klog.Background().V(10) }
