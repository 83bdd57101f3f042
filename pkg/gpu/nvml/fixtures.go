package nvml

import (
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	nvmllib "github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/gpus"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
)

// Fixtures are NVML implementations of well-known GPU servers, built on
// go-nvml's mock server, for clusters and tests without GPUs. go-nvml's mocks
// describe each GPU on its own; a fixture adds what they lack: stable UUIDs,
// PCI bus IDs, NUMA nodes, NVLinks and NVSwitches, PCIe topology, event sets
// and health, and calls to inject XIDs and lost GPUs.

// fixtureSpec describes one fixture.
type fixtureSpec struct {
	description string
	driver      string
	gpu         gpus.Config
	// busIDs are the GPUs' PCI addresses, lower case; their number is the
	// number of GPUs.
	busIDs []string
	// numa is each GPU's NUMA node.
	numa []int
	// numaBy is how NVML reports the NUMA node.
	numaBy numaSource
	// nvlinks lists each GPU's NVLink lanes, in link order; nil for none.
	nvlinks func(s *fixtureSpec, index int) []lane
	// ancestor is the nearest common PCIe ancestor of two GPUs.
	ancestor func(s *fixtureSpec, a, b int) nvmllib.GpuTopologyLevel
}

// numaSource is how a fixture reports NUMA nodes.
type numaSource int

const (
	numaByNodeID         numaSource = iota // GetNumaNodeId
	numaByMemoryAffinity                   // GetNumaNodeId unsupported; GetMemoryAffinity
	numaUnknown                            // neither supported
)

// lane is one NVLink of a GPU: the PCI address and the type of what it
// reaches.
type lane struct {
	remote string
	kind   nvmllib.IntNvLinkDeviceType
}

// Product definitions the go-nvml mocks lack (values as nvidia-smi reports
// them: an L4 shows 23034 MiB, an L40S 46068 MiB). Neither supports MIG.
var (
	gpuL4 = gpus.Config{
		Name: "NVIDIA L4", Architecture: nvmllib.DEVICE_ARCH_ADA, Brand: nvmllib.BRAND_NVIDIA,
		MemoryMB: 23034, CudaMajor: 8, CudaMinor: 9, PciDeviceId: 0x27B810DE,
	}
	gpuL40S = gpus.Config{
		Name: "NVIDIA L40S", Architecture: nvmllib.DEVICE_ARCH_ADA, Brand: nvmllib.BRAND_NVIDIA,
		MemoryMB: 46068, CudaMajor: 8, CudaMinor: 9, PciDeviceId: 0x26B910DE,
	}
)

// halves puts the first half of the GPUs on NUMA node 0, the rest on 1.
func halves(n int) []int {
	out := make([]int, n)
	for i := range out {
		if i >= n/2 {
			out[i] = 1
		}
	}
	return out
}

// nvswitchLanes connects a GPU to NVSwitches: lanesPerSwitch[k] lanes go to
// the k-th switch.
func nvswitchLanes(switches []string, lanesPerSwitch []int) []lane {
	var out []lane
	for k, n := range lanesPerSwitch {
		for range n {
			out = append(out, lane{remote: switches[k], kind: nvmllib.NVLINK_DEVICE_TYPE_SWITCH})
		}
	}
	return out
}

// byNUMA is the PCIe topology of a two-socket server with one PCIe switch
// per pair of GPUs (0-1, 2-3, ...): the pair's GPUs meet at a switch
// (pairLevel), GPUs of one socket at the socket's root complexes, and GPUs
// of different sockets across the inter-socket link.
func byNUMA(pairLevel, socketLevel nvmllib.GpuTopologyLevel) func(s *fixtureSpec, a, b int) nvmllib.GpuTopologyLevel {
	return func(s *fixtureSpec, a, b int) nvmllib.GpuTopologyLevel {
		switch {
		case s.numa[a] != s.numa[b]:
			return nvmllib.TOPOLOGY_SYSTEM
		case a/2 == b/2:
			return pairLevel
		default:
			return socketLevel
		}
	}
}

