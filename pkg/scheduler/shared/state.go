package shared

import (
	"context"
	"errors"
	"fmt"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gpus"
	"github.com/gantry-gpu/gantry/pkg/scheduler/queues"
)

// State is one scheduler's shared state: built once by the scheduler's
// setup, before any plugin, and passed to every Gantry plugin's factory.
// The scheduler builds a plugin instance per profile that enables it; what
// the instances know must be one for the whole scheduler (a GPU reserved
// by a pod of one profile must not be handed to a pod of another).
//
// Its parts are built by the first plugin's call to Attach, from that
// plugin's framework handle: the scheduler's informers and its scheduling
// queue (for activation) are the same in every profile. Event handlers
// keep the parts current; plugins read them, and so do their queueing
// hints, which never write.
type State struct {
	Informers *Informers

	mu sync.Mutex
	// handle is the first attached plugin's framework handle: the
	// scheduler's informers and scheduling queue are the same in every
	// profile.
	handle fwk.Handle
	logger klog.Logger
	// ctx is the first attached plugin's context, the scheduler's: the
	// parts' own goroutines (the GPU cache's Lease checks) end with it.
	ctx context.Context
	// recorder is the first attached plugin's event recorder.
	recorder gpus.EventRecorder
	// resource is the GPU resource the plugins count, and the plugin
	// whose arguments named it first.
	resource     v1.ResourceName
	resourceFrom string

	gpus   *gpus.Cache
	gangs  *gangs.Index
	queues *queues.State

	reclaimer reclaimerSlot
}

// New builds the state for a scheduler talking to the API server at cfg.
func New(cfg *rest.Config) (*State, error) {
	inf, err := NewInformers(cfg)
	if err != nil {
		return nil, err
	}
	return &State{Informers: inf}, nil
}

// Attach is called by every Gantry plugin's factory before it asks for a
// part: the first call records the scheduler's handle, every call checks
// that the plugins count the same GPU resource (plugin names the caller,
// resource its resourceName).
func (s *State) Attach(ctx context.Context, h fwk.Handle, plugin string, resource v1.ResourceName) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handle == nil {
		s.handle, s.logger, s.ctx = h, klog.FromContext(ctx), ctx
		s.recorder = h.EventRecorder()
		s.resource, s.resourceFrom = resource, plugin
		return nil
	}
	if resource != s.resource {
		return fmt.Errorf("%s args resourceName %q differs from %s args resourceName %q: the plugins of one scheduler count one GPU resource",
			plugin, resource, s.resourceFrom, s.resource)
	}
	return nil
}

// errNotAttached is returned by the parts' getters before Attach.
var errNotAttached = errors.New("the shared state is not attached to a scheduler yet")

// pods is the scheduler's pod informer, under the refreshing wrapper: the
// parts apply events from their own handlers.
func (s *State) pods() toolscache.SharedIndexInformer {
	return s.Informers.rawPods(s.handle.SharedInformerFactory().Core().V1().Pods().Informer())
}

// GPUs is every node's GPUs and the sets reserved on them: the one place
// GPU sets are chosen. Built on first use; its informers start with the
// scheduler's, and its check of the device plugins' node Leases runs until
// the scheduler's context ends.
func (s *State) GPUs() (*gpus.Cache, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handle == nil {
		return nil, errNotAttached
	}
	if s.gpus != nil {
		return s.gpus, nil
	}
	nodeGPUs := s.Informers.Gantry.Gantry().V1alpha1().NodeGPUs()
	c := gpus.NewCache(s.logger.WithValues("state", "gpus"))
	podEvent, nodeGPUEvent, err := c.Watch(s.pods(), nodeGPUs.Informer(), nodeGPUs.Lister())
	if err != nil {
		return nil, fmt.Errorf("GPU cache: %w", err)
	}
	if err := c.WatchLeases(s.ctx, s.Informers.NodeLeases.Coordination().V1().Leases().Informer(), s.recorder); err != nil {
		return nil, fmt.Errorf("GPU cache: %w", err)
	}
	s.Informers.RefreshFirst(podsResource, podEvent)
	s.Informers.RefreshFirst(NodeGPUResource, nodeGPUEvent)
	s.gpus = c
	return c, nil
}

// Gangs is the gangs, their members and plans. Built on first use.
func (s *State) Gangs() (*gangs.Index, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gangsLocked()
}

func (s *State) gangsLocked() (*gangs.Index, error) {
	if s.handle == nil {
		return nil, errNotAttached
	}
	if s.gangs != nil {
		return s.gangs, nil
	}
	pods := s.pods()
	podGroups := s.Informers.PodGroups.Scheduling().V1alpha1().PodGroups()
	x, err := gangs.NewIndex(s.logger.WithValues("state", "gangs"), podGroups.Lister(), pods, s.handle)
	if err != nil {
		return nil, fmt.Errorf("gang index: %w", err)
	}
	if err := x.Watch(pods, podGroups.Informer()); err != nil {
		return nil, fmt.Errorf("gang index: %w", err)
	}
	// Upstream PodGroups from the scheduler's own factory, whose informer
	// the scheduler itself uses only when its GenericWorkload gate is on
	// (which GantryGang refuses): one watch either way. Only once the API
	// server serves them, which the index asks after the scheduler's
	// informers have synced: an informer of an unserved resource never
	// syncs.
	x.WatchUpstreamWhenServed(s.ctx, s.handle.ClientSet(), s.handle.SharedInformerFactory(), gangs.UpstreamDiscoveryInterval, pods.HasSynced)
	s.gangs = x
	return x, nil
}

// Queues is the queues' usage, waiting workloads and deferrals. Built on
// first use, with the gang index.
func (s *State) Queues() (*queues.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queues != nil {
		return s.queues, nil
	}
	x, err := s.gangsLocked()
	if err != nil {
		return nil, err
	}
	kube := s.handle.SharedInformerFactory().Core().V1()
	qs := s.Informers.Gantry.Gantry().V1alpha1().Queues()
	q, err := queues.New(s.logger.WithValues("state", "queues"), s.resource, queues.Informers{
		Pods:            s.pods(),
		Namespaces:      kube.Namespaces().Informer(),
		Queues:          qs.Informer(),
		QueueLister:     qs.Lister(),
		NamespaceLister: kube.Namespaces().Lister(),
	}, x, s.handle)
	if err != nil {
		return nil, fmt.Errorf("queues: %w", err)
	}
	s.Informers.RefreshFirst(podsResource, q.PodEvent)
	s.queues = q
	return q, nil
}
