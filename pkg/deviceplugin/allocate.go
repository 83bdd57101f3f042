package deviceplugin

import (
	"path/filepath"
	"strings"

	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"

	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// VisibleDevicesEnv is read by the NVIDIA container toolkit: the GPUs the
// container may use, by UUID.
const VisibleDevicesEnv = "NVIDIA_VISIBLE_DEVICES"

// CDIKind is the CDI vendor/class of whole GPUs, as nvidia-ctk generates it.
const CDIKind = "nvidia.com/gpu"

// controlDeviceNodes are the driver's device nodes every GPU container needs.
var controlDeviceNodes = []string{"nvidiactl", "nvidia-uvm", "nvidia-uvm-tools"}

// AllocateConfig is what Allocate hands the container runtime besides the
// NVIDIA_VISIBLE_DEVICES variable, which it always sets.
type AllocateConfig struct {
	// DeviceSpecs also passes the GPUs' and the driver's device nodes, for
	// runtimes without the NVIDIA hook.
	DeviceSpecs bool
	// DevRoot is where the device nodes are on the host (default /dev).
	DevRoot string
	// CDI also names the GPUs as CDI devices (nvidia.com/gpu=<UUID>), for
	// runtimes that resolve CDI.
	CDI bool
}

func (c AllocateConfig) response(topo *gpu.Topology, set gpu.Set) *pluginapi.ContainerAllocateResponse {
	uuids := topo.UUIDs(set)
	resp := &pluginapi.ContainerAllocateResponse{
		Envs: map[string]string{VisibleDevicesEnv: strings.Join(uuids, ",")},
	}
	if c.DeviceSpecs {
		root := c.DevRoot
		if root == "" {
			root = "/dev"
		}
		spec := func(name string) *pluginapi.DeviceSpec {
			return &pluginapi.DeviceSpec{ContainerPath: filepath.Join("/dev", name), HostPath: filepath.Join(root, name), Permissions: "rw"}
		}
		for _, n := range controlDeviceNodes {
			resp.Devices = append(resp.Devices, spec(n))
		}
		for _, p := range set.Positions() {
			resp.Devices = append(resp.Devices, spec(filepath.Base(topo.Device(p).DevicePath())))
		}
	}
	if c.CDI {
		for _, u := range uuids {
			resp.CdiDevices = append(resp.CdiDevices, &pluginapi.CDIDevice{Name: CDIKind + "=" + u})
		}
	}
	return resp
}
