package gpu

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

func devicesN(n int) []Device {
	out := make([]Device, n)
	for i := range out {
		out[i] = Device{Index: i, UUID: fmt.Sprintf("GPU-%02d", i), Minor: i, NUMANode: 0}
	}
	return out
}

func TestNewTopologyErrors(t *testing.T) {
	tests := []struct {
		name    string
		devices []Device
		links   map[[2]int]Link
		want    string
	}{
		{"too many GPUs", devicesN(MaxDevices + 1), nil, "at most 64"},
		{"duplicate index", []Device{{Index: 1, UUID: "a"}, {Index: 1, UUID: "b"}}, nil, "index 1 listed twice"},
		{"no UUID", []Device{{Index: 0, UUID: "a"}, {Index: 3}}, nil, "GPU 3 has no UUID"},
		{"duplicate UUID", []Device{{Index: 0, UUID: "a"}, {Index: 1, UUID: "a"}}, nil, "UUID a listed twice"},
		{"link to an unlisted GPU", devicesN(2), map[[2]int]Link{{0, 2}: nvlink(1)}, "link 0-2 names a GPU that is not listed"},
		{"link to itself", devicesN(2), map[[2]int]Link{{1, 1}: nvlink(1)}, "joins a GPU to itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewTopology(tt.devices, tt.links)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewTopology error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestNewTopology builds a box from devices out of index order, with gaps in
// the indexes, links given in both orders and some pairs left out.
func TestNewTopology(t *testing.T) {
	devs := []Device{
		{Index: 7, UUID: "GPU-d", NUMANode: 1},
		{Index: 0, UUID: "GPU-a", NUMANode: -1},
		{Index: 5, UUID: "GPU-c", NUMANode: 1},
		{Index: 2, UUID: "GPU-b", NUMANode: 0},
		{Index: 9, UUID: "GPU-e", NUMANode: -1},
	}
	links := map[[2]int]Link{
		{0, 2}: nvlink(4),
		{5, 2}: {Type: LinkSingleSwitch, NVLinkLanes: 3}, // lanes dropped: not NVLink
		{7, 9}: nvlink(2),
		{9, 5}: {Type: LinkSystem},
	}
	topo, err := NewTopology(devs, links)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := topo.Indexes(topo.All()), []int{0, 2, 5, 7, 9}; !reflect.DeepEqual(got, want) {
		t.Errorf("indexes in position order = %v, want %v", got, want)
	}
	if topo.Len() != 5 || len(topo.Devices()) != 5 || topo.All() != rangeSet(0, 5) {
		t.Errorf("Len %d, Devices %d, All %v", topo.Len(), len(topo.Devices()), topo.All())
	}
	if d := topo.Device(1); d.Index != 2 || d.UUID != "GPU-b" {
		t.Errorf("Device(1) = %+v", d)
	}
	devs[0].UUID = "changed"
	if topo.Device(3).UUID != "GPU-d" {
		t.Error("NewTopology kept the caller's slice")
	}
	// Positions: 0->0, 2->1, 5->2, 7->3, 9->4.
	for _, tt := range []struct {
		a, b int
		want Link
	}{
		{0, 1, nvlink(4)},
		{1, 0, nvlink(4)},
		{1, 2, Link{Type: LinkSingleSwitch}},
		{2, 1, Link{Type: LinkSingleSwitch}},
		{3, 4, nvlink(2)},
		{2, 4, Link{Type: LinkSystem}},
		{0, 4, Link{}},
		{0, 0, Link{}},
	} {
		if got := topo.Link(tt.a, tt.b); got != tt.want {
			t.Errorf("Link(%d, %d) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	if got, want := topo.Islands(), []Set{setOf(0, 1), setOf(2), setOf(3, 4)}; !reflect.DeepEqual(got, want) {
		t.Errorf("Islands = %v, want %v", got, want)
	}
	// Groups in order of first appearance by position; unknown is a group.
	if got, want := topo.NUMAGroups(), []Set{setOf(0, 4), setOf(1), setOf(2, 3)}; !reflect.DeepEqual(got, want) {
		t.Errorf("NUMAGroups = %v, want %v", got, want)
	}
}

func TestTopologyLookups(t *testing.T) {
	topo, err := NewTopology([]Device{
		{Index: 3, UUID: "GPU-x"}, {Index: 1, UUID: "GPU-y"}, {Index: 4, UUID: "GPU-z"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := topo.Position(3); !ok || p != 1 {
		t.Errorf("Position(3) = %d, %v", p, ok)
	}
	if _, ok := topo.Position(2); ok {
		t.Error("Position(2) found")
	}
	if p, ok := topo.PositionOfUUID("GPU-z"); !ok || p != 2 {
		t.Errorf("PositionOfUUID(GPU-z) = %d, %v", p, ok)
	}
	if _, ok := topo.PositionOfUUID("GPU-nope"); ok {
		t.Error("PositionOfUUID(GPU-nope) found")
	}
	s, err := topo.SetOfUUIDs([]string{"GPU-z", "GPU-y", "GPU-z"})
	if err != nil || s != setOf(0, 2) {
		t.Errorf("SetOfUUIDs = %v, %v", s, err)
	}
	if s, err := topo.SetOfUUIDs(nil); err != nil || s != 0 {
		t.Errorf("SetOfUUIDs(nil) = %v, %v", s, err)
	}
	if _, err := topo.SetOfUUIDs([]string{"GPU-x", "GPU-nope"}); err == nil || !strings.Contains(err.Error(), "GPU-nope") {
		t.Errorf("SetOfUUIDs with an unknown UUID: %v", err)
	}
	if got, want := topo.UUIDs(setOf(2, 0)), []string{"GPU-y", "GPU-z"}; !reflect.DeepEqual(got, want) {
		t.Errorf("UUIDs = %v, want %v", got, want)
	}
	if got, want := topo.Indexes(setOf(1, 2)), []int{3, 4}; !reflect.DeepEqual(got, want) {
		t.Errorf("Indexes = %v, want %v", got, want)
	}
	if got := topo.UUIDs(0); got == nil || len(got) != 0 {
		t.Errorf("UUIDs(empty) = %#v, want an empty slice", got)
	}
	if got := (Device{Minor: 3}).DevicePath(); got != "/dev/nvidia3" {
		t.Errorf("DevicePath = %q", got)
	}
}

func TestTopologyAllSizes(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64} {
		topo, err := NewTopology(devicesN(n), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := topo.All().Len(); got != n {
			t.Errorf("%d GPUs: All() has %d", n, got)
		}
		if len(topo.Islands()) != n {
			t.Errorf("%d GPUs without NVLink: %d islands", n, len(topo.Islands()))
		}
	}
}

func TestSet(t *testing.T) {
	var s Set
	s = s.Add(0).Add(5).Add(63).Add(5)
	if s.Len() != 3 || !s.Has(5) || !s.Has(63) || s.Has(1) {
		t.Errorf("set %v: Len %d", s, s.Len())
	}
	if got, want := s.Positions(), []int{0, 5, 63}; !reflect.DeepEqual(got, want) {
		t.Errorf("Positions = %v, want %v", got, want)
	}
	if got := s.String(); got != "{0,5,63}" {
		t.Errorf("String = %q", got)
	}
	if got := Set(0).String(); got != "{}" {
		t.Errorf("empty String = %q", got)
	}
}

func TestLinkType(t *testing.T) {
	for typ := LinkSystem; typ <= LinkNVLink; typ++ {
		name := typ.String()
		back, err := ParseLinkType(gantryv1alpha1.LinkType(name))
		if err != nil || back != typ {
			t.Errorf("%d: String %q parses to %d, %v", typ, name, back, err)
		}
	}
	if LinkUnknown.String() != "Unknown" || LinkType(200).String() != "Unknown" {
		t.Errorf("unknown types print %q, %q", LinkUnknown, LinkType(200))
	}
	for _, bad := range []gantryv1alpha1.LinkType{"", "Unknown", "nvlink"} {
		if _, err := ParseLinkType(bad); err == nil {
			t.Errorf("ParseLinkType(%q) succeeded", bad)
		}
	}
	if LinkNVLink.String() != string(gantryv1alpha1.LinkNVLink) || LinkSystem.String() != string(gantryv1alpha1.LinkSystem) {
		t.Error("link type names differ from the API's")
	}
}

func TestLink(t *testing.T) {
	tests := []struct {
		a, b Link
		want bool
	}{
		{nvlink(1), Link{Type: LinkSameBoard}, true},
		{Link{Type: LinkSameBoard}, nvlink(1), false},
		{nvlink(4), nvlink(2), true},
		{nvlink(2), nvlink(4), false},
		{nvlink(2), nvlink(2), false},
		{Link{Type: LinkSystem}, Link{}, true},
		{Link{Type: LinkSingleSwitch}, Link{Type: LinkMultipleSwitches}, true},
		{Link{Type: LinkHostBridge}, Link{Type: LinkNUMANode}, true},
		{Link{Type: LinkNUMANode}, Link{Type: LinkHostBridge}, false},
	}
	for _, tt := range tests {
		if got := tt.a.Better(tt.b); got != tt.want {
			t.Errorf("%v.Better(%v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	if got := nvlink(12).String(); got != "NVLink x12" {
		t.Errorf("String = %q", got)
	}
	if got := (Link{Type: LinkHostBridge}).String(); got != "HostBridge" {
		t.Errorf("String = %q", got)
	}
}

func TestSpecRoundTrip(t *testing.T) {
	devs := []Device{
		{Index: 0, UUID: "GPU-a", Model: "NVIDIA A100-SXM4-80GB", MemoryMiB: 81920, PCIBusID: "0000:07:00.0", Minor: 0, NUMANode: 0, MIGMode: gantryv1alpha1.MIGEnabled},
		{Index: 1, UUID: "GPU-b", Model: "NVIDIA A100-SXM4-80GB", MemoryMiB: 81920, PCIBusID: "0000:0f:00.0", Minor: 1, NUMANode: -1},
		{Index: 2, UUID: "GPU-c", Minor: 2, NUMANode: 1, MIGMode: gantryv1alpha1.MIGUnsupported},
	}
	topo, err := NewTopology(devs, map[[2]int]Link{
		{1, 0}: nvlink(12),
		{0, 2}: {Type: LinkSystem},
	})
	if err != nil {
		t.Fatal(err)
	}
	spec := topo.Spec("550.54.15")
	if spec.DriverVersion != "550.54.15" || len(spec.GPUs) != 3 {
		t.Fatalf("spec = %+v", spec)
	}
	if g := spec.GPUs[0]; g.NUMANode == nil || *g.NUMANode != 0 || g.MIGMode != gantryv1alpha1.MIGEnabled || g.MemoryMiB != 81920 {
		t.Errorf("GPU 0 = %+v", g)
	}
	if g := spec.GPUs[1]; g.NUMANode != nil || g.MIGMode != gantryv1alpha1.MIGDisabled {
		t.Errorf("GPU 1: unknown NUMA and MIG mode should be absent and Disabled: %+v", g)
	}
	wantLinks := []gantryv1alpha1.GPULink{
		{A: 0, B: 1, Type: gantryv1alpha1.LinkNVLink, NVLinkLanes: 12},
		{A: 0, B: 2, Type: gantryv1alpha1.LinkSystem},
	}
	if !reflect.DeepEqual(spec.Links, wantLinks) {
		t.Errorf("links = %+v, want %+v (unknown pairs left out, lower index first)", spec.Links, wantLinks)
	}

	back, err := FromSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]Device(nil), devs...)
	want[1].MIGMode = gantryv1alpha1.MIGDisabled
	if !reflect.DeepEqual(back.Devices(), want) {
		t.Errorf("devices after the round trip:\n  %+v\nwant\n  %+v", back.Devices(), want)
	}
	for a := range 3 {
		for b := range 3 {
			if back.Link(a, b) != topo.Link(a, b) {
				t.Errorf("link %d-%d: %v after the round trip, %v before", a, b, back.Link(a, b), topo.Link(a, b))
			}
		}
	}
}

func TestFromSpecErrors(t *testing.T) {
	gpus := []gantryv1alpha1.GPUDevice{{Index: 0, UUID: "a"}, {Index: 1, UUID: "b"}}
	tests := []struct {
		name string
		spec gantryv1alpha1.NodeGPUSpec
		want string
	}{
		{"bad link type", gantryv1alpha1.NodeGPUSpec{GPUs: gpus, Links: []gantryv1alpha1.GPULink{
			{A: 0, B: 1, Type: "Carrier pigeon"},
		}}, `links[0]: unknown link type "Carrier pigeon"`},
		{"link to an unlisted GPU", gantryv1alpha1.NodeGPUSpec{GPUs: gpus, Links: []gantryv1alpha1.GPULink{
			{A: 0, B: 4, Type: gantryv1alpha1.LinkSystem},
		}}, "not listed"},
		{"duplicate UUID", gantryv1alpha1.NodeGPUSpec{GPUs: []gantryv1alpha1.GPUDevice{
			{Index: 0, UUID: "a"}, {Index: 1, UUID: "a"},
		}}, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := FromSpec(tt.spec); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("FromSpec error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
