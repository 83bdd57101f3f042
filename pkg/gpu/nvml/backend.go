// Package nvml discovers a node's NVIDIA GPUs and the paths between them
// through NVML (github.com/NVIDIA/go-nvml), and watches them for health
// events. The Backend takes any nvml.Interface: the driver's library
// (nvml.New()) on a GPU node, or one of the built-in fixtures of this package
// (see NewFixture and Parse) on machines without GPUs.
package nvml

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"sync"
	"time"

	nvmllib "github.com/NVIDIA/go-nvml/pkg/nvml"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
)

const (
	// defaultWaitTimeout is how long one EventSet.Wait blocks, which bounds
	// how long WatchEvents takes to notice that its context is done.
	defaultWaitTimeout = time.Second
	// numaMaskWords is the size, in unsigned longs, of the NUMA node mask
	// asked of GetMemoryAffinity: 4 words cover 256 NUMA nodes.
	numaMaskWords = 4
	// xidGPULost is the XID the driver logs when a GPU has fallen off the bus.
	xidGPULost = 79
	// mib is the number of bytes in a MiB.
	mib = 1 << 20
)

// noDriverHint starts the error Init returns when NVML cannot be loaded.
const noDriverHint = "NVML could not be initialised: is the NVIDIA driver installed on this node?"

// Backend reads GPUs through NVML. Init must succeed before Discover,
// WatchEvents or CheckDevice are called; Shutdown releases NVML. The methods
// are safe to call from several goroutines, but Shutdown must not be called
// while a WatchEvents is still running.
type Backend struct {
	lib nvmllib.Interface
	// waitTimeout is how long WatchEvents blocks in one EventSet.Wait.
	waitTimeout time.Duration

	mu          sync.Mutex
	initialised bool
	symbols     map[string]bool // LookupSymbol answers, cached
}

// New returns a Backend over an NVML implementation: nvml.New() for the
// driver's library, or a fixture's Interface().
func New(lib nvmllib.Interface) *Backend {
	return &Backend{lib: lib, waitTimeout: defaultWaitTimeout, symbols: map[string]bool{}}
}

// Init initialises NVML. It calls the library's Init once: further calls
// after a success return nil at once, and a failed Init may be retried. A
// node without the NVIDIA driver gets an error that says so, never a panic.
func (b *Backend) Init() (err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lib == nil {
		return errors.New("NVML could not be initialised: no NVML library was given")
	}
	if b.initialised {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s (NVML panicked while loading: %v)", noDriverHint, r)
		}
	}()
	switch ret := b.lib.Init(); ret {
	case nvmllib.SUCCESS:
		b.initialised = true
		return nil
	case nvmllib.ERROR_LIBRARY_NOT_FOUND, nvmllib.ERROR_DRIVER_NOT_LOADED:
		return fmt.Errorf("%s (%w)", noDriverHint, ret)
	case nvmllib.ERROR_LIB_RM_VERSION_MISMATCH:
		return fmt.Errorf("NVML could not be initialised: the NVML library does not match the loaded NVIDIA kernel module; reload the driver or reboot the node (%w)", ret)
	case nvmllib.ERROR_NO_PERMISSION:
		return fmt.Errorf("NVML could not be initialised: no permission to open the NVIDIA device nodes (%w)", ret)
	default:
		return fmt.Errorf("NVML could not be initialised: %w", ret)
	}
}

// Shutdown releases NVML. It is idempotent: it does nothing when NVML is not
// initialised.
func (b *Backend) Shutdown() (err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.initialised {
		return nil
	}
	defer recoverInto(&err, "Shutdown")
	if ret := b.lib.Shutdown(); ret != nvmllib.SUCCESS {
		return fmt.Errorf("NVML Shutdown failed: %w", ret)
	}
	b.initialised = false
	b.symbols = map[string]bool{}
	return nil
}

