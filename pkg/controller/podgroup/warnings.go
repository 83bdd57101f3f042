package podgroup

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"
)

// Reasons of the Warning events about gangs that cannot work as written.
const (
	// ReasonInvalidMinMember: spec.minMember is 0 or absent.
	ReasonInvalidMinMember = "InvalidMinMember"
	// ReasonMixedSchedulerNames: members name different schedulers, so no
	// one scheduler can place the gang all-or-nothing.
	ReasonMixedSchedulerNames = "MixedSchedulerNames"
	// ReasonGangIncomplete: fewer than minMember members have existed for
	// longer than the grace period; the gang will not be scheduled.
	ReasonGangIncomplete = "GangIncomplete"
)

// Warning is a Warning event to record on a PodGroup.
type Warning struct {
	Reason, Message string
}

// namesListed is how many pod names a MixedSchedulerNames message lists per
// scheduler; events are read by people, and gangs can have hundreds.
const namesListed = 3

// Problems lists what is wrong with a gang as written, independent of time.
func Problems(pg *schedv1alpha1.PodGroup, pods []*v1.Pod) []Warning {
	var out []Warning
	if pg.Spec.MinMember <= 0 {
		out = append(out, Warning{ReasonInvalidMinMember, fmt.Sprintf(
			"spec.minMember is %d: the gang plugin places each member on its own (no all-or-nothing); status is kept as for minMember 1", pg.Spec.MinMember)})
	}
	bySched := map[string][]string{}
	for _, p := range pods {
		name := p.Spec.SchedulerName
		if name == "" {
			name = v1.DefaultSchedulerName
		}
		bySched[name] = append(bySched[name], p.Name)
	}
	if len(bySched) > 1 {
		scheds := make([]string, 0, len(bySched))
		for s := range bySched {
			scheds = append(scheds, s)
		}
		sort.Strings(scheds)
		parts := make([]string, 0, len(scheds))
		for _, s := range scheds {
			names := bySched[s]
			sort.Strings(names)
			list := strings.Join(names[:min(len(names), namesListed)], ", ")
			if len(names) > namesListed {
				list += fmt.Sprintf(" and %d more", len(names)-namesListed)
			}
			parts = append(parts, fmt.Sprintf("%s (%s)", s, list))
		}
		out = append(out, Warning{ReasonMixedSchedulerNames, fmt.Sprintf(
			"members name different schedulers, so no one scheduler places the gang all-or-nothing: %s", strings.Join(parts, "; "))})
	}
	return out
}

// Warner decides which warnings to give about each PodGroup, and gives
// each once per change: a warning is given again only when its message
// changes (the facts it names changed) or after its condition cleared and
// came back, never on a resync. It remembers in memory only, so a new
// leader gives the current warnings once more. Safe for concurrent use.
type Warner struct {
	// IncompleteAfter is how long a gang may have fewer than minMember
	// members before GangIncomplete: pods of a Job are created over a few
	// seconds, and a warning for each gang being created would be noise.
	IncompleteAfter time.Duration

	mu     sync.Mutex
	groups map[types.UID]*warned
}

type warned struct {
	// incompleteSince is when the gang was first seen with fewer than
	// minMember members; zero while it has enough.
	incompleteSince time.Time
	// given maps the reasons given to their messages.
	given map[string]string
}

// NewWarner returns a Warner with the given GangIncomplete grace period.
func NewWarner(incompleteAfter time.Duration) *Warner {
	return &Warner{IncompleteAfter: incompleteAfter, groups: map[types.UID]*warned{}}
}

// Next returns the warnings to give about pg now, and, when a warning may
// become due without any change to the PodGroup or its pods, after how
// long to look again (else 0).
func (w *Warner) Next(pg *schedv1alpha1.PodGroup, pods []*v1.Pod, d Decision, now time.Time) ([]Warning, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if Terminal(d.Status.Phase) {
		// Nothing left to act on.
		delete(w.groups, pg.UID)
		return nil, 0
	}
	g := w.groups[pg.UID]
	if g == nil {
		g = &warned{given: map[string]string{}}
		w.groups[pg.UID] = g
	}

	current := Problems(pg, pods)
	var requeue time.Duration
	if d.Incomplete() {
		if g.incompleteSince.IsZero() {
			// A gang that has never been complete has been incomplete
			// since it was created; one that was complete before (and
			// lost members while this controller was away) since now.
			g.incompleteSince = now
			if pg.Status.ScheduleStartTime.IsZero() && !pg.CreationTimestamp.IsZero() && pg.CreationTimestamp.Time.Before(now) {
				g.incompleteSince = pg.CreationTimestamp.Time
			}
		}
		if waited := now.Sub(g.incompleteSince); waited >= w.IncompleteAfter {
			current = append(current, Warning{ReasonGangIncomplete, fmt.Sprintf(
				"only %d of minMember %d member pods exist after %s; the gang is not scheduled until %d more are created",
				d.Counts.Members, d.MinMember, w.IncompleteAfter, d.MinMember-d.Counts.Members)})
		} else {
			requeue = w.IncompleteAfter - waited
		}
	} else {
		g.incompleteSince = time.Time{}
	}

	var out []Warning
	active := map[string]bool{}
	for _, wr := range current {
		active[wr.Reason] = true
		if g.given[wr.Reason] != wr.Message {
			g.given[wr.Reason] = wr.Message
			out = append(out, wr)
		}
	}
	for reason := range g.given {
		if !active[reason] {
			// Cleared: give it again if it comes back.
			delete(g.given, reason)
		}
	}
	return out, requeue
}

// Forget drops what the Warner remembers about a deleted PodGroup.
func (w *Warner) Forget(uid types.UID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.groups, uid)
}
