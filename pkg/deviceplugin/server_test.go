package deviceplugin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"

	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// twoIslandBox is an 8-GPU PCIe server with two 4-GPU NVLink-bridged
// islands, one per socket: GPUs 0-3 on NUMA node 0, 4-7 on NUMA node 1.
func twoIslandBox(t testing.TB) *gpu.Topology {
	t.Helper()
	var devs []gpu.Device
	links := map[[2]int]gpu.Link{}
	for i := range 8 {
		devs = append(devs, gpu.Device{Index: i, UUID: fmt.Sprintf("GPU-%d", i), Model: "NVIDIA A100-PCIE-40GB", Minor: i, NUMANode: i / 4})
		for j := i + 1; j < 8; j++ {
			l := gpu.Link{Type: gpu.LinkSystem}
			if i/4 == j/4 {
				l = gpu.Link{Type: gpu.LinkNVLink, NVLinkLanes: 4}
			}
			links[[2]int{i, j}] = l
		}
	}
	topo, err := gpu.NewTopology(devs, links)
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// fakeClock is a settable clock.PassiveClock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}
func (c *fakeClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c *fakeClock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// staticSets is what the pod informer has seen (cached) and what the API
// server holds (fresh, or freshErr).
type staticSets struct {
	cached, fresh [][]string
	freshErr      error
}

func (s staticSets) AnnotatedSets() [][]string { return s.cached }
func (s staticSets) FreshAnnotatedSets(context.Context) ([][]string, error) {
	return s.fresh, s.freshErr
}

type pluginEnv struct {
	kubelet *kubelet
	topo    *gpu.Topology
	health  *HealthTracker
	clock   *fakeClock
	servers []*PluginServer
}

type envOption func(*ServerConfig, *[]Resource, *AnnotatedSets)

// startPlugin runs a kubelet and the plugin servers for the resources (all
// GPUs as nvidia.com/gpu unless an option says otherwise) in a temporary
// socket folder, for the duration of the test.
func startPlugin(t *testing.T, opts ...envOption) *pluginEnv {
	t.Helper()
	dir, err := os.MkdirTemp("", "dp") // short: unix socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	topo := twoIslandBox(t)
	clk := &fakeClock{now: time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)}
	health := NewHealthTracker(clk, time.Minute, topo.UUIDs(topo.All()))
	// An hour: no test may pass by waiting out a back-off; a kubelet
	// restart or a removed socket is answered at once.
	cfg := ServerConfig{SocketDir: dir, RetryInterval: time.Hour}
	resources := []Resource{{Name: "nvidia.com/gpu", Devices: topo.All()}}
	var annotated AnnotatedSets
	for _, o := range opts {
		o(&cfg, &resources, &annotated)
	}
	env := &pluginEnv{kubelet: startKubelet(t, dir), topo: topo, health: health, clock: clk}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for _, res := range resources {
		s := NewPluginServer(cfg, res, topo, health, NewPreferredAllocator(topo, annotated))
		env.servers = append(env.servers, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Run(ctx); err != nil {
				t.Errorf("plugin server for %s: %v", res.Name, err)
			}
		}()
	}
	return env
}

func ids(devs []*pluginapi.Device) []string {
	var out []string
	for _, d := range devs {
		out = append(out, d.ID)
	}
	return out
}

func healthOf(devs []*pluginapi.Device, id string) string {
	for _, d := range devs {
		if d.ID == id {
			return d.Health
		}
	}
	return "absent"
}

func TestRegistersAndListsDevicesWithNUMA(t *testing.T) {
	env := startPlugin(t)
	devs := env.kubelet.waitForDevices("nvidia.com/gpu", func(d []*pluginapi.Device) bool { return len(d) == 8 })
	for i, d := range devs {
		if d.Health != pluginapi.Healthy {
			t.Errorf("device %s health = %s, want Healthy", d.ID, d.Health)
		}
		if d.Topology == nil || len(d.Topology.Nodes) != 1 || d.Topology.Nodes[0].ID != int64(i/4) {
			t.Errorf("device %s topology = %v, want NUMA node %d", d.ID, d.Topology, i/4)
		}
	}
	opts, err := env.kubelet.plugin("nvidia.com/gpu").GetDevicePluginOptions(t.Context(), &pluginapi.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if !opts.GetPreferredAllocationAvailable || opts.PreStartRequired {
		t.Errorf("options = %+v, want preferred allocation on and pre-start off", opts)
	}
}

func TestHealthTransitionsReachListAndWatch(t *testing.T) {
	env := startPlugin(t)
	env.kubelet.waitForDevices("nvidia.com/gpu", func(d []*pluginapi.Device) bool { return len(d) == 8 })

	env.health.Fault("GPU-5", "XID79", "GPU has fallen off the bus")
	env.kubelet.waitForDevices("nvidia.com/gpu", func(d []*pluginapi.Device) bool {
		return healthOf(d, "GPU-5") == pluginapi.Unhealthy && healthOf(d, "GPU-4") == pluginapi.Healthy
	})

	// Passing checks before the quiet period has run changes nothing ...
	env.clock.Step(30 * time.Second)
	env.health.CheckPassed("GPU-5")
	if h := env.health.Get("GPU-5"); h.Healthy {
		t.Fatalf("GPU-5 recovered after 30s of a 1m quiet period: %+v", h)
	}
	// ... a new fault restarts it ...
	env.health.Fault("GPU-5", "XID48", "double-bit ECC error")
	env.clock.Step(45 * time.Second)
	env.health.CheckPassed("GPU-5")
	if h := env.health.Get("GPU-5"); h.Healthy || h.Reason != "XID79" {
		t.Fatalf("GPU-5 = %+v, want still unhealthy with its first reason", h)
	}
	// ... and a quiet period after the last fault brings the GPU back.
	env.clock.Step(15 * time.Second)
	env.health.CheckPassed("GPU-5")
	env.kubelet.waitForDevices("nvidia.com/gpu", func(d []*pluginapi.Device) bool {
		return healthOf(d, "GPU-5") == pluginapi.Healthy
	})
	if h := env.health.Get("GPU-5"); h.Reason != "Recovered" {
		t.Errorf("reason after recovery = %q, want Recovered", h.Reason)
	}
}

func TestReregistersAfterKubeletRestart(t *testing.T) {
	env := startPlugin(t)
	env.kubelet.waitForDevices("nvidia.com/gpu", func(d []*pluginapi.Device) bool { return len(d) == 8 })

	env.kubelet.forget("nvidia.com/gpu")
	env.kubelet.restart()
	env.kubelet.waitForDevices("nvidia.com/gpu", func(d []*pluginapi.Device) bool { return len(d) == 8 })
	if n := env.kubelet.connectionCount("nvidia.com/gpu"); n != 2 {
		t.Errorf("plugin connected %d times, want 2 (once before and once after the restart)", n)
	}
	// The plugin is usable through the new kubelet.
	if _, err := env.kubelet.plugin("nvidia.com/gpu").GetDevicePluginOptions(t.Context(), &pluginapi.Empty{}); err != nil {
		t.Fatal(err)
	}
}

// TestRegistersWhenTheKubeletStarts starts the plugin before the kubelet:
// with no kubelet socket at all, and beside the socket a killed kubelet
// left behind. Backing off for an hour, it must still register as soon as
// the kubelet starts.
func TestRegistersWhenTheKubeletStarts(t *testing.T) {
	for _, staleSocket := range []bool{false, true} {
		t.Run(fmt.Sprintf("stale-socket=%v", staleSocket), func(t *testing.T) {
			dir, err := os.MkdirTemp("", "dp")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			cfg := ServerConfig{SocketDir: dir, RetryInterval: time.Hour}
			if staleSocket {
				// A socket nobody listens on, as SIGKILL leaves it.
				ln, err := net.Listen("unix", cfg.KubeletSocket())
				if err != nil {
					t.Fatal(err)
				}
				ln.(*net.UnixListener).SetUnlinkOnClose(false)
				ln.Close()
			}
			topo := twoIslandBox(t)
			health := NewHealthTracker(&fakeClock{now: time.Now()}, time.Minute, topo.UUIDs(topo.All()))
			s := NewPluginServer(cfg, Resource{Name: "nvidia.com/gpu", Devices: topo.All()}, topo, health, NewPreferredAllocator(topo, nil))
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()
			t.Cleanup(func() {
				cancel()
				if err := <-done; err != nil {
					t.Error(err)
				}
			})
			if staleSocket {
				// The plugin listens before it registers: it is trying the dead socket.
				if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
					_, err := os.Stat(s.SocketPath())
					return err == nil, nil
				}); err != nil {
					t.Fatalf("the plugin never served its socket: %v", err)
				}
			}
			k := newKubelet(t, dir)
			k.start()
			k.waitForDevices("nvidia.com/gpu", func(d []*pluginapi.Device) bool { return len(d) == 8 })
		})
	}
}

