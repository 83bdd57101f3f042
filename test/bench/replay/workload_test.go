package replay

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func TestDefaultSpecIsValid(t *testing.T) {
	s, err := DefaultSpec()
	if err != nil {
		t.Fatal(err)
	}
	if s.Cluster.Nodes < 1000 {
		t.Errorf("default cluster has %d nodes, want ≥ 1000", s.Cluster.Nodes)
	}
}

func TestGenerateIsSeeded(t *testing.T) {
	s, err := DefaultSpec()
	if err != nil {
		t.Fatal(err)
	}
	a, b := s.Generate(100), s.Generate(100)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two generations with the same seed differ")
	}
	s.Seed++
	if c := s.Generate(100); reflect.DeepEqual(a, c) {
		t.Fatal("another seed gave the same workload")
	}
	for i := 1; i < len(a); i++ {
		if a[i].Arrival < a[i-1].Arrival {
			t.Fatalf("jobs not sorted by arrival at %d", i)
		}
	}
}

func TestGenerateFollowsTheMix(t *testing.T) {
	s, err := DefaultSpec()
	if err != nil {
		t.Fatal(err)
	}
	jobs := s.Generate(1000)
	st := Summarise(jobs)
	ordinary := st.Jobs - st.Cron
	wantJobs := s.Arrival.JobsPerHour * s.Hours
	if math.Abs(float64(ordinary)-wantJobs) > 4*math.Sqrt(wantJobs) {
		t.Errorf("%d ordinary jobs, want about %.0f", ordinary, wantJobs)
	}
	if st.Pods < 10000 {
		t.Errorf("default workload has %d pods, want ≥ 10,000 on 1,000 nodes", st.Pods)
	}
	var total float64
	for _, m := range s.Mix {
		total += m.Share
	}
	count := map[string]int{}
	for _, j := range jobs {
		if !j.Cron {
			count[j.Name[7:]]++ // "j00000-" prefix
		}
	}
	for _, m := range s.Mix {
		want := m.Share / total
		got := float64(count[m.Name]) / float64(ordinary)
		if sd := math.Sqrt(want * (1 - want) / float64(ordinary)); math.Abs(got-want) > 4*sd+1e-9 {
			t.Errorf("mix %s: share %.4f, want %.4f ± %.4f", m.Name, got, want, 4*sd)
		}
	}
	// The cron burst: all at 11:00 (3 h after the 08:00 start), in its
	// queue, scaled to the cluster.
	for _, j := range jobs {
		if j.Cron && (j.Arrival != 3*time.Hour || j.Queue != "inference") {
			t.Fatalf("cron job %+v not at 3h in queue inference", j)
		}
	}
	if want := s.Cron[0].Jobs; st.Cron != want {
		t.Errorf("%d cron jobs, want %d", st.Cron, want)
	}
	// Queue demand of training jobs without a queue of their own.
	training := 0
	for _, j := range jobs {
		if j.Kind == "training" {
			training++
		}
	}
	for _, q := range s.Queues {
		if q.Demand == 0 {
			continue
		}
		got := float64(st.ByQueue[q.Name]) / float64(training)
		if math.Abs(got-q.Demand) > 0.03 {
			t.Errorf("queue %s: %.3f of training jobs, want %.3f", q.Name, got, q.Demand)
		}
	}
	// Scaled down: a tenth of the cluster, about a tenth of the jobs.
	small := Summarise(s.Generate(100))
	if r := float64(small.Jobs) / float64(st.Jobs); r < 0.08 || r > 0.12 {
		t.Errorf("100 nodes got %.3f of 1000 nodes' jobs, want about 0.1", r)
	}
}

func TestParseSpecRejects(t *testing.T) {
	for name, y := range map[string]string{
		"unknown field": "seed: 1\nbogus: 2\n",
		"no queues":     "seed: 1\nhours: 1\nstartClock: \"08:00\"\ncluster: {nodes: 1, topologies: [{fixture: dgx-h100, share: 1}]}\narrival: {jobsPerHour: 1, referenceNodes: 1}\nmix: [{name: a, gpusPerPod: 1, pods: 1, share: 1, durationMinutes: {median: 1}}]\n",
	} {
		if _, err := ParseSpec([]byte(y)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
