package queue

import (
	v1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/utils/ptr"

	"github.com/gantry-gpu/gantry/pkg/scheduler/queues/core"
	"github.com/gantry-gpu/gantry/pkg/scheduler/shared"
)

// ReclaimPolicy implements shared.Reclaimer: pods (a gang's unplaced
// members, or one pod, all of one workload) that found no room may take it
// back from queues above their guarantees (core.NewReclaim): all they hold
// beyond it when the workload stays within its queue's guarantee and every
// ancestor's; with args fairShareReclaim, when it borrows, what keeps their
// weighted share no lower than its queue's once admitted. A workload whose
// queue is deferred (another queue is owed the room) reclaims nothing.
// Pods already terminating do not count as usage here: they are leaving
// anyway.
func (pl *Plugin) ReclaimPolicy(pods []*v1.Pod) *shared.ReclaimPolicy {
	if len(pods) == 0 {
		return nil
	}
	tree := pl.acct.Tree()
	queueName, source := pl.workloadQueue(pods[0])
	if !core.Governed(tree, core.Workload{Queue: queueName, Source: source}, pl.opts) {
		return nil
	}
	demand := v1.ResourceList{}
	for _, p := range pods {
		core.AddTo(demand, pl.requests(p))
	}
	snap := pl.acct.Snapshot()
	for q, l := range snap.Leaving {
		core.Sub(snap.Own, q, l)
	}
	rolled := tree.Rollup(snap.Own)
	r := core.NewReclaim(tree, rolled, core.ReclaimRequest{
		Queue:     queueName,
		Demand:    demand,
		Priority:  corev1helpers.PodPriority(pods[0]),
		Resource:  v1.ResourceName(pl.args.ResourceName),
		FairShare: ptr.Deref(pl.args.FairShareReclaim, false),
	})
	if r == nil || (!r.ForGuarantee() && pl.deferred.Blocked(queueName) != "") {
		return nil
	}
	why := "the fair share of queue " + queueName
	if r.ForGuarantee() {
		why = "the guarantee of queue " + queueName
	}
	return &shared.ReclaimPolicy{
		For: why,
		Victim: func(p *v1.Pod) ([]string, bool) {
			q, src := pl.workloadQueue(p)
			if !core.Governed(tree, core.Workload{Queue: q, Source: src}, pl.opts) {
				return nil, false
			}
			return r.Victim(q, corev1helpers.PodPriority(p))
		},
		Budgets: r.Budgets(),
	}
}
