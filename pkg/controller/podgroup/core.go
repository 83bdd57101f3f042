// Package podgroup is gantry-controller's PodGroup status controller. It
// keeps the status of each scheduler-plugins PodGroup (phase, member counts,
// when scheduling started, which workloads occupy it) in step with the
// gang's member pods, records when the gang was scheduled, and warns about
// gangs that cannot work as written.
//
// The decisions are plain Go (this file and warnings.go) so they can be
// tested without a cluster; controller.go is the client-go glue.
//
// Where it differs from scheduler-plugins' PodGroup controller
// (pkg/controllers/podgroup_controller.go, v0.34.7), and why:
//   - A Scheduled phase between Scheduling and Running (see PhaseScheduled);
//     upstream's Scheduling covers both "not yet bound" and "bound, not
//     running".
//   - Failed when a member failed and the members left cannot reach
//     minMember. Upstream fails a gang on any failed member once
//     failed+running+succeeded >= minMember, so a gang with spare members
//     fails on its first failure even though it can still run.
//   - Members are the labelled pods of the PodGroup's namespace; upstream
//     lists the label across all namespaces.
//   - ScheduleStartTime is set (upstream's controller never sets it), and
//     the time the gang was scheduled is kept in an annotation.
//   - OccupiedBy from every member's owners, not the first pod listed.
//   - minMember 0 (absent) is taken as 1 with a warning; upstream would
//     call an empty group Finished at once.
//   - No 48-hour "Timeout" event for gangs stuck in Pending/Scheduling;
//     instead GangIncomplete after a minute for gangs short of members,
//     the case a person can fix.
//   - As upstream, Finished and Failed stick, and the counts freeze with
//     them (upstream stops reconciling such a PodGroup).
package podgroup

