package replay

import (
	"math"
	"sort"
	"time"
)

// Never marks a time that did not happen before the end of the replay.
const Never = time.Duration(-1)

// PodRecord is what happened to one pod of a replay, in simulated time
// since the replay's start.
type PodRecord struct {
	GPUs int `json:"gpus"`
	// Node the pod was bound to; "" if it never was.
	Node string `json:"node,omitempty"`
	// Bound is when the pod was seen bound; Never if it was not.
	Bound time.Duration `json:"bound"`
	// End is when the pod finished (was deleted); Never if it was still
	// there at the end.
	End time.Duration `json:"end"`
	// Optimal: the pod's GPU set has the best bottleneck link any set of
	// its size has on an empty node of its node's topology. Meaningful for
	// pods of two GPUs or more.
	Optimal bool `json:"optimal,omitempty"`
	// Preempted are earlier placements of the pod that the scheduler
	// preempted (the pod was then created again).
	Preempted []Span `json:"preempted,omitempty"`
}

// Span is a stretch of simulated time.
type Span struct {
	From time.Duration `json:"from"`
	To   time.Duration `json:"to"`
}

// Timeline is one replay's record, the input of Compute.
type Timeline struct {
	Scheduler string `json:"scheduler"`
	Jobs      []Job  `json:"jobs"`
	// Pods[i] are the pods of Jobs[i].
	Pods [][]PodRecord `json:"pods"`
	// Horizon is the simulated length of the replay.
	Horizon     time.Duration `json:"horizon"`
	ClusterGPUs int           `json:"clusterGPUs"`
	// Compression is simulated seconds per wall second.
	Compression float64 `json:"compression"`
	// Weights are the queues' weights.
	Weights map[string]int32 `json:"weights"`
	// BindWall are the wall-clock offsets (since the replay's start) of
	// every binding, for the throughput figure.
	BindWall []time.Duration `json:"bindWall"`
	// Wall is the replay's wall-clock length.
	Wall time.Duration `json:"wall"`
	// GangBindGrace: a gang whose members were all bound within this
	// (simulated) time of the first is not counted as partial (it is the
	// time binding several pods takes, not a placement that waits for the
	// rest of the gang).
	GangBindGrace time.Duration `json:"gangBindGrace"`
	// StarvationAfter: an 8-GPU job not started this long after arriving
	// is starved.
	StarvationAfter time.Duration `json:"starvationAfter"`
	// Mismatches counts pods whose annotated GPUs were already in use in
	// the driver's bookkeeping (should be 0).
	Mismatches int `json:"mismatches"`
	// Preemptions counts pods the scheduler deleted.
	Preemptions int `json:"preemptions"`
	// Load are the machine's 1-minute load averages during the replay.
	Load []float64 `json:"load,omitempty"`
}

// Start is when all of job i's pods were bound, or Never.
func (tl *Timeline) Start(i int) time.Duration {
	start := time.Duration(0)
	for _, p := range tl.Pods[i] {
		if p.Bound == Never {
			return Never
		}
		start = max(start, p.Bound)
	}
	return start
}

// Wait is job i's wait (Start − Arrival), and whether it started; a job
// that never started waited (at least) until the horizon.
func (tl *Timeline) Wait(i int) (time.Duration, bool) {
	if s := tl.Start(i); s != Never {
		return max(s-tl.Jobs[i].Arrival, 0), true
	}
	return max(tl.Horizon-tl.Jobs[i].Arrival, 0), false
}

// SizeClasses are the wait-time classes, in report order.
var SizeClasses = []string{"1", "2", "4", "8", "gang"}

