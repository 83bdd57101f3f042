package integration

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	podresourcesv1 "k8s.io/kubelet/pkg/apis/podresources/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/nodelease"
)

// TestDevicePluginRenewsItsNodeLease runs the device-plugin daemon as its
// service account bound to the node (so with only the RBAC and admission
// policies under deploy/rbac): it must create the node's Lease (named,
// labelled, held and owned as package nodelease says) and renew it; while
// nothing on the node changes, the renewals go on and the NodeGPU is not
// written again; and when the daemon stops, its Lease stays, to expire.
func TestDevicePluginRenewsItsNodeLease(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	n := newDevicePluginNode(ctx, t, "dp-node-lease", "pcie-4")
	servePodResources(t, n.opts.PodResourcesSocket, &podResources{pods: []*podresourcesv1.PodResources{{
		Namespace: "default", Name: "serve-0", Containers: []*podresourcesv1.ContainerResources{{
			Name: "main", Devices: []*podresourcesv1.ContainerDevices{{ResourceName: "nvidia.com/gpu", DeviceIds: []string{n.uuid(0)}}},
		}},
	}}})
	stop := n.runDaemon(ctx, t)

	lease := waitLeaseRenewals(ctx, t, n.name, 0)
	if lease.Namespace != devicePluginNamespace || lease.Name != nodelease.Name(n.name) {
		t.Errorf("Lease %s/%s, want %s/%s", lease.Namespace, lease.Name, devicePluginNamespace, nodelease.Name(n.name))
	}
	if !nodelease.Selector().Matches(labels.Set(lease.Labels)) {
		t.Errorf("Lease labels %v are not selected by %s", lease.Labels, nodelease.Selector())
	}
	if node, ok := nodelease.NodeName(lease); !ok || node != n.name {
		t.Errorf("nodelease.NodeName = %q, %t; want %q", node, ok, n.name)
	}
	if h := lease.Spec.HolderIdentity; h == nil || *h != n.name {
		t.Errorf("holderIdentity %v, want %q", h, n.name)
	}
	if d := lease.Spec.LeaseDurationSeconds; d == nil || *d != 2 {
		t.Errorf("leaseDurationSeconds %v, want 2 (--lease-duration=2s)", d)
	}
	if len(lease.OwnerReferences) != 1 || lease.OwnerReferences[0].UID != n.node.UID {
		t.Errorf("owner references %+v, want the Node %s", lease.OwnerReferences, n.node.UID)
	}

	// The status as first published: the allocation, read just now.
	var published gantryv1alpha1.NodeGPU
	n.waitNodeGPU(ctx, t, &published, "the kubelet's allocation", func(ng *gantryv1alpha1.NodeGPU) bool {
		return ng.Status.Allocated == 1 && meta.IsStatusConditionTrue(ng.Status.Conditions, gantryv1alpha1.NodeGPUAllocationsCurrent)
	})
	// Nothing changes on the node from here. Four renewals of the Lease
	// (every 500 ms) are two seconds, ten publish intervals (200 ms): the
	// publisher has looked at the node ten times, and must have neither
	// changed it nor even sent an update (the API server would drop one
	// that changes nothing, but not before decoding and validating it).
	writesBefore := nodeGPUStatusUpdates(ctx, t)
	waitLeaseRenewals(ctx, t, n.name, 4)
	var after gantryv1alpha1.NodeGPU
	if err := controlPlane.Client.Get(ctx, client.ObjectKey{Name: n.name}, &after); err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != published.ResourceVersion {
		t.Errorf("the NodeGPU was written while nothing changed (status diff -before +after):\n%s", cmp.Diff(published.Status, after.Status))
	}
	if sent := nodeGPUStatusUpdates(ctx, t) - writesBefore; sent != 0 {
		t.Errorf("%v NodeGPU status updates sent while nothing changed, want none", sent)
	}

	// Stopped, the daemon leaves its Lease to expire.
	stop()
	if err := controlPlane.Client.Get(ctx, client.ObjectKeyFromObject(lease), lease); err != nil {
		t.Fatalf("the Lease of a stopped device plugin: %v, want it left to expire", err)
	}
	renewed := lease.Spec.RenewTime.Time
	if nodelease.Expired(lease, renewed) || !nodelease.Expired(lease, renewed.Add(2*time.Second+time.Millisecond)) {
		t.Errorf("Lease renewed at %s for %ds: want it valid until its duration has passed, and expired after",
			renewed, *lease.Spec.LeaseDurationSeconds)
	}
}

// waitLeaseRenewals watches node's Lease until its renewTime has advanced
// renewals times past the first one seen, and returns it then (at once,
// once it exists, for 0).
func waitLeaseRenewals(ctx context.Context, t *testing.T, node string, renewals int) *coordinationv1.Lease {
	t.Helper()
	cs, err := kubernetes.NewForConfig(controlPlane.Config)
	if err != nil {
		t.Fatal(err)
	}
	lw := cache.NewListWatchFromClient(cs.CoordinationV1().RESTClient(), "leases", devicePluginNamespace,
		fields.OneTermEqualSelector("metadata.name", nodelease.Name(node)))
	var first, last *metav1.MicroTime
	advanced := 0
	ev, err := watchtools.UntilWithSync(ctx, lw, &coordinationv1.Lease{}, nil, func(ev watch.Event) (bool, error) {
		l, ok := ev.Object.(*coordinationv1.Lease)
		if !ok || l.Spec.RenewTime == nil {
			return false, nil
		}
		switch {
		case first == nil:
			first = l.Spec.RenewTime
		case l.Spec.RenewTime.After(last.Time):
			advanced++
		}
		last = l.Spec.RenewTime
		return advanced >= renewals, nil
	})
	if err != nil {
		t.Fatalf("Lease %s/%s: %d of %d renewals seen (first renewTime %v, last %v): %v",
			devicePluginNamespace, nodelease.Name(node), advanced, renewals, first, last, err)
	}
	return ev.Object.(*coordinationv1.Lease)
}

// nodeGPUStatusUpdates is how many NodeGPU status updates the API server
// has served so far, from its metrics (no other test runs meanwhile).
func nodeGPUStatusUpdates(ctx context.Context, t *testing.T) float64 {
	t.Helper()
	cs, err := kubernetes.NewForConfig(controlPlane.Config)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		t.Fatalf("reading the API server's metrics: %v", err)
	}
	var total float64
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		if !strings.Contains(line, `resource="nodegpus"`) || !strings.Contains(line, `subresource="status"`) || !strings.Contains(line, `verb="PUT"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		total += v
	}
	return total
}
