package kubectlgantry

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// GPU states in NodesView.
const (
	GPUFree      = "Free"
	GPUUsed      = "Used"
	GPUUnhealthy = "Unhealthy"
)

// NodesView is the output of `kubectl gantry nodes`.
//
// +kubebuilder:object:generate=true
// +kubebuilder:object:root=true
type NodesView struct {
	metav1.TypeMeta `json:",inline"`
	Nodes           []NodeMap `json:"nodes"`
}

// NodeMap is one node's GPUs.
//
// +kubebuilder:object:generate=true
type NodeMap struct {
	Name string `json:"name"`
	// HasNodeGPU is false for a node that advertises GPUs but has no
	// NodeGPU (no gantry-device-plugin): only counts are known then.
	HasNodeGPU bool `json:"hasNodeGPU"`
	// CapacityGPUs is the number of GPUs: spec.gpus of the NodeGPU, else
	// the node's allocatable GPU resource.
	CapacityGPUs int64 `json:"capacityGPUs"`
	// FreeGPUs, UsedGPUs and UnhealthyGPUs count the GPUs by state; an
	// unhealthy GPU that a pod holds counts as unhealthy. Without a NodeGPU,
	// UsedGPUs is what bound pods ask for and FreeGPUs the rest.
	FreeGPUs      int64 `json:"freeGPUs"`
	UsedGPUs      int64 `json:"usedGPUs"`
	UnhealthyGPUs int64 `json:"unhealthyGPUs"`
	// NVLinkIslands are the sets of GPU indexes joined by NVLink, largest
	// first; GPUs without NVLink belong to none.
	NVLinkIslands [][]int32 `json:"nvlinkIslands,omitempty"`
	GPUs          []GPUSlot `json:"gpus,omitempty"`
	// Pods are the pods holding GPUs of the node, namespace/name.
	Pods []string `json:"pods,omitempty"`
	// Problems are disagreements worth a look: GPU IDs annotated on a pod
	// that the node does not have, GPU pods bound here whose GPUs nobody
	// names, a NodeGPU whose node is gone.
	Problems []string `json:"problems,omitempty"`
}

// GPUSlot is one GPU of a node.
//
// +kubebuilder:object:generate=true
type GPUSlot struct {
	Index     int32  `json:"index"`
	UUID      string `json:"uuid"`
	Model     string `json:"model,omitempty"`
	MemoryMiB int64  `json:"memoryMiB,omitempty"`
	// NVLinkIsland is the position of the GPU's island in the node's
	// nvlinkIslands; absent when the GPU has no NVLink.
	NVLinkIsland *int `json:"nvlinkIsland,omitempty"`
	// State is Free, Used or Unhealthy.
	State string `json:"state"`
	// HealthReason is why an unhealthy GPU is so, e.g. "XID79".
	HealthReason string `json:"healthReason,omitempty"`
	// Pods holding the GPU, namespace/name: from the scheduler's
	// gantry.dev/gpu-ids annotations and the NodeGPU's allocations (the
	// kubelet's view), merged.
	Pods []string `json:"pods,omitempty"`
	// Mismatch is set when the scheduler's annotation and the kubelet's
	// allocation name different pods for the GPU.
	Mismatch string `json:"mismatch,omitempty"`
}

// BuildNodes builds the GPU map of the named nodes, or of every node with
// a NodeGPU or GPUs in its allocatable when names is empty.
func BuildNodes(s *State, names []string) NodesView {
	res := s.gpuResource()
	nodes := map[string]*corev1.Node{}
	for i := range s.Nodes {
		nodes[s.Nodes[i].Name] = &s.Nodes[i]
	}
	want := names
	if len(want) == 0 {
		set := map[string]bool{}
		for i := range s.NodeGPUs {
			set[s.NodeGPUs[i].Name] = true
		}
		for name, n := range nodes {
			if q, ok := n.Status.Allocatable[res]; ok && !q.IsZero() {
				set[name] = true
			}
		}
		for name := range set {
			want = append(want, name)
		}
		sort.Strings(want)
	}
	podsOn := map[string][]*corev1.Pod{}
	for i := range s.Pods {
		if p := &s.Pods[i]; bound(p) {
			podsOn[p.Spec.NodeName] = append(podsOn[p.Spec.NodeName], p)
		}
	}
	view := NodesView{TypeMeta: viewTypeMeta(KindNodesView)}
	for _, name := range want {
		ng := s.nodeGPU(name)
		var m NodeMap
		if ng != nil {
			m = nodeMapFromNodeGPU(ng, podsOn[name], res)
			if nodes[name] == nil && len(s.Nodes) > 0 {
				m.Problems = append(m.Problems, "no Node object of this name")
			}
		} else {
			m = nodeMapByCount(name, nodes[name], podsOn[name], res)
		}
		view.Nodes = append(view.Nodes, m)
	}
	return view
}

func nodeMapByCount(name string, node *corev1.Node, pods []*corev1.Pod, res corev1.ResourceName) NodeMap {
	m := NodeMap{Name: name}
	if node == nil {
		m.Problems = append(m.Problems, "no Node and no NodeGPU of this name")
		return m
	}
	if q, ok := node.Status.Allocatable[res]; ok {
		m.CapacityGPUs = q.Value()
	}
	for _, p := range pods {
		if n := int64(gpu.PodGPUs(p, res)); n > 0 {
			m.UsedGPUs += n
			m.Pods = append(m.Pods, podKey(p))
		}
	}
	sort.Strings(m.Pods)
	m.FreeGPUs = max(0, m.CapacityGPUs-m.UsedGPUs)
	m.Problems = append(m.Problems, "no NodeGPU (gantry-device-plugin not running here?): GPUs counted, not mapped")
	return m
}

