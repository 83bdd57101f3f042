package bench

import (
	"context"
	"fmt"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/component-base/metrics/testutil"
	schedmetrics "k8s.io/kubernetes/pkg/scheduler/metrics"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	"github.com/gantry-gpu/gantry/test/framework"
)

// Sizes of the gang benchmark; override with GANTRY_BENCH_GANG_NODES,
// GANTRY_BENCH_GANGS, GANTRY_BENCH_GANG_ROUNDS, GANTRY_BENCH_CONTENTION_GANGS
// and GANTRY_BENCH_SETTLE_SECONDS.
var (
	// gangBenchNodes 8-GPU nodes with a NodeGPU each.
	gangBenchNodes = envInt("GANTRY_BENCH_GANG_NODES", 1000)
	// gangBenchGangs gangs in the throughput run: 100 gangs of 8 pods × 8
	// GPUs take 6,400 of 1,000 nodes' 8,000 GPUs, so every gang fits as it
	// comes and the run measures the scheduler, not a wait for room.
	gangBenchGangs = envInt("GANTRY_BENCH_GANGS", 100)
	// gangBenchRounds throughput runs per scheduler, in turn.
	gangBenchRounds = envInt("GANTRY_BENCH_GANG_ROUNDS", 3)
	// gangBenchContentionGangs gangs in the contention run: by default as
	// many as ask for 1.5× the cluster's GPUs.
	gangBenchContentionGangs = envInt("GANTRY_BENCH_CONTENTION_GANGS", (gangBenchNodes*gpusPerNode*3/2+gangGPUs-1)/gangGPUs)
	// gangBenchSettle bounds how long the contention run waits for the
	// scheduler to settle.
	gangBenchSettle = time.Duration(envInt("GANTRY_BENCH_SETTLE_SECONDS", 120)) * time.Second
)

const (
	gpusPerNode = 8
	// A gang is gangSize pods of podGPUs GPUs each, all needed (minMember
	// = gangSize).
	gangSize = 8
	podGPUs  = 8
	gangGPUs = gangSize * podGPUs
	// gangTimeoutSeconds is every PodGroup's scheduleTimeoutSeconds: how
	// long placed members wait in Permit for the rest, for both schedulers.
	gangTimeoutSeconds = 30
	// Coscheduling's own args: the Permit wait for PodGroups that set none
	// (these all do), and how long a PodGroup rejected in PostFilter is
	// kept out of scheduling ("5-10 for clusters with moderate resource
	// contention", scheduler-plugins' documentation says).
	coschedulingPermitWaitingTimeSeconds = gangTimeoutSeconds
	coschedulingPodGroupBackoffSeconds   = 10
	// gangSettleQuiet is how long the contention run must see no binding
	// and no pod waiting in Permit or binding to call the scheduler settled.
	gangSettleQuiet = 10 * time.Second
	// gangStartupGrace is how long a scheduler runs before the burst
	// throughput run starts creating pods.
	gangStartupGrace = 3 * time.Second
)

// gangScheduler is one of the schedulers the gang benchmark compares.
type gangScheduler struct {
	name   string
	config func(b *testing.B, kubeconfig string) string
	// tool, when set, is a scheduler binary of `make tools` that runs the
	// configuration as its own process (outside the profiler's labels).
	tool string
}

// run starts the scheduler, runs f and stops the scheduler. The scheduler's
// goroutines and f's carry the profiler labels scheduler=<name> and
// run=<what>, so that a CPU profile of the benchmark splits by them
// (go tool pprof -tagfocus scheduler=gantry).
func (s gangScheduler) run(ctx context.Context, b *testing.B, cp *framework.ControlPlane, what string, f func(ctx context.Context)) {
	pprof.Do(ctx, pprof.Labels("scheduler", s.name, "run", what), func(ctx context.Context) {
		var stop func()
		if s.tool != "" {
			stop = framework.StartSchedulerTool(ctx, b, s.tool, s.config(b, cp.Kubeconfig))
		} else {
			stop = framework.StartScheduler(ctx, b, s.config(b, cp.Kubeconfig))
		}
		defer stop()
		f(ctx)
	})
}

