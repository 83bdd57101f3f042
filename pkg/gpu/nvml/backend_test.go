package nvml

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	nvmllib "github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// started returns an initialised Backend over a new fixture.
func started(t *testing.T, name string) (*Backend, *Fixture) {
	t.Helper()
	f, err := NewFixture(name)
	if err != nil {
		t.Fatal(err)
	}
	b := New(f.Interface())
	b.waitTimeout = 50 * time.Millisecond // stop watches quickly
	if err := b.Init(); err != nil {
		t.Fatalf("Init: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Shutdown(); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return b, f
}

func discover(t *testing.T, b *Backend) (*gpu.Topology, string) {
	t.Helper()
	topo, driver, err := b.Discover()
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	return topo, driver
}

func nvlink(lanes int) gpu.Link    { return gpu.Link{Type: gpu.LinkNVLink, NVLinkLanes: lanes} }
func pcie(t gpu.LinkType) gpu.Link { return gpu.Link{Type: t} }

func TestDiscoverFixtures(t *testing.T) {
	tests := []struct {
		fixture   string
		model     string
		memoryMiB int64
		numa      []int
		mig       gantryv1alpha1.MIGMode
		busIDs    map[int]string
		links     map[[2]int]gpu.Link
		islands   []int // sizes, in order
	}{{
		fixture:   "dgx-a100",
		model:     "NVIDIA A100-SXM4-80GB",
		memoryMiB: 81920,
		numa:      []int{0, 0, 0, 0, 1, 1, 1, 1},
		mig:       gantryv1alpha1.MIGDisabled,
		busIDs:    map[int]string{0: "0000:07:00.0", 6: "0000:b7:00.0", 7: "0000:bd:00.0"},
		links: map[[2]int]gpu.Link{
			{0, 7}: nvlink(12), {0, 1}: nvlink(12), {3, 4}: nvlink(12), {6, 7}: nvlink(12),
		},
		islands: []int{8},
	}, {
		fixture:   "dgx-h100",
		model:     "NVIDIA H100 80GB HBM3",
		memoryMiB: 81920,
		numa:      []int{0, 0, 0, 0, 1, 1, 1, 1},
		mig:       gantryv1alpha1.MIGDisabled,
		busIDs:    map[int]string{0: "0000:18:00.0", 7: "0000:db:00.0"},
		links: map[[2]int]gpu.Link{
			{0, 7}: nvlink(18), {2, 3}: nvlink(18), {1, 5}: nvlink(18),
		},
		islands: []int{8},
	}, {
		fixture:   "pcie-2island",
		model:     "NVIDIA A100-PCIE-80GB",
		memoryMiB: 81920,
		numa:      []int{0, 0, 0, 0, 1, 1, 1, 1},
		mig:       gantryv1alpha1.MIGDisabled,
		busIDs:    map[int]string{0: "0000:17:00.0", 7: "0000:b2:00.0"},
		links: map[[2]int]gpu.Link{
			{0, 3}: nvlink(4), {0, 1}: nvlink(4), {5, 6}: nvlink(4), {4, 7}: nvlink(4),
			{0, 4}: pcie(gpu.LinkSystem), {3, 4}: pcie(gpu.LinkSystem), {1, 7}: pcie(gpu.LinkSystem),
		},
		islands: []int{4, 4},
	}, {
		fixture:   "pcie-4",
		model:     "NVIDIA L40S",
		memoryMiB: 46068,
		numa:      []int{0, 0, 0, 0}, // from GetMemoryAffinity: GetNumaNodeId is unsupported
		mig:       gantryv1alpha1.MIGUnsupported,
		busIDs:    map[int]string{0: "0000:01:00.0", 3: "0000:42:00.0"},
		links: map[[2]int]gpu.Link{
			{0, 1}: pcie(gpu.LinkSingleSwitch), {2, 3}: pcie(gpu.LinkSingleSwitch),
			{1, 2}: pcie(gpu.LinkHostBridge), {0, 3}: pcie(gpu.LinkHostBridge),
		},
		islands: []int{1, 1, 1, 1},
	}, {
		fixture:   "l4-1",
		model:     "NVIDIA L4",
		memoryMiB: 23034,
		numa:      []int{-1},
		mig:       gantryv1alpha1.MIGUnsupported,
		busIDs:    map[int]string{0: "0000:00:04.0"},
		islands:   []int{1},
	}}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			b, f := started(t, tt.fixture)
			topo, driver := discover(t, b)
			if driver != "550.54.15" {
				t.Errorf("driver version = %q", driver)
			}
			if topo.Len() != len(tt.numa) {
				t.Fatalf("%d GPUs, want %d", topo.Len(), len(tt.numa))
			}
			for i, d := range topo.Devices() {
				if d.Index != i || d.Minor != i {
					t.Errorf("GPU %d: index %d minor %d", i, d.Index, d.Minor)
				}
				if want := fixtureUUID(tt.fixture, "", i); d.UUID != want {
					t.Errorf("GPU %d: UUID %q, want %q", i, d.UUID, want)
				}
				if d.Model != tt.model || d.MemoryMiB != tt.memoryMiB {
					t.Errorf("GPU %d: %q %d MiB, want %q %d MiB", i, d.Model, d.MemoryMiB, tt.model, tt.memoryMiB)
				}
				if d.NUMANode != tt.numa[i] {
					t.Errorf("GPU %d: NUMA node %d, want %d", i, d.NUMANode, tt.numa[i])
				}
				if d.MIGMode != tt.mig {
					t.Errorf("GPU %d: MIG %q, want %q", i, d.MIGMode, tt.mig)
				}
				if want, ok := tt.busIDs[i]; ok && d.PCIBusID != want {
					t.Errorf("GPU %d: PCI bus ID %q, want %q", i, d.PCIBusID, want)
				}
			}
			for pair, want := range tt.links {
				if got := topo.Link(pair[0], pair[1]); got != want {
					t.Errorf("link %d-%d = %v, want %v", pair[0], pair[1], got, want)
				}
			}
			// No pair is left unknown.
			for a := range topo.Len() {
				for c := a + 1; c < topo.Len(); c++ {
					if topo.Link(a, c).Type == gpu.LinkUnknown {
						t.Errorf("link %d-%d is unknown", a, c)
					}
				}
			}
			var sizes []int
			for _, s := range topo.Islands() {
				sizes = append(sizes, s.Len())
			}
			if !reflect.DeepEqual(sizes, tt.islands) {
				t.Errorf("island sizes %v, want %v", sizes, tt.islands)
			}
			if f.Len() != topo.Len() {
				t.Errorf("fixture Len %d, topology %d", f.Len(), topo.Len())
			}
		})
	}
}

