package integration

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/component-base/metrics/testutil"
	schedmetrics "k8s.io/kubernetes/pkg/scheduler/metrics"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The waits below are what a test that shows pods are not bound waits for
// before it checks them: the fact that says why, not a stretch of time.

// waitPodGroupEvent waits for an event with reason on the PodGroup whose
// note contains want.
func (g *gangTest) waitPodGroupEvent(podGroup, reason, want string) {
	g.t.Helper()
	g.waitPodGroupEventMatching(podGroup, reason, want)
}

// waitPodGroupEventMatching waits for an event with reason on the PodGroup
// whose note contains every one of want.
func (g *gangTest) waitPodGroupEventMatching(podGroup, reason string, want ...string) {
	g.t.Helper()
	var seen []string
	err := wait.PollUntilContextTimeout(g.ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var list eventsv1.EventList
		if err := controlPlane.Client.List(ctx, &list, client.InNamespace(g.ns)); err != nil {
			return false, err
		}
		seen = seen[:0]
		for _, e := range list.Items {
			seen = append(seen, fmt.Sprintf("%s/%s %s: %s", e.Regarding.Kind, e.Regarding.Name, e.Reason, e.Note))
			if e.Regarding.Kind == "PodGroup" && e.Regarding.Name == podGroup && e.Reason == reason && containsAll(e.Note, want) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		g.t.Fatalf("no %s event on PodGroup %s saying %q: %v; events: %v", reason, podGroup, want, err, seen)
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// waitPending waits until the pod's PodScheduled condition is False with a
// message containing want, and checks it is not bound.
func (g *gangTest) waitPending(p *corev1.Pod, want string) {
	g.t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(g.ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var got corev1.Pod
		if err := controlPlane.Client.Get(ctx, client.ObjectKeyFromObject(p), &got); err != nil {
			return false, err
		}
		if got.Spec.NodeName != "" {
			return false, fmt.Errorf("pod %s bound to %s", p.Name, got.Spec.NodeName)
		}
		for _, c := range got.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				last = c.Message
				return strings.Contains(c.Message, want), nil
			}
		}
		return false, nil
	})
	if err != nil {
		g.t.Fatalf("pod %s not pending with %q: %v; last message: %q", p.Name, want, err, last)
	}
}

// waitHeld waits until the test's scheduler holds exactly n pods in its
// queue as rejected by plugin: kube-scheduler's
// scheduler_unschedulable_pods gauge for the test's profile, read from the
// registry its /metrics serves. It is the one fact kube-scheduler publishes
// about a pod a PreEnqueue plugin keeps out of the queue (no condition, no
// event). A pod counts while it waits in the queue, not while it is in a
// scheduling cycle or waiting in Permit.
func (g *gangTest) waitHeld(plugin string, n int) {
	g.t.Helper()
	held := schedmetrics.UnschedulableReason(plugin, g.schedulerName)
	var last float64
	err := wait.PollUntilContextTimeout(g.ctx, 50*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		v, err := testutil.GetGaugeMetricValue(held)
		last = v
		return v == float64(n), err
	})
	if err != nil {
		g.t.Fatalf("the scheduler does not hold %d pods as rejected by %s: %v; it holds %v", n, plugin, err, last)
	}
}
