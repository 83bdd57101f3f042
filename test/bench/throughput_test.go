// Package bench measures Gantry against the schedulers users would pick
// instead, on the same simulated cluster in one run.
package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	configv1 "k8s.io/kube-scheduler/config/v1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/gang"
	"github.com/gantry-gpu/gantry/test/framework"
)

// Sizes of the run; override with GANTRY_BENCH_NODES and GANTRY_BENCH_PODS.
var (
	benchNodes = envInt("GANTRY_BENCH_NODES", 1000)
	benchPods  = envInt("GANTRY_BENCH_PODS", 1000)
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkSchedulingThroughput schedules the same GPU workload (pods of 1,
// 2 and 4 GPUs) with the default kube-scheduler profile and with Gantry's
// profile, in one scheduler process against one real API server, on
// benchNodes 8-GPU NVSwitch nodes that each have a NodeGPU, and reports
// pods/s for each and their ratio. Each profile runs GANTRY_BENCH_ROUNDS
// times (default 3), in alternating order, the cluster emptied between
// runs; the figures are each profile's median, so one run disturbed by
// other load on the machine does not decide the ratio. Run it once:
//
//	go test -run xxx -bench SchedulingThroughput -benchtime 1x ./test/bench/
func BenchmarkSchedulingThroughput(b *testing.B) {
	ctx := context.Background()
	cp, err := framework.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cp.Stop() })

	start := time.Now()
	createNodes(ctx, b, cp, benchNodes)
	b.Logf("created %d nodes with NodeGPUs in %s", benchNodes, time.Since(start).Round(time.Millisecond))

	config := schedulerConfig(b, cp.Kubeconfig)
	stop := framework.StartScheduler(ctx, b, config)
	defer stop()

	profiles := []string{"bench-default", "bench-gantry"}
	rates, cpu := map[string][]float64{}, map[string][]float64{}
	b.ResetTimer()
	for round := range envInt("GANTRY_BENCH_ROUNDS", 3) {
		order := profiles
		if round%2 == 1 {
			order = []string{profiles[1], profiles[0]}
		}
		for _, profile := range order {
			rate, cpuMs := schedulePods(ctx, b, cp, profile, benchPods)
			rates[profile] = append(rates[profile], rate)
			cpu[profile] = append(cpu[profile], cpuMs)
			b.Logf("round %d, %s: %.1f pods/s, %.2f ms of CPU per pod", round+1, profile, rate, cpuMs)
		}
	}
	b.StopTimer()
	dumpSchedulerMetrics(b)
	def, gantry := median(rates["bench-default"]), median(rates["bench-gantry"])
	b.ReportMetric(def, "default-pods/s")
	b.ReportMetric(gantry, "gantry-pods/s")
	b.ReportMetric(median(cpu["bench-default"]), "default-cpu-ms/pod")
	b.ReportMetric(median(cpu["bench-gantry"]), "gantry-cpu-ms/pod")
	b.ReportMetric(gantry/def, "gantry/default")
	b.Logf("throughput (medians): default %.1f pods/s, gantry %.1f pods/s, ratio %.2f", def, gantry, gantry/def)
}

// median of xs (not empty).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// schedulerConfig is one scheduler with two profiles: the default profile as
// "bench-default" and the shipped gantry profile as "bench-gantry".
func schedulerConfig(b *testing.B, kubeconfig string) string {
	dir := b.TempDir()
	path, err := framework.InProcessSchedulerConfig(kubeconfig, dir, "bench-gantry")
	if err != nil {
		b.Fatal(err)
	}
	cfg := readSchedulerConfig(b, path)
	// The default profile, except for the queue sort: the framework wants one
	// queue sort, with the same args, for all profiles of a scheduler, and
	// the gantry profile's (GantryGang: priority, then the gang's or pod's
	// age) orders pods without a gang as PrioritySort does.
	// Its args must match too.
	def := configv1.KubeSchedulerProfile{
		SchedulerName: ptr.To("bench-default"),
		Plugins: &configv1.Plugins{QueueSort: configv1.PluginSet{
			Enabled:  []configv1.Plugin{{Name: gang.Name}},
			Disabled: []configv1.Plugin{{Name: "*"}},
		}},
	}
	for _, pc := range cfg.Profiles[0].PluginConfig {
		if pc.Name == gang.Name {
			def.PluginConfig = append(def.PluginConfig, pc)
		}
	}
	cfg.Profiles = append(cfg.Profiles, def)
	liftClientRateLimit(&cfg)
	return writeSchedulerConfig(b, filepath.Join(dir, "two-profiles.yaml"), &cfg)
}

