package gpu

import (
	"fmt"

	"k8s.io/utils/ptr"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// Spec is the NodeGPU spec that describes this topology: every GPU, and one
// link per pair, lower index first.
func (t *Topology) Spec(driverVersion string) gantryv1alpha1.NodeGPUSpec {
	spec := gantryv1alpha1.NodeGPUSpec{DriverVersion: driverVersion}
	for _, d := range t.devices {
		g := gantryv1alpha1.GPUDevice{
			Index:     int32(d.Index),
			UUID:      d.UUID,
			Model:     d.Model,
			MemoryMiB: d.MemoryMiB,
			PCIBusID:  d.PCIBusID,
			MIGMode:   d.MIGMode,
		}
		if d.NUMANode >= 0 {
			g.NUMANode = ptr.To(int32(d.NUMANode))
		}
		if g.MIGMode == "" {
			g.MIGMode = gantryv1alpha1.MIGDisabled
		}
		spec.GPUs = append(spec.GPUs, g)
	}
	n := len(t.devices)
	for a := range n {
		for b := a + 1; b < n; b++ {
			l := t.Link(a, b)
			if l.Type == LinkUnknown {
				continue
			}
			spec.Links = append(spec.Links, gantryv1alpha1.GPULink{
				A: int32(t.devices[a].Index), B: int32(t.devices[b].Index),
				Type: gantryv1alpha1.LinkType(l.Type.String()), NVLinkLanes: int32(l.NVLinkLanes),
			})
		}
	}
	return spec
}

// FromSpec builds the topology a NodeGPU spec describes.
func FromSpec(spec gantryv1alpha1.NodeGPUSpec) (*Topology, error) {
	devices := make([]Device, 0, len(spec.GPUs))
	for _, g := range spec.GPUs {
		numa := -1
		if g.NUMANode != nil {
			numa = int(*g.NUMANode)
		}
		devices = append(devices, Device{
			Index:     int(g.Index),
			UUID:      g.UUID,
			Model:     g.Model,
			MemoryMiB: g.MemoryMiB,
			PCIBusID:  g.PCIBusID,
			Minor:     int(g.Index),
			NUMANode:  numa,
			MIGMode:   g.MIGMode,
		})
	}
	links := make(map[[2]int]Link, len(spec.Links))
	for i, l := range spec.Links {
		typ, err := ParseLinkType(l.Type)
		if err != nil {
			return nil, fmt.Errorf("links[%d]: %w", i, err)
		}
		links[[2]int{int(l.A), int(l.B)}] = Link{Type: typ, NVLinkLanes: int(l.NVLinkLanes)}
	}
	return NewTopology(devices, links)
}