var (
	// DGX A100 NVSwitches (six, NVLink 3).
	dgxA100Switches = []string{"0000:c4:00.0", "0000:c5:00.0", "0000:c6:00.0", "0000:c7:00.0", "0000:c8:00.0", "0000:c9:00.0"}
	// DGX H100 NVSwitches (four, NVLink 4).
	dgxH100Switches = []string{"0000:05:00.0", "0000:06:00.0", "0000:07:00.0", "0000:08:00.0"}
)

var fixtureSpecs = map[string]*fixtureSpec{
	// DGX A100: eight A100-SXM4-80GB, each with twelve NVLink 3 lanes, two
	// into each of six NVSwitches, so every pair has 12 lanes. The real
	// machine (two AMD Rome sockets in NPS4 mode) puts GPU pairs on NUMA
	// nodes 3, 1, 7 and 5; the fixture uses one node per socket: GPUs 0-3 on
	// node 0, 4-7 on node 1. GPU pairs share a PCIe switch tree
	// (TOPOLOGY_MULTIPLE).
	"dgx-a100": {
		description: "DGX A100: 8x A100-SXM4-80GB, NVSwitch, 12 NVLink lanes per GPU, NUMA 0/1",
		driver:      "550.54.15",
		gpu:         gpus.A100_SXM4_80GB,
		busIDs:      []string{"0000:07:00.0", "0000:0f:00.0", "0000:47:00.0", "0000:4e:00.0", "0000:87:00.0", "0000:90:00.0", "0000:b7:00.0", "0000:bd:00.0"},
		numa:        halves(8),
		nvlinks: func(_ *fixtureSpec, _ int) []lane {
			return nvswitchLanes(dgxA100Switches, []int{2, 2, 2, 2, 2, 2})
		},
		ancestor: byNUMA(nvmllib.TOPOLOGY_MULTIPLE, nvmllib.TOPOLOGY_NODE),
	},
	// DGX H100: eight H100 SXM5 80GB (NVML names them "NVIDIA H100 80GB
	// HBM3"), each with eighteen NVLink 4 lanes into four NVSwitches (5, 4,
	// 4, 5), so every pair has 18 lanes. GPUs 0-3 on NUMA node 0, 4-7 on 1,
	// as on the real machine; each GPU has its own PCIe switch.
	"dgx-h100": {
		description: "DGX H100: 8x H100-SXM5-80GB, NVSwitch, 18 NVLink lanes per GPU, NUMA 0/1",
		driver:      "550.54.15",
		gpu:         gpus.H100_SXM5_80GB,
		busIDs:      []string{"0000:18:00.0", "0000:2a:00.0", "0000:3a:00.0", "0000:5d:00.0", "0000:9a:00.0", "0000:ab:00.0", "0000:ba:00.0", "0000:db:00.0"},
		numa:        halves(8),
		nvlinks: func(_ *fixtureSpec, _ int) []lane {
			return nvswitchLanes(dgxH100Switches, []int{5, 4, 4, 5})
		},
		ancestor: byNUMA(nvmllib.TOPOLOGY_NODE, nvmllib.TOPOLOGY_NODE),
	},
	// An eight-GPU PCIe server with two NVLink-bridged islands of four
	// A100-PCIE-80GB, one island per socket: within an island every pair
	// has 4 direct lanes (12 lanes per GPU); islands meet only across the
	// inter-socket link (TOPOLOGY_SYSTEM). Pairs 0-1, 2-3, ... share a PCIe
	// switch, other GPUs of a socket its host bridge.
	"pcie-2island": {
		description: "8x A100-PCIE-80GB in two NVLink-bridged islands of 4 (4 lanes per pair), one per NUMA node",
		driver:      "550.54.15",
		gpu:         gpus.A100_PCIE_80GB,
		busIDs:      []string{"0000:17:00.0", "0000:18:00.0", "0000:31:00.0", "0000:32:00.0", "0000:97:00.0", "0000:98:00.0", "0000:b1:00.0", "0000:b2:00.0"},
		numa:        halves(8),
		nvlinks: func(s *fixtureSpec, index int) []lane {
			var out []lane
			first := index / 4 * 4
			for peer := first; peer < first+4; peer++ {
				if peer == index {
					continue
				}
				for range 4 {
					out = append(out, lane{remote: s.busIDs[peer], kind: nvmllib.NVLINK_DEVICE_TYPE_GPU})
				}
			}
			return out
		},
		ancestor: byNUMA(nvmllib.TOPOLOGY_SINGLE, nvmllib.TOPOLOGY_HOSTBRIDGE),
	},
	// A four-GPU PCIe-only server with one socket: four L40S, 0-1 and 2-3
	// each behind one PCIe switch (TOPOLOGY_SINGLE), the two switches under
	// one host bridge (TOPOLOGY_HOSTBRIDGE). No NVLink. The driver does not
	// answer GetNumaNodeId; the NUMA node (0) comes from GetMemoryAffinity.
	"pcie-4": {
		description: "4x L40S on PCIe, two PCIe switches (0-1, 2-3) under one host bridge, NUMA 0, no NVLink",
		driver:      "550.54.15",
		gpu:         gpuL40S,
		busIDs:      []string{"0000:01:00.0", "0000:02:00.0", "0000:41:00.0", "0000:42:00.0"},
		numa:        []int{0, 0, 0, 0},
		numaBy:      numaByMemoryAffinity,
		ancestor:    byNUMA(nvmllib.TOPOLOGY_SINGLE, nvmllib.TOPOLOGY_HOSTBRIDGE),
	},
	// One NVIDIA L4 (24 GB; NVML shows 23034 MiB), as on a small cloud VM:
	// no NVLink, no MIG, and no NUMA information (NUMA node -1).
	"l4-1": {
		description: "1x NVIDIA L4 24GB, no NVLink, no MIG, NUMA unknown",
		driver:      "550.54.15",
		gpu:         gpuL4,
		busIDs:      []string{"0000:00:04.0"},
		numa:        []int{-1},
		numaBy:      numaUnknown,
		ancestor:    byNUMA(nvmllib.TOPOLOGY_SINGLE, nvmllib.TOPOLOGY_HOSTBRIDGE),
	},
}

