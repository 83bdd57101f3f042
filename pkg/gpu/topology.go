// Package gpu is Gantry's model of a node's GPUs and the paths between them,
// and the scoring of GPU sets. The device plugin (GetPreferredAllocation) and
// the scheduler (Filter, Score, Reserve) both choose sets with this package,
// so the set the scheduler picks is the set the node would pick itself.
package gpu

import (
	"fmt"
	"math/bits"
	"sort"
	"strings"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// MaxDevices is the most GPUs one Topology holds (Set is a 64-bit mask).
const MaxDevices = 64

// LinkType is the best path between two GPUs. The constants are ordered from
// worst to best, so a > b reads "a is the better path".
type LinkType uint8

// Link types, worst first. All but LinkNVLink are the PCIe relationships that
// NVML's GetTopologyCommonAncestor reports.
const (
	LinkUnknown          LinkType = iota // no information: treated as the worst
	LinkSystem                           // across the inter-socket link (TOPOLOGY_SYSTEM)
	LinkNUMANode                         // within a NUMA node, across host bridges (TOPOLOGY_NODE)
	LinkHostBridge                       // through one host bridge (TOPOLOGY_HOSTBRIDGE)
	LinkMultipleSwitches                 // through several PCIe switches (TOPOLOGY_MULTIPLE)
	LinkSingleSwitch                     // through one PCIe switch (TOPOLOGY_SINGLE)
	LinkSameBoard                        // on one board (TOPOLOGY_INTERNAL)
	LinkNVLink                           // NVLink, direct or through NVSwitches
)

var linkTypeNames = map[LinkType]gantryv1alpha1.LinkType{
	LinkSystem:           gantryv1alpha1.LinkSystem,
	LinkNUMANode:         gantryv1alpha1.LinkNUMANode,
	LinkHostBridge:       gantryv1alpha1.LinkHostBridge,
	LinkMultipleSwitches: gantryv1alpha1.LinkMultipleSwitches,
	LinkSingleSwitch:     gantryv1alpha1.LinkSingleSwitch,
	LinkSameBoard:        gantryv1alpha1.LinkSameBoard,
	LinkNVLink:           gantryv1alpha1.LinkNVLink,
}

// String is the API name of the link type.
func (l LinkType) String() string {
	if n, ok := linkTypeNames[l]; ok {
		return string(n)
	}
	return "Unknown"
}

// ParseLinkType reads an API link type.
func ParseLinkType(s gantryv1alpha1.LinkType) (LinkType, error) {
	for t, n := range linkTypeNames {
		if n == s {
			return t, nil
		}
	}
	return LinkUnknown, fmt.Errorf("unknown link type %q", s)
}

// Link is the path between two GPUs.
type Link struct {
	Type LinkType
	// NVLinkLanes counts the NVLink lanes between the two; zero unless Type
	// is LinkNVLink.
	NVLinkLanes int
}

// Better reports whether l is a better path than o: a better type, or more
// NVLink lanes of the same type.
func (l Link) Better(o Link) bool {
	if l.Type != o.Type {
		return l.Type > o.Type
	}
	return l.NVLinkLanes > o.NVLinkLanes
}

func (l Link) String() string {
	if l.Type == LinkNVLink {
		return fmt.Sprintf("NVLink x%d", l.NVLinkLanes)
	}
	return l.Type.String()
}

// Device is one physical GPU.
type Device struct {
	// Index is the NVML index.
	Index int
	// UUID is NVML's UUID, the device ID advertised to the kubelet.
	UUID string
	// Model is the product name.
	Model     string
	MemoryMiB int64
	// PCIBusID is the PCI address, e.g. "0000:07:00.0".
	PCIBusID string
	// Minor is the minor number of the device node /dev/nvidiaN.
	Minor int
	// NUMANode is the NUMA node the GPU is attached to, -1 when unknown.
	NUMANode int
	MIGMode  gantryv1alpha1.MIGMode
}

// DevicePath is the device node the container runtime must expose.
func (d Device) DevicePath() string { return fmt.Sprintf("/dev/nvidia%d", d.Minor) }

// Topology is a node's GPUs and the path between every pair. Devices are
// held in index order; sets refer to them by position in Devices.
type Topology struct {
	devices []Device
	links   []Link // len(devices)^2, row-major by position
	islands []Set  // NVLink-connected components, in position order
	numa    []Set  // GPUs per NUMA node, unknown NUMA as its own group

	// bestSets remembers BestSet's answers (see memo.go). A topology never
	// changes once built, so an answer never goes stale.
	bestSets *bestSetMemo
}

// NewTopology builds a topology from devices and the links between pairs of
// device indexes; a pair with no entry is LinkUnknown. Links are symmetric:
// either order of a pair may be given.
func NewTopology(devices []Device, links map[[2]int]Link) (*Topology, error) {
	if len(devices) > MaxDevices {
		return nil, fmt.Errorf("%d GPUs: at most %d are supported", len(devices), MaxDevices)
	}
	devs := append([]Device(nil), devices...)
	sort.Slice(devs, func(i, j int) bool { return devs[i].Index < devs[j].Index })
	pos := make(map[int]int, len(devs))
	uuids := make(map[string]bool, len(devs))
	for i, d := range devs {
		if _, dup := pos[d.Index]; dup {
			return nil, fmt.Errorf("GPU index %d listed twice", d.Index)
		}
		if d.UUID == "" {
			return nil, fmt.Errorf("GPU %d has no UUID", d.Index)
		}
		if uuids[d.UUID] {
			return nil, fmt.Errorf("GPU UUID %s listed twice", d.UUID)
		}
		pos[d.Index], uuids[d.UUID] = i, true
	}
	n := len(devs)
	t := &Topology{devices: devs, links: make([]Link, n*n), bestSets: &bestSetMemo{}}
	for pair, l := range links {
		a, okA := pos[pair[0]]
		b, okB := pos[pair[1]]
		if !okA || !okB {
			return nil, fmt.Errorf("link %d-%d names a GPU that is not listed", pair[0], pair[1])
		}
		if a == b {
			return nil, fmt.Errorf("link %d-%d joins a GPU to itself", pair[0], pair[1])
		}
		if l.Type != LinkNVLink {
			l.NVLinkLanes = 0
		}
		t.links[a*n+b], t.links[b*n+a] = l, l
	}
	t.islands = t.components(func(l Link) bool { return l.Type == LinkNVLink })
	numa := map[int]Set{}
	var numaOrder []int
	for i, d := range devs {
		if _, seen := numa[d.NUMANode]; !seen {
			numaOrder = append(numaOrder, d.NUMANode)
		}
		numa[d.NUMANode] = numa[d.NUMANode].Add(i)
	}
	for _, node := range numaOrder {
		t.numa = append(t.numa, numa[node])
	}
	return t, nil
}

// components returns the connected components of the graph whose edges are
// the links that pass keep.
func (t *Topology) components(keep func(Link) bool) []Set {
	n := len(t.devices)
	var seen Set
	var out []Set
	for start := range n {
		if seen.Has(start) {
			continue
		}
		comp := Set(0).Add(start)
		stack := []int{start}
		for len(stack) > 0 {
			a := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for b := range n {
				if !comp.Has(b) && keep(t.links[a*n+b]) {
					comp = comp.Add(b)
					stack = append(stack, b)
				}
			}
		}
		seen |= comp
		out = append(out, comp)
	}
	return out
}

// Len is the number of GPUs.
func (t *Topology) Len() int { return len(t.devices) }

// Devices returns the GPUs in index order. The slice must not be modified.
func (t *Topology) Devices() []Device { return t.devices }

// Device returns the GPU at a position.
func (t *Topology) Device(pos int) Device { return t.devices[pos] }

// Link returns the path between the GPUs at two positions.
func (t *Topology) Link(a, b int) Link { return t.links[a*len(t.devices)+b] }

// Islands returns the NVLink-connected groups of GPUs (a GPU without NVLink
// is an island of one). The slice must not be modified.
func (t *Topology) Islands() []Set { return t.islands }

// NUMAGroups returns the GPUs of each NUMA node. The slice must not be modified.
func (t *Topology) NUMAGroups() []Set { return t.numa }

// All is the set of every GPU.
func (t *Topology) All() Set { return Set(1)<<len(t.devices) - 1 }

// Position returns the position of the GPU with an NVML index.
func (t *Topology) Position(index int) (int, bool) {
	for i, d := range t.devices {
		if d.Index == index {
			return i, true
		}
	}
	return 0, false
}

// PositionOfUUID returns the position of the GPU with a UUID.
func (t *Topology) PositionOfUUID(uuid string) (int, bool) {
	for i, d := range t.devices {
		if d.UUID == uuid {
			return i, true
		}
	}
	return 0, false
}

// SetOfUUIDs is the set of the GPUs with the given UUIDs, or an error naming
// the first UUID that is not on this node.
func (t *Topology) SetOfUUIDs(uuids []string) (Set, error) {
	var s Set
	for _, u := range uuids {
		p, ok := t.PositionOfUUID(u)
		if !ok {
			return 0, fmt.Errorf("GPU %s is not on this node", u)
		}
		s = s.Add(p)
	}
	return s, nil
}

// UUIDs lists the UUIDs of a set, in position order.
func (t *Topology) UUIDs(s Set) []string {
	out := make([]string, 0, s.Len())
	for _, p := range s.Positions() {
		out = append(out, t.devices[p].UUID)
	}
	return out
}

// Indexes lists the NVML indexes of a set, in position order.
func (t *Topology) Indexes(s Set) []int {
	out := make([]int, 0, s.Len())
	for _, p := range s.Positions() {
		out = append(out, t.devices[p].Index)
	}
	return out
}

// Set is a set of GPUs by position in a Topology.
type Set uint64

// Add returns s with position p added.
func (s Set) Add(p int) Set { return s | 1<<uint(p) }

// Has reports whether position p is in s.
func (s Set) Has(p int) bool { return s&(1<<uint(p)) != 0 }

// Len is the number of GPUs in s.
func (s Set) Len() int { return bits.OnesCount64(uint64(s)) }

// Positions lists the positions in s, ascending.
func (s Set) Positions() []int {
	out := make([]int, 0, s.Len())
	for v := uint64(s); v != 0; v &= v - 1 {
		out = append(out, bits.TrailingZeros64(v))
	}
	return out
}

// String prints the positions, e.g. "{0,1,4}".
func (s Set) String() string {
	parts := make([]string, 0, s.Len())
	for _, p := range s.Positions() {
		parts = append(parts, fmt.Sprint(p))
	}
	return "{" + strings.Join(parts, ",") + "}"
}
