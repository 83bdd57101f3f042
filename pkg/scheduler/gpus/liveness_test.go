package gpus

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/gantry-gpu/gantry/pkg/nodelease"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gpus/gpustest"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Since(t time.Time) time.Duration { return f.Now().Sub(t) }

func (f *fakeClock) Step(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// recordedEvent is one event sent through fakeRecorder.
type recordedEvent struct {
	regarding      *v1.ObjectReference
	eventType      string
	reason, action string
	note           string
}

// fakeRecorder keeps the events sent.
type fakeRecorder struct {
	mu     sync.Mutex
	events []recordedEvent
}

func (r *fakeRecorder) Eventf(regarding, _ runtime.Object, eventType, reason, action, note string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref, _ := regarding.(*v1.ObjectReference)
	r.events = append(r.events, recordedEvent{regarding: ref, eventType: eventType, reason: reason, action: action, note: fmt.Sprintf(note, args...)})
}

// take returns the events sent since the last call.
func (r *fakeRecorder) take() []recordedEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

var leaseEpoch = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// newLivenessCache is a cache on a fake clock at leaseEpoch, recording
// its events.
func newLivenessCache(t *testing.T) (*Cache, *fakeClock, *fakeRecorder) {
	c, _ := newTestCache(t)
	clk := &fakeClock{now: leaseEpoch}
	rec := &fakeRecorder{}
	c.live.clock, c.live.recorder = clk, rec
	return c, clk, rec
}

// testLease is node's Lease, renewed at renewed for seconds.
func testLease(node string, renewed time.Time, seconds int32) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: nodelease.DefaultNamespace, Name: nodelease.Name(node), Labels: nodelease.Labels()},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To(node),
			LeaseDurationSeconds: ptr.To(seconds),
			RenewTime:            &metav1.MicroTime{Time: renewed},
		},
	}
}

// assertKnown checks what Node, NodeOf and Reserve say of the node.
func assertKnown(t *testing.T, c *Cache, node string, want bool) {
	t.Helper()
	if _, ok := c.Node(node); ok != want {
		t.Errorf("Node(%s) has a usable NodeGPU: %t, want %t", node, ok, want)
	}
	if _, ok := c.NodeOf(&v1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}); ok != want {
		t.Errorf("NodeOf(%s) has a usable NodeGPU: %t, want %t", node, ok, want)
	}
	uid := types.UID("probe-" + node)
	res := c.Reserve(uid, node, Request{GPUs: 1})
	c.Unreserve(uid)
	if res.NoNodeGPU == want {
		t.Errorf("Reserve on %s: NoNodeGPU %t, want %t", node, res.NoNodeGPU, !want)
	}
}

// assertEvents checks the reasons of the events sent since the last check.
func assertEvents(t *testing.T, rec *fakeRecorder, want ...string) []recordedEvent {
	t.Helper()
	got := rec.take()
	var reasons []string
	for _, ev := range got {
		reasons = append(reasons, ev.reason)
	}
	if strings.Join(reasons, ",") != strings.Join(want, ",") {
		t.Errorf("events %v, want %v", reasons, want)
	}
	return got
}

