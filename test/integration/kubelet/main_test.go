// Package kubelet holds Gantry's tests on a real kubelet (see
// framework.StartKubeletT): gantry-device-plugin registered with it over
// its real socket, the kubelet's device manager, checkpoint and
// PodResources, and a fake container runtime that records what each
// container was given. One control plane serves the package; one kubelet
// runs at a time. The tests need root and skip without it.
package kubelet

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/deviceplugin"
	"github.com/gantry-gpu/gantry/pkg/gpu/nvml"
	"github.com/gantry-gpu/gantry/test/framework"
)

var controlPlane *framework.ControlPlane

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		os.Exit(m.Run()) // every test skips and says why; no control plane needed
	}
	os.Exit(framework.RunTests(m, "kubelet", &controlPlane, nil))
}

// The device plugin's service account, as its pods' tokens present it.
const devicePluginUser = "system:serviceaccount:gantry-system:gantry-device-plugin"

var devicePluginGroups = []string{"system:serviceaccounts", "system:serviceaccounts:gantry-system", "system:authenticated"}

// devicePlugin is gantry-device-plugin's daemon run in the test process
// on an NVML fixture, registered with a real kubelet.
type devicePlugin struct {
	fixture *nvml.Fixture
}

// startDevicePlugin runs the device-plugin daemon for k's node on the
// named fixture, with its sockets in the kubelet's device-plugin folder,
// reading the kubelet's PodResources, as its service account bound to the
// node (the RBAC and admission policy under deploy/rbac apply). It stops
// when the test ends, before the kubelet does.
func startDevicePlugin(ctx context.Context, t *testing.T, k *framework.Kubelet, fixtureName string, mutate ...func(*deviceplugin.Options)) *devicePlugin {
	t.Helper()
	c := controlPlane.Client
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gantry-system"}}); client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"device-plugin.yaml", "device-plugin-nodegpu-policy.yaml"} {
		if _, err := controlPlane.ApplyManifest(ctx, filepath.Join(framework.RepoRoot(), "deploy", "rbac", f)); err != nil {
			t.Fatal(err)
		}
	}
	kubeconfig, err := controlPlane.ImpersonatingKubeconfig(devicePluginUser, devicePluginGroups,
		map[string][]string{"authentication.kubernetes.io/node-name": {k.NodeName}})
	if err != nil {
		t.Fatal(err)
	}
	fixture, err := nvml.NewFixtureForNode(fixtureName, k.NodeName)
	if err != nil {
		t.Fatal(err)
	}
	o := deviceplugin.NewOptions()
	o.NodeName = k.NodeName
	o.Kubeconfig = kubeconfig
	o.KubeletSocketDir = framework.KubeletDevicePluginDir
	o.PodResourcesSocket = k.PodResourcesSocket
	o.HealthCheckInterval = 100 * time.Millisecond
	o.PublishInterval = 200 * time.Millisecond
	o.MetricsBindAddress = ""
	for _, m := range mutate {
		m(o)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- deviceplugin.RunWithNVML(runCtx, o, fixture.Interface()) }()
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("device plugin: %v", err)
			}
		})
	})
	return &devicePlugin{fixture: fixture}
}

// startGPUNode starts a real kubelet for nodeName with gantry-device-plugin
// on the dgx-a100 fixture, and returns once the kubelet counts the 8 GPUs
// and the plugin has published them in the node's NodeGPU (gantry-scheduler
// places GPUs on nodes with a NodeGPU only).
func startGPUNode(ctx context.Context, t *testing.T, nodeName string, mutate ...func(*deviceplugin.Options)) (*framework.Kubelet, *devicePlugin) {
	t.Helper()
	k := controlPlane.StartKubeletT(t, framework.KubeletOptions{
		NodeName: nodeName,
		Labels:   map[string]string{framework.GPUPresentLabel: "true"},
	})
	dp := startDevicePlugin(ctx, t, k, "dgx-a100", mutate...)
	if err := k.WaitAllocatable(ctx, framework.GPUResource, 8); err != nil {
		t.Fatal(err)
	}
	var ng gantryv1alpha1.NodeGPU
	if err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		err := controlPlane.Client.Get(ctx, client.ObjectKey{Name: k.NodeName}, &ng)
		return err == nil && len(ng.Spec.GPUs) == 8 && ng.Status.Healthy == 8, client.IgnoreNotFound(err)
	}); err != nil {
		t.Fatalf("the device plugin never published NodeGPU %s with 8 healthy GPUs: %v", k.NodeName, err)
	}
	return k, dp
}

// startScheduler creates a namespace for the test's pods and runs
// gantry-scheduler's shipped profile in the test process as schedulerName.
func startScheduler(ctx context.Context, t *testing.T, nsPrefix, schedulerName string) (ns string) {
	t.Helper()
	ns, err := controlPlane.CreateNamespace(ctx, nsPrefix)
	if err != nil {
		t.Fatal(err)
	}
	config, err := framework.InProcessSchedulerConfig(controlPlane.Kubeconfig, t.TempDir(), schedulerName)
	if err != nil {
		t.Fatal(err)
	}
	framework.StartScheduler(ctx, t, config)
	return ns
}

// uuid is the UUID of the fixture's GPU at index i.
func (d *devicePlugin) uuid(i int) string {
	dev, _ := d.fixture.Interface().DeviceGetHandleByIndex(i)
	u, _ := dev.GetUUID()
	return u
}

// index is the fixture index of a GPU UUID, or -1.
func (d *devicePlugin) index(uuid string) int {
	for i := range d.fixture.Len() {
		if d.uuid(i) == uuid {
			return i
		}
	}
	return -1
}

// gpuPod is a pod of one container, "train", that asks for gpus GPUs.
func gpuPod(ns, name, schedulerName string, gpus int64) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{
			SchedulerName: schedulerName,
			Containers: []corev1.Container{{
				Name:  "train",
				Image: "registry.example/train:latest",
				Resources: corev1.ResourceRequirements{
					Limits: corev1.ResourceList{framework.GPUResource: *resource.NewQuantity(gpus, resource.DecimalSI)},
				},
			}},
		},
	}
}

// idSet is a comma-separated list of GPU UUIDs (an annotation, an
// environment variable), sorted, for comparison.
func idSet(list string) []string {
	if list == "" {
		return nil
	}
	ids := strings.Split(list, ",")
	slices.Sort(ids)
	return ids
}
