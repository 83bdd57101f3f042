package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gantry-gpu/gantry/pkg/nodelease"
	schedgpus "github.com/gantry-gpu/gantry/pkg/scheduler/gpus"
	"github.com/gantry-gpu/gantry/pkg/scheduler/shared"
)

// TestGPUTopologyLeaseExpiry: once the device plugin's node Lease expires,
// the scheduler no longer trusts the node's NodeGPU: it says so in an
// event on the NodeGPU, and a GPU pod is still bound there (by count) but
// without an exact set, for the device plugin to pick. When the Lease is
// renewed, the next pod gets an exact set again.
func TestGPUTopologyLeaseExpiry(t *testing.T) {
	g := newGPUTopologyTest(t)
	node := g.addNode("lease", nvswitchSpec(8), nil, nil)
	// The Lease as a device plugin renews it, in the namespace the
	// in-process scheduler reads; two seconds keep the test short.
	ns := shared.NodeLeaseNamespace()
	c := controlPlane.Client
	if err := c.Create(g.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: nodelease.Name(node), Labels: nodelease.Labels()},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To(node),
			LeaseDurationSeconds: ptr.To[int32](2),
			RenewTime:            &metav1.MicroTime{Time: time.Now()},
		},
	}
	if err := c.Create(g.ctx, lease); err != nil {
		t.Fatalf("creating Lease %s/%s: %v", ns, lease.Name, err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), lease) })
	g.startScheduler()

	expired := g.waitNodeGPUEvent(node, schedgpus.ReasonLeaseExpired)
	if expired.Type != corev1.EventTypeWarning {
		t.Errorf("%s event of type %s, want Warning", expired.Reason, expired.Type)
	}
	for _, want := range []string{"node " + node, ns + "/" + lease.Name, "expired at", "until the Lease is renewed"} {
		if !strings.Contains(expired.Message, want) {
			t.Errorf("%s event %q does not say %q", expired.Reason, expired.Message, want)
		}
	}
	whileExpired := g.pod("while-expired", 2, nil)
	g.create(whileExpired)
	if got := g.waitBound(whileExpired)[whileExpired.Name]; got.node != node || len(got.gpus) != 0 {
		t.Errorf("pod scheduled while the Lease had expired: node %s, GPUs %v; want %s and no %s", got.node, got.gpus, node, "gantry.dev/gpu-ids")
	}

	// The device plugin is back, here with a Lease long enough to outlast
	// the test: its renewals are not what is tested.
	if err := c.Get(g.ctx, client.ObjectKeyFromObject(lease), lease); err != nil {
		t.Fatal(err)
	}
	lease.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
	lease.Spec.LeaseDurationSeconds = ptr.To[int32](3600)
	if err := c.Update(g.ctx, lease); err != nil {
		t.Fatalf("renewing Lease %s/%s: %v", ns, lease.Name, err)
	}
	if renewed := g.waitNodeGPUEvent(node, schedgpus.ReasonLeaseRenewed); renewed.Type != corev1.EventTypeNormal {
		t.Errorf("%s event of type %s, want Normal", renewed.Reason, renewed.Type)
	}
	afterRenewal := g.pod("after-renewal", 2, nil)
	g.create(afterRenewal)
	got := g.waitBound(afterRenewal)[afterRenewal.Name]
	g.assertDisjoint(map[string]placement{afterRenewal.Name: got}, map[string]int{afterRenewal.Name: 2})
	if got.node != node {
		t.Errorf("pod scheduled after the renewal bound to %s, want %s", got.node, node)
	}
}

// waitNodeGPUEvent waits for the event of reason that the test's scheduler
// sent on the node's NodeGPU (events about cluster-scoped objects live in
// the default namespace) and returns it.
func (g *gpuTopologyTest) waitNodeGPUEvent(node, reason string) *corev1.Event {
	g.t.Helper()
	cs, err := kubernetes.NewForConfig(controlPlane.Config)
	if err != nil {
		g.t.Fatal(err)
	}
	selector := fields.Set{
		"involvedObject.kind": "NodeGPU",
		"involvedObject.name": node,
		"reason":              reason,
		// Another test's scheduler would see the same Lease.
		"reportingComponent": g.schedulerName,
	}.AsSelector()
	lw := cache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "events", metav1.NamespaceDefault, selector)
	ctx, cancel := context.WithTimeout(g.ctx, 30*time.Second)
	defer cancel()
	ev, err := watchtools.UntilWithSync(ctx, lw, &corev1.Event{}, nil, func(ev watch.Event) (bool, error) {
		return ev.Type == watch.Added || ev.Type == watch.Modified, nil
	})
	if err != nil {
		g.t.Fatalf("no %s event on NodeGPU %s from %s: %v", reason, node, g.schedulerName, err)
	}
	return ev.Object.(*corev1.Event)
}
