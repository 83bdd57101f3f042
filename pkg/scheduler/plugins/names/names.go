// Package names holds the names of Gantry's scheduler plugins, as the
// registry and scheduler configurations spell them, so that a plugin can
// recognize another's statuses (and the scheduler check their order)
// without importing it.
package names

const (
	// GPUTopology is the GPU-topology plugin.
	GPUTopology = "GantryGPUTopology"
	// Gang is the gang-scheduling plugin.
	Gang = "GantryGang"
	// Queue is the queue plugin.
	Queue = "GantryQueue"
	// Preemption is the preemption plugin for pods outside gangs.
	Preemption = "GantryPreemption"
)
