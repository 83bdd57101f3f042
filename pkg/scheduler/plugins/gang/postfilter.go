package gang

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/names"

	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs"
	gantrynames "github.com/gantry-gpu/gantry/pkg/scheduler/plugins/names"
)

// PostFilter runs when a gang member fits no node: its planned node no
// longer fits it (other plugins' Filter said so), or the gang could not be
// planned. The plan is dropped and every waiting member released. Plan
// failures are UnschedulableAndUnresolvable on every node, so
// DefaultPreemption (which the default profile runs before this plugin)
// finds no victims for one member of a gang that cannot be placed whole.
func (pl *Gang) PostFilter(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, statuses fwk.NodeToStatusReader) (*fwk.PostFilterResult, *fwk.Status) {
	name := gangs.Of(pod)
	if name == "" {
		if !pl.preemptionMayHelp(statuses) {
			// A PreFilter refused the pod (its queue deferred it, say)
			// or every node's refusal is one no victim can cure: the
			// walk over every pod preemption needs would be in vain.
			return nil, fwk.NewStatus(fwk.Unschedulable)
		}
		msg, node, err := pl.preemptForPod(ctx, pod)
		if err != nil {
			return nil, fwk.AsStatus(fmt.Errorf("preempting for pod %s: %w", klog.KObj(pod), err))
		}
		if node != "" {
			return framework.NewPostFilterResultWithNominatedNode(node), fwk.NewStatus(fwk.Unschedulable, msg)
		}
		return nil, fwk.NewStatus(fwk.Unschedulable, msg)
	}
	logger := klog.FromContext(ctx)
	key := gangs.Key(pod.Namespace, name)
	s := readState(cs)
	if s == nil {
		// Another plugin's PreFilter refused the member before this
		// plugin saw it: the gang cannot be completed without it.
		return pl.memberRefused(logger, pod, key, statuses.Get(""))
	}
	if s.node == "" {
		// This plugin's PreFilter refused the pod and said why; if for
		// lack of room, lower-priority pods may make way.
		if s.noRoom {
			if pg, ok := pl.groups.Get(pod.Namespace, name); ok {
				msg, err := pl.preemptForGang(ctx, pod, pg)
				if err != nil {
					return nil, fwk.AsStatus(fmt.Errorf("preempting for gang %s: %w", key, err))
				}
				if msg != "" {
					return nil, fwk.NewStatus(fwk.Unschedulable, msg)
				}
			}
		}
		return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable)
	}
	reason := "it was filtered out"
	if st := statuses.Get(s.node); st != nil {
		if msg := st.Message(); msg != "" {
			reason = msg
		}
		if capAfter(st) {
			// The planner does not model what rejected the pod there
			// (say, the members' anti-affinity to each other): for a
			// while, the next plans put no more of the gang on the node
			// than it holds now, so they do not break the same way.
			there := len(pl.membersOn(pod.Namespace, name)[s.node])
			pl.book.Cap(key, s.node, there, pl.now().Add(capTTL))
		}
	}
	msg := fmt.Sprintf("gang %s: planned node %s does not fit pod %s: %s; planning the gang again", key, s.node, pod.Name, reason)
	dropped := pl.book.Drop(key)
	rejected := pl.rejectWaiting(logger, key, pod.UID, msg)
	if dropped || rejected > 0 {
		pl.activateBlocked(logger, key)
	}
	logger.V(2).Info("Gang plan broke", "gang", key, "pod", klog.KObj(pod), "node", s.node, "reason", reason, "rejectedWaiting", rejected)
	return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, msg)
}

// preemptionMayHelp reports whether some node refused the pod for a
// reason preemption can cure (Unschedulable, not UnschedulableAndUnresolvable;
// a PreFilter's refusal marks every node with its own status).
func (pl *Gang) preemptionMayHelp(statuses fwk.NodeToStatusReader) bool {
	if pl.cluster == nil {
		return false
	}
	nodes, err := statuses.NodesForStatusCode(pl.cluster.SnapshotSharedLister().NodeInfos(), fwk.Unschedulable)
	return err != nil || len(nodes) > 0
}

// memberRefused releases a gang whose member was refused, by status st,
// before this plugin planned it. A refusal that no cluster event can cure
// (UnschedulableAndUnresolvable) blocks the gang's plans until the member
// passes, so its siblings are not placed and held in vain meanwhile.
func (pl *Gang) memberRefused(logger klog.Logger, pod *v1.Pod, key string, st *fwk.Status) (*fwk.PostFilterResult, *fwk.Status) {
	reason := "refused by another plugin"
	if st != nil && st.Message() != "" {
		reason = st.Message()
	}
	if st != nil && st.Code() == fwk.UnschedulableAndUnresolvable {
		pl.book.Block(key, string(pod.UID), reason)
	}
	msg := fmt.Sprintf("gang %s: member %s cannot be scheduled: %s", key, pod.Name, reason)
	dropped := pl.book.Drop(key)
	rejected := pl.rejectWaiting(logger, key, pod.UID, msg)
	if dropped || rejected > 0 {
		pl.activateBlocked(logger, key)
	}
	logger.V(2).Info("Gang member refused before planning", "gang", key, "pod", klog.KObj(pod), "reason", reason, "rejectedWaiting", rejected)
	return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, msg)
}

// capAfter reports whether the gang's plans should cap its members on a
// node where a member's planned place failed with status st. The planner
// counts resources and GPUs as NodeResourcesFit and GantryGPUTopology do,
// and checks node affinity, taints and cordons: when those reject a
// planned place, the snapshot has moved on, and a fresh plan sees it.
// Anything else (pod affinity and anti-affinity, topology spread, ports,
// volumes) it does not model, and the same plan would break again.
func capAfter(st *fwk.Status) bool {
	switch st.Plugin() {
	case names.NodeResourcesFit, gantrynames.GPUTopology:
		return st.Code() == fwk.UnschedulableAndUnresolvable
	case names.NodeAffinity, names.TaintToleration, names.NodeUnschedulable:
		return false
	}
	return st.IsRejected()
}
