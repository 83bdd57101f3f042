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

// ScheduledTimeAnnotation is set once by gantry-controller on a PodGroup
// (scheduling.x-k8s.io) when the gang first reaches Scheduled: minMember of
// its members bound to nodes. The value is RFC 3339. PodGroupStatus has a
// field for when scheduling started (ScheduleStartTime) but none for when it
// ended, and annotations cannot be written through the status subresource,
// so the controller writes it on the PodGroup itself.
const ScheduledTimeAnnotation = "gantry.dev/scheduled-time"
