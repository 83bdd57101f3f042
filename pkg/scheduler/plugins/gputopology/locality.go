package gputopology

import (
	v1 "k8s.io/api/core/v1"

	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/gputopology/core"
)

// LocalityScore says how close candidate is to the nodes already chosen for
// the same gang, 0 to 100, for the gang plugin to place members inside one
// topology domain. topologyKeys are node label keys, most specific first
// (e.g. an NVLink clique, the rack, the spine: GPUTopologyArgs.TopologyKeys).
//
// Each chosen node counts with the most specific domain it shares with the
// candidate: with k keys, the same node is 100, sharing keys[i] (both nodes
// have the label, with the same value) is 100·(k−i)/(k+1), sharing nothing
// is 0. So for three keys: same node 100, clique 75, rack 50, spine 25. The
// score is the average over the chosen nodes, rounded: a candidate close to
// most of the gang beats one close to a few. With nothing chosen yet every
// candidate is as close as any other, and the score is 0.
func LocalityScore(candidate *v1.Node, chosen []*v1.Node, topologyKeys []string) int64 {
	if candidate == nil || len(chosen) == 0 {
		return 0
	}
	k := int64(len(topologyKeys))
	var sum int64
	for _, other := range chosen {
		if other == nil {
			continue
		}
		if other.Name == candidate.Name {
			sum += core.MaxScore
			continue
		}
		for i, key := range topologyKeys {
			a, okA := candidate.Labels[key]
			b, okB := other.Labels[key]
			if okA && okB && a == b {
				sum += core.MaxScore * (k - int64(i)) / (k + 1)
				break
			}
		}
	}
	n := int64(len(chosen))
	return (sum + n/2) / n
}
