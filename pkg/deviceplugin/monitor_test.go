package deviceplugin

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"
	"k8s.io/utils/clock"

	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/gpu/nvml"
)

// fixtureNode is a node on an NVML fixture: discovery, the health monitor
// and the plugin server run as in the daemon, and the kubelet's own
// device-manager peer listens on the other side of the sockets.
type fixtureNode struct {
	fixture *nvml.Fixture
	topo    *gpu.Topology
	health  *HealthTracker
	kubelet *kubelet
}

func startFixtureNode(tb testing.TB, name string, quiet, checkInterval time.Duration) *fixtureNode {
	tb.Helper()
	fx, err := nvml.NewFixture(name)
	if err != nil {
		tb.Fatal(err)
	}
	backend := nvml.New(fx.Interface())
	if err := backend.Init(); err != nil {
		tb.Fatal(err)
	}
	topo, _, err := backend.Discover()
	if err != nil {
		tb.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "dpm")
	if err != nil {
		tb.Fatal(err)
	}
	health := NewHealthTracker(clock.RealClock{}, quiet, topo.UUIDs(topo.All()))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	tb.Cleanup(func() {
		cancel()
		wg.Wait()
		_ = backend.Shutdown()
		os.RemoveAll(dir)
	})
	ignored := map[uint64]bool{}
	for _, x := range DefaultIgnoredXIDs {
		ignored[x] = true
	}
	mon := &HealthMonitor{Probe: backend, Topology: topo, Tracker: health, IgnoredXIDs: ignored, CheckInterval: checkInterval}
	srv := NewPluginServer(ServerConfig{SocketDir: dir, RetryInterval: 50 * time.Millisecond},
		Resource{Name: "nvidia.com/gpu", Devices: topo.All()}, topo, health, NewPreferredAllocator(topo, nil))
	n := &fixtureNode{fixture: fx, topo: topo, health: health, kubelet: startKubelet(tb, dir)}
	wg.Add(2)
	go func() { defer wg.Done(); mon.Run(ctx) }()
	go func() { defer wg.Done(); _ = srv.Run(ctx) }()
	n.kubelet.waitForDevices("nvidia.com/gpu", func(d []*pluginapi.Device) bool { return len(d) == topo.Len() })
	for i := range topo.Len() {
		for !fx.Watching(i) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	return n
}

func (n *fixtureNode) uuid(i int) string { return n.topo.Device(i).UUID }

func TestMonitorMarksAndRecoversGPUs(t *testing.T) {
	cases := []struct {
		name        string
		inject      func(*nvml.Fixture)
		recover     func(*nvml.Fixture)
		gpu         int
		wantReason  string
		wantHealthy bool // after injection
	}{
		{name: "hardware XID", inject: func(f *nvml.Fixture) { f.InjectXID(2, 48) }, gpu: 2, wantReason: "XID48"},
		{name: "NVLink XID", inject: func(f *nvml.Fixture) { f.InjectXID(6, 74) }, gpu: 6, wantReason: "XID74"},
		{name: "double-bit ECC", inject: func(f *nvml.Fixture) { f.InjectECC(1, true) }, gpu: 1, wantReason: "DoubleBitECC"},
		{name: "fallen off the bus", inject: func(f *nvml.Fixture) { f.InjectGPULost(4) }, recover: func(f *nvml.Fixture) { f.Recover(4) }, gpu: 4, wantReason: "GPULost"},
		{name: "application XID is ignored", inject: func(f *nvml.Fixture) { f.InjectXID(3, 31) }, gpu: 3, wantHealthy: true},
		{name: "single-bit ECC is ignored", inject: func(f *nvml.Fixture) { f.InjectECC(0, false) }, gpu: 0, wantHealthy: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := startFixtureNode(t, "dgx-a100", 300*time.Millisecond, 20*time.Millisecond)
			id := n.uuid(tc.gpu)
			tc.inject(n.fixture)
			if tc.wantHealthy {
				// A fault injected after the ignored one must be the first seen.
				n.fixture.InjectXID(7, 79)
				n.kubelet.waitForDevices("nvidia.com/gpu", func(d []*pluginapi.Device) bool { return healthOf(d, n.uuid(7)) == pluginapi.Unhealthy })
				if h := n.health.Get(id); !h.Healthy {
					t.Fatalf("GPU %d became unhealthy: %+v", tc.gpu, h)
				}
				return
			}
			devs := n.kubelet.waitForDevices("nvidia.com/gpu", func(d []*pluginapi.Device) bool { return healthOf(d, id) == pluginapi.Unhealthy })
			for _, d := range devs {
				if d.ID != id && d.Health != pluginapi.Healthy {
					t.Errorf("GPU %s became %s too", d.ID, d.Health)
				}
			}
			if h := n.health.Get(id); h.Reason != tc.wantReason {
				t.Errorf("reason %q, want %q", h.Reason, tc.wantReason)
			}
			if tc.recover != nil {
				// Still lost: checks keep failing and the GPU stays out well past the quiet period.
				time.Sleep(600 * time.Millisecond)
				if h := n.health.Get(id); h.Healthy {
					t.Fatalf("a lost GPU recovered while still lost: %+v", h)
				}
				tc.recover(n.fixture)
			}
			n.kubelet.waitForDevices("nvidia.com/gpu", func(d []*pluginapi.Device) bool { return healthOf(d, id) == pluginapi.Healthy })
			if h := n.health.Get(id); h.Reason != "Recovered" {
				t.Errorf("after recovery: %+v", h)
			}
		})
	}
}

func TestPreferredAllocationOnEveryFixture(t *testing.T) {
	cases := []struct {
		fixture string
		size    int
		must    []int
		want    []int // GPU indexes
	}{
		{fixture: "dgx-a100", size: 4, want: []int{0, 1, 2, 3}},
		{fixture: "dgx-a100", size: 2, must: []int{5}, want: []int{4, 5}},
		{fixture: "dgx-h100", size: 8, want: []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{fixture: "dgx-h100", size: 3, must: []int{7}, want: []int{4, 5, 7}},
		{fixture: "pcie-2island", size: 4, must: []int{6}, want: []int{4, 5, 6, 7}},
		{fixture: "pcie-2island", size: 2, want: []int{0, 1}},
		{fixture: "pcie-4", size: 2, want: []int{0, 1}},
		{fixture: "pcie-4", size: 2, must: []int{3}, want: []int{2, 3}},
		{fixture: "l4-1", size: 1, want: []int{0}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%d/must%v", tc.fixture, tc.size, tc.must), func(t *testing.T) {
			n := startFixtureNode(t, tc.fixture, time.Minute, 20*time.Millisecond)
			var avail, must, want []string
			for i := range n.topo.Len() {
				avail = append(avail, n.uuid(i))
			}
			for _, i := range tc.must {
				must = append(must, n.uuid(i))
			}
			for _, i := range tc.want {
				want = append(want, n.uuid(i))
			}
			resp, err := n.kubelet.plugin("nvidia.com/gpu").GetPreferredAllocation(t.Context(), &pluginapi.PreferredAllocationRequest{
				ContainerRequests: []*pluginapi.ContainerPreferredAllocationRequest{{AvailableDeviceIDs: avail, MustIncludeDeviceIDs: must, AllocationSize: int32(tc.size)}},
			})
			if err != nil {
				t.Fatal(err)
			}
			got := resp.ContainerResponses[0].DeviceIDs
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("preferred %v, want %v", got, want)
			}
		})
	}
}
