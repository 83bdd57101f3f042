package gang

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/internal/resourceversion"
)

// PodGroupResource is the resource the plugin watches for PodGroups.
var PodGroupResource = schedv1alpha1.SchemeGroupVersion.WithResource("podgroups")

// tombstoneTTL is how long a deleted PodGroup's version is remembered, so a
// copy from before the delete that arrives late (through the scheduler's
// own informer, in a queueing hint) does not bring it back.
const tombstoneTTL = 10 * time.Minute

// PodGroups is the plugin's view of the PodGroups, keyed by namespace/name.
// Two informers feed it: the plugin's own, and the scheduler's (through the
// queueing hints of PodGroup events); it applies a copy only if it is newer
// than what it holds, so either may run ahead. Safe for concurrent use.
type PodGroups struct {
	logger klog.Logger

	mu     sync.RWMutex
	groups map[string]*podGroupEntry
	sweep  time.Time
	// implicit holds label-only gangs (MinMemberLabel), by key.
	implicit map[string]*schedv1alpha1.PodGroup

	synced atomic.Pointer[func() bool]
	// labelObservers are told of PodGroups whose labels changed.
	labelObservers []func(namespace, name string)
}

// OnLabelsChange registers fn to be told, after the fact, of each PodGroup
// that appears, goes, or whose labels change: labels choose a gang's
// queue. fn is called with no lock of c held, but maybe from a queueing
// hint, under the scheduling queue's lock: it must not call into the
// scheduling queue (fwk.Handle.Activate) before returning.
func (c *PodGroups) OnLabelsChange(fn func(namespace, name string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.labelObservers = append(c.labelObservers, fn)
}

func (c *PodGroups) notifyLabels(observers []func(string, string), namespace, name string) {
	for _, fn := range observers {
		fn(namespace, name)
	}
}

// MinMemberLabel defines a label-only gang (see
// gantryv1alpha1.GangMinMemberLabel). A PodGroup object of the gang's name,
// once created, takes precedence.
const MinMemberLabel = gantryv1alpha1.GangMinMemberLabel

// implicitMinMember reads the pod's MinMemberLabel: 0 and no error when
// absent.
func implicitMinMember(pod *v1.Pod) (int32, error) {
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

type podGroupEntry struct {
	// pg is nil once deleted.
	pg              *schedv1alpha1.PodGroup
	resourceVersion string
	deleted         time.Time
}

// NewPodGroups returns an empty view that reports itself synced until
// SetSyncedFunc says otherwise.
func NewPodGroups(logger klog.Logger) *PodGroups {
	return &PodGroups{logger: logger, groups: map[string]*podGroupEntry{}, implicit: map[string]*schedv1alpha1.PodGroup{}}
}

// SetSyncedFunc sets what HasSynced asks.
func (c *PodGroups) SetSyncedFunc(f func() bool) { c.synced.Store(&f) }

// HasSynced reports whether the informer feeding the view has listed.
func (c *PodGroups) HasSynced() bool {
	f := c.synced.Load()
	return f == nil || (*f)()
}

// Get returns the PodGroup namespace/name. The object is shared: do not
// modify it.
func (c *PodGroups) Get(namespace, name string) (*schedv1alpha1.PodGroup, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	key := namespace + "/" + name
	e := c.groups[key]
	if e == nil || e.pg == nil {
		pg, ok := c.implicit[key]
		return pg, ok
	}
	return e.pg, true
}

// SetImplicit records the label-only gang the pod belongs to, if it is one
// (MinMemberLabel): its minMember is the largest its pods ask for, its age
// its oldest pod's. A bad label value is returned as an error.
func (c *PodGroups) SetImplicit(pod *v1.Pod) error {
	name := pod.Labels[PodGroupLabel]
	minMember, err := implicitMinMember(pod)
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

// Set records a PodGroup (added or updated) if it is newer than the copy
// held, and reports whether it was.
func (c *PodGroups) Set(pg *schedv1alpha1.PodGroup) bool {
	key := pg.Namespace + "/" + pg.Name
	c.mu.Lock()
	e := c.groups[key]
	if e != nil && !resourceversion.Newer(e.resourceVersion, pg.ResourceVersion) {
		c.mu.Unlock()
		return false
	}
	relabelled := e == nil || e.pg == nil || !maps.Equal(e.pg.Labels, pg.Labels)
	pg = pg.DeepCopy()
	// Events are recorded on the PodGroup; their reference needs its kind.
	pg.APIVersion, pg.Kind = schedv1alpha1.SchemeGroupVersion.String(), "PodGroup"
	c.groups[key] = &podGroupEntry{pg: pg, resourceVersion: pg.ResourceVersion}
	observers := c.labelObservers
	c.mu.Unlock()
	if relabelled {
		c.notifyLabels(observers, pg.Namespace, pg.Name)
	}
	return true
}

// Delete forgets the PodGroup namespace/name, deleted at version rv.
func (c *PodGroups) Delete(namespace, name, rv string) {
	key := namespace + "/" + name
	c.mu.Lock()
	if e := c.groups[key]; e != nil && rv != e.resourceVersion && resourceversion.Newer(rv, e.resourceVersion) {
		// What the view holds is newer than the deleted copy: the
		// PodGroup was created again.
		c.mu.Unlock()
		return
	}
	now := time.Now()
	had := c.groups[key] != nil && c.groups[key].pg != nil
	c.groups[key] = &podGroupEntry{resourceVersion: rv, deleted: now}
	if now.Sub(c.sweep) > tombstoneTTL {
		c.sweep = now
		for k, e := range c.groups {
			if e.pg == nil && now.Sub(e.deleted) > tombstoneTTL {
				delete(c.groups, k)
			}
		}
	}
	observers := c.labelObservers
	c.mu.Unlock()
	if had {
		c.notifyLabels(observers, namespace, name)
	}
}

// SetObject records a PodGroup as an informer hands it over, typed or
// unstructured, and returns it typed.
func (c *PodGroups) SetObject(obj any) (*schedv1alpha1.PodGroup, error) {
	switch o := obj.(type) {
	case *schedv1alpha1.PodGroup:
		c.Set(o)
		return o, nil
	case *unstructured.Unstructured:
		var pg schedv1alpha1.PodGroup
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.UnstructuredContent(), &pg); err != nil {
			return nil, fmt.Errorf("converting PodGroup %s/%s: %w", o.GetNamespace(), o.GetName(), err)
		}
		c.Set(&pg)
		return &pg, nil
	default:
		return nil, fmt.Errorf("PodGroup event with an unexpected object %T", obj)
	}
}

// DeleteObject forgets a PodGroup an informer reports deleted, and returns
// its namespace and name.
func (c *PodGroups) DeleteObject(obj any) (string, string, error) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return "", "", fmt.Errorf("PodGroup delete event with an unexpected object %T: %w", obj, err)
	}
	c.Delete(m.GetNamespace(), m.GetName(), m.GetResourceVersion())
	return m.GetNamespace(), m.GetName(), nil
}

// SharedPodGroups returns the PodGroups view GantryGang keeps for the
// scheduler of h (starting it if GantryGang has not yet), so that other
// plugins read PodGroups, their labels included, without watching them
// again.
func SharedPodGroups(ctx context.Context, h fwk.Handle) (*PodGroups, error) {
	st, err := sharedState(ctx, h)
	if err != nil {
		return nil, err
	}
	return st.groups, nil
}
