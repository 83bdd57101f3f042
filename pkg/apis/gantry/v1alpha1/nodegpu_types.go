package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NodeGPU describes the GPUs of one node. Its name is the node's name, it is
// owned by the Node, and only the device plugin on that node writes it. The
// spec is the hardware (devices and the links between them, which change only
// with the hardware); the status is what changes while the node runs (health,
// allocations), written to the status subresource only when it changes. That
// the device plugin is alive is not in this object: it renews a Lease per
// node (package nodelease), which is small and cheap to write often.
//
// +genclient
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=ngpu,categories=gantry
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="GPUs",type=integer,JSONPath=`.status.capacity`
// +kubebuilder:printcolumn:name="Healthy",type=integer,JSONPath=`.status.healthy`
// +kubebuilder:printcolumn:name="Allocated",type=integer,JSONPath=`.status.allocated`
// +kubebuilder:printcolumn:name="Model",type=string,JSONPath=`.spec.gpus[0].model`
type NodeGPU struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec NodeGPUSpec `json:"spec,omitempty"`
	// +optional
	Status NodeGPUStatus `json:"status,omitempty"`
}

// MaxGPUsPerNode bounds the device list; the largest boxes today have 16.
const MaxGPUsPerNode = 16

// NodeGPUSpec is the GPU hardware of a node as NVML reports it.
//
// +kubebuilder:validation:XValidation:rule="!has(self.links) || self.links.all(l, self.gpus.exists(g, g.index == l.a) && self.gpus.exists(g, g.index == l.b))",message="every link must join two GPUs listed in spec.gpus",fieldPath=".links",reason=FieldValueInvalid
type NodeGPUSpec struct {
	// DriverVersion is the NVIDIA driver version, e.g. "550.54.15".
	// +optional
	// +kubebuilder:validation:MaxLength=64
	DriverVersion string `json:"driverVersion,omitempty"`

	// GPUs are the node's physical GPUs, keyed by NVML index.
	// +listType=map
	// +listMapKey=index
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.all(g, self.exists_one(h, h.uuid == g.uuid))",message="GPU UUIDs must be unique",reason=FieldValueInvalid
	GPUs []GPUDevice `json:"gpus"`

	// Links holds one entry for every unordered pair of GPUs (a < b): the
	// best path between them.
	// +optional
	// +listType=map
	// +listMapKey=a
	// +listMapKey=b
	// +kubebuilder:validation:MaxItems=120
	Links []GPULink `json:"links,omitempty"`
}

// MIGMode is whether Multi-Instance GPU is enabled on a device.
// +kubebuilder:validation:Enum=Disabled;Enabled;Unsupported
type MIGMode string

// MIG modes.
const (
	MIGDisabled    MIGMode = "Disabled"
	MIGEnabled     MIGMode = "Enabled"
	MIGUnsupported MIGMode = "Unsupported"
)

// GPUDevice is one physical GPU.
type GPUDevice struct {
	// Index is the NVML device index.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=15
	Index int32 `json:"index"`
	// UUID is the NVML UUID, which is also the device ID advertised to the kubelet.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	UUID string `json:"uuid"`
	// Model is the product name, e.g. "NVIDIA A100-SXM4-80GB".
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Model string `json:"model,omitempty"`
	// MemoryMiB is the device memory.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MemoryMiB int64 `json:"memoryMiB,omitempty"`
	// PCIBusID is the PCI address, e.g. "0000:07:00.0".
	// +optional
	// +kubebuilder:validation:MaxLength=32
	PCIBusID string `json:"pciBusID,omitempty"`
	// NUMANode is the NUMA node the device is attached to; absent when the
	// platform does not say.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=63
	NUMANode *int32 `json:"numaNode,omitempty"`
	// MIGMode is the current MIG mode.
	// +optional
	// +kubebuilder:default=Disabled
	MIGMode MIGMode `json:"migMode,omitempty"`
}

// LinkType is the best path between two GPUs, from best to worst.
// +kubebuilder:validation:Enum=NVLink;SameBoard;SingleSwitch;MultipleSwitches;HostBridge;NUMANode;System
type LinkType string

// Link types. All but NVLink are the PCIe relationships that NVML's
// GetTopologyCommonAncestor reports.
const (
	// LinkNVLink is a direct or NVSwitch-routed NVLink path.
	LinkNVLink LinkType = "NVLink"
	// LinkSameBoard is two GPUs on one board (NVML TOPOLOGY_INTERNAL).
	LinkSameBoard LinkType = "SameBoard"
	// LinkSingleSwitch is a path through one PCIe switch (TOPOLOGY_SINGLE).
	LinkSingleSwitch LinkType = "SingleSwitch"
	// LinkMultipleSwitches is a path through several PCIe switches, not
	// through the host bridge (TOPOLOGY_MULTIPLE).
	LinkMultipleSwitches LinkType = "MultipleSwitches"
	// LinkHostBridge is a path through one CPU's host bridge (TOPOLOGY_HOSTBRIDGE).
	LinkHostBridge LinkType = "HostBridge"
	// LinkNUMANode is a path within one NUMA node across host bridges (TOPOLOGY_NODE).
	LinkNUMANode LinkType = "NUMANode"
	// LinkSystem is a path across the inter-socket link (TOPOLOGY_SYSTEM).
	LinkSystem LinkType = "System"
)

