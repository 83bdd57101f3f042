package podgroup

import (
	"fmt"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

var t0 = time.Date(2025, 6, 1, 11, 0, 0, 0, time.UTC)

// member is a gang member: state is "" (pending, unbound), "bound",
// "running", "succeeded" or "failed" (the last three bound too).
func member(name, state string, createdAt time.Duration) *v1.Pod {
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: "ns",
		Labels:            map[string]string{schedv1alpha1.PodGroupLabel: "pg"},
		CreationTimestamp: metav1.NewTime(t0.Add(createdAt)),
	}}
	p.Spec.SchedulerName = "gantry"
	p.Status.Phase = v1.PodPending
	switch state {
	case "":
	case "bound":
		p.Spec.NodeName = "n1"
	case "running":
		p.Spec.NodeName, p.Status.Phase = "n1", v1.PodRunning
	case "succeeded":
		p.Spec.NodeName, p.Status.Phase = "n1", v1.PodSucceeded
	case "failed":
		p.Spec.NodeName, p.Status.Phase = "n1", v1.PodFailed
	default:
		panic("unknown state " + state)
	}
	return p
}

// members makes one member per state, created a second apart.
func members(states ...string) []*v1.Pod {
	out := make([]*v1.Pod, len(states))
	for i, s := range states {
		out[i] = member(fmt.Sprintf("p%d", i), s, time.Duration(i)*time.Second)
	}
	return out
}

func podGroup(minMember int32, phase schedv1alpha1.PodGroupPhase) *schedv1alpha1.PodGroup {
	pg := &schedv1alpha1.PodGroup{ObjectMeta: metav1.ObjectMeta{
		Name: "pg", Namespace: "ns", UID: "uid-pg",
		CreationTimestamp: metav1.NewTime(t0.Add(-time.Minute)),
	}}
	pg.Spec.MinMember = minMember
	pg.Status.Phase = phase
	return pg
}

func TestDecidePhase(t *testing.T) {
	const (
		pending    = schedv1alpha1.PodGroupPending
		scheduling = schedv1alpha1.PodGroupScheduling
		scheduled  = PhaseScheduled
		running    = schedv1alpha1.PodGroupRunning
		finished   = schedv1alpha1.PodGroupFinished
		failed     = schedv1alpha1.PodGroupFailed
	)
	for _, tc := range []struct {
		name      string
		minMember int32
		current   schedv1alpha1.PodGroupPhase
		started   bool // ScheduleStartTime set
		pods      []*v1.Pod
		want      schedv1alpha1.PodGroupPhase
	}{
		{name: "new group, no pods", minMember: 3, want: pending},
		{name: "fewer than minMember pods", minMember: 3, current: pending, pods: members("", ""), want: pending},
		{name: "minMember pods, none bound", minMember: 3, current: pending, pods: members("", "", ""), want: scheduling},
		{name: "minMember pods, some bound", minMember: 3, current: scheduling, pods: members("bound", "bound", ""), want: scheduling},
		{name: "more pods than minMember, minMember bound", minMember: 2, current: scheduling, pods: members("bound", "", "bound"), want: scheduled},
		{name: "all bound, some running", minMember: 3, current: scheduling, pods: members("bound", "running", "running"), want: scheduled},
		{name: "minMember running", minMember: 3, current: scheduled, pods: members("running", "running", "running"), want: running},
		{name: "running plus succeeded reach minMember", minMember: 3, current: running, pods: members("running", "succeeded", "running"), want: running},
		{name: "succeeded reach minMember", minMember: 3, current: running, pods: members("succeeded", "succeeded", "succeeded"), want: finished},
		{name: "succeeded reach minMember with one failed", minMember: 2, current: running, pods: members("succeeded", "succeeded", "failed"), want: finished},
		{name: "skips straight to Running", minMember: 2, pods: members("running", "running"), want: running},
		{name: "members deleted: back to Pending", minMember: 3, current: running, started: true, pods: members("running", "running"), want: pending},

		// Failed: the members that have not failed cannot reach minMember.
		{name: "one failed of exactly minMember", minMember: 3, current: running, started: true, pods: members("running", "running", "failed"), want: failed},
		{name: "one failed, spares reach minMember", minMember: 2, current: running, started: true, pods: members("running", "running", "failed"), want: running},
		{name: "one failed, its replacement not bound yet", minMember: 3, current: running, started: true, pods: members("running", "running", "failed", ""), want: scheduling},
		{name: "failed while the gang is still being created", minMember: 3, current: pending, pods: members("failed", ""), want: pending},
		{name: "failed after the gang existed, members deleted", minMember: 3, current: pending, started: true, pods: members("failed", "running"), want: failed},
		{name: "failed members are not placed", minMember: 2, current: scheduling, started: true, pods: members("failed", "bound", "", ""), want: scheduling},

		// Terminal phases stick.
		{name: "Finished stays", minMember: 2, current: finished, started: true, pods: members("", ""), want: finished},
		{name: "Failed stays", minMember: 2, current: failed, started: true, pods: members("running", "running"), want: failed},

		// minMember 0 counts as 1.
		{name: "minMember 0, no pods", minMember: 0, want: pending},
		{name: "minMember 0, one running", minMember: 0, current: pending, pods: members("running", ""), want: running},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pg := podGroup(tc.minMember, tc.current)
			if tc.started {
				pg.Status.ScheduleStartTime = metav1.NewTime(t0)
			}
			d := Decide(pg, tc.pods, t0.Add(time.Hour))
			if d.Status.Phase != tc.want {
				t.Errorf("phase = %q, want %q (counts %+v)", d.Status.Phase, tc.want, d.Counts)
			}
		})
	}
}