// ready reports an error unless Init has succeeded: calling into the
// driver's library before it is loaded would crash the process.
func (b *Backend) ready() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.initialised {
		return errors.New("NVML is not initialised: call Init first")
	}
	return nil
}

// hasSymbol reports whether the library exports an NVML function. Calling a
// function that an old driver's library lacks would crash the process, so
// optional calls are checked first. A library that cannot answer (a mock
// without Extensions) is taken to have every function.
func (b *Backend) hasSymbol(name string) (ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if known, cached := b.symbols[name]; cached {
		return known
	}
	defer func() {
		if recover() != nil {
			ok = true
		}
		b.symbols[name] = ok
	}()
	ext := b.lib.Extensions()
	if ext == nil {
		return true
	}
	return ext.LookupSymbol(name) == nil
}

// recoverInto turns a panic from the NVML library into an error, so that a
// broken library or an incomplete mock fails one call instead of the daemon.
func recoverInto(err *error, what string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("NVML panicked during %s: %v", what, r)
	}
}

// deviceError says which NVML call failed on which GPU, wrapping NVML's code.
func deviceError(index int, call string, ret nvmllib.Return) error {
	return fmt.Errorf("GPU %d: NVML %s failed: %w", index, call, ret)
}

// Discover reads every GPU, the best path between every pair, and the driver
// version. Any GPU that cannot be read fails discovery, with an error that
// names the GPU and the NVML call and wraps NVML's return code (so
// errors.Is(err, nvml.ERROR_GPU_IS_LOST) works).
func (b *Backend) Discover() (topo *gpu.Topology, driverVersion string, err error) {
	if err := b.ready(); err != nil {
		return nil, "", err
	}
	defer recoverInto(&err, "discovery")

	driverVersion, ret := b.lib.SystemGetDriverVersion()
	if ret != nvmllib.SUCCESS {
		return nil, "", fmt.Errorf("NVML SystemGetDriverVersion failed: %w", ret)
	}
	count, ret := b.lib.DeviceGetCount()
	if ret != nvmllib.SUCCESS {
		return nil, "", fmt.Errorf("NVML DeviceGetCount failed: %w", ret)
	}
	if count > gpu.MaxDevices {
		return nil, "", fmt.Errorf("NVML reports %d GPUs: at most %d are supported", count, gpu.MaxDevices)
	}

	handles := make([]nvmllib.Device, count)
	devices := make([]gpu.Device, count)
	for i := range count {
		h, ret := b.lib.DeviceGetHandleByIndex(i)
		if ret != nvmllib.SUCCESS {
			return nil, "", deviceError(i, "DeviceGetHandleByIndex", ret)
		}
		d, err := b.readDevice(i, h)
		if err != nil {
			return nil, "", err
		}
		handles[i], devices[i] = h, d
	}

	topo, err = gpu.NewTopology(devices, b.readLinks(handles, devices))
	if err != nil {
		return nil, "", fmt.Errorf("NVML reported an inconsistent topology: %w", err)
	}
	return topo, driverVersion, nil
}

// readDevice reads one GPU's identity and placement.
func (b *Backend) readDevice(index int, h nvmllib.Device) (gpu.Device, error) {
	d := gpu.Device{Index: index}
	var ret nvmllib.Return
	if d.UUID, ret = h.GetUUID(); ret != nvmllib.SUCCESS {
		return d, deviceError(index, "GetUUID", ret)
	}
	if d.Model, ret = h.GetName(); ret != nvmllib.SUCCESS {
		return d, deviceError(index, "GetName", ret)
	}
	mem, ret := h.GetMemoryInfo()
	if ret != nvmllib.SUCCESS {
		return d, deviceError(index, "GetMemoryInfo", ret)
	}
	d.MemoryMiB = int64(mem.Total / mib)
	pci, ret := h.GetPciInfo()
	if ret != nvmllib.SUCCESS {
		return d, deviceError(index, "GetPciInfo", ret)
	}
	d.PCIBusID = pciBusID(pci)
	if d.Minor, ret = h.GetMinorNumber(); ret != nvmllib.SUCCESS {
		return d, deviceError(index, "GetMinorNumber", ret)
	}
	var err error
	if d.NUMANode, err = b.numaNode(index, h); err != nil {
		return d, err
	}
	if d.MIGMode, err = migMode(index, h); err != nil {
		return d, err
	}
	return d, nil
}