// Figures are one scheduler's results.
type Figures struct {
	Scheduler string `json:"scheduler"`
	// AllocSaturated is the GPU allocation rate (allocated GPU-time over
	// the cluster's GPU-time, %) over the saturated part of the replay:
	// the times when the GPUs of pending pods were at least the free GPUs.
	AllocSaturated float64 `json:"allocSaturatedPct"`
	// SaturatedHours is how long (simulated) the replay was saturated.
	SaturatedHours float64 `json:"saturatedHours"`
	// AllocMean is the allocation rate over the whole replay (%);
	// AllocLastHalf over its second half, the same window for every
	// scheduler.
	AllocMean     float64 `json:"allocMeanPct"`
	AllocLastHalf float64 `json:"allocLastHalfPct"`
	// Optimal is the share of bound multi-GPU pods on an NVLink-optimal
	// set (%), of MultiGPUPods.
	Optimal      float64 `json:"optimalPct"`
	MultiGPUPods int     `json:"multiGPUPods"`
	// PartialGangGPUHours is the GPU time held by pods of gangs not
	// (yet) wholly bound.
	PartialGangGPUHours float64 `json:"partialGangGPUHours"`
	// WaitMean and WaitP95 (minutes) by size class, over all jobs of the
	// class (those that never started count with their wait until the
	// end); NotStarted counts those.
	WaitMean   map[string]float64 `json:"waitMeanMin"`
	WaitP95    map[string]float64 `json:"waitP95Min"`
	Jobs       map[string]int     `json:"jobs"`
	NotStarted map[string]int     `json:"notStarted"`
	// Starved8 is the share (%) of 8-GPU-per-pod jobs (single pods and
	// gangs) that arrived at least StarvationAfter before the end and did
	// not start within StarvationAfter.
	Starved8 float64 `json:"starved8Pct"`
	// QueueShareError is, over the saturated part, the largest relative
	// difference (%) between a queue's allocated GPU-time and its
	// weighted max-min fair share of the allocated GPUs (capped by its
	// demand); Jain is Jain's fairness index of allocated/fair share
	// over the queues.
	QueueShareError float64            `json:"queueShareErrorPct"`
	Jain            float64            `json:"jain"`
	QueueShare      map[string]float64 `json:"queueSharePct"`
	QueueTarget     map[string]float64 `json:"queueTargetPct"`
	// CronDelayMean and CronDelayP95 (simulated seconds) are the start
	// delays of the cron burst's jobs.
	CronDelayMean float64 `json:"cronDelayMeanS"`
	CronDelayP95  float64 `json:"cronDelayP95S"`
	CronJobs      int     `json:"cronJobs"`
	// PeakPodsPerSecond is the most bindings in any 10 s of wall time,
	// divided by 10; MeanPodsPerSecond is bindings per wall second.
	PeakPodsPerSecond float64 `json:"peakPodsPerSecond"`
	MeanPodsPerSecond float64 `json:"meanPodsPerSecond"`
	PodsBound         int     `json:"podsBound"`
	Pods              int     `json:"pods"`
	Mismatches        int     `json:"mismatches"`
	Preemptions       int     `json:"preemptions"`
	// LoadAvg is the machine's mean 1-minute load average during the
	// replay: above its CPU count, the schedulers compete for CPU with
	// other work.
	LoadAvg float64 `json:"loadAvg"`
	// AllocSeries is the allocation rate (%) at every simulated minute.
	AllocSeries []float64 `json:"allocSeries"`
	// Waits are every job's wait in minutes (for the distribution plot).
	Waits []float64 `json:"waits"`
}

