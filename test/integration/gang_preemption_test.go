package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// priorityClass creates a PriorityClass of the test and returns its name.
func (g *gangTest) priorityClass(suffix string, value int32) string {
	g.t.Helper()
	pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: g.ns + "-" + suffix}, Value: value}
	if err := controlPlane.Client.Create(g.ctx, pc); err != nil {
		g.t.Fatalf("creating PriorityClass: %v", err)
	}
	g.t.Cleanup(func() { _ = controlPlane.Client.Delete(context.Background(), pc) })
	return pc.Name
}

// withPriority sets the pods' priority class.
func withPriority(class string, pods []*corev1.Pod) []*corev1.Pod {
	for _, p := range pods {
		p.Spec.PriorityClassName = class
	}
	return pods
}

// standInKubelet finishes the graceful deletion of the test's bound pods, as
// their kubelet would once the containers stopped: no kubelet runs here.
func (g *gangTest) standInKubelet() {
	g.finishDeletions(100*time.Millisecond, 0)
}

// finishDeletions is standInKubelet finishing at most atMost deletions
// (0: all) every interval, for containers that take their time to stop.
func (g *gangTest) finishDeletions(every time.Duration, atMost int) {
	go func() {
		_ = wait.PollUntilContextCancel(g.ctx, every, true, func(ctx context.Context) (bool, error) {
			var pods corev1.PodList
			if err := controlPlane.Client.List(ctx, &pods, client.InNamespace(g.ns)); err != nil {
				return false, nil
			}
			done := 0
			for i := range pods.Items {
				if p := &pods.Items[i]; p.DeletionTimestamp != nil && (atMost == 0 || done < atMost) {
					_ = controlPlane.Client.Delete(ctx, p, client.GracePeriodSeconds(0))
					done++
				}
			}
			return false, nil
		})
	}()
}

// fullOfLowPriorityWork fills three 8-GPU nodes: a low-priority gang of
// two 8-GPU pods, then a low-priority 8-GPU pod outside gangs (which so
// started last). It returns the test, a high priority class, the gang's
// pods and the single pod.
func fullOfLowPriorityWork(t *testing.T) (g *gangTest, high string, lowGang, single []*corev1.Pod) {
	g = newGangTest(t)
	g.addNodes(3, 8)
	g.startScheduler()
	g.standInKubelet()
	low, high := g.priorityClass("low", 100), g.priorityClass("high", 1000)

	g.podGroup("low", 2)
	lowGang = withPriority(low, g.pods("low", "low", 2, 8))
	g.create(lowGang...)
	g.waitAllBound(lowGang, 30*time.Second)
	single = withPriority(low, g.pods("single", "", 1, 8))
	g.create(single...)
	g.waitAllBound(single, 30*time.Second)
	return g, high, lowGang, single
}

// TestGangPreemptsWholeGangs: three 8-GPU nodes are full: a low-priority
// gang holds two, a low-priority pod that started after it the third. A
// high-priority gang of two 8-GPU pods comes. Taking the pod that started
// last is not enough, so the low gang goes — both its pods, though one
// would free a node — and the pod is spared: the fewest victims, each
// whole. The high gang is then bound whole.
func TestGangPreemptsWholeGangs(t *testing.T) {
	g, high, lowGang, single := fullOfLowPriorityWork(t)

	g.podGroup("high", 2)
	highGang := withPriority(high, g.pods("high", "high", 2, 8))
	g.create(highGang...)
	g.waitAllBound(highGang, 60*time.Second)
	g.waitPodGroupEvent("high", "GangPreempting", "preempting 2 pods ("+g.ns+"/low)")

	g.waitGone(lowGang)
	nodes, err := g.nodesOf(single)
	if err != nil || nodes[single[0].Name] == "" {
		t.Fatalf("the single low pod was preempted or unbound: %v %v", nodes, err)
	}
	t.Logf("high gang on %v", fmt.Sprint(g.waitAllBound(highGang, time.Second)))
}