func gangSchedulers() []gangScheduler {
	return []gangScheduler{
		{
			name: "gantry",
			// The shipped profile (GantryGPUTopology, GantryGang as
			// every extension point and the queue sort), as is.
			config: func(b *testing.B, kubeconfig string) string {
				path, err := framework.InProcessSchedulerConfig(kubeconfig, b.TempDir(), "bench-gang-gantry")
				if err != nil {
					b.Fatal(err)
				}
				cfg := readSchedulerConfig(b, path)
				liftClientRateLimit(&cfg)
				return writeSchedulerConfig(b, path, &cfg)
			},
		},
		{
			name: "coscheduling",
			config: func(b *testing.B, kubeconfig string) string {
				return coschedulingConfig(b, kubeconfig, "bench-gang-coscheduling", coschedulingPermitWaitingTimeSeconds, coschedulingPodGroupBackoffSeconds)
			},
			tool: framework.SchedulerPluginsTool,
		},
	}
}

// BenchmarkGangScheduling schedules gangs of 8 pods × 8 GPUs (a PodGroup
// each, minMember 8) on gangBenchNodes 8-GPU NVSwitch nodes with NodeGPUs
// against one real API server, with Gantry's shipped profile and with the
// default profile plus scheduler-plugins' Coscheduling. The framework wants
// one queue sort for all profiles of a scheduler and each of the two brings
// its own, so each runs in a scheduler of its own, started for its run and
// stopped after it, on the same nodes, with the same pods created in the
// same order.
//
//   - throughput: gangBenchRounds rounds; in each, each scheduler (in turn,
//     the first one alternating) schedules gangBenchGangs gangs that all
//     fit, created gang by gang, once while it runs ("burst": pods/s from
//     the first pod created to the last one bound, <name>-pods/s, ratio
//     gantry/coscheduling) and once from a backlog created before it
//     starts ("backlog": from its start to the last pod bound,
//     <name>-backlog-pods/s, ratio backlog-gantry/coscheduling); see
//     runGangThroughput. Rounds in turn share out the noise of a busy
//     machine between the two.
//   - contention, once per scheduler: gangBenchContentionGangs gangs (1.5×
//     the cluster's GPUs) created at once, interleaved (first member of
//     every gang, then the second, ...); once the scheduler has settled,
//     the GPUs of pods bound while their gang has fewer than minMember
//     pods bound are stranded (<name>-stranded-% of the cluster's GPUs);
//     also reported are the GPUs of complete gangs (<name>-gang-gpus-%),
//     the pods still waiting in Permit or binding at the end
//     (<name>-waiting-pods), which hold GPUs in the scheduler's cache
//     without being bound, and the time from the first pod created to the
//     last one bound (<name>-fill-s).
//
// Pods never run (no kubelet): bound is allocated.
//
//	KUBEBUILDER_ASSETS=$PWD/_output/tools go test -run xxx -bench GangScheduling -benchtime 1x -timeout 30m ./test/bench/
func BenchmarkGangScheduling(b *testing.B) {
	b.StopTimer()
	// The throughput run waits for every gang to be bound: gangs that
	// cannot all fit would leave it waiting until the test times out.
	if need, have := gangBenchGangs*gangGPUs, gangBenchNodes*gpusPerNode; need > have {
		b.Fatalf("GANTRY_BENCH_GANGS=%d gangs of %d GPUs (%d GPUs) do not fit GANTRY_BENCH_GANG_NODES=%d nodes (%d GPUs): the throughput run needs every gang to fit; set GANTRY_BENCH_GANGS to at most %d",
			gangBenchGangs, gangGPUs, need, gangBenchNodes, have, have/gangGPUs)
	}
	ctx := context.Background()
	cp, err := framework.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cp.Stop() })

	start := time.Now()
	createNodes(ctx, b, cp, gangBenchNodes)
	clusterGPUs := gangBenchNodes * gpusPerNode
	b.Logf("created %d nodes with NodeGPUs (%d GPUs) in %s; throughput: %d rounds of %d gangs (%d pods) per scheduler; contention: %d gangs (%d GPUs, %.2f× the cluster)",
		gangBenchNodes, clusterGPUs, time.Since(start).Round(time.Millisecond), gangBenchRounds, gangBenchGangs, gangBenchGangs*gangSize,
		gangBenchContentionGangs, gangBenchContentionGangs*gangGPUs, float64(gangBenchContentionGangs*gangGPUs)/float64(clusterGPUs))

	schedulers := gangSchedulers()
	// pods, elapsed and each round's pods/s per mode ("burst", "backlog")
	// and scheduler.
	pods := map[string]int{}
	elapsed := map[string]time.Duration{}
	rounds := map[string][]string{}
	for range b.N {
		for round := range gangBenchRounds {
			for _, backlog := range []bool{false, true} {
				for i := range schedulers {
					s := schedulers[(i+round)%len(schedulers)]
					r := runGangThroughput(ctx, b, cp, s, gangBenchGangs, backlog)
					pods[r.mode+"/"+s.name] += r.pods
					elapsed[r.mode+"/"+s.name] += r.elapsed
					rounds[r.mode+"/"+s.name] = append(rounds[r.mode+"/"+s.name], r.String())
				}
			}
		}
	}
	results := map[string]contentionResult{}
	for _, s := range schedulers {
		var r contentionResult
		s.run(ctx, b, cp, "contention", func(ctx context.Context) {
			r = runGangContention(ctx, b, cp, s.name, gangBenchContentionGangs, clusterGPUs)
		})
		results[s.name] = r
		b.Logf("contention, %s: %s", s.name, r)
	}

	// A benchmark's log is cut after ten lines: one line per mode and
	// scheduler.
	for _, mode := range []string{"burst", "backlog"} {
		for _, s := range schedulers {
			b.Logf("%s, %s: %s", mode, s.name, strings.Join(rounds[mode+"/"+s.name], "; "))
		}
	}
	rate := func(mode, scheduler string) float64 {
		return float64(pods[mode+"/"+scheduler]) / elapsed[mode+"/"+scheduler].Seconds()
	}
	for _, s := range schedulers {
		r := results[s.name]
		b.ReportMetric(rate("burst", s.name), s.name+"-pods/s")
		b.ReportMetric(rate("backlog", s.name), s.name+"-backlog-pods/s")
		b.ReportMetric(r.strandedPercent(), s.name+"-stranded-%")
		b.ReportMetric(r.gangPercent(), s.name+"-gang-gpus-%")
		b.ReportMetric(float64(r.waiting), s.name+"-waiting-pods")
		b.ReportMetric(r.filled.Seconds(), s.name+"-fill-s")
	}
	ratio := rate("burst", "gantry") / rate("burst", "coscheduling")
	backlogRatio := rate("backlog", "gantry") / rate("backlog", "coscheduling")
	b.ReportMetric(ratio, "gantry/coscheduling")
	b.ReportMetric(backlogRatio, "backlog-gantry/coscheduling")
	b.Logf("gang throughput: coscheduling %.1f pods/s, gantry %.1f pods/s, ratio %.2f (backlog: coscheduling %.1f pods/s, gantry %.1f pods/s, ratio %.2f); stranded GPUs under contention: coscheduling %.2f%%, gantry %.2f%%",
		rate("burst", "coscheduling"), rate("burst", "gantry"), ratio, rate("backlog", "coscheduling"), rate("backlog", "gantry"), backlogRatio,
		results["coscheduling"].strandedPercent(), results["gantry"].strandedPercent())
}