// FixtureNames lists the built-in fixtures, sorted.
func FixtureNames() []string {
	names := make([]string, 0, len(fixtureSpecs))
	for n := range fixtureSpecs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FixtureDescription is a one-line description of a fixture; empty for an
// unknown name.
func FixtureDescription(name string) string {
	if s, ok := fixtureSpecs[name]; ok {
		return s.description
	}
	return ""
}

// Fixture is a fake NVML for one of the built-in topologies. Its Interface is
// passed to New; its Inject methods and Recover change the fake GPUs' health
// and may be called from any goroutine while a Backend uses the fixture.
type Fixture struct {
	name, node string
	spec       *fixtureSpec
	server     *server.Server
	devices    []*server.Device

	mu   sync.Mutex
	lost []bool
	sets map[*fakeEventSet]struct{}
}

// NewFixture builds a fixture by name. Its UUIDs are stable: the same for
// every fixture of that name (use NewFixtureForNode for several fake nodes).
func NewFixture(name string) (*Fixture, error) {
	return NewFixtureForNode(name, "")
}

// NewFixtureForNode builds a fixture whose UUIDs are salted with a node name,
// so that fake nodes of one cluster have distinct GPUs. The UUIDs are stable
// for a fixture and node name.
func NewFixtureForNode(name, nodeName string) (*Fixture, error) {
	spec, ok := fixtureSpecs[name]
	if !ok {
		return nil, fmt.Errorf("unknown NVML fixture %q: valid fixtures are %s", name, strings.Join(FixtureNames(), ", "))
	}
	n := len(spec.busIDs)
	srv, err := server.New(
		server.WithGPUs(gpus.Multiple(n, spec.gpu)...),
		server.WithDriverVersion(spec.driver),
		server.WithNVMLVersion("12."+spec.driver),
		server.WithCUDADriverVersion(12040),
	)
	if err != nil {
		return nil, fmt.Errorf("fixture %s: %w", name, err)
	}
	f := &Fixture{
		name: name, node: nodeName, spec: spec, server: srv,
		lost: make([]bool, n),
		sets: map[*fakeEventSet]struct{}{},
	}
	for i, d := range srv.Devices {
		dev := d.(*server.Device)
		dev.UUID = fixtureUUID(name, nodeName, i)
		dev.PciBusID = spec.busIDs[i]
		f.devices = append(f.devices, dev)
	}
	f.setInterfaceFuncs()
	for i := range f.devices {
		f.setDeviceFuncs(i)
	}
	return f, nil
}

// fixtureUUID is a stable UUID in NVIDIA's shape ("GPU-" and a version-5
// style UUID) derived from the fixture, the node and the index.
func fixtureUUID(fixture, node string, index int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("gantry-nvml-fixture\x00%s\x00%s\x00%d", fixture, node, index)))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("GPU-%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Name is the fixture's name.
func (f *Fixture) Name() string { return f.name }

// NodeName is the node name the UUIDs are salted with ("" for none).
func (f *Fixture) NodeName() string { return f.node }

// Interface is the fake NVML, to pass to New.
func (f *Fixture) Interface() nvmllib.Interface { return f.server }

// Len is the number of GPUs.
func (f *Fixture) Len() int { return len(f.devices) }

// checkIndex panics on an index the fixture does not have: a caller's bug.
func (f *Fixture) checkIndex(index int) {
	if index < 0 || index >= len(f.devices) {
		panic(fmt.Sprintf("nvml fixture %s: no GPU %d (it has %d)", f.name, index, len(f.devices)))
	}
}

// InjectXID raises a critical XID error on a GPU: every event set watching
// the GPU's XID events receives it, waking a pending Wait at once.
func (f *Fixture) InjectXID(index int, xid uint64) {
	f.deliver(index, nvmllib.EventTypeXidCriticalError, xid)
}

// InjectECC raises an ECC error on a GPU: double-bit (uncorrectable) or
// single-bit.
func (f *Fixture) InjectECC(index int, doubleBit bool) {
	typ := uint64(nvmllib.EventTypeSingleBitEccError)
	if doubleBit {
		typ = nvmllib.EventTypeDoubleBitEccError
	}
	f.deliver(index, typ, 0)
}

// InjectGPULost makes a GPU fall off the bus: from now on its handle and its
// calls answer nvml.ERROR_GPU_IS_LOST, and every event set watching the GPU
// returns ERROR_GPU_IS_LOST from its next Wait (as the driver does). Recover
// undoes it.
func (f *Fixture) InjectGPULost(index int) {
	f.checkIndex(index)
	f.mu.Lock()
	f.lost[index] = true
	sets := f.liveSetsLocked()
	f.mu.Unlock()
	for _, s := range sets {
		s.push(index, 0, fakeEvent{ret: nvmllib.ERROR_GPU_IS_LOST})
	}
}

// Recover brings a lost GPU back: its calls succeed again.
func (f *Fixture) Recover(index int) {
	f.checkIndex(index)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lost[index] = false
}

// Watching reports whether some event set has registered events of a GPU;
// tests wait for it before injecting, as events nobody watches are dropped.
func (f *Fixture) Watching(index int) bool {
	f.checkIndex(index)
	for _, s := range f.liveSets() {
		if s.mask(index) != 0 {
			return true
		}
	}
	return false
}

func (f *Fixture) isLost(index int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lost[index]
}

func (f *Fixture) liveSets() []*fakeEventSet {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.liveSetsLocked()
}

func (f *Fixture) liveSetsLocked() []*fakeEventSet {
	out := make([]*fakeEventSet, 0, len(f.sets))
	for s := range f.sets {
		out = append(out, s)
	}
	return out
}

// deliver queues an event on every event set watching that event type of a GPU.
func (f *Fixture) deliver(index int, typ, data uint64) {
	f.checkIndex(index)
	ev := fakeEvent{data: nvmllib.EventData{Device: f.devices[index], EventType: typ, EventData: data}, ret: nvmllib.SUCCESS}
	for _, s := range f.liveSets() {
		s.push(index, typ, ev)
	}
}

// indexOf is the index of one of the fixture's devices; -1 for another.
func (f *Fixture) indexOf(d nvmllib.Device) int {
	for i, dev := range f.devices {
		if sd, ok := d.(*server.Device); ok && sd == dev {
			return i
		}
	}
	return -1
}

// pciInfo is what NVML returns for a PCI address: BusId with an eight-digit
// domain and BusIdLegacy with four, both upper case, as the driver prints them.
func pciInfo(busID string, deviceID uint32) nvmllib.PciInfo {
	var domain, bus, dev, fn uint32
	if _, err := fmt.Sscanf(busID, "%x:%x:%x.%x", &domain, &bus, &dev, &fn); err != nil {
		panic(fmt.Sprintf("nvml fixture: bad PCI address %q: %v", busID, err))
	}
	p := nvmllib.PciInfo{Domain: domain, Bus: bus, Device: dev, PciDeviceId: deviceID}
	putCString(p.BusId[:], fmt.Sprintf("%08X:%02X:%02X.%X", domain, bus, dev, fn))
	putCString(p.BusIdLegacy[:], fmt.Sprintf("%04X:%02X:%02X.%X", domain, bus, dev, fn))
	return p
}

// putCString writes a NUL-terminated string into a C char array.
func putCString(dst []int8, s string) {
	for i := 0; i < len(s) && i < len(dst)-1; i++ {
		dst[i] = int8(s[i])
	}
}

// setInterfaceFuncs completes the mock server: handles of lost GPUs, and
// event sets (the package-level forms delegate to the objects).
func (f *Fixture) setInterfaceFuncs() {
	s := f.server
	byIndex := s.DeviceGetHandleByIndexFunc
	s.DeviceGetHandleByIndexFunc = func(index int) (nvmllib.Device, nvmllib.Return) {
		if index >= 0 && index < len(f.devices) && f.isLost(index) {
			return nil, nvmllib.ERROR_GPU_IS_LOST
		}
		return byIndex(index)
	}
	s.EventSetCreateFunc = func() (nvmllib.EventSet, nvmllib.Return) {
		set := newFakeEventSet(f)
		f.mu.Lock()
		f.sets[set] = struct{}{}
		f.mu.Unlock()
		return set, nvmllib.SUCCESS
	}
	s.EventSetWaitFunc = func(set nvmllib.EventSet, timeoutms uint32) (nvmllib.EventData, nvmllib.Return) {
		return set.Wait(timeoutms)
	}
	s.EventSetFreeFunc = func(set nvmllib.EventSet) nvmllib.Return { return set.Free() }
	s.DeviceRegisterEventsFunc = func(d nvmllib.Device, mask uint64, set nvmllib.EventSet) nvmllib.Return {
		return d.RegisterEvents(mask, set)
	}
	s.DeviceGetTopologyCommonAncestorFunc = func(a, b nvmllib.Device) (nvmllib.GpuTopologyLevel, nvmllib.Return) {
		return a.GetTopologyCommonAncestor(b)
	}
}

// supportedEvents are the event types every fixture GPU supports.
const supportedEvents = nvmllib.EventTypeXidCriticalError | nvmllib.EventTypeSingleBitEccError | nvmllib.EventTypeDoubleBitEccError

// setDeviceFuncs completes one mock device: PCI, NUMA, NVLink, topology,
// events and health. Every call a Backend makes answers ERROR_GPU_IS_LOST
// while the GPU is lost.
func (f *Fixture) setDeviceFuncs(i int) {
	d, spec := f.devices[i], f.spec
	lost := func() bool { return f.isLost(i) }
	var links []lane
	if spec.nvlinks != nil {
		links = spec.nvlinks(spec, i)
	}

	getUUID, getName, getMem, getMinor, getIndex, getMig :=
		d.GetUUIDFunc, d.GetNameFunc, d.GetMemoryInfoFunc, d.GetMinorNumberFunc, d.GetIndexFunc, d.GetMigModeFunc
	d.GetUUIDFunc = func() (string, nvmllib.Return) {
		if lost() {
			return "", nvmllib.ERROR_GPU_IS_LOST
		}
		return getUUID()
	}
	d.GetNameFunc = func() (string, nvmllib.Return) {
		if lost() {
			return "", nvmllib.ERROR_GPU_IS_LOST
		}
		return getName()
	}
	d.GetMemoryInfoFunc = func() (nvmllib.Memory, nvmllib.Return) {
		if lost() {
			return nvmllib.Memory{}, nvmllib.ERROR_GPU_IS_LOST
		}
		return getMem()
	}
	d.GetMinorNumberFunc = func() (int, nvmllib.Return) {
		if lost() {
			return 0, nvmllib.ERROR_GPU_IS_LOST
		}
		return getMinor()
	}
	d.GetIndexFunc = func() (int, nvmllib.Return) {
		if lost() {
			return 0, nvmllib.ERROR_GPU_IS_LOST
		}
		return getIndex()
	}
	migSupported := len(spec.gpu.MIGProfiles.GpuInstanceProfiles) > 0
	d.GetMigModeFunc = func() (int, int, nvmllib.Return) {
		switch {
		case lost():
			return 0, 0, nvmllib.ERROR_GPU_IS_LOST
		case !migSupported:
			return 0, 0, nvmllib.ERROR_NOT_SUPPORTED
		}
		return getMig()
	}
	if !migSupported {
		d.SetMigModeFunc = func(int) (nvmllib.Return, nvmllib.Return) {
			return nvmllib.ERROR_NOT_SUPPORTED, nvmllib.ERROR_NOT_SUPPORTED
		}
	}
	d.GetPciInfoFunc = func() (nvmllib.PciInfo, nvmllib.Return) {
		if lost() {
			return nvmllib.PciInfo{}, nvmllib.ERROR_GPU_IS_LOST
		}
		return pciInfo(spec.busIDs[i], spec.gpu.PciDeviceId), nvmllib.SUCCESS
	}

	node := spec.numa[i]
	d.GetNumaNodeIdFunc = func() (int, nvmllib.Return) {
		switch {
		case lost():
			return 0, nvmllib.ERROR_GPU_IS_LOST
		case spec.numaBy != numaByNodeID:
			return 0, nvmllib.ERROR_NOT_SUPPORTED
		}
		return node, nvmllib.SUCCESS
	}
	d.GetMemoryAffinityFunc = func(words int, scope nvmllib.AffinityScope) ([]uint, nvmllib.Return) {
		switch {
		case lost():
			return nil, nvmllib.ERROR_GPU_IS_LOST
		case spec.numaBy == numaUnknown || node < 0:
			return nil, nvmllib.ERROR_NOT_SUPPORTED
		case scope != nvmllib.AFFINITY_SCOPE_NODE || words < 1:
			return nil, nvmllib.ERROR_INVALID_ARGUMENT
		}
		mask := make([]uint, words)
		mask[0] = 1 << uint(node)
		return mask, nvmllib.SUCCESS
	}

	d.GetTemperatureFunc = func(sensor nvmllib.TemperatureSensors) (uint32, nvmllib.Return) {
		switch {
		case lost():
			return 0, nvmllib.ERROR_GPU_IS_LOST
		case sensor != nvmllib.TEMPERATURE_GPU:
			return 0, nvmllib.ERROR_INVALID_ARGUMENT
		}
		return uint32(32 + i), nvmllib.SUCCESS
	}
	d.GetPowerUsageFunc = func() (uint32, nvmllib.Return) {
		if lost() {
			return 0, nvmllib.ERROR_GPU_IS_LOST
		}
		return 60000 + uint32(i)*1000, nvmllib.SUCCESS // milliwatts
	}

	// NVLink: a GPU without NVLink answers ERROR_NOT_SUPPORTED; a link past
	// the GPU's last answers ERROR_INVALID_ARGUMENT.
	link := func(n int) (lane, nvmllib.Return) {
		switch {
		case lost():
			return lane{}, nvmllib.ERROR_GPU_IS_LOST
		case len(links) == 0:
			return lane{}, nvmllib.ERROR_NOT_SUPPORTED
		case n < 0 || n >= len(links):
			return lane{}, nvmllib.ERROR_INVALID_ARGUMENT
		}
		return links[n], nvmllib.SUCCESS
	}
	d.GetNvLinkStateFunc = func(n int) (nvmllib.EnableState, nvmllib.Return) {
		if _, ret := link(n); ret != nvmllib.SUCCESS {
			return nvmllib.FEATURE_DISABLED, ret
		}
		return nvmllib.FEATURE_ENABLED, nvmllib.SUCCESS
	}
	d.GetNvLinkRemotePciInfoFunc = func(n int) (nvmllib.PciInfo, nvmllib.Return) {
		l, ret := link(n)
		if ret != nvmllib.SUCCESS {
			return nvmllib.PciInfo{}, ret
		}
		return pciInfo(l.remote, 0), nvmllib.SUCCESS
	}
	d.GetNvLinkRemoteDeviceTypeFunc = func(n int) (nvmllib.IntNvLinkDeviceType, nvmllib.Return) {
		l, ret := link(n)
		if ret != nvmllib.SUCCESS {
			return nvmllib.NVLINK_DEVICE_TYPE_UNKNOWN, ret
		}
		return l.kind, nvmllib.SUCCESS
	}

	d.GetTopologyCommonAncestorFunc = func(other nvmllib.Device) (nvmllib.GpuTopologyLevel, nvmllib.Return) {
		j := f.indexOf(other)
		switch {
		case lost() || (j >= 0 && f.isLost(j)):
			return 0, nvmllib.ERROR_GPU_IS_LOST
		case j < 0:
			return 0, nvmllib.ERROR_INVALID_ARGUMENT
		case j == i:
			return nvmllib.TOPOLOGY_INTERNAL, nvmllib.SUCCESS
		}
		return spec.ancestor(spec, i, j), nvmllib.SUCCESS
	}

	d.GetSupportedEventTypesFunc = func() (uint64, nvmllib.Return) {
		if lost() {
			return 0, nvmllib.ERROR_GPU_IS_LOST
		}
		return supportedEvents, nvmllib.SUCCESS
	}
	d.RegisterEventsFunc = func(mask uint64, set nvmllib.EventSet) nvmllib.Return {
		fs, ok := set.(*fakeEventSet)
		switch {
		case lost():
			return nvmllib.ERROR_GPU_IS_LOST
		case !ok || fs.fixture != f:
			return nvmllib.ERROR_INVALID_ARGUMENT
		case mask&^supportedEvents != 0:
			return nvmllib.ERROR_NOT_SUPPORTED
		}
		return fs.register(i, mask)
	}
}

// fakeEvent is what one Wait returns.
type fakeEvent struct {
	data nvmllib.EventData
	ret  nvmllib.Return
}

// fakeEventSet is an NVML event set: a queue of events per set, and a channel
// that wakes a pending Wait when an event is queued.
type fakeEventSet struct {
	mock.EventSet
	fixture *Fixture

	mu     sync.Mutex
	masks  map[int]uint64 // event types registered per GPU
	queue  []fakeEvent
	freed  bool
	wakeup chan struct{} // capacity 1: "the queue or freed changed"
}

func newFakeEventSet(f *Fixture) *fakeEventSet {
	s := &fakeEventSet{fixture: f, masks: map[int]uint64{}, wakeup: make(chan struct{}, 1)}
	s.WaitFunc = s.wait
	s.FreeFunc = s.free
	return s
}

func (s *fakeEventSet) register(index int, mask uint64) nvmllib.Return {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.freed {
		return nvmllib.ERROR_INVALID_ARGUMENT
	}
	s.masks[index] |= mask
	return nvmllib.SUCCESS
}

func (s *fakeEventSet) mask(index int) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.masks[index]
}

