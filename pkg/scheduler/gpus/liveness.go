package gpus

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/nodelease"
)

// A NodeGPU carries no heartbeat: gantry-device-plugin renews a Lease per
// node instead (package nodelease). A node whose Lease exists and has
// expired is unknown: its device plugin stopped or lost the API server,
// so its NodeGPU may be stale, and the cache reports the node as having no
// usable NodeGPU. GPUTopology then chooses no set there and lets
// NodeResourcesFit count, and the node's device plugin picks the GPUs, as
// on a node without NodeGPU. A renewed Lease makes the node known again.
//
// A node without a Lease stays trusted: device plugins older than the
// Lease never create one, nor does whoever writes NodeGPUs by hand (tests,
// other publishers). A deleted Lease is no Lease.
//
// The node's published state is flipped when a Lease event or the periodic
// check (LeaseCheckInterval) finds it changed, so Node and NodeOf stay free
// of locks and clocks.

// LeaseCheckInterval is how often the cache looks for Leases that expired
// since their last event: how late, at most, a node becomes unknown.
const LeaseCheckInterval = time.Second

// The reasons of the events sent on a NodeGPU when its node becomes
// unknown and known again.
const (
	ReasonLeaseExpired = "NodeGPULeaseExpired"
	ReasonLeaseRenewed = "NodeGPULeaseRenewed"
)

// EventRecorder is the part of the scheduler's event recorder the cache
// uses (client-go's events.EventRecorder).
type EventRecorder interface {
	Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any)
}

// liveness is the nodes' Leases. Its maps are under Cache.mu.
type liveness struct {
	clock    clock.PassiveClock
	recorder EventRecorder
	leases   map[string]*nodeLease
}

func newLiveness() liveness {
	return liveness{clock: clock.RealClock{}, leases: map[string]*nodeLease{}}
}

// nodeLease is a node's Lease and what the cache made of it.
type nodeLease struct {
	lease *coordinationv1.Lease
	leaseState
}

// leaseState is what a Lease means for its node.
type leaseState struct {
	// expired: the node is unknown.
	expired bool
	// warned: a NodeGPULeaseExpired event went out for the node's NodeGPU,
	// and no NodeGPULeaseRenewed since.
	warned bool
}

// unknown reports whether the node's Lease expired: its NodeGPU is not
// used.
func (l *liveness) unknown(node string) bool {
	r := l.leases[node]
	return r != nil && r.expired
}

// pendingEvent is an event to send once the lock is released.
type pendingEvent struct {
	recorder  EventRecorder
	regarding *v1.ObjectReference
	eventType string
	reason    string
	note      string
}

func (e *pendingEvent) send() {
	if e != nil && e.recorder != nil {
		e.recorder.Eventf(e.regarding, nil, e.eventType, e.reason, "Scheduling", "%s", e.note)
	}
}

// WatchLeases feeds the cache the device plugins' node Leases from leases
// (an informer of those Leases alone), sends the events of nodes becoming
// unknown or known with recorder (nil: none), and looks for expired Leases
// every LeaseCheckInterval until ctx ends. Call it after Watch: the cache
// then reports itself synced once the Leases are listed too, so that no
// node is trusted at start only because its Lease was not read yet.
func (c *Cache) WatchLeases(ctx context.Context, leases toolscache.SharedIndexInformer, recorder EventRecorder) error {
	c.mu.Lock()
	c.live.recorder = recorder
	c.mu.Unlock()
	reg, err := leases.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.onLease(obj, false) },
		UpdateFunc: func(_, obj any) { c.onLease(obj, false) },
		DeleteFunc: func(obj any) { c.onLease(obj, true) },
	})
	if err != nil {
		return fmt.Errorf("watching node Leases: %w", err)
	}
	before := c.synced.Load()
	c.SetSyncedFunc(func() bool { return (before == nil || (*before)()) && reg.HasSynced() })
	go wait.UntilWithContext(ctx, func(context.Context) { c.CheckLeases() }, LeaseCheckInterval)
	return nil
}

func (c *Cache) onLease(obj any, deleted bool) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	lease, ok := obj.(*coordinationv1.Lease)
	if !ok {
		c.logger.Error(nil, "Ignoring Lease event with an unexpected object", "type", fmt.Sprintf("%T", obj))
		return
	}
	if deleted {
		c.DeleteLease(lease)
	} else {
		c.SetLease(lease)
	}
}

