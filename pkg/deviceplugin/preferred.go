package deviceplugin

import (
	"context"
	"fmt"
	"time"

	"k8s.io/klog/v2"

	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// Sources of a preferred allocation, as counted in metrics.
const (
	// SourceAnnotation: the scheduler's choice, from the pod informer.
	SourceAnnotation = "annotation"
	// SourceAnnotationFresh: the scheduler's choice, read from the API
	// server because the informer had not seen the binding yet.
	SourceAnnotationFresh = "annotation_fresh"
	// SourceAdmitting: the scheduler's choice for the one pod the kubelet
	// is admitting, told apart from other bound pods through PodResources.
	SourceAdmitting = "annotation_admitting"
	// SourceTopology: no bound pod's choice fits; chosen here.
	SourceTopology = "topology"
)

// AnnotatedSets lists the GPU sets (UUIDs) that gantry-scheduler chose for
// pods bound to this node and not finished, oldest pod first.
type AnnotatedSets interface {
	// AnnotatedSets answers from the pod informer's cache, which may not
	// have seen a binding yet: the kubelet asks for a pod's GPUs within a
	// millisecond of seeing it bound.
	AnnotatedSets() [][]string
	// FreshAnnotatedSets reads the node's pods from the API server.
	FreshAnnotatedSets(ctx context.Context) ([][]string, error)
}

// Admitting is what an AnnotatedSets may also offer: the sets of the pods
// the kubelet knows and has given no GPU yet. The pod the kubelet asks for
// is one of them, and the pods bound after it are not yet: among pods of
// the same size bound at once (a gang's members) it names the right one,
// where "oldest first" guesses.
type Admitting interface {
	AdmittingSets(ctx context.Context) ([][]string, error)
}

// PreferredAllocator answers the kubelet's GetPreferredAllocation. The
// kubelet does not say which pod it allocates for; it admits one pod at a
// time, so the pod in question is one whose annotated set is still wholly
// available and fits the request. The kubelet saw the binding, so the API
// server has it, with the scheduler's choice written in the same Binding:
// when the informer has no fitting set, the API server is asked before
// the plugin chooses itself. Only when no bound pod's set fits (a pod of
// another scheduler, or a choice the kubelet can no longer honour) is the
// best set by Gantry's scoring taken, kept off the GPUs that other bound
// pods were given and wait for where the node has room for that.
type PreferredAllocator struct {
	topo      *gpu.Topology
	annotated AnnotatedSets // nil when no scheduler choices are known
}

// NewPreferredAllocator returns an allocator over a node's topology.
// annotated may be nil.
func NewPreferredAllocator(topo *gpu.Topology, annotated AnnotatedSets) *PreferredAllocator {
	return &PreferredAllocator{topo: topo, annotated: annotated}
}

// freshReadTimeout bounds the API server read on an informer miss; the
// kubelet is waiting to admit the pod.
const freshReadTimeout = 3 * time.Second

// Choose returns size GPUs from available that include mustInclude, and where
// the choice came from.
func (p *PreferredAllocator) Choose(ctx context.Context, available, mustInclude []string, size int) ([]string, string, error) {
	logger := klog.FromContext(ctx)
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
	var waiting gpu.Set // GPUs other bound pods were given and are not yet allocated
	if a, ok := p.annotated.(Admitting); ok {
		readCtx, cancel := context.WithTimeout(ctx, freshReadTimeout)
		sets, err := a.AdmittingSets(readCtx)
		cancel()
		if err != nil {
			logger.Error(err, "Asking the kubelet which pods it has given no GPU yet; taking the oldest bound pod's choice")
		}
		if set, ok := p.fitting(sets, avail, must, size); ok {
			return p.topo.UUIDs(set), SourceAdmitting, nil
		}
	}
	if p.annotated != nil {
		if set, ok := p.fitting(p.annotated.AnnotatedSets(), avail, must, size); ok {
			return p.topo.UUIDs(set), SourceAnnotation, nil
		}
		readCtx, cancel := context.WithTimeout(ctx, freshReadTimeout)
		fresh, err := p.annotated.FreshAnnotatedSets(readCtx)
		cancel()
		if err != nil {
			logger.Error(err, "Reading the node's pods for the scheduler's choice; choosing by topology")
		}
		if set, ok := p.fitting(fresh, avail, must, size); ok {
			return p.topo.UUIDs(set), SourceAnnotationFresh, nil
		}
		for _, ids := range fresh {
			if set, err := p.topo.SetOfUUIDs(ids); err == nil && set&^avail == 0 {
				waiting |= set
			}
		}
	}
	from := avail
	if rest := avail &^ waiting; must&waiting == 0 && rest.Len() >= size {
		from = rest
	}
	set, score, err := p.topo.BestSet(from, must, size)
	if err != nil {
		return nil, "", fmt.Errorf("choosing %d of %d available GPUs: %w", size, avail.Len(), err)
	}
	logger.V(2).Info("No bound pod's GPU choice fits; chose by topology", "gpus", p.topo.Indexes(set), "score", score, "keptOff", p.topo.Indexes(waiting))
	return p.topo.UUIDs(set), SourceTopology, nil
}

// fitting returns the first set of size GPUs, all available, that holds
// must.
func (p *PreferredAllocator) fitting(sets [][]string, avail, must gpu.Set, size int) (gpu.Set, bool) {
	for _, ids := range sets {
		set, err := p.topo.SetOfUUIDs(ids)
		if err != nil || set.Len() != size || set&^avail != 0 || must&^set != 0 {
			continue
		}
		return set, true
	}
	return 0, false
}