func TestDiscoverPCIe2IslandIslands(t *testing.T) {
	b, _ := started(t, "pcie-2island")
	topo, _ := discover(t, b)
	islands := topo.Islands()
	if len(islands) != 2 || islands[0].String() != "{0,1,2,3}" || islands[1].String() != "{4,5,6,7}" {
		t.Fatalf("islands = %v, want [{0,1,2,3} {4,5,6,7}]", islands)
	}
	numa := topo.NUMAGroups()
	if len(numa) != 2 || numa[0] != islands[0] || numa[1] != islands[1] {
		t.Errorf("NUMA groups %v, want the islands", numa)
	}
}

func TestSpecRoundTrip(t *testing.T) {
	for _, name := range FixtureNames() {
		t.Run(name, func(t *testing.T) {
			b, _ := started(t, name)
			topo, driver := discover(t, b)
			spec := topo.Spec(driver)
			if spec.DriverVersion != driver || len(spec.GPUs) != topo.Len() {
				t.Fatalf("spec has driver %q and %d GPUs", spec.DriverVersion, len(spec.GPUs))
			}
			if want := topo.Len() * (topo.Len() - 1) / 2; len(spec.Links) != want {
				t.Errorf("spec has %d links, want %d", len(spec.Links), want)
			}
			back, err := gpu.FromSpec(spec)
			if err != nil {
				t.Fatalf("FromSpec: %v", err)
			}
			if !reflect.DeepEqual(back.Devices(), topo.Devices()) {
				t.Errorf("devices changed:\n got %+v\nwant %+v", back.Devices(), topo.Devices())
			}
			for a := range topo.Len() {
				for c := range topo.Len() {
					if a != c && back.Link(a, c) != topo.Link(a, c) {
						t.Errorf("link %d-%d: %v after the round trip, was %v", a, c, back.Link(a, c), topo.Link(a, c))
					}
				}
			}
		})
	}
}

func TestDiscoverMIGEnabled(t *testing.T) {
	b, f := started(t, "dgx-h100")
	dev, ret := f.Interface().DeviceGetHandleByIndex(2)
	if ret != nvmllib.SUCCESS {
		t.Fatal(ret)
	}
	if ret, _ := dev.SetMigMode(nvmllib.DEVICE_MIG_ENABLE); ret != nvmllib.SUCCESS {
		t.Fatal(ret)
	}
	topo, _ := discover(t, b)
	for i, d := range topo.Devices() {
		want := gantryv1alpha1.MIGDisabled
		if i == 2 {
			want = gantryv1alpha1.MIGEnabled
		}
		if d.MIGMode != want {
			t.Errorf("GPU %d: MIG %q, want %q", i, d.MIGMode, want)
		}
	}
}

