package podgroup

import (
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"
)

const metricsSubsystem = "gantry_controller"

var (
	podGroupsByPhase = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Subsystem:      metricsSubsystem,
		Name:           "podgroups",
		Help:           "PodGroups by the phase gantry-controller last wrote (only while it leads).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"phase"})

	// The start time comes from API-server timestamps with one-second
	// resolution, so the buckets start at half a second.
	scheduleLatency = metrics.NewHistogram(&metrics.HistogramOpts{
		Subsystem:      metricsSubsystem,
		Name:           "gang_schedule_latency_seconds",
		Help:           "Time from a gang entering Scheduling (status.scheduleStartTime) to minMember members bound (the gantry.dev/scheduled-time annotation).",
		Buckets:        metrics.ExponentialBuckets(0.5, 2, 14),
		StabilityLevel: metrics.ALPHA,
	})
)

func init() {
	legacyregistry.MustRegister(podGroupsByPhase, scheduleLatency)
}

// phaseGauge keeps podGroupsByPhase in step with the phases one controller
// has seen, and takes them all back when the controller stops (a replica
// that lost its lease must not keep reporting).
type phaseGauge struct {
	mu     sync.Mutex
	phases map[string]schedv1alpha1.PodGroupPhase
}

func newPhaseGauge() *phaseGauge {
	return &phaseGauge{phases: map[string]schedv1alpha1.PodGroupPhase{}}
}

// set records the phase of the PodGroup key.
func (g *phaseGauge) set(key string, phase schedv1alpha1.PodGroupPhase) {
	g.mu.Lock()
	defer g.mu.Unlock()
	old, ok := g.phases[key]
	if ok && old == phase {
		return
	}
	if ok {
		podGroupsByPhase.WithLabelValues(string(old)).Dec()
	}
	g.phases[key] = phase
	podGroupsByPhase.WithLabelValues(string(phase)).Inc()
}

// remove forgets the PodGroup key.
func (g *phaseGauge) remove(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if old, ok := g.phases[key]; ok {
		podGroupsByPhase.WithLabelValues(string(old)).Dec()
		delete(g.phases, key)
	}
}

// reset forgets every PodGroup.
func (g *phaseGauge) reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for key, old := range g.phases {
		podGroupsByPhase.WithLabelValues(string(old)).Dec()
		delete(g.phases, key)
	}
}
