package gangs

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	schedulingv1beta1 "k8s.io/api/scheduling/v1beta1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	schedulinginformers "k8s.io/client-go/informers/scheduling"
	schedulinglisters "k8s.io/client-go/listers/scheduling/v1beta1"
	toolscache "k8s.io/client-go/tools/cache"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"
)

// Upstream PodGroups: Kubernetes' own scheduling.k8s.io PodGroup (the
// GenericWorkload feature), which Job, JobSet and LWS controllers create
// and pods point at with spec.schedulingGroup.podGroupName. The rest of
// the scheduler sees them as scheduler-plugins PodGroups (FromUpstream):
// one shape for planning, admission, preemption and queues.

// Discoverer is what UpstreamPodGroupsServed uses of a clientset.
type Discoverer interface {
	Discovery() discovery.DiscoveryInterfaces
}

// UpstreamPodGroupsServed reports whether the API server serves upstream
// PodGroups: its GenericWorkload gate and scheduling.k8s.io/v1beta1 are
// on. Where they are not, no informer may be started for them: it would
// never sync, and log its failures forever.
func UpstreamPodGroupsServed(ctx context.Context, client Discoverer) (bool, error) {
	gv := schedulingv1beta1.SchemeGroupVersion.String()
	list, err := client.Discovery().ServerResourcesForGroupVersionWithContext(ctx, gv)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("discovering the resources of %s: %w", gv, err)
	}
	for _, r := range list.APIResources {
		if r.Name == "podgroups" {
			return true, nil
		}
	}
	return false, nil
}

// FromUpstream returns an upstream PodGroup in the shape the scheduler
// reads: name, namespace, UID, labels (a gang's queue) and age; minMember
// is the gang policy's minCount, and 1 under the basic policy (no
// all-or-nothing, but still one workload for its queue). Its TypeMeta
// keeps the source's kind and apiVersion, so events recorded on it name
// the upstream object (IsUpstream). The labels are src's: do not modify
// them.
func FromUpstream(src *schedulingv1beta1.PodGroup) *schedv1alpha1.PodGroup {
	minMember := int32(1)
	if g := src.Spec.SchedulingPolicy.Gang; g != nil {
		minMember = max(g.MinCount, 1)
	}
	return &schedv1alpha1.PodGroup{
		TypeMeta: metav1.TypeMeta{APIVersion: schedulingv1beta1.SchemeGroupVersion.String(), Kind: "PodGroup"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace:         src.Namespace,
			Name:              src.Name,
			UID:               src.UID,
			ResourceVersion:   src.ResourceVersion,
			CreationTimestamp: src.CreationTimestamp,
			Labels:            src.Labels,
		},
		Spec: schedv1alpha1.PodGroupSpec{MinMember: minMember},
	}
}

// IsUpstream reports whether pg came from an upstream PodGroup.
func IsUpstream(pg *schedv1alpha1.PodGroup) bool {
	return pg.APIVersion == schedulingv1beta1.SchemeGroupVersion.String()
}

// upstreamView is PodGroups' view of the upstream PodGroups.
type upstreamView struct {
	lister schedulinglisters.PodGroupLister
	synced func() bool
	// converted caches FromUpstream's result by gang key, with the
	// informer object it was made from: objects of the store are never
	// changed in place, so the same pointer means the same content.
	// Get is on the queue sort's path.
	converted sync.Map
}

type convertedPodGroup struct {
	src *schedulingv1beta1.PodGroup
	pg  *schedv1alpha1.PodGroup
}

func (u *upstreamView) get(namespace, name string) (*schedv1alpha1.PodGroup, bool) {
	src, err := u.lister.PodGroups(namespace).Get(name)
	if err != nil {
		return nil, false
	}
	key := Key(namespace, name)
	if c, ok := u.converted.Load(key); ok && c.(convertedPodGroup).src == src {
		return c.(convertedPodGroup).pg, true
	}
	pg := FromUpstream(src)
	u.converted.Store(key, convertedPodGroup{src: src, pg: pg})
	return pg, true
}

// UpstreamDiscoveryInterval is how often WatchUpstreamWhenServed asks
// again whether the API server serves upstream PodGroups.
const UpstreamDiscoveryInterval = 30 * time.Second

