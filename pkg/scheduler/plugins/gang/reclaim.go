package gang

import (
	"context"
	"sync/atomic"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/gantry-gpu/gantry/pkg/scheduler/shared"
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

// Reclaimer offers GantryGang victims beyond priority: GantryQueue
// registers one, so that a workload within its queue's guarantee takes
// back what other queues borrowed, whatever their priorities.
type Reclaimer interface {
	// ReclaimPolicy is the policy for making room for pods (a gang's
	// unplaced members, or one pod), or nil when they may not reclaim.
	ReclaimPolicy(pods []*v1.Pod) *ReclaimPolicy
}

// reclaimerSlot holds the scheduler's Reclaimer, if one is registered.
type reclaimerSlot struct{ atomic.Pointer[Reclaimer] }

func (s *reclaimerSlot) get() Reclaimer {
	if p := s.Load(); p != nil {
		return *p
	}
	return nil
}

// SetReclaimer registers r as the Reclaimer of the scheduler of h: its
// GantryGang plugins try reclaim before preemption by priority.
func SetReclaimer(ctx context.Context, h fwk.Handle, ss *shared.State, r Reclaimer) error {
	st, err := sharedState(ctx, h, ss)
	if err != nil {
		return err
	}
	st.reclaimer.Store(&r)
	return nil
}