// throughputRound is one scheduler's throughput run.
type throughputRound struct {
	mode string
	pods int
	// created is from the first pod created to the last; elapsed from the
	// first pod created (burst) or the scheduler started (backlog) to the
	// last one bound.
	created, elapsed time.Duration
}

func (r throughputRound) String() string {
	return fmt.Sprintf("%.1f pods/s (created in %s, bound in %s)",
		float64(r.pods)/r.elapsed.Seconds(), r.created.Round(time.Millisecond), r.elapsed.Round(time.Millisecond))
}

// runGangThroughput creates gangs PodGroups, then their pods gang by gang,
// and measures until the last one is bound; then empties the namespace.
// Without backlog ("burst") the scheduler runs while the pods are created,
// started gangStartupGrace earlier so that the informers its plugins run
// themselves (Gantry's NodeGPUs, Coscheduling's PodGroups) have listed,
// and the time runs from the first pod created: while the scheduler keeps
// up, that is the API server's rate of creating pods. With backlog the
// pods are created first and the time runs from when the scheduler,
// started then, has synced the framework's informers: the scheduler's own
// rate, its plugins' informers listing included.
func runGangThroughput(ctx context.Context, b *testing.B, cp *framework.ControlPlane, s gangScheduler, gangs int, backlog bool) throughputRound {
	r := throughputRound{mode: "burst", pods: gangs * gangSize}
	if backlog {
		r.mode = "backlog"
	}
	ns := createGangNamespace(ctx, b, cp, s.name+"-"+r.mode, gangs)
	w := watchBindings(ctx, b, cp, ns)
	var start time.Time
	create := func(ctx context.Context) {
		start = time.Now()
		createGangPods(ctx, b, cp, ns, "bench-gang-"+s.name, gangs, func(i int) (gang, member int) { return i / gangSize, i % gangSize })
		r.created = time.Since(start)
	}
	waitBound := func(ctx context.Context) {
		if err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 10*time.Minute, true, func(context.Context) (bool, error) {
			return w.bound() == r.pods, nil
		}); err != nil {
			b.Fatalf("%s: %d of %d gang pods bound: %v", s.name, w.bound(), r.pods, err)
		}
		r.elapsed = w.last().Sub(start)
		b.StopTimer()
	}
	if backlog {
		create(ctx)
		s.run(ctx, b, cp, r.mode, func(ctx context.Context) {
			b.StartTimer()
			start = time.Now()
			waitBound(ctx)
		})
	} else {
		s.run(ctx, b, cp, r.mode, func(ctx context.Context) {
			time.Sleep(gangStartupGrace)
			b.StartTimer()
			create(ctx)
			waitBound(ctx)
		})
	}
	w.stop()
	emptyNamespace(ctx, b, cp, ns)
	return r
}