// TestLeaseExpiryAndRenewal: a node is unknown once its Lease expires (on
// the periodic check, the Lease not having changed), with a Warning on its
// NodeGPU saying which Lease expired when; it is known again as soon as
// the Lease is renewed, with a Normal event.
func TestLeaseExpiryAndRenewal(t *testing.T) {
	c, clk, rec := newLivenessCache(t)
	ng := gpustest.NodeGPU("n", "7", gpustest.NVSwitchSpec("n", 8), nil, nil)
	ng.UID = "nodegpu-uid"
	c.SetNodeGPU(ng)
	c.SetLease(testLease("n", leaseEpoch, 2))
	assertKnown(t, c, "n", true)

	clk.Step(2 * time.Second)
	c.CheckLeases()
	assertKnown(t, c, "n", true) // the last moment of the Lease still counts
	assertEvents(t, rec)

	clk.Step(time.Millisecond)
	c.CheckLeases()
	assertKnown(t, c, "n", false)
	evs := assertEvents(t, rec, ReasonLeaseExpired)
	if len(evs) == 1 {
		ev := evs[0]
		if ev.eventType != v1.EventTypeWarning || ev.action == "" {
			t.Errorf("event type %q action %q, want Warning and an action", ev.eventType, ev.action)
		}
		if r := ev.regarding; r == nil || r.Kind != "NodeGPU" || r.APIVersion != "gantry.dev/v1alpha1" || r.Name != "n" || r.UID != ng.UID {
			t.Errorf("event regarding %+v, want NodeGPU n (uid %s)", r, ng.UID)
		}
		for _, want := range []string{"node n", nodelease.DefaultNamespace + "/" + nodelease.Name("n"), "2026-12-03T12:00:02Z", "until the Lease is renewed"} {
			if !strings.Contains(ev.note, want) {
				t.Errorf("event note %q does not say %q", ev.note, want)
			}
		}
	}
	c.CheckLeases()
	assertEvents(t, rec) // said once

	c.SetLease(testLease("n", clk.Now(), 2))
	assertKnown(t, c, "n", true)
	evs = assertEvents(t, rec, ReasonLeaseRenewed)
	if len(evs) == 1 && evs[0].eventType != v1.EventTypeNormal {
		t.Errorf("renewal event type %q, want Normal", evs[0].eventType)
	}
}

// TestLeaseNodeWithoutLeaseIsTrusted: a NodeGPU whose node has no Lease
// (an older device plugin, or written by hand) is used, however long ago
// it was written; other Leases in the namespace change nothing.
func TestLeaseNodeWithoutLeaseIsTrusted(t *testing.T) {
	c, clk, rec := newLivenessCache(t)
	c.SetNodeGPU(gpustest.NodeGPU("n", "1", gpustest.NVSwitchSpec("n", 8), nil, nil))
	other := testLease("other", leaseEpoch, 2)
	other.Name = "gantry-scheduler" // a leader-election Lease: not a node's
	c.SetLease(other)
	c.SetLease(testLease("elsewhere", leaseEpoch, 2))
	clk.Step(time.Hour)
	c.CheckLeases()
	assertKnown(t, c, "n", true)
	assertKnown(t, c, "elsewhere", false) // no NodeGPU anyway
	assertEvents(t, rec)                  // nothing to say about a node without NodeGPU
}

// TestLeaseDeletedMakesTheNodeTrusted: deleting an expired Lease leaves a
// node without Lease, which is trusted.
func TestLeaseDeletedMakesTheNodeTrusted(t *testing.T) {
	c, clk, rec := newLivenessCache(t)
	c.SetNodeGPU(gpustest.NodeGPU("n", "1", gpustest.NVSwitchSpec("n", 8), nil, nil))
	lease := testLease("n", leaseEpoch, 2)
	c.SetLease(lease)
	clk.Step(time.Minute)
	c.CheckLeases()
	assertKnown(t, c, "n", false)
	assertEvents(t, rec, ReasonLeaseExpired)

	c.DeleteLease(lease)
	assertKnown(t, c, "n", true)
	c.CheckLeases()
	assertKnown(t, c, "n", true)
	assertEvents(t, rec)
}

