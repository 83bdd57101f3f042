package deviceplugin

import (
	"context"
	"fmt"

	"k8s.io/klog/v2"

	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// Sources of a preferred allocation, as counted in metrics.
const (
	SourceAnnotation = "annotation"
	SourceTopology   = "topology"
)

// AnnotatedSets lists the GPU sets (UUIDs) that gantry-scheduler chose for
// pods bound to this node and not finished, oldest pod first.
type AnnotatedSets interface {
	AnnotatedSets() [][]string
}

// PreferredAllocator answers the kubelet's GetPreferredAllocation. The
// kubelet does not say which pod it allocates for; it admits one pod at a
// time, so the pod in question is one whose annotated set is still wholly
// available and fits the request. Failing that, the best set by Gantry's
// scoring, the same the scheduler would choose.
type PreferredAllocator struct {
	topo      *gpu.Topology
	annotated AnnotatedSets // nil when no scheduler choices are known
}

// NewPreferredAllocator returns an allocator over a node's topology.
// annotated may be nil.
func NewPreferredAllocator(topo *gpu.Topology, annotated AnnotatedSets) *PreferredAllocator {
	return &PreferredAllocator{topo: topo, annotated: annotated}
}

// Choose returns size GPUs from available that include mustInclude, and where
// the choice came from.
func (p *PreferredAllocator) Choose(ctx context.Context, available, mustInclude []string, size int) ([]string, string, error) {
	avail, err := p.topo.SetOfUUIDs(available)
	if err != nil {
		return nil, "", fmt.Errorf("available devices: %w", err)
	}
	must, err := p.topo.SetOfUUIDs(mustInclude)
	if err != nil {
		return nil, "", fmt.Errorf("must-include devices: %w", err)
	}
	if must&^avail != 0 {
		return nil, "", fmt.Errorf("must-include devices %v are not available", p.topo.UUIDs(must&^avail))
	}
	if p.annotated != nil {
		for _, ids := range p.annotated.AnnotatedSets() {
			set, err := p.topo.SetOfUUIDs(ids)
			if err != nil || set.Len() != size || set&^avail != 0 || must&^set != 0 {
				continue
			}
			return p.topo.UUIDs(set), SourceAnnotation, nil
		}
	}
	set, score, err := p.topo.BestSet(avail, must, size)
	if err != nil {
		return nil, "", fmt.Errorf("choosing %d of %d available GPUs: %w", size, avail.Len(), err)
	}
	klog.FromContext(ctx).V(4).Info("Chose GPUs by topology", "gpus", p.topo.Indexes(set), "score", score)
	return p.topo.UUIDs(set), SourceTopology, nil
}