// UpstreamFactory is what WatchUpstreamWhenServed uses of the scheduler's
// informer factory.
type UpstreamFactory interface {
	Scheduling() schedulinginformers.Interface
	Start(stop <-chan struct{})
}

// WatchUpstreamWhenServed feeds the index from the upstream PodGroups once
// the API server serves them: after the after informers have synced (the
// scheduler has started its factory), it asks discovery every interval
// until it says they are served, then builds their informer in factory
// (WatchUpstream) and starts it. It returns at once; the checks end with
// ctx. Setup does not talk to the API server, a failed discovery is asked
// again rather than stopping the scheduler, and a cluster that turns the
// API on later gets its gangs without a scheduler restart. Until the
// first answer, PodGroups.HasSynced is false.
func (x *Index) WatchUpstreamWhenServed(ctx context.Context, client Discoverer, factory UpstreamFactory, interval time.Duration, after ...toolscache.InformerSynced) {
	if client == nil {
		// Unit tests: no API server.
		return
	}
	x.PodGroups.upstreamPending.Store(true)
	logger := x.logger.WithValues("groupVersion", schedulingv1beta1.SchemeGroupVersion)
	go func() {
		defer x.PodGroups.upstreamPending.Store(false)
		if !toolscache.WaitForCacheSync(ctx.Done(), after...) {
			return
		}
		told := false
		err := wait.PollUntilContextCancel(ctx, interval, true, func(ctx context.Context) (bool, error) {
			served, err := UpstreamPodGroupsServed(ctx, client)
			switch {
			case err != nil:
				logger.Error(err, "Cannot tell whether the API server serves upstream PodGroups; asking again", "after", interval)
			case !served && !told:
				logger.Info("The API server does not serve upstream PodGroups (feature gate GenericWorkload); asking again", "every", interval)
				told = true
				x.PodGroups.upstreamPending.Store(false)
			}
			return served, nil
		})
		if err != nil {
			return
		}
		pgs := factory.Scheduling().V1beta1().PodGroups()
		if err := x.WatchUpstream(pgs.Informer(), pgs.Lister()); err != nil {
			logger.Error(err, "Cannot watch upstream PodGroups")
			return
		}
		// Starts only the informers not started yet: this one.
		factory.Start(ctx.Done())
		logger.Info("Watching upstream PodGroups")
	}()
}

// WatchUpstream adds the upstream PodGroups of lister, fed by inf, to the
// index: Get finds them after scheduler-plugins' PodGroup of the same name,
// and their events activate gangs and tell label observers as those of
// scheduler-plugins' PodGroups do. Call it before the informer starts, and
// only where UpstreamPodGroupsServed.
func (x *Index) WatchUpstream(inf toolscache.SharedIndexInformer, lister schedulinglisters.PodGroupLister) error {
	u := &upstreamView{lister: lister}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    x.onUpstreamAdd,
		UpdateFunc: x.onUpstreamUpdate,
		DeleteFunc: x.onUpstreamDelete,
	})
	if err != nil {
		return fmt.Errorf("watching %s PodGroups: %w", schedulingv1beta1.SchemeGroupVersion, err)
	}
	u.synced = reg.HasSynced
	x.PodGroups.upstream.Store(u)
	return nil
}

func (x *Index) onUpstreamAdd(obj any, _ bool) {
	if pg, ok := obj.(*schedulingv1beta1.PodGroup); ok {
		x.podGroupAdded(pg.Namespace, pg.Name)
	}
}

func (x *Index) onUpstreamUpdate(oldObj, newObj any) {
	o, ok1 := oldObj.(*schedulingv1beta1.PodGroup)
	n, ok2 := newObj.(*schedulingv1beta1.PodGroup)
	if !ok1 || !ok2 {
		return
	}
	x.podGroupUpdated(n.Namespace, n.Name, !maps.Equal(o.Labels, n.Labels), !equality.Semantic.DeepEqual(o.Spec, n.Spec))
}

func (x *Index) onUpstreamDelete(obj any) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pg, ok := obj.(*schedulingv1beta1.PodGroup)
	if !ok {
		return
	}
	if u := x.PodGroups.upstream.Load(); u != nil {
		u.converted.Delete(Key(pg.Namespace, pg.Name))
	}
	x.podGroupDeleted(pg.Namespace, pg.Name)
}