// TestHeldPlacesKeptFromPodsOutsideGangs: three 8-GPU nodes are full (a
// low-priority gang on two, a low-priority pod on the third) and two more
// low-priority 8-GPU pods outside gangs wait for room. A high-priority gang
// of two 8-GPU pods preempts the low gang, whose pods take their time to
// terminate (one every 2 s). The node the first one frees is held for the
// high gang: the waiting pods, which would fit it, must not take it (the
// gang would then preempt them in turn). The gang is bound whole; the
// waiting pods still wait, none preempted, and the single pod is spared.
func TestHeldPlacesKeptFromPodsOutsideGangs(t *testing.T) {
	g := newGangTest(t)
	g.addNodes(3, 8)
	g.startScheduler()
	g.finishDeletions(2*time.Second, 1)
	low, high := g.priorityClass("low", 100), g.priorityClass("high", 1000)

	g.podGroup("low", 2)
	lowGang := withPriority(low, g.pods("low", "low", 2, 8))
	g.create(lowGang...)
	g.waitAllBound(lowGang, 30*time.Second)
	single := withPriority(low, g.pods("single", "", 1, 8))
	g.create(single...)
	g.waitAllBound(single, 30*time.Second)
	waiting := withPriority(low, g.pods("waiting", "", 2, 8))
	g.create(waiting...)
	g.waitUnschedulable(waiting)

	g.podGroup("high", 2)
	highGang := withPriority(high, g.pods("high", "high", 2, 8))
	g.create(highGang...)
	g.waitAllBound(highGang, 60*time.Second)
	g.waitGone(lowGang)
	nodes, err := g.nodesOf(append(single, waiting...))
	if err != nil {
		t.Fatalf("a pod outside gangs was preempted: %v", err)
	}
	if nodes[single[0].Name] == "" || nodes[waiting[0].Name] != "" || nodes[waiting[1].Name] != "" {
		t.Fatalf("want the single pod bound and the waiting pods pending; got %v", nodes)
	}
}

// waitUnschedulable waits until the scheduler has tried every pod and
// found no room (PodScheduled false, reason Unschedulable).
func (g *gangTest) waitUnschedulable(pods []*corev1.Pod) {
	g.t.Helper()
	err := wait.PollUntilContextTimeout(g.ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		for _, p := range pods {
			var got corev1.Pod
			if err := controlPlane.Client.Get(ctx, client.ObjectKeyFromObject(p), &got); err != nil {
				return false, err
			}
			tried := false
			for _, c := range got.Status.Conditions {
				if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
					tried = true
				}
			}
			if !tried {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		g.t.Fatalf("pods not found unschedulable: %v\n%s", err, g.conditions(pods))
	}
}

// TestPodPreemptsSinglePodsThenWholeGangs: a high-priority pod outside
// gangs takes the room of a low-priority single pod first, pod by pod as
// the default preemption does (GantryPreemption), leaving a low gang alone;
// when only the gang's room is left, the gang goes whole (GantryGang), never
// one member of it.
func TestPodPreemptsSinglePodsThenWholeGangs(t *testing.T) {
	g, high, lowGang, single := fullOfLowPriorityWork(t)

	first := withPriority(high, g.pods("first", "", 1, 8))
	g.create(first...)
	g.waitAllBound(first, 60*time.Second)
	g.waitGone(single)
	if nodes, err := g.nodesOf(lowGang); err != nil || countBound(nodes) != 2 {
		t.Fatalf("the low gang was touched while a single pod could make room: %v %v", nodes, err)
	}

	second := withPriority(high, g.pods("second", "", 1, 8))
	g.create(second...)
	g.waitAllBound(second, 60*time.Second)
	g.waitGone(lowGang)
}

// waitGone waits until none of the pods exists.
func (g *gangTest) waitGone(pods []*corev1.Pod) {
	g.t.Helper()
	left := 0
	err := wait.PollUntilContextTimeout(g.ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		left = 0
		for _, p := range pods {
			err := controlPlane.Client.Get(ctx, client.ObjectKeyFromObject(p), &corev1.Pod{})
			if !apierrors.IsNotFound(err) {
				left++
			}
		}
		return left == 0, nil
	})
	if err != nil {
		g.t.Fatalf("%d of %d pods still there: %v", left, len(pods), err)
	}
}