// A link that is down costs its lane: through NVSwitches, the pair has the
// smaller of the two GPUs' switch lanes.
func TestDiscoverNVLinkDown(t *testing.T) {
	b, f := started(t, "dgx-a100")
	d := f.devices[0]
	state := d.GetNvLinkStateFunc
	d.GetNvLinkStateFunc = func(n int) (nvmllib.EnableState, nvmllib.Return) {
		switch n {
		case 3:
			return nvmllib.FEATURE_DISABLED, nvmllib.SUCCESS
		case 5:
			return nvmllib.FEATURE_ENABLED, nvmllib.ERROR_UNKNOWN
		}
		return state(n)
	}
	topo, _ := discover(t, b)
	for _, pair := range [][2]int{{0, 1}, {0, 7}} {
		if got := topo.Link(pair[0], pair[1]); got != nvlink(10) {
			t.Errorf("link %d-%d = %v, want NVLink x10", pair[0], pair[1], got)
		}
	}
	if got := topo.Link(1, 7); got != nvlink(12) {
		t.Errorf("link 1-7 = %v, want NVLink x12", got)
	}
}

// A GPU with only some lanes towards one peer gets that many; a peer that
// sees more lanes than the other reports wins.
func TestDiscoverDirectNVLinkCounting(t *testing.T) {
	b, f := started(t, "pcie-2island")
	d := f.devices[1]
	remote := d.GetNvLinkRemotePciInfoFunc
	d.GetNvLinkRemotePciInfoFunc = func(n int) (nvmllib.PciInfo, nvmllib.Return) {
		if n < 2 { // GPU 1's first four lanes go to GPU 0: two are unreadable
			return nvmllib.PciInfo{}, nvmllib.ERROR_UNKNOWN
		}
		return remote(n)
	}
	topo, _ := discover(t, b)
	if got := topo.Link(0, 1); got != nvlink(4) {
		t.Errorf("link 0-1 = %v, want NVLink x4 (GPU 0 still sees four lanes)", got)
	}
}

func TestLinkFromAncestor(t *testing.T) {
	tests := []struct {
		level nvmllib.GpuTopologyLevel
		want  gpu.LinkType
	}{
		{nvmllib.TOPOLOGY_INTERNAL, gpu.LinkSameBoard},
		{nvmllib.TOPOLOGY_SINGLE, gpu.LinkSingleSwitch},
		{nvmllib.TOPOLOGY_MULTIPLE, gpu.LinkMultipleSwitches},
		{nvmllib.TOPOLOGY_HOSTBRIDGE, gpu.LinkHostBridge},
		{nvmllib.TOPOLOGY_NODE, gpu.LinkNUMANode},
		{nvmllib.TOPOLOGY_SYSTEM, gpu.LinkSystem},
		{nvmllib.GpuTopologyLevel(99), gpu.LinkUnknown},
	}
	for _, tt := range tests {
		if got := linkFromAncestor(tt.level); got != tt.want {
			t.Errorf("linkFromAncestor(%d) = %v, want %v", tt.level, got, tt.want)
		}
	}
}

func TestDiscoverAncestorError(t *testing.T) {
	b, f := started(t, "pcie-4")
	f.devices[1].GetTopologyCommonAncestorFunc = func(nvmllib.Device) (nvmllib.GpuTopologyLevel, nvmllib.Return) {
		return 0, nvmllib.ERROR_NOT_SUPPORTED
	}
	topo, _ := discover(t, b)
	if got := topo.Link(1, 3); got.Type != gpu.LinkUnknown {
		t.Errorf("link 1-3 = %v, want Unknown", got)
	}
	if got := topo.Link(0, 1); got.Type != gpu.LinkSingleSwitch {
		t.Errorf("link 0-1 = %v, want SingleSwitch (asked of GPU 0)", got)
	}
}

