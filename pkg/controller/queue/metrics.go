package queue

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

const (
	metricsNamespace = "gantry"
	metricsSubsystem = "queue"
)

// The per-queue gauges are named in full (not built by a helper) so that
// test/observability can find every metric name in the source.
var queueLabels = []string{"queue", "resource"}

var (
	allocatedGauge = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "allocated",
		Help:           "Requests of the bound, non-terminal pods in the queue and the queues below it (status.allocated). Only while gantry-controller leads.",
		StabilityLevel: metrics.ALPHA,
	}, queueLabels)
	pendingGauge = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "pending",
		Help:           "Requests of the unbound, non-terminal pods in the queue and the queues below it (status.pending).",
		StabilityLevel: metrics.ALPHA,
	}, queueLabels)
	borrowedGauge = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "borrowed",
		Help:           "Allocated above guaranteed, never negative (status.borrowed).",
		StabilityLevel: metrics.ALPHA,
	}, queueLabels)
	fairShareGauge = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "fair_share",
		Help:           "The queue's weighted fair share of its parent's (for a root, the cluster's allocatable) capacity (status.fairShare).",
		StabilityLevel: metrics.ALPHA,
	}, queueLabels)
	guaranteedGauge = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "guaranteed",
		Help:           "spec.guaranteed, for the resources the queue names.",
		StabilityLevel: metrics.ALPHA,
	}, queueLabels)
	limitGauge = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "limit",
		Help:           "spec.limit, for the resources the queue names.",
		StabilityLevel: metrics.ALPHA,
	}, queueLabels)

	gpuSeconds = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "gpu_seconds_total",
		Help:           "GPU-seconds allocated to the queue and the queues below it, integrated at each status evaluation: kind=guaranteed within the guarantee, kind=borrowed beyond it. Restarts at a leader change.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"queue", "kind"})
)

func init() {
	legacyregistry.MustRegister(allocatedGauge, pendingGauge, borrowedGauge, fairShareGauge, guaranteedGauge, limitGauge, gpuSeconds)
}

// Series kinds of gantry_queue_gpu_seconds_total.
const (
	kindGuaranteed = "guaranteed"
	kindBorrowed   = "borrowed"
)

// queueMetrics keeps the per-queue series in step with the queues one
// controller has evaluated, deleting the series of queues that are gone,
// and takes them all back when the controller stops (a replica that lost
// its lease must not keep reporting).
type queueMetrics struct {
	mu sync.Mutex
	// series are the label values set per gauge, from the last evaluation.
	series map[*metrics.GaugeVec]map[[2]string]bool
	queues map[string]bool
}

func newQueueMetrics() *queueMetrics {
	return &queueMetrics{series: map[*metrics.GaugeVec]map[[2]string]bool{}, queues: map[string]bool{}}
}

// update sets every gauge from the queues and their evaluation, and adds
// the charged GPU-seconds.
func (m *queueMetrics) update(queues []*gantryv1alpha1.Queue, results map[string]*Result, charged map[string]GPUUse) {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := map[*metrics.GaugeVec]map[[2]string]bool{}
	set := func(g *metrics.GaugeVec, queue string, list corev1.ResourceList, all bool) {
		if next[g] == nil {
			next[g] = map[[2]string]bool{}
		}
		for _, r := range Resources {
			q, ok := list[r]
			if !ok && !all {
				continue
			}
			g.WithLabelValues(queue, string(r)).Set(q.AsApproximateFloat64())
			next[g][[2]string{queue, string(r)}] = true
		}
	}
	queueNames := map[string]bool{}
	for _, q := range queues {
		r := results[q.Name]
		if r == nil {
			continue
		}
		queueNames[q.Name] = true
		// Usage gauges show every accounted resource, zero included, so
		// a queue that drains reads 0 rather than disappearing.
		set(allocatedGauge, q.Name, r.Status.Allocated, true)
		set(pendingGauge, q.Name, r.Status.Pending, true)
		set(borrowedGauge, q.Name, r.Status.Borrowed, true)
		if r.Status.FairShare != nil {
			set(fairShareGauge, q.Name, r.Status.FairShare, false)
		}
		set(guaranteedGauge, q.Name, q.Spec.Guaranteed, false)
		set(limitGauge, q.Name, q.Spec.Limit, false)
	}
	for g, old := range m.series {
		for lv := range old {
			if !next[g][lv] {
				g.DeleteLabelValues(lv[0], lv[1])
			}
		}
	}
	m.series = next
	for q, c := range charged {
		if !queueNames[q] {
			// Gone: its last interval is charged to a series about to be
			// deleted; drop it rather than bring the series back.
			continue
		}
		if c.Guaranteed > 0 {
			gpuSeconds.WithLabelValues(q, kindGuaranteed).Add(c.Guaranteed)
		}
		if c.Borrowed > 0 {
			gpuSeconds.WithLabelValues(q, kindBorrowed).Add(c.Borrowed)
		}
	}
	for q := range queueNames {
		// Both series exist from the first evaluation, so increase()
		// sees the first charge as an increase from zero.
		gpuSeconds.WithLabelValues(q, kindGuaranteed)
		gpuSeconds.WithLabelValues(q, kindBorrowed)
	}
	for q := range m.queues {
		if !queueNames[q] {
			gpuSeconds.DeleteLabelValues(q, kindGuaranteed)
			gpuSeconds.DeleteLabelValues(q, kindBorrowed)
		}
	}
	m.queues = queueNames
}

// reset deletes every series.
func (m *queueMetrics) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, g := range []*metrics.GaugeVec{allocatedGauge, pendingGauge, borrowedGauge, fairShareGauge, guaranteedGauge, limitGauge} {
		g.Reset()
	}
	gpuSeconds.Reset()
	m.series = map[*metrics.GaugeVec]map[[2]string]bool{}
	m.queues = map[string]bool{}
}