func nodeMapFromNodeGPU(ng *gantryv1alpha1.NodeGPU, pods []*corev1.Pod, res corev1.ResourceName) NodeMap {
	m := NodeMap{Name: ng.Name, HasNodeGPU: true}
	gpus := append([]gantryv1alpha1.GPUDevice(nil), ng.Spec.GPUs...)
	sort.Slice(gpus, func(i, j int) bool { return gpus[i].Index < gpus[j].Index })
	byUUID := map[string]int32{}
	for _, g := range gpus {
		byUUID[g.UUID] = g.Index
	}
	health := map[int32]gantryv1alpha1.GPUHealth{}
	for _, h := range ng.Status.Health {
		health[h.Index] = h
	}
	if c := meta.FindStatusCondition(ng.Status.Conditions, gantryv1alpha1.NodeGPUAllocationsCurrent); c != nil && c.Status == metav1.ConditionFalse {
		m.Problems = append(m.Problems, fmt.Sprintf("allocations are as of %s, the kubelet unread since: %s",
			c.LastTransitionTime.UTC().Format(time.RFC3339), c.Message))
	}
	kubelet := map[int32][]string{}
	for _, a := range ng.Status.Allocations {
		kubelet[a.Index] = appendUnique(kubelet[a.Index], a.PodNamespace+"/"+a.PodName)
	}
	scheduler := map[int32][]string{}
	named := map[string]bool{}
	for _, p := range pods {
		ids := gantryv1alpha1.ParseGPUIDs(p.Annotations[gantryv1alpha1.GPUIDsAnnotation])
		for _, id := range ids {
			idx, ok := byUUID[id]
			if !ok {
				m.Problems = append(m.Problems, fmt.Sprintf("%s names GPU %s, which the node does not have", podKey(p), id))
				continue
			}
			scheduler[idx] = appendUnique(scheduler[idx], podKey(p))
		}
		if len(ids) > 0 {
			named[podKey(p)] = true
		}
	}
	for _, holders := range kubelet {
		for _, k := range holders {
			named[k] = true
		}
	}
	for _, p := range pods {
		if n := int64(gpu.PodGPUs(p, res)); n > 0 && !named[podKey(p)] {
			m.Problems = append(m.Problems, fmt.Sprintf("%s holds %d GPUs that neither %s nor the NodeGPU's allocations name", podKey(p), n, gantryv1alpha1.GPUIDsAnnotation))
		}
	}

	m.NVLinkIslands = nvlinkIslands(ng)
	island := map[int32]int{}
	for i, isl := range m.NVLinkIslands {
		for _, idx := range isl {
			island[idx] = i
		}
	}
	holders := map[string]bool{}
	for _, g := range gpus {
		slot := GPUSlot{Index: g.Index, UUID: g.UUID, Model: g.Model, MemoryMiB: g.MemoryMiB, State: GPUFree}
		if i, ok := island[g.Index]; ok {
			slot.NVLinkIsland = &i
		}
		slot.Pods = append(slot.Pods, scheduler[g.Index]...)
		for _, k := range kubelet[g.Index] {
			slot.Pods = appendUnique(slot.Pods, k)
		}
		if s, k := scheduler[g.Index], kubelet[g.Index]; len(s) > 0 && len(k) > 0 && strings.Join(s, ",") != strings.Join(k, ",") {
			slot.Mismatch = fmt.Sprintf("scheduler assigned it to %s, kubelet allocated it to %s", strings.Join(s, ","), strings.Join(k, ","))
		}
		if len(slot.Pods) > 0 {
			slot.State = GPUUsed
		}
		if h, ok := health[g.Index]; ok && h.Health == gantryv1alpha1.Unhealthy {
			slot.State = GPUUnhealthy
			slot.HealthReason = h.Reason
		}
		switch slot.State {
		case GPUFree:
			m.FreeGPUs++
		case GPUUsed:
			m.UsedGPUs++
		case GPUUnhealthy:
			m.UnhealthyGPUs++
		}
		for _, p := range slot.Pods {
			if !holders[p] {
				holders[p] = true
				m.Pods = append(m.Pods, p)
			}
		}
		m.GPUs = append(m.GPUs, slot)
	}
	m.CapacityGPUs = int64(len(gpus))
	return m
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// nvlinkIslands are the connected components of the NVLink links, largest
// first, then by lowest index.
func nvlinkIslands(ng *gantryv1alpha1.NodeGPU) [][]int32 {
	parent := map[int32]int32{}
	var find func(int32) int32
	find = func(x int32) int32 {
		if p, ok := parent[x]; ok && p != x {
			r := find(p)
			parent[x] = r
			return r
		}
		parent[x] = x
		return x
	}
	for _, l := range ng.Spec.Links {
		if l.Type != gantryv1alpha1.LinkNVLink {
			continue
		}
		a, b := find(l.A), find(l.B)
		if a != b {
			parent[max(a, b)] = min(a, b)
		}
	}
	groups := map[int32][]int32{}
	for x := range parent {
		r := find(x)
		groups[r] = append(groups[r], x)
	}
	var out [][]int32
	for _, g := range groups {
		sort.Slice(g, func(i, j int) bool { return g[i] < g[j] })
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i][0] < out[j][0]
	})
	return out
}