func TestPCIBusID(t *testing.T) {
	tests := []struct {
		name string
		info nvmllib.PciInfo
		want string
	}{
		{"BusId", pciInfo("0000:b7:00.0", 0), "0000:b7:00.0"},
		{"legacy only", func() nvmllib.PciInfo {
			p := nvmllib.PciInfo{}
			putCString(p.BusIdLegacy[:], "0000:4E:00.0")
			return p
		}(), "0000:4e:00.0"},
		{"wide domain", func() nvmllib.PciInfo {
			p := nvmllib.PciInfo{}
			putCString(p.BusId[:], "00010000:0A:00.0")
			return p
		}(), "00010000:0a:00.0"},
		{"fields only", nvmllib.PciInfo{Domain: 1, Bus: 0xc1, Device: 3}, "0001:c1:03.0"},
		{"empty", nvmllib.PciInfo{}, ""},
	}
	for _, tt := range tests {
		if got := pciBusID(tt.info); got != tt.want {
			t.Errorf("%s: pciBusID = %q, want %q", tt.name, got, tt.want)
		}
	}
	// What the fixture hands out is NVML's upper-case, eight-digit form.
	p := pciInfo("0000:b7:00.0", 0)
	if got := cString(p.BusId[:]); got != "00000000:B7:00.0" {
		t.Errorf("fixture BusId = %q", got)
	}
}

func TestSingleBit(t *testing.T) {
	tests := []struct {
		mask []uint
		node int
		ok   bool
	}{
		{[]uint{1}, 0, true},
		{[]uint{0, 1 << 3}, 64 + 3, true},
		{[]uint{0b110}, -1, false},
		{[]uint{1, 1}, -1, false},
		{[]uint{0, 0}, -1, false},
		{nil, -1, false},
	}
	for _, tt := range tests {
		node, ok := singleBit(tt.mask)
		if node != tt.node || ok != tt.ok {
			t.Errorf("singleBit(%v) = %d, %v; want %d, %v", tt.mask, node, ok, tt.node, tt.ok)
		}
	}
}

func TestNUMAFallbacks(t *testing.T) {
	t.Run("negative node ID falls back to memory affinity", func(t *testing.T) {
		b, f := started(t, "dgx-a100")
		f.devices[5].GetNumaNodeIdFunc = func() (int, nvmllib.Return) { return -1, nvmllib.SUCCESS }
		topo, _ := discover(t, b)
		if got := topo.Device(5).NUMANode; got != 1 {
			t.Errorf("NUMA node %d, want 1", got)
		}
	})
	t.Run("function missing from the driver", func(t *testing.T) {
		b, f := started(t, "dgx-a100")
		f.server.LookupSymbolFunc = func(name string) error {
			if name == "nvmlDeviceGetNumaNodeId" {
				return errors.New("undefined symbol")
			}
			return nil
		}
		f.devices[6].GetNumaNodeIdFunc = func() (int, nvmllib.Return) {
			panic("GetNumaNodeId called although the driver lacks it")
		}
		topo, _ := discover(t, b)
		if got := topo.Device(6).NUMANode; got != 1 {
			t.Errorf("NUMA node %d, want 1 (from GetMemoryAffinity)", got)
		}
	})
}

