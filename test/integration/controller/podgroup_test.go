package controller

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/controller/podgroup"
)

// TestGangLifecycle walks a gang of three through every phase to Finished,
// playing scheduler and kubelet, and checks the status, the scheduled-time
// annotation, the events and the metrics at each step.
func TestGangLifecycle(t *testing.T) {
	_, po := testOptions()
	ctl := startLeader(t, "lifecycle", po)
	ns := newNamespace(t)
	metricsBefore := httpBody(t, ctl.Addr().String(), "/metrics")
	createPodGroup(t, ns, "train", 3)

	var pods []*corev1.Pod
	for i := range 2 {
		pods = append(pods, createMember(t, ns, "train", fmt.Sprintf("worker-%d", i), "gantry"))
	}
	pg := waitPhase(t, ns, "train", schedv1alpha1.PodGroupPending)
	if !pg.Status.ScheduleStartTime.IsZero() {
		t.Errorf("a Pending gang has scheduleStartTime %v", pg.Status.ScheduleStartTime)
	}

	pods = append(pods, createMember(t, ns, "train", "worker-2", "gantry"))
	pg = waitPhase(t, ns, "train", schedv1alpha1.PodGroupScheduling)
	// The gang entered Scheduling when its third member was created.
	if got, want := pg.Status.ScheduleStartTime.Time, pods[2].CreationTimestamp.Time; !got.Equal(want) {
		t.Errorf("scheduleStartTime = %v, want the third member's creation %v", got, want)
	}
	start := pg.Status.ScheduleStartTime

	bind(t, pods[0], "node-a")
	bind(t, pods[1], "node-a")
	never(t, time.Second, "the gang became Scheduled with two of three members bound", func(ctx context.Context) (bool, error) {
		pg, err := getPodGroup(ctx, t, ns, "train")
		return err == nil && pg.Status.Phase != schedv1alpha1.PodGroupScheduling, err
	})
	bind(t, pods[2], "node-b")
	pg = waitPhase(t, ns, "train", podgroup.PhaseScheduled)
	scheduledAt := pg.Annotations[gantryv1alpha1.ScheduledTimeAnnotation]
	at, err := time.Parse(time.RFC3339, scheduledAt)
	if err != nil {
		t.Fatalf("%s = %q: %v", gantryv1alpha1.ScheduledTimeAnnotation, scheduledAt, err)
	}
	if at.Before(start.Time) || time.Since(at) > time.Minute {
		t.Errorf("scheduled at %v, want after the schedule start %v and recent", at, start)
	}

	for _, p := range pods {
		setPhase(t, p, corev1.PodRunning)
	}
	pg = waitPhase(t, ns, "train", schedv1alpha1.PodGroupRunning)
	if pg.Status.Running != 3 || pg.Status.Succeeded != 0 || pg.Status.Failed != 0 {
		t.Errorf("running gang status counts: %+v", pg.Status)
	}

	for _, p := range pods {
		setPhase(t, p, corev1.PodSucceeded)
	}
	pg = waitPhase(t, ns, "train", schedv1alpha1.PodGroupFinished)
	if pg.Status.Succeeded != 3 || pg.Status.Running != 0 {
		t.Errorf("finished gang status counts: %+v", pg.Status)
	}
	if got := pg.Annotations[gantryv1alpha1.ScheduledTimeAnnotation]; got != scheduledAt {
		t.Errorf("%s changed from %q to %q; it is set once", gantryv1alpha1.ScheduledTimeAnnotation, scheduledAt, got)
	}
	if !pg.Status.ScheduleStartTime.Equal(&start) {
		t.Errorf("scheduleStartTime changed from %v to %v", start, pg.Status.ScheduleStartTime)
	}

	for _, reason := range []string{"GangScheduling", "GangScheduled", "GangRunning", "GangFinished"} {
		e := waitEvent(t, ns, "train", reason)
		if e.Type != corev1.EventTypeNormal || e.ReportingController != "gantry-controller/podgroup" {
			t.Errorf("%s event: type %s, reported by %s", reason, e.Type, e.ReportingController)
		}
	}

	// Terminal: a member deleted now changes nothing.
	if err := kube.CoreV1().Pods(ns).Delete(t.Context(), pods[0].Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	never(t, 2*time.Second, "a Finished gang changed", func(ctx context.Context) (bool, error) {
		got, err := getPodGroup(ctx, t, ns, "train")
		return err == nil && (got.Status.Phase != schedv1alpha1.PodGroupFinished || got.Status.Succeeded != 3), err
	})

	metrics := httpBody(t, ctl.Addr().String(), "/metrics")
	if got, before := metricValue(metrics, "gantry_controller_gang_schedule_latency_seconds_count"), metricValue(metricsBefore, "gantry_controller_gang_schedule_latency_seconds_count"); got != before+1 {
		t.Errorf("schedule latency samples went from %v to %v, want one more", before, got)
	}
	if got := metricValue(metrics, `gantry_controller_podgroups{phase="Finished"}`); got < 1 {
		t.Errorf("podgroups{phase=Finished} = %v, want at least 1\n%s", got, grepLines(metrics, "gantry_controller_podgroups"))
	}
}

// TestGangFailed fails one member of a gang that has no spare: the gang can
// no longer reach minMember and is Failed for good.
func TestGangFailed(t *testing.T) {
	_, po := testOptions()
	startLeader(t, "failed", po)
	ns := newNamespace(t)
	createPodGroup(t, ns, "ddp", 2)
	a := createMember(t, ns, "ddp", "rank-0", "gantry")
	b := createMember(t, ns, "ddp", "rank-1", "gantry")
	for _, p := range []*corev1.Pod{a, b} {
		bind(t, p, "node-a")
		setPhase(t, p, corev1.PodRunning)
	}
	waitPhase(t, ns, "ddp", schedv1alpha1.PodGroupRunning)

	setPhase(t, b, corev1.PodFailed)
	pg := waitPhase(t, ns, "ddp", schedv1alpha1.PodGroupFailed)
	if pg.Status.Failed != 1 || pg.Status.Running != 1 {
		t.Errorf("failed gang status counts: %+v", pg.Status)
	}
	e := waitEvent(t, ns, "ddp", "GangFailed")
	if e.Type != corev1.EventTypeWarning || !strings.Contains(e.Message, "cannot reach minMember 2") {
		t.Errorf("GangFailed event: type %s, message %q", e.Type, e.Message)
	}

	// Terminal: even once the gang could run again it stays Failed.
	createMember(t, ns, "ddp", "rank-1-retry", "gantry")
	setPhase(t, a, corev1.PodSucceeded)
	never(t, 2*time.Second, "a Failed gang changed", func(ctx context.Context) (bool, error) {
		got, err := getPodGroup(ctx, t, ns, "ddp")
		return err == nil && (got.Status.Phase != schedv1alpha1.PodGroupFailed || got.Status.Running != 1), err
	})
}

// TestBadInputWarnings: a PodGroup without minMember, members of different
// schedulers, and a gang that stays short of minMember each get one
// Warning, given once however often the PodGroup is resynced (every second
// here), and again only when what they say changes.
func TestBadInputWarnings(t *testing.T) {
	_, po := testOptions()
	startLeader(t, "bad-input", po)
	ns := newNamespace(t)

	// minMember left out (the CRD rejects 0 but allows absent).
	createPodGroup(t, ns, "no-min", 0)
	createMember(t, ns, "no-min", "solo", "gantry")
	waitEvent(t, ns, "no-min", podgroup.ReasonInvalidMinMember)
	if pg := waitPhase(t, ns, "no-min", schedv1alpha1.PodGroupScheduling); pg.Spec.MinMember != 0 {
		t.Fatalf("minMember = %d, want it absent", pg.Spec.MinMember)
	}

	createPodGroup(t, ns, "mixed", 2)
	createMember(t, ns, "mixed", "m-0", "gantry")
	createMember(t, ns, "mixed", "m-1", corev1.DefaultSchedulerName)
	waitEvent(t, ns, "mixed", podgroup.ReasonMixedSchedulerNames)

	createPodGroup(t, ns, "short", 3)
	createMember(t, ns, "short", "s-0", "gantry")
	waitEvent(t, ns, "short", podgroup.ReasonGangIncomplete)

	// Several resyncs later, still one of each.
	never(t, 3*time.Second, "a warning was repeated", func(ctx context.Context) (bool, error) {
		for _, c := range []struct{ name, reason string }{
			{"no-min", podgroup.ReasonInvalidMinMember},
			{"mixed", podgroup.ReasonMixedSchedulerNames},
			{"short", podgroup.ReasonGangIncomplete},
		} {
			es, err := events(ctx, ns, c.name, c.reason)
			if err != nil {
				return false, err
			}
			if len(es) != 1 || es[0].Count != 1 {
				return true, nil
			}
		}
		return false, nil
	})
	onlyOnce(t, ns, "no-min", podgroup.ReasonInvalidMinMember, "spec.minMember is 0")
	onlyOnce(t, ns, "mixed", podgroup.ReasonMixedSchedulerNames, "default-scheduler (m-1); gantry (m-0)")
	onlyOnce(t, ns, "short", podgroup.ReasonGangIncomplete, "only 1 of minMember 3 member pods exist")

	// A second member changes what GangIncomplete says: one more warning.
	createMember(t, ns, "short", "s-1", "gantry")
	poll(t, 30*time.Second, "a second GangIncomplete warning naming 2 members", func(ctx context.Context) (bool, error) {
		es, err := events(ctx, ns, "short", podgroup.ReasonGangIncomplete)
		if err != nil {
			return false, err
		}
		for _, e := range es {
			if strings.Contains(e.Message, "only 2 of minMember 3") {
				return true, nil
			}
		}
		return false, nil
	})
}

// TestStatusSubresourceDropsAnnotations is why the controller may patch
// PodGroups and not only their status: metadata written through
// podgroups/status is dropped, so the scheduled-time annotation must go to
// the PodGroup itself.
func TestStatusSubresourceDropsAnnotations(t *testing.T) {
	ns := newNamespace(t)
	pg := createPodGroup(t, ns, "probe", 1)
	pg.Annotations = map[string]string{gantryv1alpha1.ScheduledTimeAnnotation: "2025-06-01T11:00:00Z"}
	pg.Status.Phase = schedv1alpha1.PodGroupPending
	if err := controlPlane.Client.Status().Update(t.Context(), pg); err != nil {
		t.Fatal(err)
	}
	got, err := getPodGroup(t.Context(), t, ns, "probe")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.Phase != schedv1alpha1.PodGroupPending {
		t.Fatalf("the status update did not take: phase %q", got.Status.Phase)
	}
	if v, ok := got.Annotations[gantryv1alpha1.ScheduledTimeAnnotation]; ok {
		t.Errorf("an annotation written through /status was kept (%q): the controller would not need to patch PodGroups", v)
	}
}

// TestStandbyWritesNothing runs a replica while another holds the Lease: it
// must not touch PodGroups, and take over once the Lease is free.
func TestStandbyWritesNothing(t *testing.T) {
	ctx := t.Context()
	// Another replica holds the Lease, renewed just now. The standby
	// counts the lease duration from when it first sees the record, so it
	// cannot take it over within the test's window.
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: systemNamespace, Name: leaseName}}
	_, err := createOrUpdateLease(ctx, lease, func() {
		lease.Spec = coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To("another-replica"),
			LeaseDurationSeconds: ptr.To[int32](3600),
			AcquireTime:          ptr.To(metav1.NewMicroTime(time.Now())),
			RenewTime:            ptr.To(metav1.NewMicroTime(time.Now())),
		}
	})
	if err != nil {
		t.Fatal(err)
	}

	mo, po := testOptions()
	standby := start(t, "standby", mo, po)
	ns := newNamespace(t)
	createPodGroup(t, ns, "waiting", 2)
	createMember(t, ns, "waiting", "w-0", "gantry")

	poll(t, 30*time.Second, "the standby to serve /readyz", func(context.Context) (bool, error) {
		return standby.Addr() != nil && httpGet(standby.Addr().String(), "/readyz") == nil, nil
	})
	never(t, 3*time.Second, "the standby wrote a PodGroup's status or led", func(ctx context.Context) (bool, error) {
		pg, err := getPodGroup(ctx, t, ns, "waiting")
		return err == nil && (pg.Status.Phase != "" || standby.Leading()), err
	})
	if es, err := events(ctx, ns, "waiting", podgroup.ReasonGangIncomplete); err != nil || len(es) > 0 {
		t.Errorf("the standby recorded %d events (%v)", len(es), err)
	}

	// The other replica goes away and releases the Lease, as a replica
	// does on shutdown: the standby takes over.
	if err := controlPlane.Client.Get(ctx, client.ObjectKeyFromObject(lease), lease); err != nil {
		t.Fatal(err)
	}
	lease.Spec.HolderIdentity = ptr.To("")
	if err := controlPlane.Client.Update(ctx, lease); err != nil {
		t.Fatal(err)
	}
	waitPhase(t, ns, "waiting", schedv1alpha1.PodGroupPending)
	if !standby.Leading() {
		t.Error("the PodGroup was written but the former standby does not report leading")
	}
}

// createOrUpdateLease creates or updates a Lease as the admin.
func createOrUpdateLease(ctx context.Context, lease *coordinationv1.Lease, mutate func()) (bool, error) {
	err := controlPlane.Client.Get(ctx, client.ObjectKeyFromObject(lease), lease)
	mutate()
	if err == nil {
		return false, controlPlane.Client.Update(ctx, lease)
	}
	if client.IgnoreNotFound(err) != nil {
		return false, err
	}
	return true, controlPlane.Client.Create(ctx, lease)
}

// metricValue is the value of the sample named (with labels) exactly
// series in Prometheus text exposition, or 0 when absent.
func metricValue(exposition, series string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(exposition)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
