package integration

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	podresourcesv1 "k8s.io/kubelet/pkg/apis/podresources/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/deviceplugin"
	"github.com/gantry-gpu/gantry/pkg/gpu/nvml"
	"github.com/gantry-gpu/gantry/pkg/nodelease"
	"github.com/gantry-gpu/gantry/test/framework"
)

// podResources is the kubelet's PodResources API as the device plugin sees
// it: a gRPC server on a unix socket answering List with fixed allocations.
type podResources struct {
	podresourcesv1.UnimplementedPodResourcesListerServer
	mu   sync.Mutex
	pods []*podresourcesv1.PodResources
}

func (p *podResources) List(context.Context, *podresourcesv1.ListPodResourcesRequest) (*podresourcesv1.ListPodResourcesResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return &podresourcesv1.ListPodResourcesResponse{PodResources: p.pods}, nil
}

// servePodResources serves pr on socket until the test ends or stop is
// called (which removes the socket, as a kubelet going down does).
func servePodResources(t *testing.T, socket string, pr *podResources) (stop func()) {
	t.Helper()
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	podresourcesv1.RegisterPodResourcesListerServer(srv, pr)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return srv.Stop
}

// devicePluginNode is a Node with the device-plugin daemon on an NVML
// fixture, run as its service account bound to the node (so with only the
// RBAC and admission policy under deploy/rbac) against the real API
// server. The kubelet's PodResources socket is in a folder of the test's;
// no kubelet registers there (the plugin servers wait for one, the
// publisher does not need one).
type devicePluginNode struct {
	name    string
	node    *corev1.Node
	fixture *nvml.Fixture
	opts    *deviceplugin.Options
}

// devicePluginNamespace is where the rendered RBAC (deploy/rbac) puts the
// device plugin, its Role for node Leases, and so the Leases.
const devicePluginNamespace = "gantry-system"

// applyDevicePluginRBAC applies the device plugin's RBAC and the admission
// policies that keep it to its own node's NodeGPU and Lease, in
// gantry-system.
func applyDevicePluginRBAC(ctx context.Context, t *testing.T) {
	t.Helper()
	if err := controlPlane.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: devicePluginNamespace}}); client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"device-plugin.yaml", "device-plugin-nodegpu-policy.yaml"} {
		if _, err := controlPlane.ApplyManifest(ctx, filepath.Join(framework.RepoRoot(), "deploy", "rbac", f)); err != nil {
			t.Fatal(err)
		}
	}
}

func newDevicePluginNode(ctx context.Context, t *testing.T, nodeName, fixtureName string) *devicePluginNode {
	t.Helper()
	c := controlPlane.Client
	applyDevicePluginRBAC(ctx, t)
	kubeconfig, err := controlPlane.ImpersonatingKubeconfig(devicePluginUser, devicePluginGroups, nodeExtra(nodeName))
	if err != nil {
		t.Fatal(err)
	}
	node, err := controlPlane.CreateReadyNode(ctx, nodeName, nil, corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("64"), "nvidia.com/gpu": resource.MustParse("8"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Leave no schedulable GPU node behind for the package's other tests.
		_ = c.Delete(context.Background(), node)
		_ = c.Delete(context.Background(), &gantryv1alpha1.NodeGPU{ObjectMeta: metav1.ObjectMeta{Name: nodeName}})
		// No garbage collector runs here to follow the Lease's owner, the Node.
		_ = c.Delete(context.Background(), &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: devicePluginNamespace, Name: nodelease.Name(nodeName)}})
	})
	fixture, err := nvml.NewFixtureForNode(fixtureName, nodeName)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "dpi") // short: unix socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	o := deviceplugin.NewOptions()
	o.NodeName = nodeName
	o.Kubeconfig = kubeconfig
	o.KubeletSocketDir = dir
	o.PodResourcesSocket = filepath.Join(dir, "pod-resources.sock")
	o.HealthCheckInterval = 50 * time.Millisecond
	o.RecoveryQuietPeriod = 2 * time.Second
	o.PublishInterval = 200 * time.Millisecond
	o.LeaseNamespace = devicePluginNamespace
	o.LeaseDuration = 2 * time.Second // renewed every 500 ms
	o.MetricsBindAddress = ""
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	return &devicePluginNode{name: nodeName, node: node, fixture: fixture, opts: o}
}

func (n *devicePluginNode) uuid(i int) string {
	d, _ := n.fixture.Interface().DeviceGetHandleByIndex(i)
	u, _ := d.GetUUID()
	return u
}

// runDaemon runs the device-plugin daemon until the test ends or stop is
// called.
func (n *devicePluginNode) runDaemon(ctx context.Context, t *testing.T) (stop func()) {
	t.Helper()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- deviceplugin.RunWithNVML(runCtx, n.opts, n.fixture.Interface()) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("daemon: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitNodeGPU polls the node's NodeGPU into ng until cond holds.
func (n *devicePluginNode) waitNodeGPU(ctx context.Context, t *testing.T, ng *gantryv1alpha1.NodeGPU, what string, cond func(*gantryv1alpha1.NodeGPU) bool) {
	t.Helper()
	if err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if err := controlPlane.Client.Get(ctx, client.ObjectKey{Name: n.name}, ng); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return cond(ng), nil
	}); err != nil {
		t.Fatalf("NodeGPU never showed %s; last seen: spec %d GPUs, status %+v", what, len(ng.Spec.GPUs), ng.Status)
	}
}