import (
	"fmt"
	"sort"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// PhaseScheduled is the phase of a gang with minMember members bound to
// nodes but fewer than minMember running. scheduler-plugins defines no
// constant for it (its controller goes from Scheduling straight to
// Running); the CRD's phase is a free string, and "bound but not yet
// running" is the state in which image pulls and init containers stall
// gangs, so it is worth telling apart.
const PhaseScheduled schedv1alpha1.PodGroupPhase = "Scheduled"

// Counts are a gang's member pods by state.
type Counts struct {
	// Members are the pods in the PodGroup's namespace that carry its
	// label, in any state and of any scheduler.
	Members int32
	// Placed are the members that have not failed and are bound to a node
	// (spec.nodeName set) or have succeeded.
	Placed int32
	// Running, Succeeded and Failed count members by pod phase.
	Running, Succeeded, Failed int32
}

// Count counts a gang's members by state.
func Count(pods []*v1.Pod) Counts {
	var c Counts
	for _, p := range pods {
		c.Members++
		switch p.Status.Phase {
		case v1.PodRunning:
			c.Running++
		case v1.PodSucceeded:
			c.Succeeded++
		case v1.PodFailed:
			c.Failed++
			continue // a failed member is never placed for the gang
		}
		if p.Spec.NodeName != "" || p.Status.Phase == v1.PodSucceeded {
			c.Placed++
		}
	}
	return c
}

// MinMember is the PodGroup's minMember as the controller uses it: a
// minMember of 0 (or absent) is taken as 1. The CRD shipped in deploy/crds
// rejects 0 but lets the field be left out; the gang plugin then admits
// every member at once and schedules each alone (no all-or-nothing), so
// the group is a set of independent pods, and the phases are most useful
// for it as "has at least one pod got there". Taken literally, 0 would
// make an empty group Finished at once (0 succeeded >= 0), which is what
// scheduler-plugins' controller does. The PodGroup also gets a Warning
// (InvalidMinMember).
func MinMember(pg *schedv1alpha1.PodGroup) int32 {
	return max(pg.Spec.MinMember, 1)
}

// Terminal reports whether a phase is final: the controller no longer
// changes a Finished or Failed PodGroup.
func Terminal(phase schedv1alpha1.PodGroupPhase) bool {
	return phase == schedv1alpha1.PodGroupFinished || phase == schedv1alpha1.PodGroupFailed
}

// Decision is what the controller wants a PodGroup to look like.
type Decision struct {
	// Status is the desired status; equal to the current one when nothing
	// changed.
	Status schedv1alpha1.PodGroupStatus
	// ScheduledTime is the value to record in ScheduledTimeAnnotation: set
	// when the gang has reached Scheduled (or later) and the annotation is
	// absent, else zero.
	ScheduledTime time.Time
	// ObserveLatency says whether ScheduledTime - Status.ScheduleStartTime
	// is a schedule latency worth recording: only when the gang was seen
	// before it was scheduled and reaches Scheduled or Running now, not a
	// gang found already Finished (its latency would include however long
	// the controller was away).
	ObserveLatency bool
	// Counts are the member counts the decision was made from.
	Counts Counts
	// MinMember is the minMember used (see MinMember).
	MinMember int32
}

// Incomplete reports whether fewer than minMember members exist.
func (d Decision) Incomplete() bool { return d.Counts.Members < d.MinMember }

// Decide computes a PodGroup's desired status from its member pods at time
// now. Phases, first match wins (m is MinMember(pg)):
//
//   - Finished and Failed are terminal: the status is left as it is.
//   - Finished: succeeded >= m.
//   - Failed: a member failed and the members that have not failed are
//     fewer than m, so the gang can no longer reach m running+succeeded
//     with the pods that exist; judged only once m members exist or have
//     existed (ScheduleStartTime set): while the gang is still being
//     created, a failed pod may yet be replaced.
//   - Pending: fewer than m members exist.
//   - Running: running + succeeded >= m.
//   - Scheduled: m members placed (bound to a node, or succeeded; failed
//     members not counted).
//   - Scheduling: otherwise (m members exist, fewer than m placed).
//
// A gang may move back (Running to Pending when members are deleted, as in
// scheduler-plugins); only the terminal phases stick.
func Decide(pg *schedv1alpha1.PodGroup, pods []*v1.Pod, now time.Time) Decision {
	d := Decision{Status: *pg.Status.DeepCopy(), Counts: Count(pods), MinMember: MinMember(pg)}
	if Terminal(pg.Status.Phase) {
		return d
	}
	c, m := d.Counts, d.MinMember
	started := !pg.Status.ScheduleStartTime.IsZero()

	var phase schedv1alpha1.PodGroupPhase
	switch {
	case c.Succeeded >= m:
		phase = schedv1alpha1.PodGroupFinished
	case c.Failed > 0 && c.Members-c.Failed < m && (c.Members >= m || started):
		phase = schedv1alpha1.PodGroupFailed
	case c.Members < m:
		phase = schedv1alpha1.PodGroupPending
	case c.Running+c.Succeeded >= m:
		phase = schedv1alpha1.PodGroupRunning
	case c.Placed >= m:
		phase = PhaseScheduled
	default:
		phase = schedv1alpha1.PodGroupScheduling
	}

	s := &d.Status
	s.Phase = phase
	s.Running, s.Succeeded, s.Failed = c.Running, c.Succeeded, c.Failed
	if occ := occupiedBy(pods); occ != "" {
		s.OccupiedBy = occ
	}
	if !started && phase != schedv1alpha1.PodGroupPending {
		s.ScheduleStartTime = metav1.NewTime(scheduleStart(pg, pods, m, now))
	}
	if scheduled(phase) && pg.Annotations[gantryv1alpha1.ScheduledTimeAnnotation] == "" {
		d.ScheduledTime = now
		switch pg.Status.Phase {
		case "", schedv1alpha1.PodGroupPending, schedv1alpha1.PodGroupScheduling:
			d.ObserveLatency = phase == PhaseScheduled || phase == schedv1alpha1.PodGroupRunning
		}
	}
	return d
}

// scheduled reports whether a phase means minMember members have been placed.
func scheduled(phase schedv1alpha1.PodGroupPhase) bool {
	switch phase {
	case PhaseScheduled, schedv1alpha1.PodGroupRunning, schedv1alpha1.PodGroupFinished:
		return true
	}
	return false
}

// scheduleStart is when the gang entered Scheduling: when its m-th member
// was created, or when the PodGroup was, if that was later. It is taken
// from the API server's timestamps rather than from when the controller
// noticed, so that the schedule latency does not depend on how far behind
// the controller runs, and a gang that a fast scheduler binds before the
// controller sees it Scheduling still gets a start time.
func scheduleStart(pg *schedv1alpha1.PodGroup, pods []*v1.Pod, m int32, now time.Time) time.Time {
	created := make([]time.Time, 0, len(pods))
	for _, p := range pods {
		created = append(created, p.CreationTimestamp.Time)
	}
	sort.Slice(created, func(i, j int) bool { return created[i].Before(created[j]) })
	start := pg.CreationTimestamp.Time
	if int(m) <= len(created) && created[m-1].After(start) {
		start = created[m-1]
	}
	if start.IsZero() || start.After(now) {
		return now
	}
	return start
}

// occupiedBy names the workloads that own the gang's members, as
// scheduler-plugins does ("namespace/ownerName", sorted, comma-separated),
// but from every member rather than the first one listed, so the value does
// not depend on list order. Empty when no member has an owner.
func occupiedBy(pods []*v1.Pod) string {
	seen := map[string]bool{}
	var refs []string
	for _, p := range pods {
		for _, o := range p.OwnerReferences {
			ref := p.Namespace + "/" + o.Name
			if !seen[ref] {
				seen[ref] = true
				refs = append(refs, ref)
			}
		}
	}
	sort.Strings(refs)
	return strings.Join(refs, ",")
}

// PhaseEvent is the event that a phase change is recorded with.
type PhaseEvent struct {
	Type, Reason, Message string
}

// PhaseChange is the event for a change from phase old to the decision's
// phase, and false when there is nothing to say: no change, or a new
// PodGroup's first phase Pending.
func PhaseChange(old schedv1alpha1.PodGroupPhase, d Decision) (PhaseEvent, bool) {
	phase := d.Status.Phase
	if phase == old || (old == "" && phase == schedv1alpha1.PodGroupPending) {
		return PhaseEvent{}, false
	}
	c, m := d.Counts, d.MinMember
	e := PhaseEvent{Type: v1.EventTypeNormal, Reason: "Gang" + string(phase)}
	switch phase {
	case schedv1alpha1.PodGroupPending:
		e.Message = fmt.Sprintf("%d of minMember %d member pods exist", c.Members, m)
	case schedv1alpha1.PodGroupScheduling:
		e.Message = fmt.Sprintf("%d member pods exist (minMember %d), %d bound to nodes", c.Members, m, c.Placed)
	case PhaseScheduled:
		e.Message = fmt.Sprintf("%d members bound to nodes (minMember %d), %d running", c.Placed, m, c.Running)
	case schedv1alpha1.PodGroupRunning:
		e.Message = fmt.Sprintf("%d members running and %d succeeded (minMember %d)", c.Running, c.Succeeded, m)
	case schedv1alpha1.PodGroupFinished:
		e.Message = fmt.Sprintf("%d members succeeded (minMember %d)", c.Succeeded, m)
	case schedv1alpha1.PodGroupFailed:
		e.Type = v1.EventTypeWarning
		e.Message = fmt.Sprintf("%d members failed: %d of %d members left cannot reach minMember %d", c.Failed, c.Members-c.Failed, c.Members, m)
	default:
		e.Message = fmt.Sprintf("phase %s", phase)
	}
	return e, true
}
