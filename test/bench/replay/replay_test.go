package replay

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gantry-gpu/gantry/test/framework"
)

// Environment of TestReplay.
const (
	// EnvMode selects the run: "quick" (CI: a small cluster, ≤ 3 minutes)
	// or "full" (the default workload on 1,000 nodes). Unset, TestReplay
	// is skipped, so `go test ./...` runs only the unit tests.
	EnvMode = "GANTRY_BENCH_REPLAY"
	// EnvNodes, EnvCompression and EnvHours override the mode's cluster
	// size, time compression (simulated seconds per wall second) and
	// simulated hours.
	EnvNodes       = "GANTRY_BENCH_NODES"
	EnvCompression = "GANTRY_BENCH_COMPRESSION"
	EnvHours       = "GANTRY_BENCH_HOURS"
	// EnvSchedulers lists the schedulers to compare, comma-separated
	// (default: gantry,default,mostallocated,coscheduling).
	EnvSchedulers = "GANTRY_BENCH_SCHEDULERS"
	// EnvWorkload is a workload YAML (default: workloads/default.yaml).
	EnvWorkload = "GANTRY_BENCH_WORKLOAD"
	// EnvAlibaba is an openb_pod_list_*.csv of Alibaba's
	// cluster-trace-gpu-v2023 to replay instead of the generated workload
	// (EnvAlibabaLimit keeps its first N GPU pods).
	EnvAlibaba      = "GANTRY_BENCH_ALIBABA"
	EnvAlibabaLimit = "GANTRY_BENCH_ALIBABA_LIMIT"
	// EnvOut is the report folder (default _output/bench/<mode>-<time>).
	EnvOut = "GANTRY_BENCH_OUT"
	// EnvDocs set to 1 also writes docs/benchmarks.md.
	EnvDocs = "GANTRY_BENCH_DOCS"
	// EnvCommand is the command line recorded in the report (make sets it).
	EnvCommand = "GANTRY_BENCH_COMMAND"
	// EnvTimelines=1 also writes each scheduler's timeline (every job and
	// pod: arrival, binding, end, preempted spans) as
	// timeline-<scheduler>.json, to study a figure.
	EnvTimelines = "GANTRY_BENCH_TIMELINES"
	// EnvVerbosity sets the schedulers' log verbosity (klog -v) in
	// scheduler.log; 0 when unset.
	EnvVerbosity = "GANTRY_BENCH_V"
)

type mode struct {
	nodes       int
	compression float64
}

var modes = map[string]mode{
	// 40 nodes (320 GPUs), 4 simulated hours in 24 s per scheduler.
	"quick": {nodes: 40, compression: 600},
	// The default workload's 1,000 nodes, 4 simulated hours in 3 minutes
	// per scheduler.
	"full": {nodes: 0, compression: 80},
}

func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil && v > 0 {
		return v
	}
	return def
}