// numaNode is the NUMA node of a GPU: GetNumaNodeId where the driver has it,
// else the single node of the GPU's memory affinity (GetMemoryAffinity with
// node scope), else -1. Only a lost GPU is an error.
func (b *Backend) numaNode(index int, h nvmllib.Device) (int, error) {
	if b.hasSymbol("nvmlDeviceGetNumaNodeId") {
		node, ret := h.GetNumaNodeId()
		switch {
		case ret == nvmllib.SUCCESS && node >= 0:
			return node, nil
		case ret == nvmllib.ERROR_GPU_IS_LOST:
			return -1, deviceError(index, "GetNumaNodeId", ret)
		}
	}
	if b.hasSymbol("nvmlDeviceGetMemoryAffinity") {
		mask, ret := h.GetMemoryAffinity(numaMaskWords, nvmllib.AFFINITY_SCOPE_NODE)
		switch ret {
		case nvmllib.SUCCESS:
			if node, ok := singleBit(mask); ok {
				return node, nil
			}
		case nvmllib.ERROR_GPU_IS_LOST:
			return -1, deviceError(index, "GetMemoryAffinity", ret)
		}
	}
	return -1, nil
}

// singleBit returns the position of the only bit set in a mask of unsigned
// longs, or false when none or several are set.
func singleBit(mask []uint) (int, bool) {
	node, found := -1, false
	for w, word := range mask {
		switch bits.OnesCount(word) {
		case 0:
			continue
		case 1:
			if found {
				return -1, false
			}
			node, found = w*bits.UintSize+bits.TrailingZeros(word), true
		default:
			return -1, false
		}
	}
	return node, found
}

// migMode maps GetMigMode's current mode; a GPU without MIG reports
// ERROR_NOT_SUPPORTED. Errors other than a lost GPU read as MIG disabled.
func migMode(index int, h nvmllib.Device) (gantryv1alpha1.MIGMode, error) {
	current, _, ret := h.GetMigMode()
	switch ret {
	case nvmllib.SUCCESS:
		if current == nvmllib.DEVICE_MIG_ENABLE {
			return gantryv1alpha1.MIGEnabled, nil
		}
		return gantryv1alpha1.MIGDisabled, nil
	case nvmllib.ERROR_NOT_SUPPORTED:
		return gantryv1alpha1.MIGUnsupported, nil
	case nvmllib.ERROR_GPU_IS_LOST:
		return "", deviceError(index, "GetMigMode", ret)
	default:
		return gantryv1alpha1.MIGDisabled, nil
	}
}

// pciBusID formats NVML's PCI bus ID as "dddd:bb:dd.f", lower case, with a
// four-digit domain where the domain fits (NVML's BusId has eight digits and
// upper case, e.g. "00000000:B7:00.0").
func pciBusID(p nvmllib.PciInfo) string {
	s := cString(p.BusId[:])
	if s == "" {
		s = cString(p.BusIdLegacy[:])
	}
	if s == "" {
		if p.Domain == 0 && p.Bus == 0 && p.Device == 0 {
			return ""
		}
		return fmt.Sprintf("%04x:%02x:%02x.0", p.Domain, p.Bus, p.Device)
	}
	return normaliseBusID(s)
}

// normaliseBusID lower-cases a bus ID and shortens an eight-digit domain with
// leading zeros to four digits.
func normaliseBusID(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	parts := strings.Split(s, ":")
	if len(parts) == 3 && len(parts[0]) > 4 && strings.Trim(parts[0][:len(parts[0])-4], "0") == "" {
		parts[0] = parts[0][len(parts[0])-4:]
	}
	return strings.Join(parts, ":")
}

