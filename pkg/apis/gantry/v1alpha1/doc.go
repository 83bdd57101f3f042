// Package v1alpha1 holds Gantry's own API types, group gantry.dev:
// Queue (the fairness tree the scheduler admits workloads against) and
// NodeGPU (each GPU node's devices, links, health and allocations, written by
// the device plugin on that node and read by the scheduler).
//
// +kubebuilder:object:generate=true
// +groupName=gantry.dev
package v1alpha1