// Compute derives the figures from a timeline.
func Compute(tl *Timeline) Figures {
	f := Figures{
		Scheduler: tl.Scheduler, WaitMean: map[string]float64{}, WaitP95: map[string]float64{},
		Jobs: map[string]int{}, NotStarted: map[string]int{}, Mismatches: tl.Mismatches, Preemptions: tl.Preemptions,
	}
	sweep(tl, &f)
	f.LoadAvg = mean(tl.Load)
	if n := len(f.AllocSeries); n > 0 {
		f.AllocLastHalf = mean(f.AllocSeries[n/2:])
	}

	// Placement quality and partial gangs.
	optimal := 0
	var partial float64 // GPU-seconds
	for i, j := range tl.Jobs {
		pods := tl.Pods[i]
		for _, p := range pods {
			f.Pods++
			if p.Bound == Never {
				continue
			}
			f.PodsBound++
			if p.GPUs >= 2 {
				f.MultiGPUPods++
				if p.Optimal {
					optimal++
				}
			}
		}
		if j.Gang() {
			partial += partialGangSeconds(tl, i)
		}
	}
	f.Optimal = pct(float64(optimal), float64(f.MultiGPUPods))
	f.PartialGangGPUHours = partial / 3600

	// Waits.
	waits := map[string][]float64{}
	var cron []float64
	starved, eligible := 0, 0
	for i, j := range tl.Jobs {
		w, started := tl.Wait(i)
		c := j.SizeClass()
		waits[c] = append(waits[c], w.Minutes())
		f.Waits = append(f.Waits, w.Minutes())
		f.Jobs[c]++
		if !started {
			f.NotStarted[c]++
		}
		if j.Cron {
			cron = append(cron, w.Seconds())
		}
		if j.GPUsPerPod == 8 && j.Arrival+tl.StarvationAfter <= tl.Horizon {
			eligible++
			if !started || w > tl.StarvationAfter {
				starved++
			}
		}
	}
	for c, ws := range waits {
		f.WaitMean[c] = mean(ws)
		f.WaitP95[c] = Percentile(ws, 95)
	}
	f.Starved8 = pct(float64(starved), float64(eligible))
	f.CronJobs = len(cron)
	f.CronDelayMean = mean(cron)
	f.CronDelayP95 = Percentile(cron, 95)

	// Throughput.
	f.PeakPodsPerSecond = peakRate(tl.BindWall, 10*time.Second)
	if tl.Wall > 0 {
		f.MeanPodsPerSecond = float64(len(tl.BindWall)) / tl.Wall.Seconds()
	}
	return f
}

// partialGangSeconds is the GPU-seconds job i's bound pods held while the
// gang was not wholly bound: from each member's binding until the last
// member's (or the end, if the gang never completed). Zero if all members
// were bound within GangBindGrace of the first.
func partialGangSeconds(tl *Timeline, i int) float64 {
	pods := tl.Pods[i]
	first, last, bound := time.Duration(math.MaxInt64), time.Duration(0), 0
	for _, p := range pods {
		if p.Bound == Never {
			continue
		}
		bound++
		first, last = min(first, p.Bound), max(last, p.Bound)
	}
	if bound == 0 {
		return 0
	}
	until := last
	if bound < len(pods) {
		until = tl.Horizon
	} else if last-first <= tl.GangBindGrace {
		return 0
	}
	var s float64
	for _, p := range pods {
		if p.Bound == Never {
			continue
		}
		end := until
		if p.End != Never {
			end = min(end, p.End)
		}
		if end > p.Bound {
			s += float64(p.GPUs) * (end - p.Bound).Seconds()
		}
	}
	return s
}

type event struct {
	at             time.Duration
	queue          string
	alloc, pending int
}

