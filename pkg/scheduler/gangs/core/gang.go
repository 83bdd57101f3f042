package core

import (
	"fmt"
	"strings"
	"time"
)

// SortKey is where a pod stands in the scheduling queue.
type SortKey struct {
	Priority int32
	// Time is the PodGroup's creation time for a gang's member, and the
	// pod's queue timestamp for any other pod.
	Time time.Time
	// Group is the gang's key (namespace/PodGroup) for a member, and the
	// pod's own key for any other pod.
	Group string
	// Pod is the pod's key (namespace/name).
	Pod string
}

// Less orders the scheduling queue: higher priority first, then the older
// gang (or pod), then by key. A gang's members share priority class, time
// and group, so they leave the queue one after another: the plan made for
// the first is used by the rest before other pods take its nodes.
func Less(a, b SortKey) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	if !a.Time.Equal(b.Time) {
		return a.Time.Before(b.Time)
	}
	if a.Group != b.Group {
		return a.Group < b.Group
	}
	return a.Pod < b.Pod
}

// Admit decides whether a gang's pod may enter the scheduling queue: its
// PodGroup must exist (found), no pod of the gang may name another
// scheduler (otherSchedulers describes those that do: such a gang could
// only ever be placed in part by each), and the gang must have at least
// minMember pods that could be scheduled. The message says why not. A
// minMember of 0 (left out: the CRD refuses an explicit 0) asks for no
// quorum, as in scheduler-plugins' Coscheduling.
func Admit(gang string, found bool, minMember int32, pods int, otherSchedulers []string) (bool, string) {
	if !found {
		return false, fmt.Sprintf("PodGroup %s not found", gang)
	}
	if len(otherSchedulers) > 0 {
		return false, fmt.Sprintf("gang %s: pods %s name another scheduler; every pod of a gang must have the same schedulerName",
			gang, strings.Join(otherSchedulers, ", "))
	}
	if int64(pods) < int64(minMember) {
		return false, fmt.Sprintf("gang %s has %d of minMember %d pods", gang, pods, minMember)
	}
	return true, ""
}

// Quorum counts the distinct members found in sets (for Permit: the bound
// members, those past Reserve, those waiting in Permit and the pod itself)
// and reports whether they reach minMember.
func Quorum(minMember int32, sets ...[]string) (int, bool) {
	seen := map[string]struct{}{}
	for _, s := range sets {
		for _, m := range s {
			seen[m] = struct{}{}
		}
	}
	return len(seen), int64(len(seen)) >= int64(minMember)
}
