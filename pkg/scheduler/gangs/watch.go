package gangs

import (
	"fmt"
	"maps"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"
	splisters "sigs.k8s.io/scheduler-plugins/pkg/generated/listers/scheduling/v1alpha1"

	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs/core"
)

// Index is one scheduler's gangs: their PodGroups, their members (the
// scheduler's pod informer, indexed by MembersIndex), their plans, and
// their activation. The informers' handlers keep it current and activate
// gangs held back until they may pass.
type Index struct {
	logger    klog.Logger
	PodGroups *PodGroups
	Plans     *core.Book
	members   toolscache.Indexer
	activator Activator
}

// NewIndex returns an index over the PodGroups in podGroups and the pods
// in pods (an informer, indexed here by MembersIndex), that activates
// gangs through activator. Watch starts feeding it.
func NewIndex(logger klog.Logger, podGroups splisters.PodGroupLister, pods toolscache.SharedIndexInformer, activator Activator) (*Index, error) {
	if err := pods.AddIndexers(toolscache.Indexers{MembersIndex: MembersIndexFunc}); err != nil {
		return nil, fmt.Errorf("indexing pods by gang: %w", err)
	}
	return &Index{
		logger:    logger,
		PodGroups: NewPodGroups(logger, podGroups),
		Plans:     core.NewBook(nil),
		members:   pods.GetIndexer(),
		activator: activator,
	}, nil
}

// Members lists the gang's live pods.
func (x *Index) Members(namespace, name string) []*v1.Pod {
	return Members(x.members, namespace, name)
}

// MembersIndexer is the pod informer's indexer, with MembersIndex.
func (x *Index) MembersIndexer() toolscache.Indexer { return x.members }

// Activate moves the gang's pending pods to the active queue.
func (x *Index) Activate(logger klog.Logger, key string) {
	Activate(logger, x.activator, x.members, key)
}

// Watch feeds the index from the pod and scheduler-plugins PodGroup
// informers (WatchUpstream adds the upstream PodGroups). Both also
// activate gangs whose pods PreEnqueue held back, once they may pass.
func (x *Index) Watch(pods, podGroups toolscache.SharedIndexInformer) error {
	if _, err := pods.AddEventHandler(toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    x.onPodAdd,
		UpdateFunc: x.onPodUpdate,
		DeleteFunc: x.onPodDelete,
	}); err != nil {
		return fmt.Errorf("watching pods: %w", err)
	}
	reg, err := podGroups.AddEventHandler(toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    x.onPodGroupAdd,
		UpdateFunc: x.onPodGroupUpdate,
		DeleteFunc: x.onPodGroupDelete,
	})
	if err != nil {
		return fmt.Errorf("watching PodGroups: %w", err)
	}
	x.PodGroups.SetSyncedFunc(reg.HasSynced)
	return nil
}

// activateIfComplete activates the gang's pending pods if PreEnqueue now
// lets them pass: the queue does not run queueing hints for unscheduled
// pods that are added, so nothing else would tell the pods held back before.
func (x *Index) activateIfComplete(namespace, name string) {
	pg, ok := x.PodGroups.Get(namespace, name)
	if !ok || int64(Schedulable(x.Members(namespace, name))) < int64(pg.Spec.MinMember) {
		return
	}
	x.Activate(x.logger, Key(namespace, name))
}

// setImplicit records the label-only gang of a pod, if any.
func (x *Index) setImplicit(pod *v1.Pod) {
	if err := x.PodGroups.SetImplicit(pod); err != nil {
		x.logger.V(2).Info("Pod of a label-only gang has a bad label", "pod", klog.KObj(pod), "err", err)
	}
}

// onPodAdd activates the gang a pod completes. Pods of the informer's
// initial list too: after a scheduler restart every pod arrives in it, one
// at a time, and a member queued before its last sibling reached the
// informer was held back by PreEnqueue with nothing else to wake it.
func (x *Index) onPodAdd(obj any, _ bool) {
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	x.setImplicit(pod)
	if name := Of(pod); name != "" && pod.Spec.NodeName == "" && len(pod.Spec.SchedulingGates) == 0 {
		x.activateIfComplete(pod.Namespace, name)
	}
}

// onPodUpdate activates a gang that a pod joined, by its label or by losing
// its last scheduling gate.
func (x *Index) onPodUpdate(oldObj, newObj any) {
	o, ok1 := oldObj.(*v1.Pod)
	n, ok2 := newObj.(*v1.Pod)
	if !ok1 || !ok2 {
		return
	}
	x.setImplicit(n)
	if n.Spec.NodeName != "" || len(n.Spec.SchedulingGates) > 0 {
		return
	}
	name := Of(n)
	if name == "" {
		return
	}
	if Of(o) != name || len(o.Spec.SchedulingGates) > 0 || o.Labels[MinMemberLabel] != n.Labels[MinMemberLabel] {
		x.activateIfComplete(n.Namespace, name)
	}
}

func (x *Index) onPodDelete(obj any) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	name := Of(pod)
	if name == "" {
		return
	}
	key := Key(pod.Namespace, name)
	x.Plans.Forget(key, string(pod.UID))
	if len(x.Members(pod.Namespace, name)) == 0 {
		x.Plans.ForgetGang(key)
		x.PodGroups.DropImplicit(pod.Namespace, name)
	}
}

func (x *Index) onPodGroupAdd(obj any, _ bool) {
	if pg, ok := obj.(*schedv1alpha1.PodGroup); ok {
		x.podGroupAdded(pg.Namespace, pg.Name)
	}
}

func (x *Index) onPodGroupUpdate(oldObj, newObj any) {
	o, ok1 := oldObj.(*schedv1alpha1.PodGroup)
	n, ok2 := newObj.(*schedv1alpha1.PodGroup)
	if !ok1 || !ok2 {
		return
	}
	x.podGroupUpdated(n.Namespace, n.Name, !maps.Equal(o.Labels, n.Labels), !equality.Semantic.DeepEqual(o.Spec, n.Spec))
}

func (x *Index) onPodGroupDelete(obj any) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if pg, ok := obj.(*schedv1alpha1.PodGroup); ok {
		x.podGroupDeleted(pg.Namespace, pg.Name)
	}
}

// podGroupAdded, podGroupUpdated and podGroupDeleted apply a PodGroup's
// event, of either API: the informer's store already holds the change.
func (x *Index) podGroupAdded(namespace, name string) {
	x.PodGroups.labelsChanged(namespace, name)
	x.activateIfComplete(namespace, name)
}

func (x *Index) podGroupUpdated(namespace, name string, labelsChanged, specChanged bool) {
	if labelsChanged {
		x.PodGroups.labelsChanged(namespace, name)
	}
	if !specChanged {
		// Status written by a controller: nothing for the queue.
		return
	}
	x.activateIfComplete(namespace, name)
}

func (x *Index) podGroupDeleted(namespace, name string) {
	x.Plans.Drop(Key(namespace, name))
	x.PodGroups.labelsChanged(namespace, name)
}