// TestLeaseExpiredOnArrival: a Lease that has expired when it is first seen
// (a scheduler started after the device plugin stopped) makes its node
// unknown at once, before any periodic check; so does one that never
// says when it was renewed. A NodeGPU arriving after its expired Lease is
// not used either, and gets its Warning on the next check.
func TestLeaseExpiredOnArrival(t *testing.T) {
	c, _, rec := newLivenessCache(t)
	c.SetNodeGPU(gpustest.NodeGPU("n", "1", gpustest.NVSwitchSpec("n", 8), nil, nil))
	c.SetLease(testLease("n", leaseEpoch.Add(-time.Hour), 40))
	assertKnown(t, c, "n", false)
	assertEvents(t, rec, ReasonLeaseExpired)

	never := testLease("never", leaseEpoch, 40)
	never.Spec.RenewTime = nil
	c.SetLease(never)
	c.SetNodeGPU(gpustest.NodeGPU("never", "1", gpustest.NVSwitchSpec("never", 8), nil, nil))
	assertKnown(t, c, "never", false)
	c.CheckLeases()
	if evs := assertEvents(t, rec, ReasonLeaseExpired); len(evs) == 1 && !strings.Contains(evs[0].note, "no renewTime") {
		t.Errorf("event note %q does not say the Lease was never renewed", evs[0].note)
	}
}

// TestLeaseUnknownNodeKeepsCounting: pods bound while the node is unknown
// are counted, so the node is right when it comes back.
func TestLeaseUnknownNodeKeepsCounting(t *testing.T) {
	c, clk, _ := newLivenessCache(t)
	c.SetNodeGPU(gpustest.NodeGPU("n", "1", gpustest.NVSwitchSpec("n", 8), nil, map[int]string{0: "a"}))
	c.SetLease(testLease("n", leaseEpoch, 2))
	clk.Step(time.Minute)
	c.CheckLeases()
	assertKnown(t, c, "n", false)
	c.SetPod(gpustest.Bound(gpustest.GPUPod("b", 2), "n", 4, 5))
	c.SetLease(testLease("n", clk.Now(), 2))
	if got := allocated(t, c, "n"); got != gpustest.Positions(0, 4, 5) {
		t.Errorf("allocated %v after the renewal, want {0,4,5}", got)
	}
}

// TestWatchLeases: the cache is not synced before the Lease informer has
// listed, and follows the Leases the informer delivers.
func TestWatchLeases(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c, _ := newTestCache(t)
	c.SetNodeGPU(gpustest.NodeGPU("n", "1", gpustest.NVSwitchSpec("n", 8), nil, nil))
	client := fake.NewClientset()
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(nodelease.DefaultNamespace))
	rec := &fakeRecorder{}
	if err := c.WatchLeases(ctx, factory.Coordination().V1().Leases().Informer(), rec); err != nil {
		t.Fatal(err)
	}
	if c.HasSynced() {
		t.Error("the cache says it is synced before the Leases were listed")
	}
	factory.Start(ctx.Done())
	if !c.WaitForSync(ctx) {
		t.Fatal("the cache did not sync")
	}
	assertKnown(t, c, "n", true)

	expired := testLease("n", time.Now().Add(-time.Minute), 2)
	if _, err := client.CoordinationV1().Leases(expired.Namespace).Create(ctx, expired, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitKnown(ctx, t, c, "n", false)
	renewed := testLease("n", time.Now(), 3600)
	if _, err := client.CoordinationV1().Leases(renewed.Namespace).Update(ctx, renewed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitKnown(ctx, t, c, "n", true)
	if err := client.CoordinationV1().Leases(renewed.Namespace).Delete(ctx, renewed.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoordinationV1().Leases(expired.Namespace).Create(ctx, expired, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitKnown(ctx, t, c, "n", false)
	// Events are sent after the flip, once the cache is unlocked.
	err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.events) >= 3, nil
	})
	if err != nil {
		t.Errorf("waiting for three events: %v", err)
	}
	assertEvents(t, rec, ReasonLeaseExpired, ReasonLeaseRenewed, ReasonLeaseExpired)
}

func waitKnown(ctx context.Context, t *testing.T, c *Cache, node string, want bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		_, ok := c.Node(node)
		return ok == want, nil
	})
	if err != nil {
		t.Fatalf("Node(%s) never had a usable NodeGPU = %t: %v", node, want, err)
	}
}
