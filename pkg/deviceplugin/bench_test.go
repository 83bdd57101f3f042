package deviceplugin

import (
	"context"
	"fmt"
	"testing"
	"time"

	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"

	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// sixteenGPUBox is two 8-GPU NVLink islands, one per socket.
func sixteenGPUBox(b *testing.B) *gpu.Topology {
	var devs []gpu.Device
	links := map[[2]int]gpu.Link{}
	for i := range 16 {
		devs = append(devs, gpu.Device{Index: i, UUID: fmt.Sprintf("GPU-%d", i), NUMANode: i / 8})
		for j := i + 1; j < 16; j++ {
			l := gpu.Link{Type: gpu.LinkSystem}
			if i/8 == j/8 {
				l = gpu.Link{Type: gpu.LinkNVLink, NVLinkLanes: 12}
			}
			links[[2]int{i, j}] = l
		}
	}
	topo, err := gpu.NewTopology(devs, links)
	if err != nil {
		b.Fatal(err)
	}
	return topo
}

// BenchmarkGetPreferredAllocation measures the kubelet's call end to end
// over the unix socket (8 GPUs, DGX A100 fixture) and the choice alone for
// 8 and 16 GPUs, with a fragmented free set.
func BenchmarkGetPreferredAllocation(b *testing.B) {
	b.Run("grpc/dgx-a100/size4", func(b *testing.B) {
		n := startFixtureNode(b, "dgx-a100", time.Minute, time.Hour)
		client := n.kubelet.plugin("nvidia.com/gpu")
		req := &pluginapi.PreferredAllocationRequest{ContainerRequests: []*pluginapi.ContainerPreferredAllocationRequest{{
			AvailableDeviceIDs: n.topo.UUIDs(n.topo.All() &^ 0b00100101), AllocationSize: 4,
		}}}
		b.ResetTimer()
		for range b.N {
			if _, err := client.GetPreferredAllocation(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, tc := range []struct {
		name string
		topo func(*testing.B) *gpu.Topology
		used gpu.Set
		size int
	}{
		{"choose/8gpu/size4", func(b *testing.B) *gpu.Topology { return twoIslandBox(b) }, 0b00100101, 4},
		{"choose/16gpu/size8", sixteenGPUBox, 0b0000_0001_0010_0101, 8},
		{"choose/16gpu/size4", sixteenGPUBox, 0b0000_0001_0010_0101, 4},
	} {
		b.Run(tc.name, func(b *testing.B) {
			topo := tc.topo(b)
			p := NewPreferredAllocator(topo, nil)
			avail := topo.UUIDs(topo.All() &^ tc.used)
			b.ResetTimer()
			for range b.N {
				if _, _, err := p.Choose(context.Background(), avail, nil, tc.size); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkXIDToListAndWatch measures the time from an XID raised by the
// driver (the fixture's NVML event set) to the kubelet receiving the
// ListAndWatch update that marks the GPU unhealthy.
func BenchmarkXIDToListAndWatch(b *testing.B) {
	// A long check interval keeps periodic checks out of the measurement;
	// the GPU is brought back by hand between iterations.
	n := startFixtureNode(b, "dgx-a100", time.Nanosecond, time.Hour)
	b.ResetTimer()
	for i := range b.N {
		gpuIndex := i % n.topo.Len()
		id := n.uuid(gpuIndex)
		n.fixture.InjectXID(gpuIndex, 48)
		n.kubelet.waitForDevices("nvidia.com/gpu", func(d []*pluginapi.Device) bool { return healthOf(d, id) == pluginapi.Unhealthy })

		b.StopTimer()
		n.health.CheckPassed(id)
		n.kubelet.waitForDevices("nvidia.com/gpu", func(d []*pluginapi.Device) bool { return healthOf(d, id) == pluginapi.Healthy })
		b.StartTimer()
	}
}
