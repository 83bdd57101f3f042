package gangs

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"
	splisters "sigs.k8s.io/scheduler-plugins/pkg/generated/listers/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// PodGroups is the scheduler's view of the PodGroups: the shared state's
// scheduler-plugins PodGroup informer (its store holds an object before
// any handler, the scheduler's queueing hints included, hears of it), the
// upstream PodGroups where the API server serves them (WatchUpstream), and
// the label-only gangs. Safe for concurrent use.
type PodGroups struct {
	logger klog.Logger
	lister splisters.PodGroupLister
	// upstream is nil until WatchUpstream; upstreamPending is set while
	// WatchUpstreamWhenServed does not know yet whether they are served.
	upstream        atomic.Pointer[upstreamView]
	upstreamPending atomic.Bool

	mu sync.RWMutex
	// implicit holds label-only gangs (MinMemberLabel), by key.
	implicit map[string]*schedv1alpha1.PodGroup

	synced atomic.Pointer[func() bool]
	// labelObservers are told of PodGroups whose labels changed.
	labelObservers []func(namespace, name string)
}

// OnLabelsChange registers fn to be told, after the fact, of each PodGroup
// that appears, goes, or whose labels change: labels choose a gang's
// queue. fn is called from the PodGroup informer's handler.
func (c *PodGroups) OnLabelsChange(fn func(namespace, name string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.labelObservers = append(c.labelObservers, fn)
}

// labelsChanged tells the observers of OnLabelsChange.
func (c *PodGroups) labelsChanged(namespace, name string) {
	c.mu.RLock()
	observers := c.labelObservers
	c.mu.RUnlock()
	for _, fn := range observers {
		fn(namespace, name)
	}
}

// MinMemberLabel defines a label-only gang (see
// gantryv1alpha1.GangMinMemberLabel). A PodGroup object of the gang's name,
// of either API, once created, takes precedence.
const MinMemberLabel = gantryv1alpha1.GangMinMemberLabel

// ImplicitMinMember reads the pod's MinMemberLabel: 0 and no error when
// absent.
func ImplicitMinMember(pod *v1.Pod) (int32, error) {
	v, ok := pod.Labels[MinMemberLabel]
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("label %s: %q is not a positive integer", MinMemberLabel, v)
	}
	return int32(n), nil
}

// NewPodGroups returns a view of the PodGroups in lister that reports
// itself synced until SetSyncedFunc says otherwise.
func NewPodGroups(logger klog.Logger, lister splisters.PodGroupLister) *PodGroups {
	return &PodGroups{logger: logger, lister: lister, implicit: map[string]*schedv1alpha1.PodGroup{}}
}

// SetSyncedFunc sets what HasSynced asks.
func (c *PodGroups) SetSyncedFunc(f func() bool) { c.synced.Store(&f) }

// HasSynced reports whether the informers feeding the view have listed.
func (c *PodGroups) HasSynced() bool {
	if u := c.upstream.Load(); (u == nil && c.upstreamPending.Load()) || (u != nil && !u.synced()) {
		return false
	}
	f := c.synced.Load()
	return f == nil || (*f)()
}

// Get returns the PodGroup namespace/name: scheduler-plugins' object, else
// the upstream one (FromUpstream), else the label-only gang of that name.
// Pods name all three alike (Of), so one name is one gang. The object is
// shared: do not modify it.
func (c *PodGroups) Get(namespace, name string) (*schedv1alpha1.PodGroup, bool) {
	if pg, err := c.lister.PodGroups(namespace).Get(name); err == nil {
		return pg, true
	}
	if u := c.upstream.Load(); u != nil {
		if pg, ok := u.get(namespace, name); ok {
			return pg, true
		}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	pg, ok := c.implicit[namespace+"/"+name]
	return pg, ok
}

// SetImplicit records the label-only gang the pod belongs to, if it is one
// (MinMemberLabel): its minMember is the largest its pods ask for, its age
// its oldest pod's. A bad label value is returned as an error.
func (c *PodGroups) SetImplicit(pod *v1.Pod) error {
	name := pod.Labels[PodGroupLabel]
	minMember, err := ImplicitMinMember(pod)
	if name == "" || minMember == 0 || err != nil {
		return err
	}
	key := pod.Namespace + "/" + name
	c.mu.Lock()
	defer c.mu.Unlock()
	pg := c.implicit[key]
	if pg == nil {
		pg = &schedv1alpha1.PodGroup{
			TypeMeta:   metav1.TypeMeta{APIVersion: schedv1alpha1.SchemeGroupVersion.String(), Kind: "PodGroup"},
			ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: name, CreationTimestamp: pod.CreationTimestamp},
		}
	} else {
		// Copy on write: Get hands the object out.
		pg = pg.DeepCopy()
	}
	pg.Spec.MinMember = max(pg.Spec.MinMember, minMember)
	if pod.CreationTimestamp.Before(&pg.CreationTimestamp) {
		pg.CreationTimestamp = pod.CreationTimestamp
	}
	c.implicit[key] = pg
	return nil
}

// DropImplicit forgets the label-only gang namespace/name.
func (c *PodGroups) DropImplicit(namespace, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.implicit, namespace+"/"+name)
}