// push queues an event when the set watches event type typ of a GPU (typ 0:
// any registration).
func (s *fakeEventSet) push(index int, typ uint64, ev fakeEvent) {
	s.mu.Lock()
	m := s.masks[index]
	if s.freed || m == 0 || (typ != 0 && m&typ == 0) {
		s.mu.Unlock()
		return
	}
	s.queue = append(s.queue, ev)
	s.mu.Unlock()
	s.wake()
}

func (s *fakeEventSet) wake() {
	select {
	case s.wakeup <- struct{}{}:
	default:
	}
}

// wait returns the oldest queued event, waiting up to timeoutms for one;
// ERROR_TIMEOUT when none comes.
func (s *fakeEventSet) wait(timeoutms uint32) (nvmllib.EventData, nvmllib.Return) {
	timer := time.NewTimer(time.Duration(timeoutms) * time.Millisecond)
	defer timer.Stop()
	for {
		s.mu.Lock()
		switch {
		case s.freed:
			s.mu.Unlock()
			return nvmllib.EventData{}, nvmllib.ERROR_UNINITIALIZED
		case len(s.queue) > 0:
			ev := s.queue[0]
			s.queue = s.queue[1:]
			s.mu.Unlock()
			return ev.data, ev.ret
		}
		s.mu.Unlock()
		select {
		case <-s.wakeup:
		case <-timer.C:
			return nvmllib.EventData{}, nvmllib.ERROR_TIMEOUT
		}
	}
}

