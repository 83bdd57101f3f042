package queue

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/gantry-gpu/gantry/pkg/queuemodel"
)

// GPUUse is what a queue holds of GPUs at one evaluation, split at its
// guarantee.
type GPUUse struct {
	// Guaranteed is the part of the allocated GPUs within the guarantee:
	// min(allocated, guaranteed).
	Guaranteed float64
	// Borrowed is the rest: status.borrowed of the GPU resource.
	Borrowed float64
}

// GPUUseOf splits a queue's allocated GPUs at its guarantee: the borrowed
// part is queuemodel.Borrowed's, as in status.borrowed.
func GPUUseOf(allocated, guaranteed corev1.ResourceList) GPUUse {
	a := allocated[GPUResource]
	b := queuemodel.Borrowed(allocated, guaranteed)[GPUResource]
	alloc, borrowed := a.AsApproximateFloat64(), b.AsApproximateFloat64()
	return GPUUse{Guaranteed: alloc - borrowed, Borrowed: borrowed}
}

// Meter integrates each queue's GPU use over time into GPU-seconds.
//
// It is a left Riemann sum: the use seen at one evaluation is taken to
// hold until the next, so each interval is charged with the use at its
// start. The controller evaluates after every pod change (coalesced over a
// short delay) and on a ticker, so a change is charged from the evaluation
// that sees it: the error per change is at most the delay before that
// evaluation (the coalescing delay, or the time a backed-off retry takes)
// times the GPUs that changed, and between changes the sum is exact. The
// ticker bounds how stale the counters' values are between changes.
//
// A Meter lives in the leader: a new leader starts from zero and does not
// charge the time between the last evaluation of the old leader and its
// own first one. The counters it feeds restart then, as counters do on a
// process restart; Prometheus' rate() and increase() treat the drop as a
// reset.
type Meter struct {
	last time.Time
	use  map[string]GPUUse
}

// Advance charges each queue for the time since the previous call with the
// use recorded then, records use for the next call, and returns the
// GPU-seconds charged per queue (only queues with a non-zero charge). The
// first call only records. A queue absent from use is charged its last
// interval and forgotten. A clock that went backwards charges nothing.
func (m *Meter) Advance(now time.Time, use map[string]GPUUse) map[string]GPUUse {
	charged := map[string]GPUUse{}
	if !m.last.IsZero() && now.After(m.last) {
		dt := now.Sub(m.last).Seconds()
		for q, u := range m.use {
			if u.Guaranteed > 0 || u.Borrowed > 0 {
				charged[q] = GPUUse{Guaranteed: u.Guaranteed * dt, Borrowed: u.Borrowed * dt}
			}
		}
	}
	if m.last.IsZero() || now.After(m.last) {
		m.last = now
	}
	m.use = make(map[string]GPUUse, len(use))
	for q, u := range use {
		m.use[q] = u
	}
	return charged
}
