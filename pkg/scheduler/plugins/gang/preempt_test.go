package gang

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// snapshotCluster is a cluster whose snapshot holds the given nodes.
type snapshotCluster struct{ snapshot *cache.Snapshot }

func (c snapshotCluster) SnapshotSharedLister() fwk.SharedLister { return c.snapshot }
func (c snapshotCluster) GetWaitingPod(types.UID) fwk.WaitingPod { return nil }
func (c snapshotCluster) ClientSet() kubernetes.Interface        { return nil }

// TestPreemptionMayHelp: the preemption walk runs only when some node
// refused the pod for a reason victims can cure; a PreFilter's refusal
// (every node absent with its status, say a queue's deferral) or
// unresolvable refusals everywhere skip it.
func TestPreemptionMayHelp(t *testing.T) {
	nodes := []*v1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "n0"}}, {ObjectMeta: metav1.ObjectMeta{Name: "n1"}}}
	pl := &Gang{cluster: snapshotCluster{cache.NewSnapshot(nil, nodes)}}

	prefilter := framework.NewDefaultNodeToStatus()
	prefilter.SetAbsentNodesStatus(fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "deferred by its queue"))
	if pl.preemptionMayHelp(prefilter) {
		t.Error("a PreFilter's unresolvable refusal: preemption cannot help")
	}

	unresolvable := framework.NewDefaultNodeToStatus()
	unresolvable.Set("n0", fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "node selector"))
	unresolvable.Set("n1", fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "node selector"))
	if pl.preemptionMayHelp(unresolvable) {
		t.Error("every node refused unresolvably: preemption cannot help")
	}

	full := framework.NewDefaultNodeToStatus()
	full.Set("n0", fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "node selector"))
	full.Set("n1", fwk.NewStatus(fwk.Unschedulable, "node has 2 free healthy GPUs, pod needs 4"))
	if !pl.preemptionMayHelp(full) {
		t.Error("a node short of GPUs: preemption may help")
	}

	if (&Gang{}).preemptionMayHelp(full) {
		t.Error("a plugin without a cluster (it does not preempt) reported that preemption may help")
	}
}
