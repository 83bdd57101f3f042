package gang

import (
	"fmt"
	"maps"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"
)

// startInformers feeds the shared state: PodGroups from the shared
// state's typed informer, pods from the scheduler's shared pod informer.
// Both also activate gangs whose pods PreEnqueue held back, once they may
// pass. The informers start with the scheduler's.
func (st *state) startInformers(logger klog.Logger, h fwk.Handle, podGroups toolscache.SharedIndexInformer) error {
	pods := h.SharedInformerFactory().Core().V1().Pods()
	if err := pods.Informer().AddIndexers(toolscache.Indexers{MembersIndex: MembersIndexFunc}); err != nil {
		return fmt.Errorf("indexing pods by gang: %w", err)
	}
	w := &watcher{logger: logger, h: h, members: pods.Informer().GetIndexer(), groups: st.groups, book: st.book}

	if _, err := pods.Informer().AddEventHandler(toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    w.onPodAdd,
		UpdateFunc: w.onPodUpdate,
		DeleteFunc: w.onPodDelete,
	}); err != nil {
		return fmt.Errorf("watching pods: %w", err)
	}
	reg, err := podGroups.AddEventHandler(toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    w.onPodGroupAdd,
		UpdateFunc: w.onPodGroupUpdate,
		DeleteFunc: w.onPodGroupDelete,
	})
	if err != nil {
		return fmt.Errorf("watching PodGroups: %w", err)
	}
	st.groups.SetSyncedFunc(reg.HasSynced)
	return nil
}

// watcher handles the informers' events.
type watcher struct {
	logger klog.Logger
	h      handle
	// members is the pod informer's indexer, with MembersIndex.
	members toolscache.Indexer
	groups  *PodGroups
	book    interface {
		Forget(gang, member string)
		ForgetGang(gang string)
		Drop(gang string) bool
	}
}

// activateIfComplete activates the gang's pending pods if PreEnqueue now
// lets them pass: the queue does not run queueing hints for unscheduled
// pods that are added, so nothing else would tell the pods held back before.
func (w *watcher) activateIfComplete(namespace, name string) {
	pg, ok := w.groups.Get(namespace, name)
	if !ok || int64(schedulablePods(Members(w.members, namespace, name))) < int64(pg.Spec.MinMember) {
		return
	}
	ActivateGang(w.logger, w.h, w.members, Key(namespace, name))
}

// setImplicit records the label-only gang of a pod, if any.
func (w *watcher) setImplicit(pod *v1.Pod) {
	if err := w.groups.SetImplicit(pod); err != nil {
		w.logger.V(2).Info("Pod of a label-only gang has a bad label", "pod", klog.KObj(pod), "err", err)
	}
}

// onPodAdd activates the gang a pod completes. Pods of the informer's
// initial list too: after a scheduler restart every pod arrives in it, one
// at a time, and a member queued before its last sibling reached the
// informer was held back by PreEnqueue with nothing else to wake it.
func (w *watcher) onPodAdd(obj any, _ bool) {
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	w.setImplicit(pod)
	if name := gangOf(pod); name != "" && pod.Spec.NodeName == "" && len(pod.Spec.SchedulingGates) == 0 {
		w.activateIfComplete(pod.Namespace, name)
	}
}

// onPodUpdate activates a gang that a pod joined, by its label or by losing
// its last scheduling gate.
func (w *watcher) onPodUpdate(oldObj, newObj any) {
	o, ok1 := oldObj.(*v1.Pod)
	n, ok2 := newObj.(*v1.Pod)
	if !ok1 || !ok2 {
		return
	}
	w.setImplicit(n)
	if n.Spec.NodeName != "" || len(n.Spec.SchedulingGates) > 0 {
		return
	}
	name := gangOf(n)
	if name == "" {
		return
	}
	if gangOf(o) != name || len(o.Spec.SchedulingGates) > 0 || o.Labels[MinMemberLabel] != n.Labels[MinMemberLabel] {
		w.activateIfComplete(n.Namespace, name)
	}
}

func (w *watcher) onPodDelete(obj any) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	name := gangOf(pod)
	if name == "" {
		return
	}
	key := Key(pod.Namespace, name)
	w.book.Forget(key, string(pod.UID))
	if len(Members(w.members, pod.Namespace, name)) == 0 {
		w.book.ForgetGang(key)
		w.groups.DropImplicit(pod.Namespace, name)
	}
}

func (w *watcher) onPodGroupAdd(obj any, _ bool) {
	pg, ok := obj.(*schedv1alpha1.PodGroup)
	if !ok {
		return
	}
	w.groups.labelsChanged(pg.Namespace, pg.Name)
	w.activateIfComplete(pg.Namespace, pg.Name)
}

func (w *watcher) onPodGroupUpdate(oldObj, newObj any) {
	o, ok1 := oldObj.(*schedv1alpha1.PodGroup)
	n, ok2 := newObj.(*schedv1alpha1.PodGroup)
	if !ok1 || !ok2 {
		return
	}
	if !maps.Equal(o.Labels, n.Labels) {
		w.groups.labelsChanged(n.Namespace, n.Name)
	}
	if equality.Semantic.DeepEqual(o.Spec, n.Spec) {
		// Status written by a controller: nothing for the queue.
		return
	}
	w.activateIfComplete(n.Namespace, n.Name)
}

func (w *watcher) onPodGroupDelete(obj any) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pg, ok := obj.(*schedv1alpha1.PodGroup)
	if !ok {
		return
	}
	w.book.Drop(Key(pg.Namespace, pg.Name))
	w.groups.labelsChanged(pg.Namespace, pg.Name)
}
