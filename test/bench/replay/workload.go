// Package replay is Gantry's scheduler-comparison benchmark: it generates
// (or loads from Alibaba's public GPU trace) a GPU workload, replays it,
// time-compressed, against each scheduler under test on the same simulated
// cluster (a real API server, fake GPU nodes with NodeGPUs, pods that finish
// after their job's duration), and reports per-scheduler figures, their
// ratios to Gantry's, and plots.
//
// The library is here; the runner is TestReplay (replay_test.go), gated by
// GANTRY_BENCH_REPLAY so that `go test ./...` runs only the unit tests.
package replay

import (
	"bytes"
	_ "embed"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

//go:embed workloads/default.yaml
var defaultWorkload []byte

// Spec describes a synthetic workload and the cluster it runs on. It is
// read from YAML (workloads/default.yaml is the default); see there for the
// meaning and the sources of every number.
type Spec struct {
	// Seed makes the generated workload reproducible: the same Spec and
	// node count always give the same jobs.
	Seed uint64 `json:"seed"`
	// Hours of simulated time the replay covers, starting at StartClock.
	Hours float64 `json:"hours"`
	// StartClock is the simulated wall-clock time ("HH:MM") at the start,
	// so that cron bursts can be placed at a time of day.
	StartClock string `json:"startClock"`
	// Cluster is the simulated cluster.
	Cluster ClusterSpec `json:"cluster"`
	// Arrival is the rate of ordinary (non-cron) job submissions.
	Arrival ArrivalSpec `json:"arrival"`
	// Queues are the tenants; every job names one.
	Queues []QueueSpec `json:"queues"`
	// Mix is the job-size mix of ordinary jobs.
	Mix []MixEntry `json:"mix"`
	// Cron are daily bursts of jobs created at once (a CronJob's batch).
	Cron []CronSpec `json:"cron"`
}

// ClusterSpec is the simulated cluster: Nodes GPU nodes, each of one of the
// Topologies (built-in NVML fixtures of pkg/gpu/nvml), in proportion to
// their Share.
type ClusterSpec struct {
	Nodes      int           `json:"nodes"`
	Topologies []TopologyMix `json:"topologies"`
	// NodeCPU and NodeMemoryGiB are every node's allocatable CPU and
	// memory; pods ask for PodCPUPerGPU cores and PodMemoryGiBPerGPU GiB
	// per GPU, so the default profile's cpu/memory scoring follows GPUs.
	NodeCPU            int `json:"nodeCPU"`
	NodeMemoryGiB      int `json:"nodeMemoryGiB"`
	PodCPUPerGPU       int `json:"podCPUPerGPU"`
	PodMemoryGiBPerGPU int `json:"podMemoryGiBPerGPU"`
}

// TopologyMix is one node type of the cluster.
type TopologyMix struct {
	Fixture string  `json:"fixture"`
	Share   float64 `json:"share"`
}

// ArrivalSpec is a Poisson arrival process of JobsPerHour jobs per hour on
// a cluster of ReferenceNodes nodes; the rate scales linearly with the
// cluster's size, so a smaller (quick) cluster is as loaded as the big one.
type ArrivalSpec struct {
	JobsPerHour    float64 `json:"jobsPerHour"`
	ReferenceNodes int     `json:"referenceNodes"`
}

// QueueSpec is a tenant: its scheduling weight (Queue spec.weight), the
// share of ordinary training jobs it submits (Demand), and optionally the
// GPUs guaranteed to it.
type QueueSpec struct {
	Name   string  `json:"name"`
	Weight int32   `json:"weight"`
	Demand float64 `json:"demand"`
	// GuaranteedGPUsPerReference is the guaranteed GPUs per ReferenceNodes
	// nodes (scaled like the arrival rate).
	GuaranteedGPUsPerReference int `json:"guaranteedGPUsPerReference,omitempty"`
}

// Dist is a log-normal duration distribution in minutes with the given
// median and sigma (of the underlying normal), clipped to [Min, Max].
type Dist struct {
	Median float64 `json:"median"`
	Sigma  float64 `json:"sigma"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// MixEntry is one job shape of the mix, chosen with probability Share
// (normalised over the mix).
type MixEntry struct {
	Name string `json:"name"`
	// Kind is "training" or "inference".
	Kind       string  `json:"kind"`
	GPUsPerPod int     `json:"gpusPerPod"`
	Pods       int     `json:"pods"`
	Share      float64 `json:"share"`
	// Queue, if set, is the queue of every job of this entry; otherwise
	// a queue is drawn in proportion to the queues' Demand.
	Queue           string `json:"queue,omitempty"`
	DurationMinutes Dist   `json:"durationMinutes"`
}

// CronSpec is a daily burst: Jobs jobs (per ReferenceNodes nodes) created
// at At ("HH:MM") in Queue.
type CronSpec struct {
	Name            string `json:"name"`
	At              string `json:"at"`
	Jobs            int    `json:"jobs"`
	GPUsPerPod      int    `json:"gpusPerPod"`
	Pods            int    `json:"pods"`
	Queue           string `json:"queue"`
	DurationMinutes Dist   `json:"durationMinutes"`
}

// Job is one workload item: Pods pods of GPUsPerPod GPUs each, a gang (all
// or nothing, PodGroup minMember = Pods) when Pods > 1, submitted Arrival
// after the replay's start and running Duration once all its pods run.
type Job struct {
	Name       string        `json:"name"`
	Kind       string        `json:"kind"`
	Queue      string        `json:"queue"`
	Pods       int           `json:"pods"`
	GPUsPerPod int           `json:"gpusPerPod"`
	Arrival    time.Duration `json:"arrival"`
	Duration   time.Duration `json:"duration"`
	Cron       bool          `json:"cron,omitempty"`
}

// GPUs is the job's total GPU count.
func (j Job) GPUs() int { return j.Pods * j.GPUsPerPod }

// Gang reports whether the job is a multi-pod gang.
func (j Job) Gang() bool { return j.Pods > 1 }

// SizeClass is the job's class for wait-time figures: "1", "2", "4", "8"
// GPUs (one pod), or "gang" (several pods).
func (j Job) SizeClass() string {
	if j.Gang() {
		return "gang"
	}
	return fmt.Sprint(j.GPUsPerPod)
}

// DefaultSpec is workloads/default.yaml.
func DefaultSpec() (*Spec, error) { return ParseSpec(defaultWorkload) }

// LoadSpec reads a workload YAML file; "" is the default.
func LoadSpec(path string) (*Spec, error) {
	if path == "" {
		return DefaultSpec()
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := ParseSpec(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ParseSpec parses and validates a workload YAML.
func ParseSpec(raw []byte) (*Spec, error) {
	var s Spec
	if err := yaml.UnmarshalStrict(bytes.TrimSpace(raw), &s); err != nil {
		return nil, err
	}
	return &s, s.Validate()
}

// Validate checks the spec.
func (s *Spec) Validate() error {
	var errs []string
	bad := func(f string, a ...any) { errs = append(errs, fmt.Sprintf(f, a...)) }
	if s.Hours <= 0 {
		bad("hours must be positive")
	}
	if _, err := parseClock(s.StartClock); err != nil {
		bad("startClock: %v", err)
	}
	if s.Cluster.Nodes <= 0 {
		bad("cluster.nodes must be positive")
	}
	if len(s.Cluster.Topologies) == 0 {
		bad("cluster.topologies is empty")
	}
	if s.Arrival.JobsPerHour <= 0 || s.Arrival.ReferenceNodes <= 0 {
		bad("arrival.jobsPerHour and arrival.referenceNodes must be positive")
	}
	queues := map[string]bool{}
	demand := 0.0
	for _, q := range s.Queues {
		if q.Name == "" || q.Weight <= 0 || q.Demand < 0 {
			bad("queue %q: needs a name and a positive weight, and a demand ≥ 0", q.Name)
		}
		queues[q.Name] = true
		demand += q.Demand
	}
	if len(queues) == 0 {
		bad("no queues")
	}
	share := 0.0
	for _, m := range s.Mix {
		if m.GPUsPerPod <= 0 || m.Pods <= 0 || m.Share < 0 {
			bad("mix %q: gpusPerPod and pods must be positive, share ≥ 0", m.Name)
		}
		if m.Queue != "" && !queues[m.Queue] {
			bad("mix %q: unknown queue %q", m.Name, m.Queue)
		}
		if m.Queue == "" && demand <= 0 {
			bad("mix %q names no queue and no queue has a demand", m.Name)
		}
		if err := m.DurationMinutes.validate(); err != nil {
			bad("mix %q: %v", m.Name, err)
		}
		share += m.Share
	}
	if share <= 0 {
		bad("the mix's shares sum to zero")
	}
	for _, c := range s.Cron {
		if _, err := parseClock(c.At); err != nil {
			bad("cron %q: at: %v", c.Name, err)
		}
		if !queues[c.Queue] {
			bad("cron %q: unknown queue %q", c.Name, c.Queue)
		}
		if c.GPUsPerPod <= 0 || c.Pods <= 0 || c.Jobs < 0 {
			bad("cron %q: gpusPerPod and pods must be positive, jobs ≥ 0", c.Name)
		}
		if err := c.DurationMinutes.validate(); err != nil {
			bad("cron %q: %v", c.Name, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid workload: %s", strings.Join(errs, "; "))
	}
	return nil
}

func (d Dist) validate() error {
	if d.Median <= 0 || d.Sigma < 0 || d.Min < 0 || (d.Max > 0 && d.Max < d.Min) {
		return fmt.Errorf("durationMinutes needs median > 0, sigma ≥ 0, 0 ≤ min ≤ max")
	}
	return nil
}

func (d Dist) sample(r *rand.Rand) time.Duration {
	m := d.Median * math.Exp(d.Sigma*r.NormFloat64())
	m = math.Max(m, d.Min)
	if d.Max > 0 {
		m = math.Min(m, d.Max)
	}
	return time.Duration(m * float64(time.Minute)).Round(time.Second)
}

func parseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("want HH:MM, got %q", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Horizon is the simulated length of the replay.
func (s *Spec) Horizon() time.Duration { return time.Duration(s.Hours * float64(time.Hour)) }

// Scale is the factor by which the rates and queue guarantees of the spec
// scale on a cluster of nodes nodes.
func (s *Spec) Scale(nodes int) float64 {
	return float64(nodes) / float64(s.Arrival.ReferenceNodes)
}

// Generate draws the workload for a cluster of nodes nodes (0: the spec's
// own), sorted by arrival. The same spec and nodes give the same jobs.
func (s *Spec) Generate(nodes int) []Job {
	if nodes <= 0 {
		nodes = s.Cluster.Nodes
	}
	r := rand.New(rand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15))
	scale := s.Scale(nodes)
	horizon := s.Horizon()
	rate := s.Arrival.JobsPerHour * scale / float64(time.Hour) // per ns
	var mixTotal, demandTotal float64
	for _, m := range s.Mix {
		mixTotal += m.Share
	}
	for _, q := range s.Queues {
		demandTotal += q.Demand
	}
	var jobs []Job
	t := time.Duration(0)
	for i := 0; ; i++ {
		t += time.Duration(r.ExpFloat64() / rate)
		if t >= horizon {
			break
		}
		m := pick(r, s.Mix, mixTotal, func(m MixEntry) float64 { return m.Share })
		queue := m.Queue
		if queue == "" {
			queue = pick(r, s.Queues, demandTotal, func(q QueueSpec) float64 { return q.Demand }).Name
		}
		jobs = append(jobs, Job{
			Name: fmt.Sprintf("j%05d-%s", i, m.Name), Kind: m.Kind, Queue: queue,
			Pods: m.Pods, GPUsPerPod: m.GPUsPerPod, Arrival: t.Round(time.Second),
			Duration: m.DurationMinutes.sample(r),
		})
	}
	start, _ := parseClock(s.StartClock)
	for _, c := range s.Cron {
		at, _ := parseClock(c.At)
		n := int(math.Round(float64(c.Jobs) * scale))
		// Every day the horizon covers.
		for day := time.Duration(0); day < horizon+start; day += 24 * time.Hour {
			off := day + at - start
			if off < 0 || off >= horizon {
				continue
			}
			for k := range n {
				jobs = append(jobs, Job{
					Name: fmt.Sprintf("cron-%s-d%d-%03d", c.Name, day/(24*time.Hour), k), Kind: "inference", Queue: c.Queue,
					Pods: c.Pods, GPUsPerPod: c.GPUsPerPod, Arrival: off, Duration: c.DurationMinutes.sample(r), Cron: true,
				})
			}
		}
	}
	sort.SliceStable(jobs, func(a, b int) bool { return jobs[a].Arrival < jobs[b].Arrival })
	return jobs
}

func pick[T any](r *rand.Rand, xs []T, total float64, weight func(T) float64) T {
	x := r.Float64() * total
	for _, v := range xs {
		if x -= weight(v); x < 0 {
			return v
		}
	}
	return xs[len(xs)-1]
}

// QueueTargets are the queues' guaranteed GPUs on a cluster of nodes nodes.
func (s *Spec) QueueGuaranteed(nodes int) map[string]int {
	out := map[string]int{}
	for _, q := range s.Queues {
		out[q.Name] = int(math.Round(float64(q.GuaranteedGPUsPerReference) * s.Scale(nodes)))
	}
	return out
}

// Stats summarises a workload.
type Stats struct {
	Jobs, Pods, GPUs int
	// GPUHours is the GPU time the jobs ask for.
	GPUHours float64
	// BySize counts jobs per SizeClass.
	BySize map[string]int
	// ByQueue counts jobs per queue.
	ByQueue map[string]int
	Cron    int
}

// Summarise computes a workload's Stats.
func Summarise(jobs []Job) Stats {
	st := Stats{BySize: map[string]int{}, ByQueue: map[string]int{}}
	for _, j := range jobs {
		st.Jobs++
		st.Pods += j.Pods
		st.GPUs += j.GPUs()
		st.GPUHours += float64(j.GPUs()) * j.Duration.Hours()
		st.BySize[j.SizeClass()]++
		st.ByQueue[j.Queue]++
		if j.Cron {
			st.Cron++
		}
	}
	return st
}