// TestReplay replays the workload against every scheduler, one after the
// other on the same cluster, and writes the report. See EnvMode.
//
//	GANTRY_BENCH_REPLAY=quick go test -run TestReplay -v -timeout 30m ./test/bench/replay/
func TestReplay(t *testing.T) {
	name := os.Getenv(EnvMode)
	if name == "" {
		t.Skipf("set %s=quick or %s=full to run the replay benchmark", EnvMode, EnvMode)
	}
	m, ok := modes[name]
	if !ok {
		t.Fatalf("%s=%q: want quick or full", EnvMode, name)
	}
	began := time.Now()
	out := os.Getenv(EnvOut)
	if out == "" {
		out = filepath.Join(framework.RepoRoot(), "_output", "bench", name+"-"+began.UTC().Format("20060102-150405"))
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	quietLogs(t, filepath.Join(out, "scheduler.log"))

	spec, err := LoadSpec(os.Getenv(EnvWorkload))
	if err != nil {
		t.Fatal(err)
	}
	if m.nodes <= 0 {
		m.nodes = spec.Cluster.Nodes
	}
	m.nodes = int(envFloat(EnvNodes, float64(m.nodes)))
	m.compression = envFloat(EnvCompression, m.compression)
	spec.Hours = envFloat(EnvHours, spec.Hours)
	horizon := spec.Horizon()
	weights := map[string]int32{}
	for _, q := range spec.Queues {
		weights[q.Name] = q.Weight
	}
	guaranteed := spec.QueueGuaranteed(m.nodes)
	jobs := spec.Generate(m.nodes)
	source := fmt.Sprintf("generated from %s (seed %d)", workloadName(), spec.Seed)
	if path := os.Getenv(EnvAlibaba); path != "" {
		jobs, err = LoadAlibabaFile(path, AlibabaOptions{Limit: int(envFloat(EnvAlibabaLimit, 0))})
		if err != nil {
			t.Fatal(err)
		}
		source = "Alibaba cluster-trace-gpu-v2023 file " + path
		weights, guaranteed = map[string]int32{}, nil
		for _, j := range jobs {
			weights[j.Queue] = 1
		}
		if len(jobs) > 0 && os.Getenv(EnvHours) == "" {
			horizon = jobs[len(jobs)-1].Arrival + time.Hour
		}
	}
	var names []string
	if v := os.Getenv(EnvSchedulers); v != "" {
		names = strings.Split(v, ",")
	}
	schedulers, err := SelectSchedulers(names)
	if err != nil {
		t.Fatal(err)
	}
	st := Summarise(jobs)

	ctx := context.Background()
	cp := framework.StartT(t)
	start := time.Now()
	for _, s := range schedulers {
		if s.ElasticQuotas {
			if err := InstallElasticQuotaCRD(ctx, cp); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	cluster, err := NewCluster(ctx, cp, spec.Cluster, m.nodes)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("created %d nodes (%d GPUs) with NodeGPUs in %s; %d jobs, %d pods, %.0f GPU-hours; %s simulated at %.0f×, %s per scheduler",
		len(cluster.Nodes), cluster.GPUs, time.Since(start).Round(time.Millisecond), st.Jobs, st.Pods, st.GPUHours,
		horizon, m.compression, time.Duration(float64(horizon)/m.compression).Round(time.Second))

	report := &Report{
		Title:        fmt.Sprintf("Gantry scheduler benchmark (%s mode)", name),
		Command:      command(name),
		Machine:      machine(),
		Descriptions: map[string]string{},
	}
	fixtures := map[string]int{}
	for _, n := range cluster.Nodes {
		fixtures[n.Fixture]++
	}
	var fx []string
	for f, n := range fixtures {
		fx = append(fx, fmt.Sprintf("%d × %s", n, f))
	}
	sort.Strings(fx)
	report.Setup = []string{
		fmt.Sprintf("Cluster: %d simulated 8-GPU nodes (%s), %d GPUs, each with a NodeGPU; one real etcd + kube-apiserver; no kubelet: the driver deletes a job's pods when its duration is over.", len(cluster.Nodes), strings.Join(fx, ", "), cluster.GPUs),
		fmt.Sprintf("Workload: %s: %d jobs, %d pods (%d cron), %.0f GPU-hours asked; jobs by size %v; by queue %v.", source, st.Jobs, st.Pods, st.Cron, st.GPUHours, st.BySize, st.ByQueue),
		fmt.Sprintf("Time: %s simulated, compressed %.0f× (%s of wall time per scheduler); waits and delays are in simulated time, throughput in wall time.", horizon, m.compression, time.Duration(float64(horizon)/m.compression).Round(time.Second)),
		"Saturated: while the GPUs of pending pods are at least the free GPUs. NVLink-optimal: the pod's GPU set has the best bottleneck link any set of its size has on an empty node of that topology. Non-Gantry pods get the set the device plugin's GetPreferredAllocation gives (pkg/gpu BestSet on the node's free GPUs); Gantry pods the gantry.dev/gpu-ids the scheduler chose. A gang counts as partial unless all its members were bound within 2 wall seconds of the first. Fair shares: weighted max-min (water-filling) of the allocated GPUs, each queue capped by its demand (allocated + pending).",
	}
	for _, s := range schedulers {
		report.Descriptions[s.Name] = s.Description
		rs := time.Now()
		tl, err := Replay(ctx, t, cp, cluster, s, jobs, Options{
			Compression: m.compression, Horizon: horizon, Weights: weights, Guaranteed: guaranteed,
			PodCPUPerGPU: spec.Cluster.PodCPUPerGPU, PodMemoryGiBPerGPU: spec.Cluster.PodMemoryGiBPerGPU,
			Logf: t.Logf,
		})
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		f := Compute(tl)
		report.Figures = append(report.Figures, f)
		if os.Getenv(EnvTimelines) == "1" {
			if err := writeJSON(filepath.Join(out, "timeline-"+s.Name+".json"), tl); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s: replay and clean-up in %s: allocation under saturation %.1f%% (%.2f h saturated), optimal %.1f%%, partial gangs %.1f GPU-h, %d/%d pods bound, %d mismatches",
			s.Name, time.Since(rs).Round(time.Second), f.AllocSaturated, f.SaturatedHours, f.Optimal, f.PartialGangGPUHours, f.PodsBound, f.Pods, f.Mismatches)
	}
	report.Setup = append(report.Setup, "Source: "+sourceState()+".")
	report.Setup = append(report.Setup, fmt.Sprintf("Whole run (control plane, nodes, every replay and clean-up): %s.", time.Since(began).Round(time.Second)))

	if err := report.Write(out); err != nil {
		t.Fatal(err)
	}
	t.Logf("report: %s\n%s", out, report.Table())
	for _, s := range report.Targets() {
		t.Log(s)
	}
	if os.Getenv(EnvDocs) == "1" {
		path := filepath.Join(framework.RepoRoot(), "docs", "benchmarks.md")
		if err := os.WriteFile(path, []byte(docsPage(report)), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
	}
	for _, f := range report.Figures {
		if f.PodsBound == 0 {
			t.Errorf("%s bound no pod", f.Scheduler)
		}
		if f.Mismatches > 0 {
			t.Errorf("%s: %d pods got GPUs already in use", f.Scheduler, f.Mismatches)
		}
	}
}

// quietLogs sends the in-process schedulers' logs (klog, and
// controller-runtime's, which Coscheduling uses) to a file instead of the
// test's output.
func quietLogs(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	flags := map[string]string{"logtostderr": "false", "alsologtostderr": "false", "stderrthreshold": "FATAL"}
	if v := os.Getenv(EnvVerbosity); v != "" {
		flags["v"] = v
	}
	for k, v := range flags {
		if err := fs.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	klog.SetOutput(f)
	ctrllog.SetLogger(klog.NewKlogr())
	t.Cleanup(func() {
		klog.Flush()
		_ = f.Close()
	})
}

// sourceState is the commit the run was built from, and the files of
// the scheduler's packages that differ from it (the tree is shared).
func sourceState() string {
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = framework.RepoRoot()
		out, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	commit := git("rev-parse", "--short", "HEAD")
	if commit == "" {
		return "unknown commit"
	}
	dirty := strings.Fields(git("status", "--porcelain", "--untracked-files=no", "--", "pkg", "cmd", "deploy/config", "test/bench/replay"))
	var files []string
	for _, f := range dirty {
		if strings.Contains(f, "/") {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return "commit " + commit
	}
	return fmt.Sprintf("commit %s plus uncommitted changes to %s", commit, strings.Join(files, ", "))
}

func workloadName() string {
	if p := os.Getenv(EnvWorkload); p != "" {
		return p
	}
	return "test/bench/replay/workloads/default.yaml"
}

func command(mode string) string {
	if c := os.Getenv(EnvCommand); c != "" {
		return c
	}
	var env []string
	for _, k := range []string{EnvMode, EnvNodes, EnvCompression, EnvHours, EnvSchedulers, EnvWorkload, EnvAlibaba, EnvAlibabaLimit} {
		if v := os.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	_ = mode
	return strings.Join(env, " ") + " go test -run TestReplay -v -timeout 30m ./test/bench/replay/"
}

func machine() string {
	model := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(line, "model name") {
				if _, v, ok := strings.Cut(line, ":"); ok {
					model = strings.TrimSpace(v)
				}
				break
			}
		}
	}
	mem := ""
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(strings.SplitN(string(raw), "\n", 2)[0], "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GiB memory", float64(kb)/(1<<20))
		}
	}
	kernel := ""
	if out, err := exec.Command("uname", "-sr").Output(); err == nil {
		kernel = ", " + strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("%d CPUs (nproc), %s%s%s, %s %s/%s", runtime.NumCPU(), model, mem, kernel, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func docsPage(r *Report) string {
	intro := "# Benchmarks\n\n" +
		"`test/bench/replay` replays one GPU workload against several schedulers, one after the other, on the same simulated cluster with the same seed and the same arrival times, and compares them. " +
		"`make bench` runs it in full and, with `BENCH_DOCS=1`, rewrites this page; `make bench-quick` is a small run (40 nodes) for CI. " +
		"Each run writes `report.md`, `report.html` (the table and plots of GPU allocation over time and of the wait distribution, self-contained SVG) and `results.json` to `_output/bench/<mode>-<time>/`.\n\n" +
		method + "\n## " + r.Title
	return "<!-- Written by `make bench BENCH_DOCS=1` (test/bench/replay); edit the generator, not this file. -->\n" +
		strings.Replace(r.Markdown(), "# "+r.Title, intro, 1)
}

// method explains, on docs/benchmarks.md, how the figures arise.
const method = `## Method

- **Workload**: ` + "`test/bench/replay/workloads/default.yaml`" + `, seeded; its mix (1/2/4/8-GPU pods, multi-node gangs of 2 and 4 × 8 GPUs, inference), log-normal durations, Poisson arrivals, four queues with weights, and a daily 11:00 cron burst of inference jobs are an approximation of published production statistics (Weng et al., NSDI '22 and ATC '23; Jeon et al., ATC '19; cited in the file). ` + "`GANTRY_BENCH_ALIBABA=openb_pod_list_default.csv`" + ` replays Alibaba's cluster-trace-gpu-v2023 instead (one job per GPU pod, queues by QoS class, GPU-sharing pods rounded up to one GPU).
- **Cluster**: a real etcd and kube-apiserver (test/framework), 8-GPU nodes made Ready through the API, half DGX H100 (NVSwitch) and half PCIe servers with two NVLink islands of four, each with the NodeGPU that Gantry's device plugin publishes for that NVML fixture. Every scheduler gets the same nodes.
- **Pods finish by the driver, not by KWOK**: the driver deletes a job's pods its duration after the last of them was bound. A gang's clock starts when the whole gang is bound (a partial gang does no work), which KWOK's per-pod stages cannot express, and deleting is one API write per pod where KWOK's Running and Succeeded status updates are two more, which a 2-core machine replaying 10,000 pods cannot spare. No kubelet runs: a bound pod holds its resources until deleted, which is all a scheduler sees of a running pod.
- **Schedulers** run in the test process, one at a time, each on an emptied cluster, with the client rate limit lifted.
- **GPU sets**: Gantry pods get the ` + "`gantry.dev/gpu-ids`" + ` the scheduler wrote; the other schedulers do not choose GPUs, so their pods get what a topology-aware device plugin's GetPreferredAllocation hands out: the best set on the node's free GPUs by Gantry's own scoring (pkg/gpu BestSet). **NVLink-optimal**: the set's bottleneck link is as good as that of the best set of its size on an empty node of that topology.
- **Saturated**: while the GPUs of pending pods are at least the free GPUs. **Partial gangs**: GPU-time held by bound members of a gang not wholly bound (a gang whose members were all bound within 2 wall seconds of the first is not partial). **Starved**: an 8-GPU-per-pod job not started within 1 simulated hour (jobs that arrived in the last hour are not counted). **Queue share error**: over the saturated time, the largest |allocated ÷ fair share − 1| over queues, the fair share being weighted max-min (water-filling) of the allocated GPUs, each queue capped by its demand (allocated + pending); **Jain's index** of allocated ÷ fair share over queues.
- **Time compression**: simulated seconds per wall second. Waits are simulated time, so a scheduler's own latency counts compression-fold; throughput is wall time. The schedulers' own timers (Coscheduling's and Gantry's 30 s Permit waits, Coscheduling's backoff) stay in wall time.
- **Caveat**: on a 2-core machine the replay is CPU-bound: a scheduler that falls behind the arrival rate shows it as waits and lower allocation, and other work on the machine makes any scheduler fall behind. The table's load-average row says how busy the machine was during each replay; compare schedulers only across replays with a similar load, or rerun.
`
