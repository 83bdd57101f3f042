package podgroup

import (
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"
)

func reasons(ws []Warning) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.Reason)
	}
	return out
}

func TestProblems(t *testing.T) {
	mixed := members("", "", "", "", "", "")
	mixed[1].Spec.SchedulerName = v1.DefaultSchedulerName
	mixed[2].Spec.SchedulerName = ""
	for _, tc := range []struct {
		name      string
		minMember int32
		pods      []*v1.Pod
		want      []string
		wantNote  string
	}{
		{name: "fine", minMember: 2, pods: members("", "")},
		{name: "minMember absent", minMember: 0, pods: members(""), want: []string{ReasonInvalidMinMember}, wantNote: "spec.minMember is 0"},
		{name: "mixed schedulers", minMember: 6, pods: mixed, want: []string{ReasonMixedSchedulerNames},
			wantNote: "default-scheduler (p1, p2); gantry (p0, p3, p4 and 1 more)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Problems(podGroup(tc.minMember, ""), tc.pods)
			if strings.Join(reasons(got), ",") != strings.Join(tc.want, ",") {
				t.Fatalf("reasons = %v, want %v", reasons(got), tc.want)
			}
			if tc.wantNote != "" && !strings.Contains(got[0].Message, tc.wantNote) {
				t.Errorf("message %q does not contain %q", got[0].Message, tc.wantNote)
			}
		})
	}
}

// TestWarnerGivesEachWarningOncePerChange walks one PodGroup through
// reconciles as the controller would make them, writing each decided
// status back.
func TestWarnerGivesEachWarningOncePerChange(t *testing.T) {
	w := NewWarner(time.Minute)
	pg := podGroup(3, schedv1alpha1.PodGroupPending)
	pg.CreationTimestamp = metav1.NewTime(t0)
	step := func(at time.Duration, pods []*v1.Pod) ([]string, time.Duration) {
		t.Helper()
		now := t0.Add(at)
		d := Decide(pg, pods, now)
		ws, requeue := w.Next(pg, pods, d, now)
		pg.Status = d.Status // as the controller writes it
		return reasons(ws), requeue
	}
	expect := func(what string, got []string, want ...string) {
		t.Helper()
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: warnings %v, want %v", what, got, want)
		}
	}

	got, requeue := step(10*time.Second, members("", ""))
	expect("incomplete within the grace period", got)
	if requeue != 50*time.Second {
		t.Errorf("requeue = %v, want the 50s left of the grace period (counted from the PodGroup's creation)", requeue)
	}
	got, _ = step(61*time.Second, members("", ""))
	expect("incomplete after the grace period", got, ReasonGangIncomplete)
	got, requeue = step(90*time.Second, members("", ""))
	expect("resync, nothing changed", got)
	if requeue != 0 {
		t.Errorf("requeue after the warning = %v, want 0", requeue)
	}
	got, _ = step(95*time.Second, members("", "", "", "")[:1])
	expect("fewer members: the message changed", got, ReasonGangIncomplete)

	mixed := members("", "", "")
	mixed[2].Spec.SchedulerName = v1.DefaultSchedulerName
	got, _ = step(100*time.Second, mixed)
	expect("complete but mixed schedulers", got, ReasonMixedSchedulerNames)
	got, _ = step(110*time.Second, mixed)
	expect("resync, still mixed", got)
	got, _ = step(120*time.Second, members("", "", ""))
	expect("fixed", got)
	got, _ = step(130*time.Second, mixed)
	expect("mixed again", got, ReasonMixedSchedulerNames)

	got, requeue = step(140*time.Second, members("", ""))
	expect("incomplete again: a new grace period from now", got)
	if requeue != time.Minute {
		t.Errorf("requeue = %v, want a full grace period for a gang that was complete before", requeue)
	}

	pg.Status.Phase = schedv1alpha1.PodGroupFailed
	got, _ = step(300*time.Second, mixed)
	expect("terminal", got)

	w.Forget(pg.UID)
	if len(w.groups) != 0 {
		t.Errorf("Forget left %d PodGroups remembered", len(w.groups))
	}
}

func TestWarnerIncompleteAfterRestart(t *testing.T) {
	// A gang that was complete before (ScheduleStartTime set) and is found
	// incomplete by a fresh controller gets a full grace period, not one
	// counted from its creation long ago.
	w := NewWarner(time.Minute)
	pg := podGroup(3, schedv1alpha1.PodGroupRunning)
	pg.Status.ScheduleStartTime = metav1.NewTime(t0)
	now := t0.Add(time.Hour)
	pods := members("running")
	ws, requeue := w.Next(pg, pods, Decide(pg, pods, now), now)
	if len(ws) != 0 || requeue != time.Minute {
		t.Errorf("warnings %v, requeue %v; want none and a full minute", reasons(ws), requeue)
	}
}
