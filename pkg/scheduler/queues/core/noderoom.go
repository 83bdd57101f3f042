package core

import (
	"maps"
	"slices"
	"time"

	v1 "k8s.io/api/core/v1"
)

// Waiting is a workload waiting in a queue, as Cluster.Pending yields it.
type Waiting struct {
	// Name names the workload: its gang, or its pod.
	Name string
	// Demand is what its waiting pods request.
	Demand v1.ResourceList
	// GPUs is what each of its waiting pods asks of the GPU resource
	// (pods that ask for none left out): what must fit node by node.
	GPUs []int64
	// Since is when the workload began to wait.
	Since time.Time
}

// NodeRoom is the idle amount of the GPU resource on the cluster's
// schedulable nodes, as a count of nodes by idle amount: {8: 3, 1: 40} is
// three nodes with 8 idle GPUs and forty with one. A pod's GPUs come from
// one node, so a workload that fits the cluster's idle total may still fit
// nowhere: 40 idle GPUs spread one per node hold no 8-GPU pod. A nil
// NodeRoom does not limit (only totals are judged).
type NodeRoom map[int64]int

// Clone copies the room; nil stays nil.
func (n NodeRoom) Clone() NodeRoom { return maps.Clone(n) }

// Place takes pods of the given GPU amounts from the room, biggest first,
// each from the node with the least idle room that holds it (best fit, as
// GantryGPUTopology packs pods), and reports whether every pod found a
// node. A pod that finds none takes nothing. On a nil room every pod fits.
func (n NodeRoom) Place(gpus []int64) bool {
	if n == nil {
		return true
	}
	pods := slices.Clone(gpus)
	slices.SortFunc(pods, func(a, b int64) int { return int(b - a) })
	ok := true
	for _, g := range pods {
		if g <= 0 {
			continue
		}
		best := int64(-1)
		for idle, nodes := range n {
			if nodes > 0 && idle >= g && (best < 0 || idle < best) {
				best = idle
			}
		}
		if best < 0 {
			ok = false
			continue
		}
		if n[best]--; n[best] == 0 {
			delete(n, best)
		}
		if rest := best - g; rest > 0 {
			n[rest]++
		}
	}
	return ok
}

// holds reports whether the room holds pods of the given GPU amounts, and
// takes nothing.
func (n NodeRoom) holds(gpus []int64) bool {
	if n == nil || len(gpus) == 0 {
		return true
	}
	return n.Clone().Place(gpus)
}
