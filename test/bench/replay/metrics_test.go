package replay

import (
	"math"
	"strings"
	"testing"
	"time"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestJain(t *testing.T) {
	for _, tt := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{1, 1, 1, 1}, 1},
		{[]float64{1, 0, 0, 0}, 0.25},
		{[]float64{1, 2}, 9.0 / 10},
		{nil, 0},
	} {
		if got := Jain(tt.xs); !near(got, tt.want) {
			t.Errorf("Jain(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	var xs []float64
	for i := 100; i >= 1; i-- {
		xs = append(xs, float64(i))
	}
	if got := Percentile(xs, 95); got != 95 {
		t.Errorf("p95 of 1..100 = %v, want 95", got)
	}
	if got := Percentile([]float64{7}, 95); got != 7 {
		t.Errorf("p95 of one value = %v", got)
	}
	if got := Percentile(nil, 95); got != 0 {
		t.Errorf("p95 of none = %v", got)
	}
}

func TestWaterFill(t *testing.T) {
	w := map[string]int32{"a": 2, "b": 1, "c": 1}
	got := WaterFill(100, w, map[string]float64{"a": 1000, "b": 1000, "c": 10})
	// c is capped at 10; a and b share 90 two to one.
	for q, want := range map[string]float64{"a": 60, "b": 30, "c": 10} {
		if !near(got[q], want) {
			t.Errorf("WaterFill: %s = %v, want %v (all: %v)", q, got[q], want, got)
		}
	}
}

// A hand-made timeline on a 16-GPU cluster over 10 simulated hours.
func handTimeline() *Timeline {
	h := time.Hour
	return &Timeline{
		Scheduler: "hand", Horizon: 10 * h, ClusterGPUs: 16, Compression: 60,
		Weights:         map[string]int32{"a": 1, "b": 1},
		GangBindGrace:   time.Minute,
		StarvationAfter: h,
		Jobs: []Job{
			{Name: "gang-partial", Queue: "a", Pods: 2, GPUsPerPod: 8, Arrival: 0},
			{Name: "gang-slow", Queue: "a", Pods: 2, GPUsPerPod: 4, Arrival: 0},
			{Name: "gang-fast", Queue: "b", Pods: 2, GPUsPerPod: 2, Arrival: 0},
			{Name: "single-8", Queue: "b", Pods: 1, GPUsPerPod: 8, Arrival: 2 * h, Cron: true},
		},
		Pods: [][]PodRecord{
			// One member bound at 1h, the other never: 8 GPUs × 9 h.
			{{GPUs: 8, Node: "n1", Bound: h, End: Never}, {GPUs: 8, Bound: Never, End: Never}},
			// Members bound at 1h and 3h, both end at 5h: 4 GPUs × 2 h.
			{{GPUs: 4, Node: "n2", Bound: h, End: 5 * h, Optimal: true}, {GPUs: 4, Node: "n2", Bound: 3 * h, End: 5 * h, Optimal: true}},
			// Both within the grace: not partial.
			{{GPUs: 2, Node: "n2", Bound: h, End: 2 * h}, {GPUs: 2, Node: "n2", Bound: h + 30*time.Second, End: 2 * h}},
			// Never started: starved, waited 8 h (censored).
			{{GPUs: 8, Bound: Never, End: Never}},
		},
		BindWall: []time.Duration{0, time.Second, 2 * time.Second, 30 * time.Second, 31 * time.Second},
		Wall:     100 * time.Second,
	}
}

func TestComputeOnHandTimeline(t *testing.T) {
	f := Compute(handTimeline())
	if want := 8*9 + 4*2.0; !near(f.PartialGangGPUHours, want) {
		t.Errorf("partial-gang GPU-hours = %v, want %v", f.PartialGangGPUHours, want)
	}
	if f.MultiGPUPods != 5 || !near(f.Optimal, 40) {
		t.Errorf("optimal = %v%% of %d multi-GPU pods, want 40%% of 5", f.Optimal, f.MultiGPUPods)
	}
	if f.NotStarted["gang"] != 1 || f.NotStarted["8"] != 1 || f.Jobs["gang"] != 3 {
		t.Errorf("jobs %v, not started %v", f.Jobs, f.NotStarted)
	}
	// Waits of gangs: 10h (censored), 3h, 1h30s.
	if !near(f.WaitMean["gang"], (600+180+60.5)/3.0) || !near(f.WaitP95["gang"], 600) {
		t.Errorf("gang waits: mean %v, p95 %v", f.WaitMean["gang"], f.WaitP95["gang"])
	}
	// Both 8-GPU jobs (the partial gang and the single) are starved.
	if !near(f.Starved8, 100) {
		t.Errorf("starved8 = %v, want 100", f.Starved8)
	}
	if f.CronJobs != 1 || !near(f.CronDelayMean, 8*3600) {
		t.Errorf("cron delay %v over %d jobs, want 28800 s over 1", f.CronDelayMean, f.CronJobs)
	}
	if !near(f.PeakPodsPerSecond, 0.3) || !near(f.MeanPodsPerSecond, 0.05) {
		t.Errorf("throughput peak %v, mean %v", f.PeakPodsPerSecond, f.MeanPodsPerSecond)
	}
	// Allocation: 0-1h 0 GPUs; 1h-2h 8+4+2+2 = 16; 2h-3h 12; 3h-5h 16; 5h-10h 8.
	// GPU-hours 16+12+32+40 = 100 of 160, less 2 GPUs × 30 s.
	want := 100 * (100 - 1.0/60) / 160
	if !near(f.AllocMean, want) {
		t.Errorf("mean allocation %v, want %v", f.AllocMean, want)
	}
	// Saturated: pending ≥ free. 0-1h pending 28 ≥ 16 free; 1h-2h pending
	// 12 ≥ 0; 2h-3h pending 4+8+8 = 20 ≥ 4; 3h-5h pending 16 ≥ 0; 5h-10h
	// pending 16 ≥ 8: always; allocation the same.
	if !near(f.SaturatedHours, 10) || !near(f.AllocSaturated, want) {
		t.Errorf("saturated %v h at %v%%", f.SaturatedHours, f.AllocSaturated)
	}
	// Second half (5h-10h): 8 of 16 GPUs.
	if !near(f.AllocLastHalf, 50) {
		t.Errorf("allocation over the second half %v, want 50", f.AllocLastHalf)
	}
	if len(f.AllocSeries) != 600 || f.AllocSeries[0] != 0 || f.AllocSeries[90] != 100 || f.AllocSeries[599] != 50 {
		t.Errorf("alloc series: %d points, [0] %v [90] %v [599] %v", len(f.AllocSeries), f.AllocSeries[0], f.AllocSeries[90], f.AllocSeries[599])
	}
	if f.Jain <= 0 || f.Jain > 1 {
		t.Errorf("Jain %v out of (0, 1]", f.Jain)
	}
}

func TestReportRendersRatios(t *testing.T) {
	g := Compute(handTimeline())
	g.Scheduler = "gantry"
	d := g
	d.Scheduler = "default"
	d.AllocSaturated = g.AllocSaturated / 2
	r := &Report{Title: "t", Figures: []Figures{g, d}, Descriptions: map[string]string{}}
	md := r.Markdown()
	for _, want := range []string{"| figure | gantry | default |", "(0.50×)", "NOT met"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	page := r.HTML()
	if !strings.Contains(page, "<svg") || !strings.Contains(page, "polyline") {
		t.Error("HTML report has no plot")
	}
	if err := r.Write(t.TempDir()); err != nil {
		t.Fatal(err)
	}
}

func TestPreemptedPlacementCountsAsAllocated(t *testing.T) {
	h := time.Hour
	tl := &Timeline{
		Horizon: 4 * h, ClusterGPUs: 8, Weights: map[string]int32{"a": 1},
		Jobs: []Job{{Name: "j", Queue: "a", Pods: 1, GPUsPerPod: 8}},
		// Placed at 0, preempted at 1h, placed again at 2h, ended at 3h.
		Pods:        [][]PodRecord{{{GPUs: 8, Node: "n", Bound: 2 * h, End: 3 * h, Preempted: []Span{{From: 0, To: h}}}}},
		Preemptions: 1,
	}
	f := Compute(tl)
	if !near(f.AllocMean, 50) {
		t.Errorf("allocation %v%%, want 50%% (2 of 4 hours)", f.AllocMean)
	}
	if f.Preemptions != 1 || !near(f.WaitMean["8"], 120) {
		t.Errorf("preemptions %d, wait %v min; want 1 and 120 (the start that lasted)", f.Preemptions, f.WaitMean["8"])
	}
	// Pending from 1h to 2h with all 8 GPUs free: saturated.
	if !near(f.SaturatedHours, 1) {
		t.Errorf("saturated %v h, want 1", f.SaturatedHours)
	}
}
