package gpus

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	gantrylisters "github.com/gantry-gpu/gantry/pkg/generated/listers/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// Cache is the plugin's view of every node's GPUs, fed by informers and by
// the plugin's own reservations. It is safe for concurrent use.
//
// A node's allocated GPUs are the union of
//
//   - the GPUs its NodeGPU reports in status.allocations (the kubelet's
//     ground truth, as the device plugin last published it);
//   - the GPUs named in gantry.dev/gpu-ids on pods bound to the node that
//     have not finished: this covers the time before the kubelet reports
//     them, and lets a restarted scheduler rebuild exactly what it handed
//     out from the API server alone;
//   - the GPUs reserved in Reserve for pods not bound yet, so two pods
//     scheduled in one burst never get the same GPU.
//
// A reservation ends with Unreserve, or once the pod is seen bound (its
// annotation then speaks for it) or deleted. Pods and reservations are kept
// as GPU UUIDs and resolved against the node's current topology, so a
// NodeGPU that is rewritten, deleted and recreated, or that arrives after
// the pods, is counted right; UUIDs not on the node are ignored.
//
// NodeGPUs are applied from the NodeGPU informer's store (RefreshNodeGPU),
// in event handlers only, before the scheduler's own handler for the event
// runs its queueing hints (see shared.Informers.RefreshFirst).
//
// A NodeGPU whose spec does not make a topology is logged and the node is
// treated as having no NodeGPU: a bad object on one node must not stop
// scheduling on the others. So is a node whose device plugin's Lease
// expired (liveness.go).
type Cache struct {
	logger klog.Logger

	mu           sync.RWMutex
	nodes        map[string]*nodeEntry
	pods         map[types.UID]podRecord
	reservations map[types.UID]podRecord
	// slots publishes each node's NodeState for Node, which reads
	// without mu: the framework asks about hundreds of nodes in parallel
	// for every pod, and a shared read lock's counter, bounced between
	// cores, cost more than the rest. The map is copied on write, under
	// mu, only when a node gets or loses its slot (rare); a slot's state
	// is swapped atomically by recompute.
	slots atomic.Pointer[map[string]*nodeSlot]
	// refs remembers the slot of recently asked node objects, by the
	// object's address (see NodeOf): a hit costs a pointer comparison where
	// the map costs hashing and comparing the name, over a thousand times
	// per pod.
	refs [nodeRefs]atomic.Pointer[nodeRef]

	synced atomic.Pointer[func() bool]

	// weights are the scheduler's GPU-topology score weights (SetWeights),
	// nil before any is set.
	weights atomic.Pointer[Weights]

	// planned maps a pod's UID to the node and set its gang's plan chose
	// (SetPlanned), until the pod reserves, is unreserved or goes.
	planned sync.Map

	// live is the nodes' Leases, under mu.
	live liveness
}

// nodeRefs is the size of Cache.refs (256 KiB of pointers): some thirty
// times the nodes of a 1,000-node cluster, so that few addresses share an
// entry (at 8 times, one in eight did, and each such pair kept evicting the
// other).
const (
	nodeRefsBits = 15
	nodeRefs     = 1 << nodeRefsBits
)

// nodeRef is a node object and its slot in one version of the slots map.
type nodeRef struct {
	node  *v1.Node
	slots *map[string]*nodeSlot
	slot  *nodeSlot
}

// nodeSlot holds a node's published state: nil while the node has no
// usable NodeGPU.
type nodeSlot struct {
	state atomic.Pointer[NodeState]
}

// podRecord is a pod's GPUs on a node, as UUIDs.
type podRecord struct {
	node string
	ids  []string
}

// nodeEntry is one node. It exists while the node has a NodeGPU, pods or
// reservations.
type nodeEntry struct {
	// topology is nil when the node has no usable NodeGPU.
	topology *gpu.Topology
	// resourceVersion is the NodeGPU version applied ("" without one):
	// the same version is not read twice.
	resourceVersion string
	// uid is the NodeGPU's, for the events about it.
	uid     types.UID
	healthy gpu.Set
	// reported is status.allocations; reportedBy maps "namespace/name" to
	// the GPUs reported for that pod.
	reported   gpu.Set
	reportedBy map[string]gpu.Set

	pods     map[types.UID][]string
	reserved map[types.UID][]string

	// allocated is derived from the fields above by recompute.
	allocated gpu.Set
}