func (s *fakeEventSet) free() nvmllib.Return {
	s.mu.Lock()
	s.freed, s.queue = true, nil
	s.mu.Unlock()
	s.wake()
	f := s.fixture
	f.mu.Lock()
	delete(f.sets, s)
	f.mu.Unlock()
	return nvmllib.SUCCESS
}

// Parse reads the --nvml flag: "nvml" is the driver's library (nvml.New(),
// and a nil fixture); "fixture:NAME" a built-in fixture. The fixture's UUIDs
// are not salted: daemons of several fake nodes use ParseForNode.
func Parse(spec string) (lib nvmllib.Interface, fixture *Fixture, err error) {
	return ParseForNode(spec, "")
}

// ParseForNode is Parse with fixture UUIDs salted with a node name (see
// NewFixtureForNode); the node name does not matter for "nvml".
func ParseForNode(spec, nodeName string) (lib nvmllib.Interface, fixture *Fixture, err error) {
	if spec == "nvml" {
		return nvmllib.New(), nil, nil
	}
	name, ok := strings.CutPrefix(spec, "fixture:")
	if !ok || name == "" {
		return nil, nil, fmt.Errorf(`NVML backend %q is neither "nvml" nor "fixture:NAME" (fixtures: %s)`, spec, strings.Join(FixtureNames(), ", "))
	}
	f, err := NewFixtureForNode(name, nodeName)
	if err != nil {
		return nil, nil, err
	}
	return f.Interface(), f, nil
}
