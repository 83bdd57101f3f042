package deviceplugin

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"

	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// Resource is one extended resource served to the kubelet and the GPUs it
// covers. A node can serve several (e.g. one per GPU model); each runs its
// own PluginServer over the same topology and health tracker.
type Resource struct {
	Name    string
	Devices gpu.Set // positions in the node's topology
}

// ServerConfig is what every PluginServer of a node shares.
type ServerConfig struct {
	// SocketDir is the kubelet's device-plugin folder: the kubelet's
	// registration socket is there, and the plugin's sockets go there.
	SocketDir string
	// RetryInterval is the first pause before serving and registering again
	// after a failure; it doubles with each failure in a row, up to
	// MaxRetryInterval. A kubelet restart or a removed socket is answered
	// at once, and a missing kubelet socket by waiting for it to appear.
	RetryInterval time.Duration
	// MaxRetryInterval caps the back-off; zero means 30 s (or
	// RetryInterval, if longer).
	MaxRetryInterval time.Duration
	// Allocate says what Allocate hands the container runtime.
	Allocate AllocateConfig
	// PreStartCheck, when set, is advertised to the kubelet and run before
	// each container start on its GPUs; a failing GPU fails the start.
	PreStartCheck func(uuid string) error
}

// KubeletSocket is the path of the kubelet's registration socket.
func (c ServerConfig) KubeletSocket() string {
	return filepath.Join(c.SocketDir, filepath.Base(pluginapi.KubeletSocket))
}

// PluginServer serves the kubelet's device-plugin API for one resource over
// a unix socket, registers it with the kubelet, and serves and registers
// again whenever the kubelet restarts (it recreates its socket and removes
// ours) or our socket is removed.
type PluginServer struct {
	pluginapi.UnimplementedDevicePluginServer

	cfg       ServerConfig
	resource  Resource
	topo      *gpu.Topology
	health    *HealthTracker
	preferred *PreferredAllocator

	socketPath string

	mu      sync.Mutex
	serving chan struct{} // closed when the current gRPC server stops
}

// NewPluginServer returns a server for one resource; Run starts it.
func NewPluginServer(cfg ServerConfig, res Resource, topo *gpu.Topology, health *HealthTracker, preferred *PreferredAllocator) *PluginServer {
	name := strings.NewReplacer("/", "-", ".", "-").Replace(res.Name)
	return &PluginServer{
		cfg:        cfg,
		resource:   res,
		topo:       topo,
		health:     health,
		preferred:  preferred,
		socketPath: filepath.Join(cfg.SocketDir, "gantry-"+name+".sock"),
	}
}

// SocketPath is the plugin's own socket.
func (s *PluginServer) SocketPath() string { return s.socketPath }

func (s *PluginServer) options() *pluginapi.DevicePluginOptions {
	return &pluginapi.DevicePluginOptions{
		GetPreferredAllocationAvailable: true,
		PreStartRequired:                s.cfg.PreStartCheck != nil,
	}
}

// GetDevicePluginOptions tells the kubelet to ask for preferred allocations.
func (s *PluginServer) GetDevicePluginOptions(context.Context, *pluginapi.Empty) (*pluginapi.DevicePluginOptions, error) {
	return s.options(), nil
}

// ListAndWatch sends the resource's GPUs with their health and NUMA node, and
// again on every health transition, until the kubelet hangs up or the server
// stops.
func (s *PluginServer) ListAndWatch(_ *pluginapi.Empty, stream pluginapi.DevicePlugin_ListAndWatchServer) error {
	changed, unsubscribe := s.health.Subscribe()
	defer unsubscribe()
	s.mu.Lock()
	stopped := s.serving
	s.mu.Unlock()
	for {
		if err := stream.Send(&pluginapi.ListAndWatchResponse{Devices: s.deviceList()}); err != nil {
			return fmt.Errorf("sending devices: %w", err)
		}
		select {
		case <-stream.Context().Done():
			return nil
		case <-stopped:
			return nil
		case <-changed:
		}
	}
}