func TestDecideCounts(t *testing.T) {
	pg := podGroup(2, schedv1alpha1.PodGroupScheduling)
	d := Decide(pg, members("running", "succeeded", "failed", "bound", "", "running"), t0)
	want := Counts{Members: 6, Placed: 4, Running: 2, Succeeded: 1, Failed: 1}
	if d.Counts != want {
		t.Errorf("counts = %+v, want %+v", d.Counts, want)
	}
	s := d.Status
	if s.Running != 2 || s.Succeeded != 1 || s.Failed != 1 {
		t.Errorf("status counts running/succeeded/failed = %d/%d/%d, want 2/1/1", s.Running, s.Succeeded, s.Failed)
	}
}

func TestDecideScheduleStartTime(t *testing.T) {
	now := t0.Add(time.Hour)
	for _, tc := range []struct {
		name    string
		pg      func() *schedv1alpha1.PodGroup
		pods    []*v1.Pod
		want    time.Time
		wantSet bool
	}{{
		name: "not while Pending",
		pg:   func() *schedv1alpha1.PodGroup { return podGroup(3, schedv1alpha1.PodGroupPending) },
		pods: members("", ""),
	}, {
		name: "the minMember-th member's creation",
		pg:   func() *schedv1alpha1.PodGroup { return podGroup(2, schedv1alpha1.PodGroupPending) },
		// created at t0, t0+1s, t0+2s: the second completed the gang.
		pods: members("", "", ""), want: t0.Add(time.Second), wantSet: true,
	}, {
		name: "the PodGroup's creation if it came after the pods",
		pg: func() *schedv1alpha1.PodGroup {
			pg := podGroup(2, schedv1alpha1.PodGroupPending)
			pg.CreationTimestamp = metav1.NewTime(t0.Add(10 * time.Second))
			return pg
		},
		pods: members("", ""), want: t0.Add(10 * time.Second), wantSet: true,
	}, {
		name: "kept once set",
		pg: func() *schedv1alpha1.PodGroup {
			pg := podGroup(2, schedv1alpha1.PodGroupScheduling)
			pg.Status.ScheduleStartTime = metav1.NewTime(t0.Add(-time.Hour))
			return pg
		},
		pods: members("bound", "bound", "bound"), want: t0.Add(-time.Hour), wantSet: true,
	}, {
		name: "never after now",
		pg:   func() *schedv1alpha1.PodGroup { return podGroup(1, schedv1alpha1.PodGroupPending) },
		pods: []*v1.Pod{member("future", "", 2*time.Hour)}, want: now, wantSet: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := Decide(tc.pg(), tc.pods, now).Status.ScheduleStartTime
			if got.IsZero() != !tc.wantSet || (tc.wantSet && !got.Time.Equal(tc.want)) {
				t.Errorf("scheduleStartTime = %v (zero %v), want %v (set %v)", got, got.IsZero(), tc.want, tc.wantSet)
			}
		})
	}
}

func TestDecideScheduledTime(t *testing.T) {
	now := t0.Add(time.Hour)
	for _, tc := range []struct {
		name        string
		current     schedv1alpha1.PodGroupPhase
		annotated   bool
		pods        []*v1.Pod
		wantSet     bool
		wantLatency bool
	}{
		{name: "not while Scheduling", current: schedv1alpha1.PodGroupPending, pods: members("bound", "")},
		{name: "on reaching Scheduled", current: schedv1alpha1.PodGroupScheduling, pods: members("bound", "bound"), wantSet: true, wantLatency: true},
		{name: "on reaching Running from Pending", current: schedv1alpha1.PodGroupPending, pods: members("running", "running"), wantSet: true, wantLatency: true},
		{name: "a new group found running", current: "", pods: members("running", "running"), wantSet: true, wantLatency: true},
		{name: "found Finished: time set, latency not observed", current: schedv1alpha1.PodGroupRunning, pods: members("succeeded", "succeeded"), wantSet: true},
		{name: "Running without the annotation (set by a controller that lost it): no latency", current: schedv1alpha1.PodGroupRunning, pods: members("running", "running"), wantSet: true},
		{name: "set once", current: PhaseScheduled, annotated: true, pods: members("running", "running")},
		{name: "not on failure", current: schedv1alpha1.PodGroupScheduling, pods: members("failed", "bound")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pg := podGroup(2, tc.current)
			if tc.annotated {
				pg.Annotations = map[string]string{gantryv1alpha1.ScheduledTimeAnnotation: t0.Format(time.RFC3339)}
			}
			d := Decide(pg, tc.pods, now)
			if got := !d.ScheduledTime.IsZero(); got != tc.wantSet {
				t.Errorf("scheduled time set = %v, want %v (phase %s)", got, tc.wantSet, d.Status.Phase)
			}
			if tc.wantSet && !d.ScheduledTime.Equal(now) {
				t.Errorf("scheduled time = %v, want now %v", d.ScheduledTime, now)
			}
			if d.ObserveLatency != tc.wantLatency {
				t.Errorf("observe latency = %v, want %v", d.ObserveLatency, tc.wantLatency)
			}
		})
	}
}

