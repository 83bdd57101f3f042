// Package gang is gantry-scheduler's gang-scheduling plugin, GantryGang. Pods
// join a gang by the label scheduling.x-k8s.io/pod-group, whose value names
// a PodGroup (scheduling.x-k8s.io/v1alpha1, from scheduler-plugins) in the
// pod's namespace, as scheduler-plugins' Coscheduling and Kubeflow's training
// operator set it, or a label-only gang; or by spec.schedulingGroup, which
// names an upstream PodGroup (scheduling.k8s.io, Kubernetes' GenericWorkload
// API). Package gangs shows all three alike. A gang is placed all or nothing:
//
//   - PreEnqueue keeps a gang's pods out of the scheduling queue until its
//     PodGroup exists and it has minMember pods;
//   - QueueSort (Less) pops a gang's members one after another;
//   - PreFilter plans the whole gang against one snapshot when its first
//     member is popped (core.PlanGang), and restricts every member to its
//     planned node; places planned for a gang that has not reserved them
//     yet are kept from other gangs' plans, so two gangs never each hold
//     part of what they need;
//   - a plan that breaks (a member refused on its planned node, rejected
//     or unreserved, a wait run out) is dropped and made again when the
//     next member is popped; where the refusal came from what the planner
//     does not model (the members' anti-affinity, say), the next plans put
//     no more of the gang on that node for a while;
//   - Permit holds members until minMember of them are placed, then lets
//     them all go; a member that fails, or a wait that times out, rejects
//     every waiting member, so no partial gang is held or bound;
//   - pods outside gangs keep off the places plans hold too (Filter), unless
//     of a higher priority than the gang: otherwise the room preemption
//     made for a gang, waiting for its victims to leave, would go to the
//     first pod that fits it, and the gang would preempt again.
//
// The decisions live in pkg/scheduler/gangs/core, the gangs and their plans
// in the scheduler's shared gangs.Index; this package speaks the
// framework's interfaces.
package gang

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs/core"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gpus"
	gantrynames "github.com/gantry-gpu/gantry/pkg/scheduler/plugins/names"
	"github.com/gantry-gpu/gantry/pkg/scheduler/shared"
)

// Name is the plugin's name in the registry and in scheduler configurations.
const Name = gantrynames.Gang

const (
	stateKey fwk.StateKey = "PreFilter" + Name

	// capTTL is how long a gang's plans keep to the members a node held
	// when a planned place there failed for a reason the planner does not
	// model (see capAfter), so that the next plans do not break the same
	// way.
	capTTL = 5 * time.Minute

	// timeoutSlack tells a wait that ran out from one cut short.
	timeoutSlack = 100 * time.Millisecond

	// Event reasons on the PodGroup.
	reasonUnschedulable = "GangUnschedulable"
	reasonReleased      = "GangReleased"
)

var (
	_ fwk.PreEnqueuePlugin  = &Gang{}
	_ fwk.QueueSortPlugin   = &Gang{}
	_ fwk.PreFilterPlugin   = &Gang{}
	_ fwk.FilterPlugin      = &Gang{}
	_ fwk.PostFilterPlugin  = &Gang{}
	_ fwk.ReservePlugin     = &Gang{}
	_ fwk.PermitPlugin      = &Gang{}
	_ fwk.EnqueueExtensions = &Gang{}
)

// GPUStates gives a node's GPU state, and false for a node without a usable
// NodeGPU. New uses the scheduler's GPU cache (shared.State.GPUs, the one
// GantryGPUTopology reserves in), so plans place exact GPU sets and check
// min-link; nil plans with GPU counts (allocatable minus requested).
type GPUStates interface {
	Node(name string) (gpus.NodeState, bool)
}

// plannedSets records the set a plan chose for a member, for the plugin
// that reserves GPUs; *gpus.Cache is one.
type plannedSets interface {
	SetPlanned(uid types.UID, node string, set gpu.Set)
}

// handle is what the plugin uses of fwk.Handle.
type handle interface {
	IterateOverWaitingPods(callback func(fwk.WaitingPod))
	Activate(logger klog.Logger, pods map[string]*v1.Pod)
	EventRecorder() events.EventRecorderLogger
}

// Gang is the plugin.
type Gang struct {
	args     *GangArgs
	resource v1.ResourceName
	h        handle
	pods     corelisters.PodLister
	// members is the pod informer's indexer, with MembersIndex.
	members toolscache.Indexer
	groups  *gangs.PodGroups
	book    *core.Book
	// gpus is nil when GPUs are counted.
	gpus GPUStates
	now  func() time.Time

	// waitDeadline maps the UID of a member waiting in Permit to when
	// its wait runs out, to tell a timeout from other rejections and to
	// stop counting a member whose wait has run out.
	waitDeadline sync.Map
	// cluster is nil where the plugin does not preempt (unit tests).
	cluster cluster
	// preemptions maps a gang's key to its last *preemption.
	preemptions sync.Map
	// reclaimers gives the scheduler's Reclaimer (shared.State); nil in
	// unit tests that do not reclaim.
	reclaimers interface{ Reclaimer() shared.Reclaimer }
}

