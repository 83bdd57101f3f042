package deviceplugin

import (
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

const metricsSubsystem = "gantry_device_plugin"

var (
	healthTransitions = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem:      metricsSubsystem,
		Name:           "health_transitions_total",
		Help:           "GPU health transitions, by the state entered and the reason.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"state", "reason"})

	xidEvents = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem:      metricsSubsystem,
		Name:           "xid_events_total",
		Help:           "NVML XID events seen, by XID and whether the XID is ignored (application errors).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"xid", "ignored"})

	devicesByHealth = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Subsystem:      metricsSubsystem,
		Name:           "devices",
		Help:           "GPUs advertised to the kubelet, by resource and health.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"resource", "health"})

	registrations = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem:      metricsSubsystem,
		Name:           "registrations_total",
		Help:           "Registrations with the kubelet, by resource and result.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"resource", "result"})

	registered = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Subsystem:      metricsSubsystem,
		Name:           "registered",
		Help:           "1 while the resource is registered with the kubelet, else 0.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"resource"})

	preferredAllocations = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem:      metricsSubsystem,
		Name:           "preferred_allocations_total",
		Help:           "GetPreferredAllocation answers, by resource and source (annotation: the scheduler's choice; topology: chosen here).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"resource", "source"})

	allocationMismatches = metrics.NewCounter(&metrics.CounterOpts{
		Subsystem:      metricsSubsystem,
		Name:           "allocation_mismatches_total",
		Help:           "Pods whose kubelet-allocated GPUs differ from the set gantry-scheduler annotated.",
		StabilityLevel: metrics.ALPHA,
	})

	allocations = metrics.NewCounterVec(&metrics.CounterOpts{
		Subsystem:      metricsSubsystem,
		Name:           "allocations_total",
		Help:           "Containers given GPUs through Allocate, by resource.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"resource"})
)

func init() {
	legacyregistry.MustRegister(healthTransitions, xidEvents, devicesByHealth, registrations, registered, preferredAllocations, allocations, allocationMismatches)
}