func readSchedulerConfig(b *testing.B, path string) configv1.KubeSchedulerConfiguration {
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var cfg configv1.KubeSchedulerConfiguration
	if err := yaml.UnmarshalStrict(raw, &cfg); err != nil {
		b.Fatal(err)
	}
	return cfg
}

// liftClientRateLimit lifts the scheduler client's rate limit (50 QPS by
// default), which would otherwise decide every figure; upstream's
// scheduler_perf lifts it the same way.
func liftClientRateLimit(cfg *configv1.KubeSchedulerConfiguration) {
	cfg.ClientConnection.QPS = 5000
	cfg.ClientConnection.Burst = 5000
}

func writeSchedulerConfig(b *testing.B, path string, cfg *configv1.KubeSchedulerConfiguration) string {
	out, err := framework.MarshalSchedulerConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

func createNodes(ctx context.Context, b *testing.B, cp *framework.ControlPlane, n int) {
	err := framework.Parallel(n, 16, func(i int) error {
		name := fmt.Sprintf("bench-node-%04d", i)
		if _, err := cp.CreateReadyNode(ctx, name, map[string]string{"bench": "gpu"}, corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("96"), corev1.ResourceMemory: resource.MustParse("1Ti"),
			"nvidia.com/gpu": resource.MustParse("8"),
		}); err != nil {
			return err
		}
		ng := &gantryv1alpha1.NodeGPU{ObjectMeta: metav1.ObjectMeta{Name: name}}
		for g := range int32(8) {
			ng.Spec.GPUs = append(ng.Spec.GPUs, gantryv1alpha1.GPUDevice{Index: g, UUID: fmt.Sprintf("GPU-%s-%d", name, g), Model: "NVIDIA A100-SXM4-80GB", NUMANode: ptr.To(g / 4)})
			for h := g + 1; h < 8; h++ {
				ng.Spec.Links = append(ng.Spec.Links, gantryv1alpha1.GPULink{A: g, B: h, Type: gantryv1alpha1.LinkNVLink, NVLinkLanes: 12})
			}
		}
		return cp.Client.Create(ctx, ng)
	})
	if err != nil {
		b.Fatal(err)
	}
}

// schedulePods creates n GPU pods for a profile and returns pods/s from the
// first create to the last binding; then deletes them.
func schedulePods(ctx context.Context, b *testing.B, cp *framework.ControlPlane, profile string, n int) (podsPerSecond, cpuMsPerPod float64) {
	ns, err := cp.CreateNamespace(ctx, profile)
	if err != nil {
		b.Fatal(err)
	}
	sizes := []int64{1, 2, 4, 1}
	start, startCPU := time.Now(), processCPU(b)
	if err := framework.Parallel(n, 16, func(i int) error {
		return cp.Client.Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("pod-%05d", i)},
			Spec: corev1.PodSpec{
				SchedulerName: profile,
				Containers: []corev1.Container{{Name: "c", Image: "registry.example/c", Resources: corev1.ResourceRequirements{
					Limits: corev1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(sizes[i%len(sizes)], resource.DecimalSI)},
				}}},
			},
		})
	}); err != nil {
		b.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Minute, true, func(ctx context.Context) (bool, error) {
		var pods corev1.PodList
		if err := cp.Client.List(ctx, &pods, client.InNamespace(ns)); err != nil {
			return false, err
		}
		bound := 0
		for _, p := range pods.Items {
			if p.Spec.NodeName != "" {
				bound++
			}
		}
		return bound == n, nil
	}); err != nil {
		b.Fatalf("%s: pods not all bound: %v", profile, err)
	}
	elapsed := time.Since(start)
	// The test process's CPU time per pod (the scheduler runs in it, and
	// the pod creation and polling are the same for every profile): less
	// sensitive to other load on the machine than pods/s.
	cpuMsPerPod = float64((processCPU(b) - startCPU).Microseconds()) / 1000 / float64(n)
	if err := cp.Client.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(ns), client.GracePeriodSeconds(0)); err != nil {
		b.Fatal(err)
	}
	// The next profile's run must not pay for this one's deletions (the
	// API server's work, the scheduler's informer events).
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		var pods corev1.PodList
		err := cp.Client.List(ctx, &pods, client.InNamespace(ns))
		return err == nil && len(pods.Items) == 0, err
	}); err != nil {
		b.Fatalf("%s: pods not deleted: %v", profile, err)
	}
	time.Sleep(2 * time.Second)
	return float64(n) / elapsed.Seconds(), cpuMsPerPod
}
