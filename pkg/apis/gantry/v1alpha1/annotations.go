package v1alpha1

import "strings"

// GPUIDsAnnotation is set by gantry-scheduler on a pod before it binds it: the
// UUIDs of the GPUs it chose on the node, comma-separated. The device plugin
// on that node hands the kubelet exactly this set in GetPreferredAllocation.
const GPUIDsAnnotation = "gantry.dev/gpu-ids"

// MinGPULinkAnnotation on a pod names the worst link it accepts between any
// two of its GPUs, as a LinkType (NVLink, SameBoard, SingleSwitch,
// MultipleSwitches, HostBridge, NUMANode, System): gantry-scheduler filters
// out nodes whose best free set is linked worse ("NVLink only").
const MinGPULinkAnnotation = "gantry.dev/min-gpu-link"

// ParseGPUIDs splits a GPUIDsAnnotation value into UUIDs, dropping blanks.
func ParseGPUIDs(v string) []string {
	var out []string
	for _, id := range strings.Split(v, ",") {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// FormatGPUIDs is the GPUIDsAnnotation value for a set of UUIDs.
func FormatGPUIDs(uuids []string) string { return strings.Join(uuids, ",") }
