// Package gpustest builds the NodeGPUs and pods the scheduler's GPU tests
// place against.
package gpustest

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// TwoIslandSpec is an 8-GPU PCIe server with two 4-GPU NVLink islands, one
// per socket (0-3 and 4-7), that reach each other across the sockets only.
func TwoIslandSpec(node string) gantryv1alpha1.NodeGPUSpec {
	return Spec(node, 8, func(a, b int) gpu.Link {
		if a/4 == b/4 {
			return gpu.Link{Type: gpu.LinkNVLink, NVLinkLanes: 4}
		}
		return gpu.Link{Type: gpu.LinkSystem}
	})
}

// NVSwitchSpec is an n-GPU NVSwitch server: every pair NVLinked, 12 lanes.
func NVSwitchSpec(node string, n int) gantryv1alpha1.NodeGPUSpec {
	return Spec(node, n, func(int, int) gpu.Link { return gpu.Link{Type: gpu.LinkNVLink, NVLinkLanes: 12} })
}

// Spec builds a NodeGPU spec of n GPUs (UUIDs UUID(node, i), first half on
// NUMA node 0) linked by link.
func Spec(node string, n int, link func(a, b int) gpu.Link) gantryv1alpha1.NodeGPUSpec {
	devs := make([]gpu.Device, n)
	links := map[[2]int]gpu.Link{}
	for a := range n {
		devs[a] = gpu.Device{Index: a, UUID: UUID(node, a), NUMANode: a * 2 / n, Model: "NVIDIA A100-SXM4-80GB"}
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

// UUID is the UUID of GPU i of node in these fixtures.
func UUID(node string, i int) string { return fmt.Sprintf("GPU-%s-%d", node, i) }

// UUIDs are the UUIDs of node's GPUs at idx.
func UUIDs(node string, idx ...int) []string {
	out := make([]string, len(idx))
	for i, x := range idx {
		out[i] = UUID(node, x)
	}
	return out
}

// NodeGPU wraps a spec with the status a device plugin would publish.
func NodeGPU(name, rv string, s gantryv1alpha1.NodeGPUSpec, unhealthy []int, allocated map[int]string) *gantryv1alpha1.NodeGPU {
	ng := &gantryv1alpha1.NodeGPU{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: rv}, Spec: s}
	for _, i := range unhealthy {
		ng.Status.Health = append(ng.Status.Health, gantryv1alpha1.GPUHealth{Index: int32(i), Health: gantryv1alpha1.Unhealthy, Reason: "XID79"})
	}
	for i, pod := range allocated {
		ng.Status.Allocations = append(ng.Status.Allocations, gantryv1alpha1.GPUAllocation{Index: int32(i), PodNamespace: "ns", PodName: pod})
	}
	return ng
}

// GPUPod is a pod in namespace ns asking for gpus nvidia.com/gpu.
func GPUPod(name string, gpus int64) *v1.Pod {
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "c"}}},
	}
	if gpus > 0 {
		p.Spec.Containers[0].Resources.Limits = v1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(gpus, resource.DecimalSI)}
	}
	return p
}

// Bound returns pod bound to node, annotated with the GPUs at idx.
func Bound(pod *v1.Pod, node string, idx ...int) *v1.Pod {
	p := pod.DeepCopy()
	p.Spec.NodeName = node
	if len(idx) > 0 {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		ids := ""
		for i, u := range UUIDs(node, idx...) {
			if i > 0 {
				ids += ","
			}
			ids += u
		}
		p.Annotations[gantryv1alpha1.GPUIDsAnnotation] = ids
	}
	return p
}

// Positions is the set of GPU positions idx.
func Positions(idx ...int) gpu.Set {
	var s gpu.Set
	for _, i := range idx {
		s = s.Add(i)
	}
	return s
}