// SetLease records a node's Lease (added or updated) and flips the node at
// once if the Lease changes whether it is known. Other Leases are ignored.
func (c *Cache) SetLease(lease *coordinationv1.Lease) {
	node, ok := nodelease.NodeName(lease)
	if !ok {
		c.logger.V(4).Info("Ignoring a Lease that is not a node's", "lease", klog.KObj(lease))
		return
	}
	c.mu.Lock()
	r := c.live.leases[node]
	if r == nil {
		r = &nodeLease{}
		c.live.leases[node] = r
	}
	r.lease = lease
	ev := c.settleLocked(node, r, c.live.clock.Now())
	c.mu.Unlock()
	ev.send()
}

// DeleteLease forgets a node's Lease: the node is trusted again, as a node
// that never had one.
func (c *Cache) DeleteLease(lease *coordinationv1.Lease) {
	node, ok := nodelease.NodeName(lease)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.live.leases[node]
	if r == nil {
		return
	}
	delete(c.live.leases, node)
	if r.expired {
		c.logger.Info("Node Lease deleted: the node's NodeGPU is used again, as a node's without Lease", "node", node, "lease", klog.KObj(lease))
		if e := c.nodes[node]; e != nil {
			c.recompute(node, e)
		}
	}
}

// CheckLeases flips the nodes whose Lease expired, or whose NodeGPU came or
// went while it was expired, since they were last looked at. It looks
// under the read lock first: most of the time nothing changed.
func (c *Cache) CheckLeases() {
	now := c.live.clock.Now()
	c.mu.RLock()
	changed := false
	for node, r := range c.live.leases {
		if c.nextLeaseStateLocked(node, r, now) != r.leaseState {
			changed = true
			break
		}
	}
	c.mu.RUnlock()
	if !changed {
		return
	}
	var events []*pendingEvent
	c.mu.Lock()
	for node, r := range c.live.leases {
		if ev := c.settleLocked(node, r, now); ev != nil {
			events = append(events, ev)
		}
	}
	c.mu.Unlock()
	for _, ev := range events {
		ev.send()
	}
}

// nextLeaseStateLocked is the node's lease state at now.
func (c *Cache) nextLeaseStateLocked(node string, r *nodeLease, now time.Time) leaseState {
	expired := nodelease.Expired(r.lease, now)
	return leaseState{expired: expired, warned: expired && c.hasNodeGPULocked(node)}
}

func (c *Cache) hasNodeGPULocked(node string) bool {
	e := c.nodes[node]
	return e != nil && e.resourceVersion != ""
}

// settleLocked brings the node's lease state to now, republishes the node
// when it became unknown or known, and returns the event to send, if any.
func (c *Cache) settleLocked(node string, r *nodeLease, now time.Time) *pendingEvent {
	next := c.nextLeaseStateLocked(node, r, now)
	prev := r.leaseState
	if next == prev {
		return nil
	}
	r.leaseState = next
	if next.expired != prev.expired {
		if next.expired {
			c.logger.Info("Node Lease expired: the node's NodeGPU is not used until it is renewed", "node", node, "lease", klog.KObj(r.lease))
		} else {
			c.logger.Info("Node Lease renewed: the node's NodeGPU is used again", "node", node, "lease", klog.KObj(r.lease))
		}
		if e := c.nodes[node]; e != nil {
			c.recompute(node, e)
		}
	}
	switch {
	case next.warned && !prev.warned:
		return c.nodeGPUEventLocked(node, v1.EventTypeWarning, ReasonLeaseExpired, expiredNote(node, r.lease))
	case prev.warned && !next.expired && c.hasNodeGPULocked(node):
		return c.nodeGPUEventLocked(node, v1.EventTypeNormal, ReasonLeaseRenewed,
			fmt.Sprintf("Lease %s of node %s was renewed: GPU sets are chosen on the node again", klog.KObj(r.lease), node))
	}
	// The NodeGPU went away while the Lease was expired, or the Lease
	// expired on a node without NodeGPU: nothing to tell about.
	return nil
}

func expiredNote(node string, lease *coordinationv1.Lease) string {
	when := "has no renewTime or leaseDurationSeconds"
	if at, ok := nodelease.ExpiresAt(lease); ok {
		when = "expired at " + at.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("Lease %s of node %s %s: the node's device plugin is not vouching for this NodeGPU, so GPU sets are not chosen on the node until the Lease is renewed",
		klog.KObj(lease), node, when)
}

// nodeGPUEventLocked is an event about the node's NodeGPU.
func (c *Cache) nodeGPUEventLocked(node, eventType, reason, note string) *pendingEvent {
	ref := &v1.ObjectReference{
		APIVersion: gantryv1alpha1.SchemeGroupVersion.String(),
		Kind:       "NodeGPU",
		Name:       node,
	}
	if e := c.nodes[node]; e != nil {
		ref.UID, ref.ResourceVersion = e.uid, e.resourceVersion
	}
	return &pendingEvent{recorder: c.live.recorder, regarding: ref, eventType: eventType, reason: reason, note: note}
}