// NewCache returns an empty cache that reports itself synced until
// SetSyncedFunc says otherwise.
func NewCache(logger klog.Logger) *Cache {
	return &Cache{
		logger:       logger,
		nodes:        map[string]*nodeEntry{},
		pods:         map[types.UID]podRecord{},
		reservations: map[types.UID]podRecord{},
		live:         newLiveness(),
	}
}

// SetSyncedFunc sets what HasSynced asks: whether the informers feeding the
// cache have delivered their first lists.
func (c *Cache) SetSyncedFunc(f func() bool) { c.synced.Store(&f) }

// HasSynced reports whether the cache holds the cluster's state.
func (c *Cache) HasSynced() bool {
	f := c.synced.Load()
	return f == nil || (*f)()
}

// Node returns the node's GPU state, and false when the node has no usable
// NodeGPU (none, a malformed one, or one whose Lease expired).
func (c *Cache) Node(name string) (NodeState, bool) {
	if m := c.slots.Load(); m != nil {
		return (*m)[name].load()
	}
	return NodeState{}, false
}

// NodeOf is Node for a node object, as the framework hands it over. The
// framework passes the same objects for every node at every pod until a
// node changes, so the slot found for an object is remembered by its
// address, for as long as the slots map is the same version (a slot added
// or forgotten makes a new one).
func (c *Cache) NodeOf(node *v1.Node) (NodeState, bool) {
	m := c.slots.Load()
	if m == nil {
		return NodeState{}, false
	}
	// Fibonacci hashing of the address: node objects come from a few size
	// classes, whose regular spacing the low bits would fold together.
	ref := &c.refs[(uint64(uintptr(unsafe.Pointer(node)))*0x9e3779b97f4a7c15)>>(64-nodeRefsBits)]
	if r := ref.Load(); r != nil && r.node == node && r.slots == m {
		return r.slot.load()
	}
	slot := (*m)[node.Name]
	ref.Store(&nodeRef{node: node, slots: m, slot: slot})
	return slot.load()
}

func (s *nodeSlot) load() (NodeState, bool) {
	if s != nil {
		if st := s.state.Load(); st != nil {
			return *st, true
		}
	}
	return NodeState{}, false
}

// publishLocked sets the node's published state (nil: no usable NodeGPU;
// the slot goes too when forget is set).
func (c *Cache) publishLocked(name string, st *NodeState, forget bool) {
	var m map[string]*nodeSlot
	if p := c.slots.Load(); p != nil {
		m = *p
	}
	slot := m[name]
	switch {
	case slot != nil && !forget:
		slot.state.Store(st)
		return
	case slot == nil && st == nil:
		return
	}
	next := make(map[string]*nodeSlot, len(m)+1)
	for k, v := range m {
		next[k] = v
	}
	if forget {
		delete(next, name)
		if slot != nil {
			slot.state.Store(nil)
		}
	} else {
		slot = &nodeSlot{}
		slot.state.Store(st)
		next[name] = slot
	}
	c.slots.Store(&next)
}

func (e *nodeEntry) state() NodeState {
	return NodeState{Topology: e.topology, Healthy: e.healthy, Allocated: e.allocated}
}

// SetNodeGPU records a NodeGPU (added or updated) and reports whether it
// was not the version already held.
func (c *Cache) SetNodeGPU(ng *gantryv1alpha1.NodeGPU) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.nodes[ng.Name]
	if e != nil && e.resourceVersion == ng.ResourceVersion {
		return false
	}
	if e == nil {
		e = &nodeEntry{}
		c.nodes[ng.Name] = e
	}
	e.resourceVersion, e.uid = ng.ResourceVersion, ng.UID
	if err := e.readNodeGPU(c.logger, ng); err != nil {
		c.logger.Error(err, "Ignoring malformed NodeGPU: the node is treated as having none", "nodeGPU", klog.KObj(ng), "resourceVersion", ng.ResourceVersion)
		e.topology, e.healthy, e.reported, e.reportedBy = nil, 0, 0, nil
	}
	c.recompute(ng.Name, e)
	return true
}

