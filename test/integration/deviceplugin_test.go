package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	podresourcesv1 "k8s.io/kubelet/pkg/apis/podresources/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/deviceplugin"
)

// TestDevicePluginPublishesNodeGPU runs the device-plugin daemon on the
// pcie-2island fixture, as its service account bound to the node (so with
// only the RBAC and admission policy under deploy/rbac), against the real
// API server: it must publish the NodeGPU (spec
// from the fixture, owned by the Node), the kubelet's allocations, health
// changes from an injected XID, the recovery after the quiet period, and an
// event on a pod whose allocation differs from the scheduler's choice.
func TestDevicePluginPublishesNodeGPU(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c := controlPlane.Client

	n := newDevicePluginNode(ctx, t, "dp-node-publish", "pcie-2island")
	node, fixture, uuid := n.node, n.fixture, n.uuid

	// A pod the scheduler placed on GPUs 0 and 2, which the kubelet gave 0 and 1.
	ns, err := controlPlane.CreateNamespace(ctx, "dp")
	if err != nil {
		t.Fatal(err)
	}
	pod := gpuPod(ns, "train-0", "gantry", 2)
	pod.Spec.NodeName = n.name
	pod.Annotations = map[string]string{gantryv1alpha1.GPUIDsAnnotation: uuid(0) + "," + uuid(2)}
	if err := c.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}

	pr := &podResources{pods: []*podresourcesv1.PodResources{{
		Namespace: ns, Name: "train-0",
		Containers: []*podresourcesv1.ContainerResources{{Name: "train", Devices: []*podresourcesv1.ContainerDevices{
			{ResourceName: "nvidia.com/gpu", DeviceIds: []string{uuid(0), uuid(1)}},
			{ResourceName: "example.com/nic", DeviceIds: []string{"nic-0"}},
		}}},
	}}}
	servePodResources(t, n.opts.PodResourcesSocket, pr)
	n.runDaemon(ctx, t)

	var ng gantryv1alpha1.NodeGPU
	waitNodeGPU := func(what string, cond func(*gantryv1alpha1.NodeGPU) bool) {
		t.Helper()
		n.waitNodeGPU(ctx, t, &ng, what, cond)
	}
	healthOf := func(n *gantryv1alpha1.NodeGPU, index int32) gantryv1alpha1.GPUHealth {
		for _, h := range n.Status.Health {
			if h.Index == index {
				return h
			}
		}
		return gantryv1alpha1.GPUHealth{}
	}

	waitNodeGPU("the allocations", func(n *gantryv1alpha1.NodeGPU) bool { return n.Status.Allocated == 2 })
	if len(ng.Spec.GPUs) != 8 || len(ng.Spec.Links) != 28 || ng.Spec.DriverVersion == "" {
		t.Errorf("spec: %d GPUs, %d links, driver %q; want 8, 28 and a driver", len(ng.Spec.GPUs), len(ng.Spec.Links), ng.Spec.DriverVersion)
	}
	if len(ng.OwnerReferences) != 1 || ng.OwnerReferences[0].UID != node.UID {
		t.Errorf("owner references %+v, want the Node %s", ng.OwnerReferences, node.UID)
	}
	for _, l := range ng.Spec.Links {
		sameIsland := l.A/4 == l.B/4
		if sameIsland != (l.Type == gantryv1alpha1.LinkNVLink) {
			t.Errorf("link %d-%d is %s", l.A, l.B, l.Type)
		}
	}
	var held []int32
	for _, a := range ng.Status.Allocations {
		if a.PodName != "train-0" || a.PodNamespace != ns || a.Container != "train" {
			t.Errorf("allocation %+v", a)
		}
		held = append(held, a.Index)
	}
	if !slices.Equal(held, []int32{0, 1}) || ng.Status.Capacity != 8 || ng.Status.Healthy != 8 {
		t.Errorf("status %+v, want GPUs 0 and 1 allocated and 8 healthy", ng.Status)
	}

	// An application XID leaves the GPU alone; a hardware one takes it out.
	for !fixture.Watching(3) || !fixture.Watching(5) {
		time.Sleep(10 * time.Millisecond)
	}
	fixture.InjectXID(5, 13)
	fixture.InjectXID(3, 48)
	waitNodeGPU("GPU 3 unhealthy", func(n *gantryv1alpha1.NodeGPU) bool {
		return healthOf(n, 3).Health == gantryv1alpha1.Unhealthy
	})
	if h := healthOf(&ng, 3); h.Reason != "XID48" || ng.Status.Healthy != 7 {
		t.Errorf("GPU 3 health %+v with %d healthy, want reason XID48 and 7 healthy", h, ng.Status.Healthy)
	}
	if h := healthOf(&ng, 5); h.Health != gantryv1alpha1.Healthy {
		t.Errorf("GPU 5 became %+v after application XID 13", h)
	}
	waitNodeGPU("GPU 3 recovered", func(n *gantryv1alpha1.NodeGPU) bool {
		return healthOf(n, 3).Health == gantryv1alpha1.Healthy
	})
	if h := healthOf(&ng, 3); h.Reason != "Recovered" {
		t.Errorf("GPU 3 health after recovery %+v, want reason Recovered", h)
	}

	// The scheduler's choice (0,2) and the kubelet's (0,1) differ: an event says so.
	if err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		var events corev1.EventList
		if err := c.List(ctx, &events, client.InNamespace(ns)); err != nil {
			return false, err
		}
		for _, e := range events.Items {
			if e.Reason == deviceplugin.ReasonAllocationMismatch && e.InvolvedObject.Name == "train-0" {
				return strings.Contains(e.Message, uuid(2)) && strings.Contains(e.Message, uuid(1)), nil
			}
		}
		return false, nil
	}); err != nil {
		t.Errorf("no %s event on the pod: %v", deviceplugin.ReasonAllocationMismatch, err)
	}
}

// TestDevicePluginReadsTheSchedulersChoiceFresh binds a pod with the
// scheduler's GPU choice and at once asks for the node's choices the way
// GetPreferredAllocation does when its informer has not seen the binding
// (the kubelet asks within a millisecond of seeing it): the API server's
// answer, read with the device plugin's own permissions, must hold it.
func TestDevicePluginReadsTheSchedulersChoiceFresh(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	n := newDevicePluginNode(ctx, t, "dp-node-fresh", "dgx-a100")
	cfg, err := clientcmd.BuildConfigFromFlags("", n.opts.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sets, err := deviceplugin.NewPodGPUSets(ctx, cs, n.name)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := controlPlane.CreateNamespace(ctx, "dp-fresh")
	if err != nil {
		t.Fatal(err)
	}
	for i, gpus := range [][]int{{2, 5}, {0, 1, 3, 4}} {
		pod := gpuPod(ns, fmt.Sprintf("train-%d", i), "gantry", int64(len(gpus)))
		pod.Spec.NodeName = n.name
		var ids []string
		for _, g := range gpus {
			ids = append(ids, n.uuid(g))
		}
		pod.Annotations = map[string]string{gantryv1alpha1.GPUIDsAnnotation: strings.Join(ids, ",")}
		if err := controlPlane.Client.Create(ctx, pod); err != nil {
			t.Fatal(err)
		}
		fresh, err := sets.FreshAnnotatedSets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(fresh, func(s []string) bool { return slices.Equal(s, ids) }) {
			t.Errorf("right after binding %s: the API server's choices %v lack %v", pod.Name, fresh, ids)
		}
	}
}