// sweep integrates allocation, pending demand and the queues' shares over
// the replay.
func sweep(tl *Timeline, f *Figures) {
	var evs []event
	for i, j := range tl.Jobs {
		if j.Arrival >= tl.Horizon {
			continue
		}
		for _, p := range tl.Pods[i] {
			evs = append(evs, event{at: j.Arrival, queue: j.Queue, pending: p.GPUs})
			// An earlier, preempted placement: allocated, then pending
			// again.
			for _, sp := range p.Preempted {
				evs = append(evs, event{at: sp.From, queue: j.Queue, pending: -p.GPUs, alloc: p.GPUs})
				evs = append(evs, event{at: sp.To, queue: j.Queue, pending: p.GPUs, alloc: -p.GPUs})
			}
			if p.Bound == Never {
				continue
			}
			end := tl.Horizon
			if p.End != Never {
				end = min(end, p.End)
			}
			evs = append(evs, event{at: p.Bound, queue: j.Queue, pending: -p.GPUs, alloc: p.GPUs})
			evs = append(evs, event{at: end, queue: j.Queue, alloc: -p.GPUs})
		}
	}
	sort.SliceStable(evs, func(a, b int) bool { return evs[a].at < evs[b].at })
	capacity := float64(tl.ClusterGPUs)
	alloc, pending := 0, 0
	qAlloc, qPending := map[string]int{}, map[string]int{}
	var allocTime, satAllocTime, satTime time.Duration
	var allocGPUTime, satGPUTime float64
	qA, qT := map[string]float64{}, map[string]float64{}
	next := time.Duration(0) // next sample of AllocSeries
	k := 0
	for t := time.Duration(0); t < tl.Horizon; {
		for k < len(evs) && evs[k].at <= t {
			e := evs[k]
			alloc += e.alloc
			pending += e.pending
			qAlloc[e.queue] += e.alloc
			qPending[e.queue] += e.pending
			k++
		}
		end := tl.Horizon
		if k < len(evs) && evs[k].at < end {
			end = evs[k].at
		}
		for ; next < end; next += time.Minute {
			f.AllocSeries = append(f.AllocSeries, pct(float64(alloc), capacity))
		}
		dt := end - t
		allocGPUTime += float64(alloc) * dt.Seconds()
		allocTime += dt
		if pending > 0 && float64(pending) >= capacity-float64(alloc) {
			satTime += dt
			satGPUTime += float64(alloc) * dt.Seconds()
			satAllocTime += dt
			demand := map[string]float64{}
			for q := range tl.Weights {
				demand[q] = float64(qAlloc[q] + qPending[q])
			}
			target := WaterFill(float64(alloc), tl.Weights, demand)
			for q := range tl.Weights {
				qA[q] += float64(qAlloc[q]) * dt.Seconds()
				qT[q] += target[q] * dt.Seconds()
			}
		}
		t = end
	}
	f.AllocMean = pct(allocGPUTime, capacity*allocTime.Seconds())
	f.AllocSaturated = pct(satGPUTime, capacity*satAllocTime.Seconds())
	f.SaturatedHours = satTime.Hours()
	f.QueueShare, f.QueueTarget = map[string]float64{}, map[string]float64{}
	var sumA, sumT float64
	for q := range tl.Weights {
		sumA += qA[q]
		sumT += qT[q]
	}
	var ratios []float64
	for q := range tl.Weights {
		f.QueueShare[q] = pct(qA[q], sumA)
		f.QueueTarget[q] = pct(qT[q], sumT)
		if qT[q] > 0 {
			r := qA[q] / qT[q]
			ratios = append(ratios, r)
			f.QueueShareError = math.Max(f.QueueShareError, 100*math.Abs(r-1))
		}
	}
	f.Jain = Jain(ratios)
}

// WaterFill divides capacity among queues in proportion to their weights,
// none getting more than its demand, what a capped queue leaves going to
// the others (weighted max-min fairness).
func WaterFill(capacity float64, weights map[string]int32, demand map[string]float64) map[string]float64 {
	out := map[string]float64{}
	active := map[string]bool{}
	for q, w := range weights {
		if w > 0 && demand[q] > 0 {
			active[q] = true
		}
	}
	left := capacity
	for len(active) > 0 && left > 1e-9 {
		var sumW float64
		for q := range active {
			sumW += float64(weights[q])
		}
		capped := false
		for q := range active {
			share := left * float64(weights[q]) / sumW
			if need := demand[q] - out[q]; need <= share {
				out[q] += need
				delete(active, q)
				capped = true
			}
		}
		if capped {
			left = capacity
			for _, v := range out {
				left -= v
			}
			continue
		}
		for q := range active {
			out[q] += left * float64(weights[q]) / sumW
		}
		break
	}
	return out
}

// Jain is Jain's fairness index of xs: (Σx)² / (n·Σx²), 1 when all are
// equal, 1/n when one has everything; 0 for no values.
func Jain(xs []float64) float64 {
	var s, s2 float64
	for _, x := range xs {
		s += x
		s2 += x * x
	}
	if len(xs) == 0 || s2 == 0 {
		return 0
	}
	return s * s / (float64(len(xs)) * s2)
}

// Percentile is the p-th percentile of xs by nearest rank (0 for none).
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func pct(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * a / b
}

// peakRate is the most events in any window, per second.
func peakRate(ts []time.Duration, window time.Duration) float64 {
	s := append([]time.Duration(nil), ts...)
	sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
	best, lo := 0, 0
	for hi := range s {
		for s[hi]-s[lo] >= window {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return float64(best) / window.Seconds()
}