func TestDecideOccupiedBy(t *testing.T) {
	pods := members("", "", "")
	pods[0].OwnerReferences = []metav1.OwnerReference{{Name: "job-b"}}
	pods[1].OwnerReferences = []metav1.OwnerReference{{Name: "job-a"}}
	pods[2].OwnerReferences = []metav1.OwnerReference{{Name: "job-b"}}
	d := Decide(podGroup(3, schedv1alpha1.PodGroupPending), pods, t0)
	if want := "ns/job-a,ns/job-b"; d.Status.OccupiedBy != want {
		t.Errorf("occupiedBy = %q, want %q", d.Status.OccupiedBy, want)
	}

	pg := podGroup(3, schedv1alpha1.PodGroupPending)
	pg.Status.OccupiedBy = "ns/old"
	if d := Decide(pg, members("", ""), t0); d.Status.OccupiedBy != "ns/old" {
		t.Errorf("members without owners changed occupiedBy to %q, want it kept", d.Status.OccupiedBy)
	}
}

func TestDecideTerminalKeepsStatus(t *testing.T) {
	pg := podGroup(2, schedv1alpha1.PodGroupFailed)
	pg.Status.Failed, pg.Status.Running = 1, 1
	d := Decide(pg, members("running", "running", "running"), t0)
	if d.Status.Running != 1 || d.Status.Failed != 1 || !d.ScheduledTime.IsZero() {
		t.Errorf("a Failed PodGroup's status changed: %+v (scheduled time %v)", d.Status, d.ScheduledTime)
	}
}

func TestPhaseChange(t *testing.T) {
	d := func(phase schedv1alpha1.PodGroupPhase, pods ...string) Decision {
		return Decision{Status: schedv1alpha1.PodGroupStatus{Phase: phase}, Counts: Count(members(pods...)), MinMember: 2}
	}
	for _, tc := range []struct {
		old        schedv1alpha1.PodGroupPhase
		d          Decision
		wantReason string
		wantType   string
		wantNote   string
	}{
		{old: "", d: d(schedv1alpha1.PodGroupPending)},
		{old: schedv1alpha1.PodGroupRunning, d: d(schedv1alpha1.PodGroupRunning, "running", "running")},
		{old: schedv1alpha1.PodGroupPending, d: d(schedv1alpha1.PodGroupScheduling, "", ""), wantReason: "GangScheduling", wantType: v1.EventTypeNormal, wantNote: "2 member pods exist (minMember 2), 0 bound to nodes"},
		{old: schedv1alpha1.PodGroupScheduling, d: d(PhaseScheduled, "bound", "bound"), wantReason: "GangScheduled", wantType: v1.EventTypeNormal, wantNote: "2 members bound to nodes (minMember 2), 0 running"},
		{old: "", d: d(schedv1alpha1.PodGroupRunning, "running", "running"), wantReason: "GangRunning", wantType: v1.EventTypeNormal},
		{old: schedv1alpha1.PodGroupRunning, d: d(schedv1alpha1.PodGroupFinished, "succeeded", "succeeded"), wantReason: "GangFinished", wantType: v1.EventTypeNormal},
		{old: schedv1alpha1.PodGroupRunning, d: d(schedv1alpha1.PodGroupFailed, "running", "failed"), wantReason: "GangFailed", wantType: v1.EventTypeWarning, wantNote: "1 members failed: 1 of 2 members left cannot reach minMember 2"},
		{old: schedv1alpha1.PodGroupRunning, d: d(schedv1alpha1.PodGroupPending, "running"), wantReason: "GangPending", wantType: v1.EventTypeNormal, wantNote: "1 of minMember 2 member pods exist"},
	} {
		e, ok := PhaseChange(tc.old, tc.d)
		if ok != (tc.wantReason != "") || e.Reason != tc.wantReason || e.Type != tc.wantType {
			t.Errorf("PhaseChange(%q -> %q) = %+v, %v; want reason %q type %q", tc.old, tc.d.Status.Phase, e, ok, tc.wantReason, tc.wantType)
		}
		if tc.wantNote != "" && e.Message != tc.wantNote {
			t.Errorf("PhaseChange(%q -> %q) message = %q, want %q", tc.old, tc.d.Status.Phase, e.Message, tc.wantNote)
		}
	}
}
