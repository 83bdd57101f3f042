package deviceplugin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	nvmllib "github.com/NVIDIA/go-nvml/pkg/nvml"
	corev1 "k8s.io/api/core/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/record"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/gantry-gpu/gantry/pkg/clients"
	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/gpu/nvml"
)

// Run is the daemon: discover the GPUs, watch their health, serve each
// resource to the kubelet, publish the NodeGPU and renew the node's Lease,
// until ctx ends or the process gets SIGTERM or SIGINT.
func Run(ctx context.Context, o *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	lib, _, err := nvml.ParseForNode(o.NVML, o.NodeName)
	if err != nil {
		return fmt.Errorf("--nvml: %w", err)
	}
	return RunWithNVML(ctx, o, lib)
}

// RunWithNVML is Run with the NVML library (or a fixture's) given, until
// ctx ends.
func RunWithNVML(ctx context.Context, o *Options, lib nvmllib.Interface) error {
	logger := klog.FromContext(ctx)
	backend := nvml.New(lib)
	if err := backend.Init(); err != nil {
		return err
	}
	defer func() {
		if err := backend.Shutdown(); err != nil {
			logger.Error(err, "Shutting NVML down")
		}
	}()
	topo, driver, err := backend.Discover()
	if err != nil {
		return fmt.Errorf("discovering GPUs: %w", err)
	}
	logger.Info("Discovered GPUs", "count", topo.Len(), "driver", driver, "islands", len(topo.Islands()))

	specs, err := ParseResources(o.Resources)
	if err != nil {
		return err
	}
	resources := AssignResources(topo, specs)

	health := NewHealthTracker(clock.RealClock{}, o.RecoveryQuietPeriod, topo.UUIDs(topo.All()))
	ignored := make(map[uint64]bool, len(o.IgnoredXIDs))
	for _, x := range o.IgnoredXIDs {
		ignored[uint64(x)] = true
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	goRun := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}

	monitor := &HealthMonitor{Probe: backend, Topology: topo, Tracker: health, IgnoredXIDs: ignored, CheckInterval: o.HealthCheckInterval}
	goRun(func() { monitor.Run(ctx) })

	var annotated AnnotatedSets
	if o.PublishNodeGPU {
		publisher, pods, err := newPublisher(ctx, o, topo, driver, health, resources)
		if err != nil {
			return err
		}
		annotated = pods
		goRun(func() {
			if err := publisher.Run(ctx); err != nil {
				logger.Error(err, "NodeGPU publisher stopped")
			}
		})
		goRun(func() { runNodeLease(ctx, publisher.KubeClient, o) })
	}

	cfg := ServerConfig{
		SocketDir:     o.KubeletSocketDir,
		RetryInterval: time.Second,
		Allocate:      AllocateConfig{DeviceSpecs: o.PassDeviceSpecs, DevRoot: o.DevRoot, CDI: o.CDI},
	}
	if o.PreStartCheck {
		cfg.PreStartCheck = func(uuid string) error {
			pos, ok := topo.PositionOfUUID(uuid)
			if !ok {
				return fmt.Errorf("GPU %s is not on this node", uuid)
			}
			return backend.CheckDevice(topo.Device(pos).Index)
		}
	}
	preferred := NewPreferredAllocator(topo, annotated)
	for _, res := range resources {
		s := NewPluginServer(cfg, res, topo, health, preferred)
		goRun(func() {
			if err := s.Run(ctx); err != nil {
				logger.Error(err, "Plugin server stopped", "resource", res.Name)
			}
		})
	}

	if o.MetricsBindAddress != "" {
		if err := serveMetrics(ctx, o.MetricsBindAddress, &wg); err != nil {
			return err
		}
	}
	<-ctx.Done()
	logger.Info("Shutting down")
	return nil
}

// AssignResources gives each GPU to the first resource whose model text it
// contains; resources that get no GPU are dropped.
func AssignResources(topo *gpu.Topology, specs []ResourceSpec) []Resource {
	var out []Resource
	var taken gpu.Set
	for _, spec := range specs {
		res := Resource{Name: spec.Name}
		for p, d := range topo.Devices() {
			if !taken.Has(p) && strings.Contains(d.Model, spec.ModelSubstr) {
				res.Devices = res.Devices.Add(p)
				taken = taken.Add(p)
			}
		}
		if res.Devices != 0 {
			out = append(out, res)
		}
	}
	return out
}

func newPublisher(ctx context.Context, o *Options, topo *gpu.Topology, driver string, health *HealthTracker, resources []Resource) (*Publisher, *PodGPUSets, error) {
	cfg, err := restConfig(o.Kubeconfig)
	if err != nil {
		return nil, nil, err
	}
	cs, err := clients.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	pods, err := NewPodGPUSets(ctx, cs.Kube, o.NodeName)
	if err != nil {
		return nil, nil, err
	}
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.Kube.CoreV1().Events("")})
	// Events are recorded on pods only: client-go's scheme resolves them.
	recorder := broadcaster.NewRecorder(clientgoscheme.Scheme, corev1.EventSource{Component: BinaryName, Host: o.NodeName})

	names := make([]string, 0, len(resources))
	for _, r := range resources {
		names = append(names, r.Name)
	}
	p := &Publisher{
		KubeClient: cs.Kube, GantryClient: cs.Gantry, NodeName: o.NodeName, Topology: topo, DriverVersion: driver, Health: health,
		Pods: pods, Recorder: recorder, Interval: o.PublishInterval, Clock: clock.RealClock{},
	}
	if o.PodResourcesSocket != "" {
		allocs, err := NewPodResourcesClient(o.PodResourcesSocket, names)
		if err != nil {
			return nil, nil, err
		}
		p.Allocations = allocs
		pods.kubelet = allocs
	}
	return p, pods, nil
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("--kubeconfig: %w", err)
		}
		return cfg, nil
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("no --kubeconfig and not in a pod (%w); use --publish-nodegpu=false to run without the API server", err)
	}
	return cfg, nil
}

// serveMetrics serves Prometheus metrics and a health endpoint until ctx ends.
func serveMetrics(ctx context.Context, addr string, wg *sync.WaitGroup) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--metrics-bind-address: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", legacyregistry.Handler())
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			klog.FromContext(ctx).Error(err, "Metrics server stopped")
		}
	}()
	go func() {
		defer wg.Done()
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	return nil
}
