package v1alpha1

import "strings"

// GPUIDsAnnotation is set by gantry-scheduler on a pod before it binds it: the
// UUIDs of the GPUs it chose on the node, comma-separated. The device plugin
// on that node hands the kubelet exactly this set in GetPreferredAllocation.
const GPUIDsAnnotation = "gantry.dev/gpu-ids"

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
