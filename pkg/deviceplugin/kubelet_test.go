package deviceplugin

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"k8s.io/klog/v2"
	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"
	kubeletplugin "k8s.io/kubernetes/pkg/kubelet/cm/devicemanager/plugin/v1beta1"
)

// kubelet is the kubelet's side of the device-plugin protocol: the
// kubelet's own registration server and plugin client
// (pkg/kubelet/cm/devicemanager/plugin/v1beta1), with this type standing in
// for the device manager that receives what they report.
type kubelet struct {
	t      testing.TB
	dir    string
	server kubeletplugin.Server

	mu          sync.Mutex
	plugins     map[string]kubeletplugin.DevicePlugin
	connections map[string]int
	latest      map[string][]*pluginapi.Device // last ListAndWatch update per resource
	changed     chan struct{}                  // closed and replaced on every update
}

func startKubelet(t testing.TB, dir string) *kubelet {
	t.Helper()
	k := newKubelet(t, dir)
	k.start()
	return k
}

// newKubelet returns a kubelet that start starts.
func newKubelet(t testing.TB, dir string) *kubelet {
	k := &kubelet{t: t, dir: dir, plugins: map[string]kubeletplugin.DevicePlugin{}, connections: map[string]int{}, latest: map[string][]*pluginapi.Device{}, changed: make(chan struct{})}
	t.Cleanup(func() {
		if k.server != nil {
			_ = k.server.Stop(klog.Background())
		}
	})
	return k
}

func (k *kubelet) start() {
	k.t.Helper()
	srv, err := kubeletplugin.NewServer(klog.Background(), filepath.Join(k.dir, "kubelet.sock"), k, k)
	if err != nil {
		k.t.Fatal(err)
	}
	if err := srv.Start(klog.Background()); err != nil {
		k.t.Fatal(err)
	}
	k.server = srv
}

// restart stops the kubelet and starts it again, which, like the real
// kubelet, wipes the plugin sockets from the folder and recreates its own.
func (k *kubelet) restart() {
	k.t.Helper()
	if err := k.server.Stop(klog.Background()); err != nil {
		k.t.Fatal(err)
	}
	k.start()
}

// CleanupPluginDirectory removes every socket, its own stale one too, as
// the kubelet's device manager does at start before it listens.
func (k *kubelet) CleanupPluginDirectory(_ klog.Logger, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Type()&os.ModeSocket != 0 {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

func (k *kubelet) PluginConnected(_ context.Context, resource string, p kubeletplugin.DevicePlugin) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.plugins[resource] = p
	k.connections[resource]++
	return nil
}

func (k *kubelet) PluginDisconnected(_ klog.Logger, resource, _ string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.plugins, resource)
}

func (k *kubelet) PluginListAndWatchReceiver(_ klog.Logger, resource string, resp *pluginapi.ListAndWatchResponse) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.latest[resource] = resp.Devices
	close(k.changed)
	k.changed = make(chan struct{})
}

func (k *kubelet) connectionCount(resource string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.connections[resource]
}

// plugin waits for a plugin of the resource to be connected and returns the
// kubelet's client of it.
func (k *kubelet) plugin(resource string) pluginapi.DevicePluginClient {
	k.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		k.mu.Lock()
		p := k.plugins[resource]
		k.mu.Unlock()
		if p != nil {
			return p.API()
		}
		time.Sleep(10 * time.Millisecond)
	}
	k.t.Fatalf("no plugin for %s connected to the kubelet", resource)
	return nil
}

// forget drops what the kubelet last heard of a resource, so that a later
// wait sees only new updates.
func (k *kubelet) forget(resource string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.latest, resource)
}

// waitForDevices waits until the last ListAndWatch update of the resource
// satisfies cond and returns it.
func (k *kubelet) waitForDevices(resource string, cond func([]*pluginapi.Device) bool) []*pluginapi.Device {
	k.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		k.mu.Lock()
		devs, ok := k.latest[resource]
		changed := k.changed
		k.mu.Unlock()
		if ok && cond(devs) {
			return devs
		}
		select {
		case <-changed:
		case <-timeout:
			k.t.Fatalf("no ListAndWatch update of %s met the condition", resource)
			return nil
		}
	}
}