// contentionResult is the state a contention run settled in.
type contentionResult struct {
	clusterGPUs int
	gangs       int
	// complete gangs have minMember pods bound; partial ones fewer, but
	// at least one.
	complete, partial int
	// strandedGPUs are the GPUs of the bound pods of partial gangs.
	strandedGPUs int
	boundPods    int
	// waiting is the number of the scheduler's binding cycles in flight at
	// the end: pods reserved (assumed in the scheduler's cache) and waiting
	// in Permit, or being bound.
	waiting int
	// peakWaiting is the most binding cycles in flight seen while the run
	// settled (sampled every 500ms).
	peakWaiting int
	settled     bool
	// filled is from the first pod created to the last one bound; elapsed
	// until the run was called settled (or gave up).
	filled, elapsed time.Duration
}

func (r contentionResult) strandedPercent() float64 {
	return 100 * float64(r.strandedGPUs) / float64(r.clusterGPUs)
}

func (r contentionResult) gangPercent() float64 {
	return 100 * float64(r.complete*gangGPUs) / float64(r.clusterGPUs)
}

func (r contentionResult) String() string {
	state := "settled"
	if !r.settled {
		state = "NOT settled"
	}
	return fmt.Sprintf("%s after %s, last pod bound after %s: %d of %d gangs complete (%.1f%% of GPUs), %d partial, %d pods bound, %d stranded GPUs (%.2f%%), %d pods waiting in Permit or binding at the end (%d GPUs held unbound), at most %d on the way",
		state, r.elapsed.Round(time.Second), r.filled.Round(10*time.Millisecond), r.complete, r.gangs, r.gangPercent(), r.partial, r.boundPods,
		r.strandedGPUs, r.strandedPercent(), r.waiting, r.waiting*podGPUs, r.peakWaiting)
}

