package integration

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/gang"
	queueplugin "github.com/gantry-gpu/gantry/pkg/scheduler/plugins/queue"
)

// TestShippedProfileInFrameworkRuntime runs Gantry's plugins inside the
// framework runtime with the shipped profile, PreEnqueue through Permit
// and Bind, beside the in-tree plugins the profile keeps.
func TestShippedProfileInFrameworkRuntime(t *testing.T) {
	g := newGangTest(t)
	nodes := g.addNodes(3, 8)
	q := queue(g.ns+"-q", func(q *gantryv1alpha1.Queue) { q.Spec.Guaranteed, q.Spec.Limit = gpus(24), gpus(24) })
	if err := controlPlane.Client.Create(g.ctx, q); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = controlPlane.Client.Delete(context.Background(), q) })
	inQueue := func(pods []*corev1.Pod) []*corev1.Pod {
		for _, p := range pods {
			if p.Labels == nil {
				p.Labels = map[string]string{}
			}
			p.Labels[gantryv1alpha1.QueueLabel] = q.Name
		}
		return pods
	}
	r := newProfileRuntime(g.ctx, t, nodes)

	// Four GPUs of the first node are held by a pod bound there (by
	// another scheduler, its set named as gantry-scheduler's Binding names
	// it).
	held := g.pods("held", "", 1, 4)[0]
	held.Spec.SchedulerName = "another-scheduler"
	g.create(held)
	heldIDs := []string{gangGPU(nodes[0], 0), gangGPU(nodes[0], 1), gangGPU(nodes[0], 2), gangGPU(nodes[0], 3)}
	bindWithGPUs(g.ctx, t, held, nodes[0], heldIDs)
	r.heldOn(nodes[0], 4)

	t.Run("a pod gets the free GPUs of the fullest node", func(t *testing.T) {
		p := inQueue(g.pods("single", "", 1, 4))[0]
		g.create(p)
		r.seen(p)
		node, cs, s := r.cycle(p)
		if !s.IsSuccess() {
			t.Fatalf("cycle of %s ended with %v", p.Name, s)
		}
		got := r.bind(p, cs, node)
		want := []string{gangGPU(nodes[0], 4), gangGPU(nodes[0], 5), gangGPU(nodes[0], 6), gangGPU(nodes[0], 7)}
		ids := gantryv1alpha1.ParseGPUIDs(got.Annotations[gantryv1alpha1.GPUIDsAnnotation])
		slices.Sort(ids)
		if got.Spec.NodeName != nodes[0] || !slices.Equal(ids, want) {
			t.Errorf("pod bound to %s with GPUs %v, want %s with %v (best fit, beside the held GPUs)", got.Spec.NodeName, ids, nodes[0], want)
		}
	})

	t.Run("a gang short of pods waits before the queue", func(t *testing.T) {
		g.podGroup("short", 3)
		p := inQueue(g.pods("short", "short", 1, 8))[0]
		g.create(p)
		r.seen(p)
		var s *fwk.Status
		err := wait.PollUntilContextCancel(g.ctx, 10*time.Millisecond, true, func(context.Context) (bool, error) {
			_, _, s = r.cycle(p)
			return strings.Contains(s.Message(), "has 1 of minMember 3 pods"), nil
		})
		if err != nil || s.Code() != fwk.UnschedulableAndUnresolvable || s.Plugin() != gang.Name {
			t.Fatalf("cycle of %s ended with %v from %q, want %s to hold it (1 of minMember 3)", p.Name, s, s.Plugin(), gang.Name)
		}
	})

	t.Run("a gang's first member waits in Permit for the last", func(t *testing.T) {
		g.podGroup("pair", 2)
		pods := inQueue(g.pods("pair", "pair", 2, 8))
		g.create(pods...)
		r.seen(pods...)
		first, firstState, s := r.cycle(pods[0])
		if !s.IsWait() {
			t.Fatalf("cycle of %s ended with %v, want it to wait in Permit for its gang", pods[0].Name, s)
		}
		second, secondState, s := r.cycle(pods[1])
		if !s.IsSuccess() {
			t.Fatalf("cycle of %s ended with %v, want Permit to allow the whole gang", pods[1].Name, s)
		}
		if first == second || first == nodes[0] || second == nodes[0] {
			t.Fatalf("gang placed on %s and %s, want the two empty nodes", first, second)
		}
		for i, b := range []struct {
			cs   *framework.CycleState
			node string
		}{{firstState, first}, {secondState, second}} {
			got := r.bind(pods[i], b.cs, b.node)
			if ids := gantryv1alpha1.ParseGPUIDs(got.Annotations[gantryv1alpha1.GPUIDsAnnotation]); len(ids) != 8 {
				t.Errorf("%s bound to %s with GPUs %v, want all 8", got.Name, got.Spec.NodeName, ids)
			}
		}
	})

	t.Run("the queue refuses a pod beyond its limit", func(t *testing.T) {
		p := inQueue(g.pods("over", "", 1, 8))[0]
		g.create(p)
		r.seen(p)
		_, _, s := r.cycle(p)
		if s.IsSuccess() || s.Plugin() != queueplugin.Name || !strings.Contains(s.Message(), "limit") {
			t.Fatalf("cycle of %s ended with %v from %q, want %s to refuse it at the limit (20 of 24 GPUs used, 8 asked)", p.Name, s, s.Plugin(), queueplugin.Name)
		}
	})
}