func TestInitErrors(t *testing.T) {
	tests := []struct {
		name string
		init func() nvmllib.Return
		want []string
		is   error
	}{{
		name: "library not found",
		init: func() nvmllib.Return { return nvmllib.ERROR_LIBRARY_NOT_FOUND },
		want: []string{"NVML could not be initialised", "is the NVIDIA driver installed on this node?", "ERROR_LIBRARY_NOT_FOUND"},
		is:   nvmllib.ERROR_LIBRARY_NOT_FOUND,
	}, {
		name: "driver not loaded",
		init: func() nvmllib.Return { return nvmllib.ERROR_DRIVER_NOT_LOADED },
		want: []string{"is the NVIDIA driver installed on this node?"},
		is:   nvmllib.ERROR_DRIVER_NOT_LOADED,
	}, {
		name: "panic",
		init: func() nvmllib.Return { panic("libnvidia-ml.so.1: cannot open shared object file") },
		want: []string{"is the NVIDIA driver installed on this node?", "libnvidia-ml.so.1: cannot open shared object file"},
	}, {
		name: "version mismatch",
		init: func() nvmllib.Return { return nvmllib.ERROR_LIB_RM_VERSION_MISMATCH },
		want: []string{"does not match the loaded NVIDIA kernel module"},
		is:   nvmllib.ERROR_LIB_RM_VERSION_MISMATCH,
	}, {
		name: "other",
		init: func() nvmllib.Return { return nvmllib.ERROR_UNKNOWN },
		want: []string{"NVML could not be initialised", "ERROR_UNKNOWN"},
		is:   nvmllib.ERROR_UNKNOWN,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lib := &mock.Interface{InitFunc: tt.init}
			b := New(lib)
			err := b.Init()
			if err == nil {
				t.Fatal("Init succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
			// Nothing else calls into the library that failed to load.
			if _, _, err := b.Discover(); err == nil || !strings.Contains(err.Error(), "call Init first") {
				t.Errorf("Discover after a failed Init: %v", err)
			}
			if err := b.CheckDevice(0); err == nil {
				t.Error("CheckDevice after a failed Init succeeded")
			}
			if err := b.WatchEvents(context.Background(), nil, make(chan Event)); err == nil {
				t.Error("WatchEvents after a failed Init succeeded")
			}
			if err := b.Shutdown(); err != nil {
				t.Errorf("Shutdown after a failed Init: %v", err)
			}
		})
	}
	if err := New(nil).Init(); err == nil {
		t.Error("Init of a nil library succeeded")
	}
}

func TestInitOnceShutdownIdempotent(t *testing.T) {
	lib := &mock.Interface{
		InitFunc:     func() nvmllib.Return { return nvmllib.SUCCESS },
		ShutdownFunc: func() nvmllib.Return { return nvmllib.SUCCESS },
	}
	b := New(lib)
	for range 3 {
		if err := b.Init(); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := b.Shutdown(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(lib.InitCalls()); n != 1 {
		t.Errorf("lib.Init called %d times, want 1", n)
	}
	if n := len(lib.ShutdownCalls()); n != 1 {
		t.Errorf("lib.Shutdown called %d times, want 1", n)
	}
	lib.ShutdownFunc = func() nvmllib.Return { return nvmllib.ERROR_UNKNOWN }
	if err := b.Init(); err != nil {
		t.Fatal(err)
	}
	if err := b.Shutdown(); !errors.Is(err, nvmllib.ERROR_UNKNOWN) {
		t.Errorf("failed Shutdown: %v", err)
	}
}

// The driver's library, where this machine has none, fails Init cleanly;
// on a GPU machine it discovers the real GPUs.
func TestRealLibrary(t *testing.T) {
	lib, fixture, err := Parse("nvml")
	if err != nil || lib == nil || fixture != nil {
		t.Fatalf("Parse(nvml) = %v, %v, %v", lib, fixture, err)
	}
	b := New(lib)
	if err := b.Init(); err != nil {
		if !strings.Contains(err.Error(), "NVML could not be initialised") {
			t.Errorf("Init error %q is not the clear one", err)
		}
		t.Logf("no NVML here, as expected on a machine without GPUs: %v", err)
		return
	}
	defer func() {
		if err := b.Shutdown(); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}()
	topo, driver, err := b.Discover()
	if err != nil {
		t.Fatalf("Discover on the real library: %v", err)
	}
	t.Logf("driver %s", driver)
	for i, d := range topo.Devices() {
		t.Logf("GPU %+v", d)
		if err := b.CheckDevice(d.Index); err != nil {
			t.Errorf("CheckDevice(%d): %v", d.Index, err)
		}
		for c := i + 1; c < topo.Len(); c++ {
			t.Logf("link %d-%d: %v", i, c, topo.Link(i, c))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	events := make(chan Event, 16)
	if err := b.WatchEvents(ctx, nil, events); err != nil {
		t.Errorf("WatchEvents on the real library: %v", err)
	}
	close(events)
	for e := range events {
		t.Logf("event: %v", e)
	}
}

func TestDiscoverErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *Fixture)
		want  []string
		is    error
	}{{
		name:  "lost GPU",
		setup: func(f *Fixture) { f.InjectGPULost(2) },
		want:  []string{"GPU 2", "DeviceGetHandleByIndex"},
		is:    nvmllib.ERROR_GPU_IS_LOST,
	}, {
		name: "name unreadable",
		setup: func(f *Fixture) {
			f.devices[5].GetNameFunc = func() (string, nvmllib.Return) { return "", nvmllib.ERROR_UNKNOWN }
		},
		want: []string{"GPU 5", "GetName"},
		is:   nvmllib.ERROR_UNKNOWN,
	}, {
		name: "PCI info unreadable",
		setup: func(f *Fixture) {
			f.devices[7].GetPciInfoFunc = func() (nvmllib.PciInfo, nvmllib.Return) {
				return nvmllib.PciInfo{}, nvmllib.ERROR_NO_PERMISSION
			}
		},
		want: []string{"GPU 7", "GetPciInfo"},
		is:   nvmllib.ERROR_NO_PERMISSION,
	}, {
		name: "device count",
		setup: func(f *Fixture) {
			f.server.DeviceGetCountFunc = func() (int, nvmllib.Return) { return 0, nvmllib.ERROR_UNKNOWN }
		},
		want: []string{"DeviceGetCount"},
		is:   nvmllib.ERROR_UNKNOWN,
	}, {
		name: "duplicate UUIDs",
		setup: func(f *Fixture) {
			f.devices[3].UUID = f.devices[4].UUID
		},
		want: []string{"inconsistent topology", "listed twice"},
	}, {
		name: "mock without a function",
		setup: func(f *Fixture) {
			f.devices[1].GetMinorNumberFunc = nil
		},
		want: []string{"NVML panicked during discovery", "GetMinorNumber"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, f := started(t, "dgx-a100")
			tt.setup(f)
			topo, _, err := b.Discover()
			if err == nil {
				t.Fatalf("Discover succeeded: %d GPUs", topo.Len())
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
		})
	}
}

func TestCheckDevice(t *testing.T) {
	b, f := started(t, "dgx-h100")
	for i := range f.Len() {
		if err := b.CheckDevice(i); err != nil {
			t.Fatalf("CheckDevice(%d) on a healthy GPU: %v", i, err)
		}
	}
	f.InjectGPULost(4)
	err := b.CheckDevice(4)
	if !errors.Is(err, nvmllib.ERROR_GPU_IS_LOST) || !strings.Contains(err.Error(), "GPU 4") {
		t.Errorf("CheckDevice(4) on a lost GPU = %v", err)
	}
	if err := b.CheckDevice(3); err != nil {
		t.Errorf("CheckDevice(3) beside a lost GPU: %v", err)
	}
	f.Recover(4)
	if err := b.CheckDevice(4); err != nil {
		t.Errorf("CheckDevice(4) after Recover: %v", err)
	}
	if err := b.CheckDevice(8); err == nil {
		t.Error("CheckDevice(8) on an 8-GPU node succeeded")
	}

	// A GPU lost behind a handle that is already held: the temperature read fails.
	f.devices[1].GetUUIDFunc = func() (string, nvmllib.Return) { return "GPU-cached", nvmllib.SUCCESS }
	f.server.DeviceGetHandleByIndexFunc = func(int) (nvmllib.Device, nvmllib.Return) {
		return f.devices[1], nvmllib.SUCCESS
	}
	f.InjectGPULost(1)
	if err := b.CheckDevice(1); !errors.Is(err, nvmllib.ERROR_GPU_IS_LOST) || !strings.Contains(err.Error(), "GetTemperature") {
		t.Errorf("CheckDevice(1) = %v, want the lost GetTemperature", err)
	}
}

// watch runs WatchEvents in the background; stop cancels it and fails the
// test unless it returned promptly.
func watch(t *testing.T, b *Backend, devices []int) (events chan Event, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	events = make(chan Event, 16)
	done := make(chan error, 1)
	go func() { done <- b.WatchEvents(ctx, devices, events) }()
	stopped := false
	var result error
	stop = func() error {
		if stopped {
			return result
		}
		stopped = true
		cancel()
		select {
		case result = <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("WatchEvents did not return within 5s of its context being cancelled")
		}
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return events, stop
}

func waitWatching(t *testing.T, f *Fixture, indexes ...int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, i := range indexes {
		for !f.Watching(i) {
			if time.Now().After(deadline) {
				t.Fatalf("GPU %d was never registered for events", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

func next(t *testing.T, events <-chan Event) Event {
	t.Helper()
	select {
	case e := <-events:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
		return Event{}
	}
}

func expectNone(t *testing.T, events <-chan Event, d time.Duration) {
	t.Helper()
	select {
	case e := <-events:
		t.Errorf("unexpected event %v", e)
	case <-time.After(d):
	}
}

func TestWatchEvents(t *testing.T) {
	b, f := started(t, "dgx-a100")
	events, stop := watch(t, b, nil)
	waitWatching(t, f, 0, 1, 2, 3, 4, 5, 6, 7)

	uuid := func(i int) string { return fixtureUUID("dgx-a100", "", i) }
	check := func(e Event, index int, kind EventKind, xid uint64, unhealthy bool) {
		t.Helper()
		if e.Index != index || e.UUID != uuid(index) || e.Kind != kind || e.XID != xid {
			t.Errorf("event %v, want GPU %d %v XID %d", e, index, kind, xid)
		}
		if e.Time.IsZero() {
			t.Errorf("event %v has no time", e)
		}
		if e.MarksUnhealthy() != unhealthy {
			t.Errorf("event %v: MarksUnhealthy = %v", e, !unhealthy)
		}
	}

	f.InjectXID(3, 48)
	check(next(t, events), 3, EventXID, 48, true)
	f.InjectXID(0, 13) // an application's fault
	check(next(t, events), 0, EventXID, 13, false)
	f.InjectECC(6, true)
	check(next(t, events), 6, EventDoubleBitECC, 0, true)
	f.InjectECC(6, false)
	check(next(t, events), 6, EventSingleBitECC, 0, false)
	f.InjectXID(7, 79) // the driver's own "fallen off the bus"
	check(next(t, events), 7, EventGPULost, 79, true)

	// NVML answers ERROR_GPU_IS_LOST: the watch finds which GPU by probing.
	f.InjectGPULost(5)
	e := next(t, events)
	check(e, 5, EventGPULost, 79, true)
	if !strings.Contains(e.Message, "ERROR_GPU_IS_LOST") {
		t.Errorf("GPU-lost event says %q", e.Message)
	}
	if err := b.CheckDevice(5); !errors.Is(err, nvmllib.ERROR_GPU_IS_LOST) {
		t.Errorf("CheckDevice(5) after the GPU was lost: %v", err)
	}
	f.Recover(5)
	if err := b.CheckDevice(5); err != nil {
		t.Errorf("CheckDevice(5) after Recover: %v", err)
	}

	if err := stop(); err != nil {
		t.Errorf("WatchEvents returned %v after its context was cancelled", err)
	}
	for i := range f.Len() {
		if f.Watching(i) {
			t.Errorf("GPU %d is still watched: the event set was not freed", i)
		}
	}
	f.InjectXID(1, 48) // nobody listens: dropped, nothing blocks
	expectNone(t, events, 50*time.Millisecond)
}

func TestWatchEventsSubsetAndRegistrationFailure(t *testing.T) {
	b, f := started(t, "pcie-2island")
	f.devices[2].RegisterEventsFunc = func(uint64, nvmllib.EventSet) nvmllib.Return {
		return nvmllib.ERROR_NOT_SUPPORTED
	}
	f.devices[3].GetSupportedEventTypesFunc = func() (uint64, nvmllib.Return) {
		return nvmllib.EventTypeClock, nvmllib.SUCCESS // none of those watched
	}
	events, stop := watch(t, b, []int{1, 2, 3, 5})

	for _, index := range []int{2, 3} {
		e := next(t, events)
		if e.Index != index || e.Kind != EventRegistrationFailed || !strings.Contains(e.Message, "registration failed") || e.UUID == "" {
			t.Errorf("event %v, want GPU %d RegistrationFailed", e, index)
		}
		if e.MarksUnhealthy() {
			t.Errorf("event %v marks the GPU unhealthy", e)
		}
	}
	waitWatching(t, f, 1, 5)
	for _, i := range []int{0, 2, 3, 4} {
		if f.Watching(i) {
			t.Errorf("GPU %d is watched", i)
		}
	}
	f.InjectXID(2, 48) // not registered: dropped
	f.InjectXID(0, 48) // not asked for
	f.InjectXID(5, 62)
	if e := next(t, events); e.Index != 5 || e.XID != 62 {
		t.Errorf("event %v, want GPU 5 XID 62", e)
	}
	expectNone(t, events, 50*time.Millisecond)
	if err := stop(); err != nil {
		t.Errorf("WatchEvents: %v", err)
	}
}

func TestWatchEventsLostAtStart(t *testing.T) {
	b, f := started(t, "dgx-h100")
	f.InjectGPULost(6)
	events, stop := watch(t, b, []int{5, 6})
	e := next(t, events)
	if e.Index != 6 || e.Kind != EventGPULost || e.XID != 79 {
		t.Errorf("event %v, want GPU 6 lost", e)
	}
	waitWatching(t, f, 5)
	f.InjectXID(5, 94)
	if e := next(t, events); e.Index != 5 || e.XID != 94 {
		t.Errorf("event %v, want GPU 5 XID 94", e)
	}
	if err := stop(); err != nil {
		t.Errorf("WatchEvents: %v", err)
	}
}

func TestWatchEventsStopsWhileBlockedOnSend(t *testing.T) {
	b, f := started(t, "l4-1")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.WatchEvents(ctx, nil, make(chan Event)) }() // nobody reads
	waitWatching(t, f, 0)
	f.InjectXID(0, 48)
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("WatchEvents: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WatchEvents blocked on a send after its context was cancelled")
	}
}

func TestWatchEventsErrors(t *testing.T) {
	t.Run("event set", func(t *testing.T) {
		b, f := started(t, "l4-1")
		f.server.EventSetCreateFunc = func() (nvmllib.EventSet, nvmllib.Return) { return nil, nvmllib.ERROR_NOT_SUPPORTED }
		err := b.WatchEvents(context.Background(), nil, make(chan Event, 1))
		if !errors.Is(err, nvmllib.ERROR_NOT_SUPPORTED) || !strings.Contains(err.Error(), "EventSetCreate") {
			t.Errorf("WatchEvents = %v", err)
		}
	})
	t.Run("wait", func(t *testing.T) {
		b, f := started(t, "l4-1")
		create := f.server.EventSetCreateFunc
		f.server.EventSetCreateFunc = func() (nvmllib.EventSet, nvmllib.Return) {
			set, ret := create()
			set.(*fakeEventSet).WaitFunc = func(uint32) (nvmllib.EventData, nvmllib.Return) {
				return nvmllib.EventData{}, nvmllib.ERROR_UNKNOWN
			}
			return set, ret
		}
		err := b.WatchEvents(context.Background(), nil, make(chan Event, 1))
		if !errors.Is(err, nvmllib.ERROR_UNKNOWN) || !strings.Contains(err.Error(), "EventSetWait") {
			t.Errorf("WatchEvents = %v", err)
		}
		if f.Watching(0) {
			t.Error("the event set was not freed")
		}
	})
}

func TestEventKindString(t *testing.T) {
	for k, want := range map[EventKind]string{EventXID: "XID", EventGPULost: "GPULost", EventRegistrationFailed: "RegistrationFailed", 0: "EventKind(0)"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
}

// ERROR_GPU_IS_LOST from Wait is tied to the GPUs that are lost, each
// reported once while it stays lost; when none is, the event names no GPU.
func TestWatchEventsGPULostFromWait(t *testing.T) {
	b, f := started(t, "dgx-a100")
	var spurious sync.Once
	create := f.server.EventSetCreateFunc
	f.server.EventSetCreateFunc = func() (nvmllib.EventSet, nvmllib.Return) {
		set, ret := create()
		wait := set.(*fakeEventSet).WaitFunc
		set.(*fakeEventSet).WaitFunc = func(ms uint32) (ev nvmllib.EventData, ret nvmllib.Return) {
			ret = nvmllib.SUCCESS
			spurious.Do(func() { ret = nvmllib.ERROR_GPU_IS_LOST })
			if ret != nvmllib.SUCCESS {
				return ev, ret
			}
			return wait(ms)
		}
		return set, ret
	}
	events, stop := watch(t, b, nil)
	if e := next(t, events); e.Index != -1 || e.Kind != EventGPULost || e.UUID != "" {
		t.Errorf("event %v, want an unidentified lost GPU", e)
	} else if !strings.HasPrefix(e.String(), "unidentified GPU") {
		t.Errorf("String() = %q", e.String())
	}
	waitWatching(t, f, 0, 1, 2, 3, 4, 5, 6, 7)

	f.InjectGPULost(2)
	if e := next(t, events); e.Index != 2 || e.Kind != EventGPULost {
		t.Errorf("event %v, want GPU 2 lost", e)
	}
	f.InjectGPULost(2) // still lost: not reported again
	expectNone(t, events, 200*time.Millisecond)
	f.InjectGPULost(4) // another GPU: only it is reported
	if e := next(t, events); e.Index != 4 || e.Kind != EventGPULost {
		t.Errorf("event %v, want GPU 4 lost", e)
	}
	expectNone(t, events, 200*time.Millisecond)
	f.Recover(2)
	f.InjectGPULost(4) // GPU 2 answers again and is forgotten; 4 is still lost
	expectNone(t, events, 200*time.Millisecond)
	f.InjectGPULost(2) // lost again: reported again
	if e := next(t, events); e.Index != 2 || e.Kind != EventGPULost {
		t.Errorf("event %v, want GPU 2 lost again", e)
	}
	if err := stop(); err != nil {
		t.Errorf("WatchEvents: %v", err)
	}
}

// With the default one-second Wait, a cancelled watch still returns within
// about a second.
func TestWatchEventsDefaultTimeoutStops(t *testing.T) {
	f, err := NewFixture("l4-1")
	if err != nil {
		t.Fatal(err)
	}
	b := New(f.Interface())
	if b.waitTimeout != time.Second {
		t.Fatalf("default wait timeout %v", b.waitTimeout)
	}
	if err := b.Init(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.WatchEvents(ctx, nil, make(chan Event, 1)) }()
	waitWatching(t, f, 0)
	time.Sleep(10 * time.Millisecond) // let it block in Wait
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("WatchEvents: %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("WatchEvents took %v to stop", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WatchEvents did not stop")
	}
	if f.Watching(0) {
		t.Error("the event set was not freed")
	}
}