// RefreshNodeGPU applies the newest copy of the node's NodeGPU: the one in
// the informer's store, which holds it before any handler hears of it. A
// late call therefore never brings back an older copy.
func (c *Cache) RefreshNodeGPU(name string, nodeGPUs gantrylisters.NodeGPULister) {
	ng, err := nodeGPUs.Get(name)
	switch {
	case apierrors.IsNotFound(err):
		c.DeleteNodeGPU(name)
	case err != nil:
		c.logger.Error(err, "Reading NodeGPU from the informer", "nodeGPU", klog.KRef("", name))
	default:
		c.SetNodeGPU(ng)
	}
}

// readNodeGPU fills the entry's hardware, health and reported allocations.
func (e *nodeEntry) readNodeGPU(logger klog.Logger, ng *gantryv1alpha1.NodeGPU) error {
	topo, err := gpu.FromSpec(ng.Spec)
	if err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	healthy := topo.All()
	for _, h := range ng.Status.Health {
		p, ok := topo.Position(int(h.Index))
		if !ok {
			logger.V(2).Info("NodeGPU reports health of a GPU it does not list; ignored", "nodeGPU", klog.KObj(ng), "index", h.Index)
			continue
		}
		// Anything but an explicit Healthy keeps work off the GPU.
		if h.Health != gantryv1alpha1.Healthy {
			healthy &^= gpu.Set(0).Add(p)
		}
	}
	var reported gpu.Set
	reportedBy := map[string]gpu.Set{}
	for _, a := range ng.Status.Allocations {
		p, ok := topo.Position(int(a.Index))
		if !ok {
			logger.V(2).Info("NodeGPU reports an allocation of a GPU it does not list; ignored", "nodeGPU", klog.KObj(ng), "index", a.Index)
			continue
		}
		reported = reported.Add(p)
		key := a.PodNamespace + "/" + a.PodName
		reportedBy[key] = reportedBy[key].Add(p)
	}
	e.topology, e.healthy, e.reported, e.reportedBy = topo, healthy, reported, reportedBy
	return nil
}

// DeleteNodeGPU forgets a node's NodeGPU and reports whether it had one.
func (c *Cache) DeleteNodeGPU(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.nodes[name]
	if e == nil || e.resourceVersion == "" {
		return false
	}
	e.topology, e.healthy, e.reported, e.reportedBy = nil, 0, 0, nil
	e.resourceVersion, e.uid = "", ""
	c.recompute(name, e)
	return true
}

func (c *Cache) entryLocked(name string) *nodeEntry {
	e := c.nodes[name]
	if e == nil {
		e = &nodeEntry{}
		c.nodes[name] = e
	}
	return e
}

// recompute derives the node's allocated set, and forgets a node that no
// longer has anything to remember.
func (c *Cache) recompute(name string, e *nodeEntry) {
	if e.topology == nil {
		e.allocated = 0
		forget := len(e.pods) == 0 && len(e.reserved) == 0 && e.resourceVersion == ""
		if forget {
			delete(c.nodes, name)
		}
		c.publishLocked(name, nil, forget)
		return
	}
	a := e.reported
	for uid, ids := range e.pods {
		s := e.positions(ids)
		if s.Len() != len(ids) && c.logger.V(4).Enabled() {
			c.logger.V(4).Info("Pod annotated with GPUs that are not on its node; those are ignored", "podUID", uid, "node", name, "gpuIDs", ids)
		}
		a |= s
	}
	for _, ids := range e.reserved {
		a |= e.positions(ids)
	}
	e.allocated = a
	if c.live.unknown(name) {
		// Kept up to date, but not shown until the Lease is renewed.
		c.publishLocked(name, nil, false)
		return
	}
	st := e.state()
	c.publishLocked(name, &st, false)
}

// WaitForSync waits until the cache has synced or ctx ends.
func (c *Cache) WaitForSync(ctx context.Context) bool {
	return waitFor(ctx, c.HasSynced)
}
