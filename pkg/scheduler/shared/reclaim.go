package shared

import (
	"sync/atomic"

	v1 "k8s.io/api/core/v1"
)

// ReclaimPolicy is what a Reclaimer allows a workload to take back: pods of
// other queues that run on capacity they borrowed, never taking a queue
// below its guarantee.
type ReclaimPolicy struct {
	// For says, in events, what the room is reclaimed for ("the guarantee
	// of queue inference").
	For string
	// Victim says whether a running pod may be taken, and the budgets its
	// GPUs count against. A gang is a candidate only if every running pod
	// of it may be taken.
	Victim func(pod *v1.Pod) (budgets []string, ok bool)
	// Budgets are how many GPUs each budget may lose.
	Budgets map[string]int
}

// Reclaimer offers victims beyond priority to the plugin that preempts for
// gangs: the queue plugin registers one (SetReclaimer), so that a workload
// within its queue's guarantee takes back what other queues borrowed,
// whatever their priorities.
type Reclaimer interface {
	// ReclaimPolicy is the policy for making room for pods (a gang's
	// unplaced members, or one pod), or nil when they may not reclaim.
	ReclaimPolicy(pods []*v1.Pod) *ReclaimPolicy
}

type reclaimerSlot struct{ atomic.Pointer[Reclaimer] }

// SetReclaimer registers the scheduler's Reclaimer; the first one set is
// kept (every profile's queue plugin decides alike).
func (s *State) SetReclaimer(r Reclaimer) {
	s.reclaimer.CompareAndSwap(nil, &r)
}

// Reclaimer returns the scheduler's Reclaimer, nil when none registered.
func (s *State) Reclaimer() Reclaimer {
	if p := s.reclaimer.Load(); p != nil {
		return *p
	}
	return nil
}