// runGangContention creates more gangs than the cluster holds, all at once
// and interleaved, waits until the scheduler has settled (no binding and
// nothing in Permit or binding for gangSettleQuiet, or gangBenchSettle
// passed), and reports how the gangs ended up; then empties the namespace.
func runGangContention(ctx context.Context, b *testing.B, cp *framework.ControlPlane, scheduler string, gangs, clusterGPUs int) contentionResult {
	ns := createGangNamespace(ctx, b, cp, scheduler+"-contention", gangs)
	w := watchBindings(ctx, b, cp, ns)
	start := time.Now()
	createGangPods(ctx, b, cp, ns, "bench-gang-"+scheduler, gangs, func(i int) (gang, member int) { return i % gangs, i / gangs })
	r := contentionResult{clusterGPUs: clusterGPUs, gangs: gangs}
	lastBound, lastWaiting, lastChange := -1, -1, time.Now()
	for {
		time.Sleep(500 * time.Millisecond)
		bound, waiting := w.bound(), bindingCycles(b)
		r.peakWaiting = max(r.peakWaiting, waiting)
		if bound != lastBound || waiting != lastWaiting {
			lastBound, lastWaiting, lastChange = bound, waiting, time.Now()
		}
		if waiting == 0 && time.Since(lastChange) >= gangSettleQuiet {
			r.settled = true
			break
		}
		if time.Since(start) >= gangBenchSettle {
			break
		}
	}
	r.elapsed = time.Since(start)
	r.waiting = bindingCycles(b)
	if last := w.last(); !last.IsZero() {
		r.filled = last.Sub(start)
	}
	w.stop()

	var pods corev1.PodList
	if err := cp.Client.List(ctx, &pods, client.InNamespace(ns)); err != nil {
		b.Fatal(err)
	}
	boundByGang := map[string]int{}
	for _, p := range pods.Items {
		if p.Spec.NodeName != "" {
			boundByGang[p.Labels[schedv1alpha1.PodGroupLabel]]++
			r.boundPods++
		}
	}
	for _, n := range boundByGang {
		if n >= gangSize {
			r.complete++
		} else {
			r.partial++
			r.strandedGPUs += n * podGPUs
		}
	}
	emptyNamespace(ctx, b, cp, ns)
	return r
}

// bindingCycles reads the scheduler's gauge of binding goroutines
// (scheduler_goroutines{operation="binding"}): one per pod past Reserve
// whose binding cycle, Permit's wait included, has not ended. The
// schedulers of the benchmark run one at a time in this process and share
// the gauge.
func bindingCycles(b *testing.B) int {
	v, err := testutil.GetGaugeMetricValue(schedmetrics.Goroutines.WithLabelValues(schedmetrics.Binding))
	if err != nil {
		b.Fatalf("reading scheduler_goroutines: %v", err)
	}
	return int(v)
}