func (s *PluginServer) deviceList() []*pluginapi.Device {
	var healthy, unhealthy int
	var out []*pluginapi.Device
	for _, p := range s.resource.Devices.Positions() {
		d := s.topo.Device(p)
		dev := &pluginapi.Device{ID: d.UUID, Health: pluginapi.Healthy}
		if !s.health.Get(d.UUID).Healthy {
			dev.Health = pluginapi.Unhealthy
			unhealthy++
		} else {
			healthy++
		}
		if d.NUMANode >= 0 {
			dev.Topology = &pluginapi.TopologyInfo{Nodes: []*pluginapi.NUMANode{{ID: int64(d.NUMANode)}}}
		}
		out = append(out, dev)
	}
	devicesByHealth.WithLabelValues(s.resource.Name, "Healthy").Set(float64(healthy))
	devicesByHealth.WithLabelValues(s.resource.Name, "Unhealthy").Set(float64(unhealthy))
	return out
}

// GetPreferredAllocation answers with the set the scheduler chose for a pod
// bound to this node when one fits the request, else the best set by
// Gantry's set scoring. It always honours mustInclude and the size.
func (s *PluginServer) GetPreferredAllocation(ctx context.Context, req *pluginapi.PreferredAllocationRequest) (*pluginapi.PreferredAllocationResponse, error) {
	resp := &pluginapi.PreferredAllocationResponse{}
	for _, creq := range req.ContainerRequests {
		ids, source, err := s.preferred.Choose(ctx, creq.AvailableDeviceIDs, creq.MustIncludeDeviceIDs, int(creq.AllocationSize))
		if err != nil {
			return nil, err
		}
		preferredAllocations.WithLabelValues(s.resource.Name, source).Inc()
		resp.ContainerResponses = append(resp.ContainerResponses, &pluginapi.ContainerPreferredAllocationResponse{DeviceIDs: ids})
	}
	return resp, nil
}

// Allocate tells the container runtime which GPUs each container gets.
func (s *PluginServer) Allocate(_ context.Context, req *pluginapi.AllocateRequest) (*pluginapi.AllocateResponse, error) {
	resp := &pluginapi.AllocateResponse{}
	for _, creq := range req.ContainerRequests {
		set, err := s.ownSet(creq.DevicesIds)
		if err != nil {
			return nil, fmt.Errorf("allocate: %w", err)
		}
		resp.ContainerResponses = append(resp.ContainerResponses, s.cfg.Allocate.response(s.topo, set))
		allocations.WithLabelValues(s.resource.Name).Inc()
	}
	return resp, nil
}

// PreStartContainer re-checks the container's GPUs just before it starts.
func (s *PluginServer) PreStartContainer(_ context.Context, req *pluginapi.PreStartContainerRequest) (*pluginapi.PreStartContainerResponse, error) {
	if s.cfg.PreStartCheck == nil {
		return &pluginapi.PreStartContainerResponse{}, nil
	}
	set, err := s.ownSet(req.DevicesIds)
	if err != nil {
		return nil, fmt.Errorf("pre-start: %w", err)
	}
	for _, uuid := range s.topo.UUIDs(set) {
		if err := s.cfg.PreStartCheck(uuid); err != nil {
			return nil, fmt.Errorf("pre-start check of GPU %s: %w", uuid, err)
		}
	}
	return &pluginapi.PreStartContainerResponse{}, nil
}

// ownSet is the set of the given device IDs, each of which must belong to
// this server's resource.
func (s *PluginServer) ownSet(ids []string) (gpu.Set, error) {
	set, err := s.topo.SetOfUUIDs(ids)
	if err != nil {
		return 0, err
	}
	if foreign := set &^ s.resource.Devices; foreign != 0 {
		return 0, fmt.Errorf("GPUs %v are not %s devices", s.topo.UUIDs(foreign), s.resource.Name)
	}
	return set, nil
}
