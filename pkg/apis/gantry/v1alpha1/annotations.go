package v1alpha1

// GPUIDsAnnotation is set by gantry-scheduler on a pod before it binds it: the
// UUIDs of the GPUs it chose on the node, comma-separated. The device plugin
// on that node hands the kubelet exactly this set in GetPreferredAllocation.
const GPUIDsAnnotation = "gantry.dev/gpu-ids"