func TestReregistersWhenItsSocketIsRemoved(t *testing.T) {
	env := startPlugin(t)
	env.kubelet.waitForDevices("nvidia.com/gpu", func(d []*pluginapi.Device) bool { return len(d) == 8 })

	env.kubelet.forget("nvidia.com/gpu")
	if err := os.Remove(env.servers[0].SocketPath()); err != nil {
		t.Fatal(err)
	}
	env.kubelet.waitForDevices("nvidia.com/gpu", func(d []*pluginapi.Device) bool { return len(d) == 8 })
	if n := env.kubelet.connectionCount("nvidia.com/gpu"); n != 2 {
		t.Errorf("plugin connected %d times, want 2", n)
	}
	if _, err := os.Stat(env.servers[0].SocketPath()); err != nil {
		t.Errorf("socket not recreated: %v", err)
	}
}

func TestServesSeveralResources(t *testing.T) {
	env := startPlugin(t, func(_ *ServerConfig, res *[]Resource, _ *AnnotatedSets) {
		*res = []Resource{{Name: "nvidia.com/gpu-island-a", Devices: 0b00001111}, {Name: "nvidia.com/gpu-island-b", Devices: 0b11110000}}
	})
	a := env.kubelet.waitForDevices("nvidia.com/gpu-island-a", func(d []*pluginapi.Device) bool { return len(d) == 4 })
	b := env.kubelet.waitForDevices("nvidia.com/gpu-island-b", func(d []*pluginapi.Device) bool { return len(d) == 4 })
	if !slices.Equal(ids(a), []string{"GPU-0", "GPU-1", "GPU-2", "GPU-3"}) || !slices.Equal(ids(b), []string{"GPU-4", "GPU-5", "GPU-6", "GPU-7"}) {
		t.Errorf("resources list %v and %v", ids(a), ids(b))
	}
	_, err := env.kubelet.plugin("nvidia.com/gpu-island-a").Allocate(t.Context(), &pluginapi.AllocateRequest{
		ContainerRequests: []*pluginapi.ContainerAllocateRequest{{DevicesIds: []string{"GPU-6"}}},
	})
	if err == nil || !strings.Contains(err.Error(), "not nvidia.com/gpu-island-a devices") {
		t.Errorf("allocating another resource's GPU: err = %v", err)
	}
}