// cString reads a NUL-terminated C char array.
func cString(chars []int8) string {
	b := make([]byte, 0, len(chars))
	for _, c := range chars {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

// nvlinks is what one GPU's NVLinks reach.
type nvlinks struct {
	direct   map[string]int // lanes straight to the GPU with this bus ID
	switched int            // lanes into NVSwitches
}

// readNVLinks reads the active NVLinks of a GPU. Links that are down or that
// NVML will not describe are skipped.
func (b *Backend) readNVLinks(h nvmllib.Device) nvlinks {
	out := nvlinks{direct: map[string]int{}}
	hasType := b.hasSymbol("nvmlDeviceGetNvLinkRemoteDeviceType")
	for link := range nvmllib.NVLINK_MAX_LINKS {
		state, ret := h.GetNvLinkState(link)
		if ret == nvmllib.ERROR_NOT_SUPPORTED && link == 0 {
			break // a GPU without NVLink
		}
		if ret != nvmllib.SUCCESS || state != nvmllib.FEATURE_ENABLED {
			continue
		}
		remote, ret := h.GetNvLinkRemotePciInfo(link)
		if ret != nvmllib.SUCCESS {
			continue
		}
		if hasType {
			if typ, ret := h.GetNvLinkRemoteDeviceType(link); ret == nvmllib.SUCCESS && typ == nvmllib.NVLINK_DEVICE_TYPE_SWITCH {
				out.switched++
				continue
			}
		}
		out.direct[pciBusID(remote)]++
	}
	return out
}

// readLinks is the best path between every pair of GPUs: NVLink where they
// share lanes (direct, or through NVSwitches, where every GPU on the switches
// reaches every other with as many lanes as the poorer of the two has into
// the switches), else the PCIe relationship GetTopologyCommonAncestor reports.
func (b *Backend) readLinks(handles []nvmllib.Device, devices []gpu.Device) map[[2]int]gpu.Link {
	nv := make([]nvlinks, len(handles))
	for i, h := range handles {
		nv[i] = b.readNVLinks(h)
	}
	links := make(map[[2]int]gpu.Link, len(handles)*(len(handles)-1)/2)
	for a := range handles {
		for c := a + 1; c < len(handles); c++ {
			lanes := max(nv[a].direct[devices[c].PCIBusID], nv[c].direct[devices[a].PCIBusID])
			if nv[a].switched > 0 && nv[c].switched > 0 {
				lanes += min(nv[a].switched, nv[c].switched)
			}
			pair := [2]int{devices[a].Index, devices[c].Index}
			if lanes > 0 {
				links[pair] = gpu.Link{Type: gpu.LinkNVLink, NVLinkLanes: lanes}
				continue
			}
			level, ret := handles[a].GetTopologyCommonAncestor(handles[c])
			if ret != nvmllib.SUCCESS {
				links[pair] = gpu.Link{Type: gpu.LinkUnknown}
				continue
			}
			links[pair] = gpu.Link{Type: linkFromAncestor(level)}
		}
	}
	return links
}

// linkFromAncestor maps NVML's nearest common PCIe ancestor to a link type.
func linkFromAncestor(level nvmllib.GpuTopologyLevel) gpu.LinkType {
	switch level {
	case nvmllib.TOPOLOGY_INTERNAL:
		return gpu.LinkSameBoard
	case nvmllib.TOPOLOGY_SINGLE:
		return gpu.LinkSingleSwitch
	case nvmllib.TOPOLOGY_MULTIPLE:
		return gpu.LinkMultipleSwitches
	case nvmllib.TOPOLOGY_HOSTBRIDGE:
		return gpu.LinkHostBridge
	case nvmllib.TOPOLOGY_NODE:
		return gpu.LinkNUMANode
	case nvmllib.TOPOLOGY_SYSTEM:
		return gpu.LinkSystem
	default:
		return gpu.LinkUnknown
	}
}

// CheckDevice is a cheap liveness probe of one GPU: it reads the GPU's handle,
// UUID and temperature. It returns an error wrapping nvml.ERROR_GPU_IS_LOST
// when the GPU has fallen off the bus, and nil once it answers again.
func (b *Backend) CheckDevice(index int) (err error) {
	if err := b.ready(); err != nil {
		return err
	}
	defer recoverInto(&err, fmt.Sprintf("the health check of GPU %d", index))
	h, ret := b.lib.DeviceGetHandleByIndex(index)
	if ret != nvmllib.SUCCESS {
		return deviceError(index, "DeviceGetHandleByIndex", ret)
	}
	if _, ret := h.GetUUID(); ret != nvmllib.SUCCESS {
		return deviceError(index, "GetUUID", ret)
	}
	// The UUID may be cached by the driver; the temperature is read from the
	// GPU. Only a lost GPU counts: boards without a sensor say NOT_SUPPORTED.
	if _, ret := h.GetTemperature(nvmllib.TEMPERATURE_GPU); ret == nvmllib.ERROR_GPU_IS_LOST {
		return deviceError(index, "GetTemperature", ret)
	}
	return nil
}

// EventKind is what happened to a GPU.
type EventKind int

// Event kinds.
const (
	// EventXID is a critical XID error reported by the driver; Event.XID
	// holds its number.
	EventXID EventKind = iota + 1
	// EventGPULost is a GPU that has fallen off the bus (XID 79 semantics):
	// NVML answers ERROR_GPU_IS_LOST for it, or the driver logged XID 79.
	EventGPULost
	// EventSingleBitECC is a corrected (single-bit) ECC memory error.
	EventSingleBitECC
	// EventDoubleBitECC is an uncorrectable (double-bit) ECC memory error.
	EventDoubleBitECC
	// EventRegistrationFailed says that a GPU's events cannot be watched
	// (it does not support them, or NVML refused); it is sent once, when
	// WatchEvents starts. The GPU's health is unknown, not bad: probe it
	// with CheckDevice instead.
	EventRegistrationFailed
)

var eventKindNames = map[EventKind]string{
	EventXID:                "XID",
	EventGPULost:            "GPULost",
	EventSingleBitECC:       "SingleBitECC",
	EventDoubleBitECC:       "DoubleBitECC",
	EventRegistrationFailed: "RegistrationFailed",
}

// String is the kind's name.
func (k EventKind) String() string {
	if n, ok := eventKindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is a health event of one GPU, sent by WatchEvents.
type Event struct {
	// Index is the GPU's NVML index; -1 when NVML did not say which GPU
	// (a lost GPU that no watched GPU's probe could be tied to).
	Index int
	// UUID is the GPU's UUID; empty when Index is -1.
	UUID string
	// XID is the XID number for EventXID, 79 for EventGPULost, else 0.
	XID uint64
	// Kind is what happened.
	Kind EventKind
	// Time is when the event was received.
	Time time.Time
	// Message explains the event where there is more to say, e.g. why
	// registration failed.
	Message string
}

// applicationXIDs are XIDs caused by the application running on the GPU,
// not by the GPU itself (the list NVIDIA's device plugin skips by default):
// 13 graphics engine exception, 31 GPU memory page fault, 43 GPU stopped
// processing, 45 preemptive cleanup, 68 video processor exception, 109
// context switch timeout.
var applicationXIDs = map[uint64]bool{13: true, 31: true, 43: true, 45: true, 68: true, 109: true}

// MarksUnhealthy reports whether the event means the GPU must no longer be
// handed out: a lost GPU, a double-bit ECC error, or an XID that is not
// one an application causes.
func (e Event) MarksUnhealthy() bool {
	switch e.Kind {
	case EventGPULost, EventDoubleBitECC:
		return true
	case EventXID:
		return !applicationXIDs[e.XID]
	default:
		return false
	}
}

func (e Event) String() string {
	s := fmt.Sprintf("GPU %d (%s): %s", e.Index, e.UUID, e.Kind)
	if e.Index < 0 {
		s = "unidentified GPU: " + e.Kind.String()
	}
	switch e.Kind {
	case EventXID:
		s += fmt.Sprintf(" %d", e.XID) // "XID 48"
	case EventGPULost:
		s += fmt.Sprintf(" (XID %d)", e.XID)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// watchedEvents are the event types WatchEvents registers, where supported.
const watchedEvents = nvmllib.EventTypeXidCriticalError | nvmllib.EventTypeSingleBitEccError | nvmllib.EventTypeDoubleBitEccError

// watched is a GPU registered in WatchEvents' event set.
type watched struct {
	index  int
	uuid   string
	handle nvmllib.Device
}

// WatchEvents watches GPUs (by NVML index; nil means every GPU) for critical
// XID errors and, where supported, ECC errors, and sends each as an Event on
// out until ctx is done. A GPU whose events cannot be registered is reported
// once as EventRegistrationFailed (or EventGPULost when it is lost) rather
// than failing the watch. ERROR_GPU_IS_LOST from NVML becomes an
// EventGPULost for each watched GPU that CheckDevice finds lost.
//
// WatchEvents blocks: it returns nil once ctx is done (within about a
// second), or an error when the event set cannot be created or NVML fails in
// a way that retrying will not mend. It never closes out.
func (b *Backend) WatchEvents(ctx context.Context, devices []int, out chan<- Event) (err error) {
	if err := b.ready(); err != nil {
		return err
	}
	defer recoverInto(&err, "the event watch")

	if devices == nil {
		count, ret := b.lib.DeviceGetCount()
		if ret != nvmllib.SUCCESS {
			return fmt.Errorf("NVML DeviceGetCount failed: %w", ret)
		}
		for i := range count {
			devices = append(devices, i)
		}
	}
	set, ret := b.lib.EventSetCreate()
	if ret != nvmllib.SUCCESS {
		return fmt.Errorf("NVML EventSetCreate failed: %w", ret)
	}
	defer func() { _ = set.Free() }()

	send := func(e Event) bool {
		e.Time = time.Now()
		select {
		case out <- e:
			return true
		case <-ctx.Done():
			return false
		}
	}

	var gpus []watched
	lost := map[int]bool{}
	for _, index := range devices {
		w, ev := b.register(set, index)
		if ev != nil {
			if ev.Kind == EventGPULost {
				lost[index] = true
			}
			if !send(*ev) {
				return nil
			}
		}
		if ev == nil || ev.Kind == EventGPULost {
			gpus = append(gpus, w) // a lost GPU is still probed when NVML says a GPU is lost
		}
	}

	for ctx.Err() == nil {
		data, ret := set.Wait(uint32(b.waitTimeout / time.Millisecond))
		switch ret {
		case nvmllib.SUCCESS:
			if e, ok := toEvent(data, gpus); ok && !send(e) {
				return nil
			}
		case nvmllib.ERROR_TIMEOUT:
		case nvmllib.ERROR_GPU_IS_LOST:
			for _, e := range b.probeLost(gpus, lost) {
				if !send(e) {
					return nil
				}
			}
			// NVML may keep answering ERROR_GPU_IS_LOST at once: do not spin.
			if !sleep(ctx, b.waitTimeout) {
				return nil
			}
		default:
			return fmt.Errorf("NVML EventSetWait failed: %w", ret)
		}
	}
	return nil
}

// register adds one GPU to the event set. It returns the GPU, and the event
// to report when its events cannot be watched.
func (b *Backend) register(set nvmllib.EventSet, index int) (watched, *Event) {
	w := watched{index: index}
	failed := func(call string, ret nvmllib.Return) *Event {
		err := deviceError(index, call, ret)
		if ret == nvmllib.ERROR_GPU_IS_LOST {
			return &Event{Index: index, UUID: w.uuid, XID: xidGPULost, Kind: EventGPULost, Message: err.Error()}
		}
		return &Event{Index: index, UUID: w.uuid, Kind: EventRegistrationFailed, Message: "registration failed: " + err.Error()}
	}
	h, ret := b.lib.DeviceGetHandleByIndex(index)
	if ret != nvmllib.SUCCESS {
		return w, failed("DeviceGetHandleByIndex", ret)
	}
	w.handle = h
	if w.uuid, ret = h.GetUUID(); ret != nvmllib.SUCCESS {
		w.uuid = ""
		return w, failed("GetUUID", ret)
	}
	mask := uint64(watchedEvents)
	supported, ret := h.GetSupportedEventTypes()
	switch ret {
	case nvmllib.SUCCESS:
		mask &= supported
	case nvmllib.ERROR_GPU_IS_LOST:
		return w, failed("GetSupportedEventTypes", ret)
	default:
		mask = nvmllib.EventTypeXidCriticalError // try the one that matters
	}
	if mask == 0 {
		return w, &Event{Index: index, UUID: w.uuid, Kind: EventRegistrationFailed,
			Message: fmt.Sprintf("registration failed: GPU %d supports none of the XID and ECC events", index)}
	}
	if ret := h.RegisterEvents(mask, set); ret != nvmllib.SUCCESS {
		return w, failed("RegisterEvents", ret)
	}
	return w, nil
}

// toEvent converts an NVML event; false for an event type not watched.
func toEvent(data nvmllib.EventData, gpus []watched) (Event, bool) {
	e := Event{Index: -1}
	if w, ok := whichGPU(data.Device, gpus); ok {
		e.Index, e.UUID = w.index, w.uuid
	}
	switch data.EventType {
	case nvmllib.EventTypeXidCriticalError:
		e.Kind, e.XID = EventXID, data.EventData
		if e.XID == xidGPULost {
			e.Kind = EventGPULost
		}
	case nvmllib.EventTypeSingleBitEccError:
		e.Kind = EventSingleBitECC
	case nvmllib.EventTypeDoubleBitEccError:
		e.Kind = EventDoubleBitECC
	default:
		return e, false
	}
	return e, true
}

// whichGPU finds the watched GPU an event names: by handle, else by UUID.
func whichGPU(d nvmllib.Device, gpus []watched) (watched, bool) {
	if d == nil {
		return watched{}, false
	}
	for _, w := range gpus {
		if w.handle != nil && sameHandle(w.handle, d) {
			return w, true
		}
	}
	if uuid, ret := d.GetUUID(); ret == nvmllib.SUCCESS {
		for _, w := range gpus {
			if w.uuid == uuid {
				return w, true
			}
		}
	}
	return watched{}, false
}

// sameHandle compares two handles; false where they cannot be compared.
func sameHandle(a, b nvmllib.Device) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// probeLost checks every watched GPU after NVML said that a GPU is lost and
// returns an EventGPULost for each one newly found lost; lost, the GPUs
// already reported, is updated (a GPU that answers again is forgotten). When
// no GPU can be found lost, the event has Index -1.
func (b *Backend) probeLost(gpus []watched, lost map[int]bool) []Event {
	var events []Event
	anyLost := false
	for _, w := range gpus {
		err := b.CheckDevice(w.index)
		switch {
		case errors.Is(err, nvmllib.ERROR_GPU_IS_LOST):
			anyLost = true
			if !lost[w.index] {
				lost[w.index] = true
				events = append(events, Event{Index: w.index, UUID: w.uuid, XID: xidGPULost, Kind: EventGPULost, Message: err.Error()})
			}
		case err == nil:
			delete(lost, w.index)
		}
	}
	if !anyLost {
		events = append(events, Event{Index: -1, XID: xidGPULost, Kind: EventGPULost,
			Message: "NVML reported a lost GPU, but every watched GPU still answers"})
	}
	return events
}

// sleep waits for d or until ctx is done; false when ctx is done.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
