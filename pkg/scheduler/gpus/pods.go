package gpus

import (
	"slices"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/pods"
)

// SetPod records a pod (added or updated). Only bound pods that have not
// finished count; a pod leaving that state is forgotten.
func (c *Cache) SetPod(pod *v1.Pod) {
	if pods.Finished(pod) {
		c.DeletePod(pod)
		return
	}
	if pod.Spec.NodeName == "" {
		// Not bound: only a reservation can stand for it, and that lasts
		// until the pod is bound, unreserved or deleted.
		return
	}
	ids := gantryv1alpha1.ParseGPUIDs(pod.Annotations[gantryv1alpha1.GPUIDsAnnotation])
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.reservations[pod.UID]; ok {
		// The pod is bound, so its annotation now speaks for it. Were it
		// bound without one (its PreBind was skipped), the reservation is
		// the best knowledge of what it holds, so it carries over.
		if len(ids) == 0 && r.node == pod.Spec.NodeName {
			ids = r.ids
		}
		c.dropLocked(c.reservations, pod.UID, func(e *nodeEntry) map[types.UID][]string { return e.reserved })
	}
	old, had := c.pods[pod.UID]
	if had && old.node == pod.Spec.NodeName && slices.Equal(old.ids, ids) {
		return
	}
	if had {
		c.dropLocked(c.pods, pod.UID, func(e *nodeEntry) map[types.UID][]string { return e.pods })
	}
	if len(ids) == 0 {
		return
	}
	c.pods[pod.UID] = podRecord{node: pod.Spec.NodeName, ids: ids}
	e := c.entryLocked(pod.Spec.NodeName)
	if e.pods == nil {
		e.pods = map[types.UID][]string{}
	}
	e.pods[pod.UID] = ids
	c.recompute(pod.Spec.NodeName, e)
}

// DeletePod forgets a pod and any reservation it had.
func (c *Cache) DeletePod(pod *v1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(c.pods, pod.UID, func(e *nodeEntry) map[types.UID][]string { return e.pods })
	c.dropLocked(c.reservations, pod.UID, func(e *nodeEntry) map[types.UID][]string { return e.reserved })
	c.planned.Delete(pod.UID)
}

// ReserveResult is what Reserve did.
type ReserveResult struct {
	// NoNodeGPU is set when the node has no usable NodeGPU: nothing was
	// reserved, and the node is left to choose.
	NoNodeGPU bool
	// Placement is the set chosen, or why none fits.
	Placement Placement
	// UUIDs are the reserved GPUs when Placement.Fits.
	UUIDs []string
}

// Reserve chooses the pod's GPUs on the node from the GPUs free now and
// holds them for the pod. The choice and the hold happen under one lock, so
// two pods never get the same GPU. A reservation the pod already had is
// replaced, so a retried cycle may choose its own GPUs again.
func (c *Cache) Reserve(uid types.UID, nodeName string, req Request) ReserveResult {
	if req.Planned == 0 {
		req.Planned = c.Planned(uid, nodeName)
	}
	c.planned.Delete(uid)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(c.reservations, uid, func(e *nodeEntry) map[types.UID][]string { return e.reserved })
	e := c.nodes[nodeName]
	if e == nil || e.topology == nil || c.live.unknown(nodeName) {
		return ReserveResult{NoNodeGPU: true}
	}
	p := Place(e.state(), req)
	if !p.Fits {
		return ReserveResult{Placement: p}
	}
	ids := e.topology.UUIDs(p.Set)
	c.reservations[uid] = podRecord{node: nodeName, ids: ids}
	if e.reserved == nil {
		e.reserved = map[types.UID][]string{}
	}
	e.reserved[uid] = ids
	c.recompute(nodeName, e)
	return ReserveResult{Placement: p, UUIDs: ids}
}

// Unreserve drops the pod's reservation, if any.
func (c *Cache) Unreserve(uid types.UID) {
	c.planned.Delete(uid)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(c.reservations, uid, func(e *nodeEntry) map[types.UID][]string { return e.reserved })
}

// Reservation returns the node and GPUs reserved for the pod.
func (c *Cache) Reservation(uid types.UID) (node string, ids []string, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.reservations[uid]
	return r.node, r.ids, ok
}

// PodGPUs returns the GPUs the cache counts as held by the pod on the node:
// its annotation, its reservation and what the NodeGPU reports for it.
func (c *Cache) PodGPUs(pod *v1.Pod, nodeName string) gpu.Set {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e := c.nodes[nodeName]
	if e == nil || e.topology == nil {
		return 0
	}
	var s gpu.Set
	if r, ok := c.pods[pod.UID]; ok && r.node == nodeName {
		s |= e.positions(r.ids)
	}
	if r, ok := c.reservations[pod.UID]; ok && r.node == nodeName {
		s |= e.positions(r.ids)
	}
	return s | e.reportedBy[pod.Namespace+"/"+pod.Name]
}

// Positions resolves GPU UUIDs on the node, ignoring UUIDs it does not have.
func (c *Cache) Positions(nodeName string, ids []string) gpu.Set {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e := c.nodes[nodeName]
	if e == nil || e.topology == nil {
		return 0
	}
	return e.positions(ids)
}

func (e *nodeEntry) positions(ids []string) gpu.Set {
	var s gpu.Set
	for _, id := range ids {
		if p, ok := e.topology.PositionOfUUID(id); ok {
			s = s.Add(p)
		}
	}
	return s
}

// dropLocked removes uid from records and from its node's per-node map.
func (c *Cache) dropLocked(records map[types.UID]podRecord, uid types.UID, perNode func(*nodeEntry) map[types.UID][]string) {
	r, ok := records[uid]
	if !ok {
		return
	}
	delete(records, uid)
	if e := c.nodes[r.node]; e != nil {
		delete(perNode(e), uid)
		c.recompute(r.node, e)
	}
}

// plannedSet is a gang plan's choice for one pod.
type plannedSet struct {
	node string
	set  gpu.Set
}

// SetPlanned records the set a gang's plan chose for the pod on node:
// Filter, Score and Reserve then place it there (Request.Planned) while it
// is still free. Setting an empty set forgets the choice.
func (c *Cache) SetPlanned(uid types.UID, node string, set gpu.Set) {
	if set == 0 {
		c.planned.Delete(uid)
		return
	}
	c.planned.Store(uid, plannedSet{node: node, set: set})
}

// PlannedFor returns the node and set a gang's plan chose for the pod.
func (c *Cache) PlannedFor(uid types.UID) (string, gpu.Set, bool) {
	v, ok := c.planned.Load(uid)
	if !ok {
		return "", 0, false
	}
	p := v.(plannedSet)
	return p.node, p.set, true
}

// Planned returns the set a gang's plan chose for the pod on node, zero
// when none.
func (c *Cache) Planned(uid types.UID, node string) gpu.Set {
	v, ok := c.planned.Load(uid)
	if !ok {
		return 0
	}
	if p := v.(plannedSet); p.node == node {
		return p.set
	}
	return 0
}