// GPULink is the path between GPUs A and B.
//
// +kubebuilder:validation:XValidation:rule="self.a < self.b",message="a must be less than b: each pair is listed once, lower index first",fieldPath=".a",reason=FieldValueInvalid
// +kubebuilder:validation:XValidation:rule="(self.type == 'NVLink') == (has(self.nvlinkLanes) && self.nvlinkLanes > 0)",message="nvlinkLanes must be set, and only be set, for NVLink links",fieldPath=".nvlinkLanes",reason=FieldValueInvalid
type GPULink struct {
	// A is the lower GPU index of the pair.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=15
	A int32 `json:"a"`
	// B is the higher GPU index of the pair.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=15
	B int32 `json:"b"`
	// Type is the best path between the two.
	Type LinkType `json:"type"`
	// NVLinkLanes is the number of NVLink lanes between the two (through an
	// NVSwitch: the lanes each GPU has into the switch fabric).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=64
	NVLinkLanes int32 `json:"nvlinkLanes,omitempty"`
}

// Health is whether a GPU can take work.
// +kubebuilder:validation:Enum=Healthy;Unhealthy
type Health string

// Health values.
const (
	Healthy   Health = "Healthy"
	Unhealthy Health = "Unhealthy"
)

// NodeGPUStatus is the live state of a node's GPUs.
type NodeGPUStatus struct {
	// Capacity is the number of GPUs in spec.gpus.
	// +optional
	Capacity int32 `json:"capacity,omitempty"`
	// Healthy is the number of healthy GPUs.
	// +optional
	Healthy int32 `json:"healthy,omitempty"`
	// Allocated is the number of GPUs held by containers.
	// +optional
	Allocated int32 `json:"allocated,omitempty"`

	// Health is the health of each GPU; a GPU missing here is taken as healthy.
	// +optional
	// +listType=map
	// +listMapKey=index
	// +kubebuilder:validation:MaxItems=16
	Health []GPUHealth `json:"health,omitempty"`

	// Allocations are the GPUs held by containers, as the kubelet's
	// PodResources API reports them: the node's ground truth.
	// +optional
	// +listType=map
	// +listMapKey=index
	// +kubebuilder:validation:MaxItems=16
	Allocations []GPUAllocation `json:"allocations,omitempty"`

	// Conditions of the published state: AllocationsCurrent is False while
	// the kubelet's PodResources API cannot be read, and allocations then
	// stay as last read (its lastTransitionTime says since when).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// NodeGPU conditions and their reasons.
const (
	// NodeGPUAllocationsCurrent is True when status.allocations were read
	// from the kubelet at the last refresh, False while they are the
	// last ones read (the kubelet is down or restarting). Stale allocations
	// are kept rather than dropped: a GPU held by a running pod must never
	// look free.
	NodeGPUAllocationsCurrent = "AllocationsCurrent"
	// ReasonPodResourcesRead: the allocations were read just now.
	ReasonPodResourcesRead = "PodResourcesRead"
	// ReasonPodResourcesUnavailable: reading them failed; the message says why.
	ReasonPodResourcesUnavailable = "PodResourcesUnavailable"
)

// GPUHealth is the health of one GPU and why.
type GPUHealth struct {
	// Index is the GPU's NVML index.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=15
	Index int32 `json:"index"`
	// Health is the current verdict.
	Health Health `json:"health"`
	// Reason is a CamelCase cause of the last transition, e.g. "XID79" or "Recovered".
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Reason string `json:"reason,omitempty"`
	// Message is a human-readable explanation.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
	// LastTransitionTime is when Health last changed.
	// +optional
	LastTransitionTime *metav1.Time `json:"lastTransitionTime,omitempty"`
}

// GPUAllocation is one GPU held by one container.
type GPUAllocation struct {
	// Index is the GPU's NVML index.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=15
	Index int32 `json:"index"`
	// PodNamespace is the namespace of the pod holding the GPU.
	// +kubebuilder:validation:MaxLength=63
	PodNamespace string `json:"podNamespace"`
	// PodName is the name of the pod holding the GPU.
	// +kubebuilder:validation:MaxLength=253
	PodName string `json:"podName"`
	// PodUID is the UID of the pod, when known.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	PodUID string `json:"podUID,omitempty"`
	// Container is the container the GPU was allocated to.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Container string `json:"container,omitempty"`
}

// NodeGPUList is a list of NodeGPUs.
//
// +kubebuilder:object:root=true
type NodeGPUList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NodeGPU `json:"items"`
}