// New builds the plugin: args are validated first, so a bad configuration
// stops the scheduler at start with a message naming the field.
func New(ctx context.Context, obj runtime.Object, h fwk.Handle, ss *shared.State) (fwk.Plugin, error) {
	args, err := ParseArgs(obj)
	if err != nil {
		return nil, err
	}
	if err := ss.Attach(ctx, h, Name, v1.ResourceName(args.ResourceName)); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	index, err := ss.Gangs()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	gpus, err := ss.GPUs()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	pods := h.SharedInformerFactory().Core().V1().Pods()
	pl := newPlugin(args, h, pods.Lister(), index.MembersIndexer(), index.PodGroups, index.Plans, gpus)
	pl.cluster = h
	pl.reclaimers = ss
	return pl, nil
}

func newPlugin(args *GangArgs, h handle, pods corelisters.PodLister, members toolscache.Indexer, groups *gangs.PodGroups, book *core.Book, gpus GPUStates) *Gang {
	return &Gang{
		args:     args,
		resource: v1.ResourceName(args.ResourceName),
		h:        h,
		pods:     pods,
		members:  members,
		groups:   groups,
		book:     book,
		gpus:     gpus,
		now:      time.Now,
	}
}

// Name implements fwk.Plugin.
func (pl *Gang) Name() string { return Name }

// gangPods lists the gang's live pods.
func (pl *Gang) gangPods(namespace, name string) []*v1.Pod {
	return gangs.Members(pl.members, namespace, name)
}

// otherSchedulers describes the gang's pods, not yet bound, that name
// another scheduler than schedulerName.
func otherSchedulers(pods []*v1.Pod, schedulerName string) []string {
	var out []string
	for _, p := range pods {
		if p.Spec.NodeName == "" && p.Spec.SchedulerName != schedulerName {
			out = append(out, fmt.Sprintf("%s (%s)", p.Name, p.Spec.SchedulerName))
		}
	}
	slices.Sort(out)
	return out
}

// permitTimeout is how long the gang's members wait in Permit.
func (pl *Gang) permitTimeout(pg *schedv1alpha1.PodGroup) time.Duration {
	if s := pg.Spec.ScheduleTimeoutSeconds; s != nil && *s > 0 {
		return time.Duration(min(int64(*s), MaxPermitTimeoutSeconds)) * time.Second
	}
	return pl.args.DefaultPermitTimeout()
}

// PreEnqueue keeps a gang's pod out of the queue while its PodGroup does not
// exist or the gang has fewer than minMember pods: scheduling any of them
// could only end in a wait that times out. The pod is queued again when the
// PodGroup appears or changes (EventsToRegister) or a pod of the gang
// appears (the pod informer's handler activates the gang).
func (pl *Gang) PreEnqueue(_ context.Context, pod *v1.Pod) *fwk.Status {
	name := gangs.Of(pod)
	if name == "" {
		return nil
	}
	key := gangs.Key(pod.Namespace, name)
	pg, found := pl.groups.Get(pod.Namespace, name)
	var minMember int32
	pods := 0
	var others []string
	if found {
		minMember = pg.Spec.MinMember
		members := pl.gangPods(pod.Namespace, name)
		pods = gangs.Schedulable(members)
		others = otherSchedulers(members, pod.Spec.SchedulerName)
	}
	if ok, msg := core.Admit(key, found, minMember, pods, others); !ok {
		if !found && !pl.groups.HasSynced() {
			msg += " (PodGroups are still being listed)"
		}
		if _, err := gangs.ImplicitMinMember(pod); !found && err != nil {
			msg += "; " + err.Error()
		}
		return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, msg)
	}
	return nil
}

// Less implements QueueSort: priority, then the gang's age, then keys (see
// core.Less).
func (pl *Gang) Less(a, b fwk.QueuedEntityInfo) bool {
	return core.Less(pl.sortKey(a), pl.sortKey(b))
}

// queuedPod is what a queued single pod offers beyond fwk.QueuedEntityInfo.
type queuedPod interface {
	GetPodInfo() fwk.PodInfo
}

func (pl *Gang) sortKey(q fwk.QueuedEntityInfo) core.SortKey {
	qp, ok := q.(queuedPod)
	if !ok {
		// An upstream pod group (GenericWorkload), queued whole: by
		// priority and time, as the default sort does.
		return core.SortKey{Priority: q.GetPriority(), Time: q.GetTimestamp()}
	}
	pod := qp.GetPodInfo().GetPod()
	podKey := pod.Namespace + "/" + pod.Name
	k := core.SortKey{Priority: corev1helpers.PodPriority(pod), Time: q.GetTimestamp(), Group: podKey, Pod: podKey}
	if name := gangs.Of(pod); name != "" {
		if pg, ok := pl.groups.Get(pod.Namespace, name); ok {
			k.Time = pg.CreationTimestamp.Time
			k.Group = gangs.Key(pod.Namespace, name)
		}
	}
	return k
}