// createGangNamespace makes a namespace with gangs PodGroups gang-000, ...:
// minMember 8, scheduleTimeoutSeconds gangTimeoutSeconds, and minResources
// (8 pods' GPUs), which Coscheduling checks against the cluster's free
// resources before it places a gang's first member.
func createGangNamespace(ctx context.Context, b *testing.B, cp *framework.ControlPlane, prefix string, gangs int) string {
	ns, err := cp.CreateNamespace(ctx, prefix)
	if err != nil {
		b.Fatal(err)
	}
	if err := framework.Parallel(gangs, 16, func(g int) error {
		return cp.Client.Create(ctx, &schedv1alpha1.PodGroup{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: gangName(g)},
			Spec: schedv1alpha1.PodGroupSpec{
				MinMember:              gangSize,
				MinResources:           corev1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(gangGPUs, resource.DecimalSI)},
				ScheduleTimeoutSeconds: ptr.To[int32](gangTimeoutSeconds),
			},
		})
	}); err != nil {
		b.Fatal(err)
	}
	return ns
}

func gangName(g int) string { return fmt.Sprintf("gang-%03d", g) }

// createGangPods creates gangs×8 pods of 8 GPUs for schedulerName, 16 at a
// time, the i-th being member of gang at(i).
func createGangPods(ctx context.Context, b *testing.B, cp *framework.ControlPlane, ns, schedulerName string, gangs int, at func(i int) (gang, member int)) {
	if err := framework.Parallel(gangs*gangSize, 16, func(i int) error {
		g, m := at(i)
		return cp.Client.Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: ns, Name: fmt.Sprintf("%s-worker-%d", gangName(g), m),
				Labels: map[string]string{schedv1alpha1.PodGroupLabel: gangName(g)},
			},
			Spec: corev1.PodSpec{
				SchedulerName: schedulerName,
				Containers: []corev1.Container{{Name: "c", Image: "registry.example/c", Resources: corev1.ResourceRequirements{
					Limits: corev1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(podGPUs, resource.DecimalSI)},
				}}},
			},
		})
	}); err != nil {
		b.Fatal(err)
	}
}

// emptyNamespace deletes the namespace's pods and PodGroups and waits until
// they are gone, then a little longer for the scheduler's caches to see it.
func emptyNamespace(ctx context.Context, b *testing.B, cp *framework.ControlPlane, ns string) {
	if err := cp.Client.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(ns), client.GracePeriodSeconds(0)); err != nil {
		b.Fatal(err)
	}
	if err := cp.Client.DeleteAllOf(ctx, &schedv1alpha1.PodGroup{}, client.InNamespace(ns)); err != nil {
		b.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		var pods corev1.PodList
		if err := cp.Client.List(ctx, &pods, client.InNamespace(ns)); err != nil {
			return false, err
		}
		return len(pods.Items) == 0, nil
	}); err != nil {
		b.Fatalf("pods of %s not deleted: %v", ns, err)
	}
	time.Sleep(2 * time.Second)
}

// bindingWatch follows a namespace's pods with an informer and counts the
// bound ones, and when the last of them was seen bound.
type bindingWatch struct {
	mu        sync.Mutex
	nodes     map[string]string
	lastBound time.Time
	cancel    context.CancelFunc
	factory   informers.SharedInformerFactory
}

func watchBindings(ctx context.Context, b *testing.B, cp *framework.ControlPlane, ns string) *bindingWatch {
	cs, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		b.Fatal(err)
	}
	w := &bindingWatch{nodes: map[string]string{}}
	ctx, w.cancel = context.WithCancel(ctx)
	w.factory = informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
	observe := func(obj any) {
		p, ok := obj.(*corev1.Pod)
		if !ok || p.Spec.NodeName == "" {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if _, seen := w.nodes[p.Name]; !seen {
			w.nodes[p.Name] = p.Spec.NodeName
			w.lastBound = time.Now()
		}
	}
	if _, err := w.factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    observe,
		UpdateFunc: func(_, obj any) { observe(obj) },
	}); err != nil {
		b.Fatal(err)
	}
	w.factory.Start(ctx.Done())
	for typ, ok := range w.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			b.Fatalf("informer for %v did not sync", typ)
		}
	}
	return w
}

func (w *bindingWatch) bound() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.nodes)
}

func (w *bindingWatch) last() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastBound
}

func (w *bindingWatch) stop() {
	w.cancel()
	w.factory.Shutdown()
}