func TestAllocate(t *testing.T) {
	cases := []struct {
		name        string
		cfg         AllocateConfig
		wantDevices []string // container paths
		wantCDI     []string
	}{
		{name: "environment only"},
		{
			name:        "device specs",
			cfg:         AllocateConfig{DeviceSpecs: true},
			wantDevices: []string{"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia2", "/dev/nvidia5"},
		},
		{
			name:    "CDI",
			cfg:     AllocateConfig{CDI: true},
			wantCDI: []string{"nvidia.com/gpu=GPU-2", "nvidia.com/gpu=GPU-5"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := startPlugin(t, func(cfg *ServerConfig, _ *[]Resource, _ *AnnotatedSets) { cfg.Allocate = tc.cfg })
			resp, err := env.kubelet.plugin("nvidia.com/gpu").Allocate(t.Context(), &pluginapi.AllocateRequest{
				ContainerRequests: []*pluginapi.ContainerAllocateRequest{{DevicesIds: []string{"GPU-5", "GPU-2"}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			c := resp.ContainerResponses[0]
			if got := c.Envs[VisibleDevicesEnv]; got != "GPU-2,GPU-5" {
				t.Errorf("%s = %q, want GPU-2,GPU-5", VisibleDevicesEnv, got)
			}
			var paths []string
			for _, d := range c.Devices {
				paths = append(paths, d.ContainerPath)
				if d.Permissions != "rw" || d.HostPath != d.ContainerPath {
					t.Errorf("device spec %+v", d)
				}
			}
			if !slices.Equal(paths, tc.wantDevices) {
				t.Errorf("device specs %v, want %v", paths, tc.wantDevices)
			}
			var cdi []string
			for _, d := range c.CdiDevices {
				cdi = append(cdi, d.Name)
			}
			if !slices.Equal(cdi, tc.wantCDI) {
				t.Errorf("CDI devices %v, want %v", cdi, tc.wantCDI)
			}
		})
	}

	env := startPlugin(t)
	_, err := env.kubelet.plugin("nvidia.com/gpu").Allocate(t.Context(), &pluginapi.AllocateRequest{
		ContainerRequests: []*pluginapi.ContainerAllocateRequest{{DevicesIds: []string{"GPU-1", "GPU-99"}}},
	})
	if err == nil || !strings.Contains(err.Error(), "GPU-99") {
		t.Errorf("allocating an unknown GPU: err = %v, want one naming it", err)
	}
}

func TestPreStartCheck(t *testing.T) {
	env := startPlugin(t, func(cfg *ServerConfig, _ *[]Resource, _ *AnnotatedSets) {
		cfg.PreStartCheck = func(uuid string) error {
			if uuid == "GPU-3" {
				return fmt.Errorf("GPU is lost")
			}
			return nil
		}
	})
	p := env.kubelet.plugin("nvidia.com/gpu")
	opts, err := p.GetDevicePluginOptions(t.Context(), &pluginapi.Empty{})
	if err != nil || !opts.PreStartRequired {
		t.Fatalf("options = %+v, %v; want pre-start required", opts, err)
	}
	if _, err := p.PreStartContainer(t.Context(), &pluginapi.PreStartContainerRequest{DevicesIds: []string{"GPU-1", "GPU-2"}}); err != nil {
		t.Errorf("pre-start of healthy GPUs: %v", err)
	}
	if _, err := p.PreStartContainer(t.Context(), &pluginapi.PreStartContainerRequest{DevicesIds: []string{"GPU-1", "GPU-3"}}); err == nil || !strings.Contains(err.Error(), "GPU-3") {
		t.Errorf("pre-start of a lost GPU: err = %v, want one naming GPU-3", err)
	}
}

func TestGetPreferredAllocation(t *testing.T) {
	all := []string{"GPU-0", "GPU-1", "GPU-2", "GPU-3", "GPU-4", "GPU-5", "GPU-6", "GPU-7"}
	cases := []struct {
		name      string
		annotated *staticSets
		available []string
		must      []string
		size      int32
		want      []string
		wantErr   string
	}{{
		name:      "a whole NVLink island for four GPUs",
		available: all, size: 4,
		want: []string{"GPU-0", "GPU-1", "GPU-2", "GPU-3"},
	}, {
		name:      "inside the partly used island, keeping the free one whole",
		available: []string{"GPU-1", "GPU-2", "GPU-3", "GPU-4", "GPU-5", "GPU-6", "GPU-7"}, size: 2,
		want: []string{"GPU-1", "GPU-2"},
	}, {
		name:      "must-include pulls the set into its island",
		available: all, must: []string{"GPU-6"}, size: 4,
		want: []string{"GPU-4", "GPU-5", "GPU-6", "GPU-7"},
	}, {
		name:      "the scheduler's annotated choice wins when it fits",
		annotated: &staticSets{cached: [][]string{{"GPU-4", "GPU-5"}}},
		available: all, size: 2,
		want: []string{"GPU-4", "GPU-5"},
	}, {
		name: "the oldest fitting annotation wins; sets that do not fit are skipped",
		annotated: &staticSets{cached: [][]string{{"GPU-0", "GPU-1", "GPU-2"}, {"GPU-0", "GPU-7"}, {"GPU-6", "GPU-7"}, {"GPU-4", "GPU-5"}},
			fresh: [][]string{{"GPU-2", "GPU-3"}}},
		available: []string{"GPU-1", "GPU-2", "GPU-3", "GPU-4", "GPU-5", "GPU-6", "GPU-7"}, size: 2,
		want: []string{"GPU-6", "GPU-7"},
	}, {
		name:      "an annotation that misses must-include is not used",
		annotated: &staticSets{cached: [][]string{{"GPU-4", "GPU-5"}}},
		available: all, must: []string{"GPU-0"}, size: 2,
		want: []string{"GPU-0", "GPU-1"},
	}, {
		name:      "the informer has not seen the binding yet: the API server's copy is used",
		annotated: &staticSets{cached: [][]string{{"GPU-4", "GPU-5"}}, fresh: [][]string{{"GPU-4", "GPU-5"}, {"GPU-1", "GPU-2"}}},
		available: []string{"GPU-0", "GPU-1", "GPU-2", "GPU-3", "GPU-6", "GPU-7"}, size: 2,
		want: []string{"GPU-1", "GPU-2"}, // by topology: 6 and 7, keeping GPUs 0-3 whole
	}, {
		name:      "no bound pod's set fits: chosen away from the GPUs other bound pods wait for",
		annotated: &staticSets{fresh: [][]string{{"GPU-0", "GPU-1", "GPU-2", "GPU-3"}}},
		available: all, size: 2,
		want: []string{"GPU-4", "GPU-5"},
	}, {
		name:      "no room away from them: chosen among them",
		annotated: &staticSets{fresh: [][]string{{"GPU-0", "GPU-1", "GPU-2", "GPU-3"}}},
		available: []string{"GPU-0", "GPU-1", "GPU-2", "GPU-3", "GPU-4"}, size: 2,
		want: []string{"GPU-0", "GPU-1"},
	}, {
		name:      "the API server cannot be read: chosen by topology",
		annotated: &staticSets{freshErr: errors.New("connection refused")},
		available: all, size: 2,
		want: []string{"GPU-0", "GPU-1"},
	}, {
		name:      "must-include outside available",
		available: []string{"GPU-0", "GPU-1"}, must: []string{"GPU-2"}, size: 2,
		wantErr: "not available",
	}, {
		name:      "unknown GPU",
		available: []string{"GPU-0", "GPU-42"}, size: 1,
		wantErr: "GPU-42",
	}, {
		name:      "more than available",
		available: []string{"GPU-0", "GPU-1"}, size: 3,
		wantErr: "choosing 3 of 2",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := startPlugin(t, func(_ *ServerConfig, _ *[]Resource, a *AnnotatedSets) {
				if tc.annotated != nil {
					*a = *tc.annotated
				}
			})
			resp, err := env.kubelet.plugin("nvidia.com/gpu").GetPreferredAllocation(t.Context(), &pluginapi.PreferredAllocationRequest{
				ContainerRequests: []*pluginapi.ContainerPreferredAllocationRequest{{
					AvailableDeviceIDs: tc.available, MustIncludeDeviceIDs: tc.must, AllocationSize: tc.size,
				}},
			})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.ContainerResponses[0].DeviceIDs; !slices.Equal(got, tc.want) {
				t.Errorf("preferred %v, want %v", got, tc.want)
			}
		})
	}
}
