package podgroup

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// Name is the controller's name: its work queue's, and its events'
// reporting component is "gantry-controller/podgroup".
const Name = "podgroup"

// FieldManager names the controller's writes in managedFields.
const FieldManager = "gantry-controller"

// Resource is the PodGroup resource, read and written through the dynamic
// client because scheduler-plugins' generated clientset is not vendored.
var Resource = schedv1alpha1.SchemeGroupVersion.WithResource("podgroups")

// Options tune the controller.
type Options struct {
	// IncompleteAfter is how long a gang may have fewer than minMember
	// members before a GangIncomplete warning.
	IncompleteAfter time.Duration
	// Resync is how often every PodGroup is looked at again with no
	// change: a safety net for missed events. Warnings are not repeated on
	// a resync (see Warner).
	Resync time.Duration
	// Clock is the time source; nil is the real clock.
	Clock clock.PassiveClock
}

// DefaultOptions are the defaults gantry-controller runs with.
func DefaultOptions() Options {
	return Options{IncompleteAfter: time.Minute, Resync: 10 * time.Minute}
}

// Controller keeps PodGroup status in step with the member pods. Build it
// with New and Run it once.
type Controller struct {
	kube     kubernetes.Interface
	dyn      dynamic.Interface
	recorder record.EventRecorder
	clock    clock.PassiveClock
	resync   time.Duration
	warner   *Warner
	phases   *phaseGauge

	// Set by Run before the workers start.
	queue  workqueue.TypedRateLimitingInterface[string]
	pods   corelisters.PodLister
	groups cache.GenericLister
	synced atomic.Bool
}

// New returns a PodGroup status controller.
func New(kube kubernetes.Interface, dyn dynamic.Interface, recorder record.EventRecorder, opts Options) *Controller {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &Controller{
		kube:     kube,
		dyn:      dyn,
		recorder: recorder,
		clock:    opts.Clock,
		resync:   opts.Resync,
		warner:   NewWarner(opts.IncompleteAfter),
		phases:   newPhaseGauge(),
	}
}

// Name implements the manager's Controller.
func (c *Controller) Name() string { return Name }

// HasSynced reports whether the informers have listed and the workers run.
func (c *Controller) HasSynced() bool { return c.synced.Load() }

// Run starts the informers (pods that carry the PodGroup label, and
// PodGroups) and the workers, and blocks until ctx ends. It starts the
// informers itself, so that a replica that does not lead does not even
// list.
func (c *Controller) Run(ctx context.Context, workers int) error {
	logger := klog.FromContext(ctx)
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: Name})
	defer c.queue.ShutDown()
	defer c.phases.reset()

	// Only pods that name a PodGroup: the controller need not hold every
	// pod of the cluster. A pod that loses the label looks deleted to the
	// informer, which is what it is to its old gang.
	podFactory := informers.NewSharedInformerFactoryWithOptions(c.kube, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = schedv1alpha1.PodGroupLabel }))
	podInformer := podFactory.Core().V1().Pods()
	c.pods = podInformer.Lister()
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.onPod,
		UpdateFunc: func(oldObj, newObj any) { c.onPod(oldObj); c.onPod(newObj) },
		DeleteFunc: c.onPod,
	}); err != nil {
		return fmt.Errorf("watching pods: %w", err)
	}

	groupFactory := dynamicinformer.NewDynamicSharedInformerFactory(c.dyn, c.resync)
	groupInformer := groupFactory.ForResource(Resource)
	c.groups = groupInformer.Lister()
	if _, err := groupInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.onPodGroup,
		UpdateFunc: func(_, newObj any) { c.onPodGroup(newObj) },
		DeleteFunc: c.onPodGroupDelete,
	}); err != nil {
		return fmt.Errorf("watching PodGroups: %w", err)
	}

	podFactory.Start(ctx.Done())
	groupFactory.Start(ctx.Done())
	defer podFactory.Shutdown()
	defer groupFactory.Shutdown()
	if !cache.WaitForNamedCacheSyncWithContext(ctx, podInformer.Informer().HasSynced, groupInformer.Informer().HasSynced) {
		return fmt.Errorf("%s: informers did not sync: %w", Name, context.Cause(ctx))
	}

	logger.Info("Starting workers", "workers", workers)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c.processNext(ctx) {
			}
		}()
	}
	c.synced.Store(true)
	<-ctx.Done()
	c.synced.Store(false)
	c.queue.ShutDown()
	wg.Wait()
	logger.Info("Stopped workers")
	return nil
}

func (c *Controller) onPod(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	if name := pod.Labels[schedv1alpha1.PodGroupLabel]; name != "" {
		c.queue.Add(pod.Namespace + "/" + name)
	}
}

func (c *Controller) onPodGroup(obj any) {
	if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(key)
	}
}

func (c *Controller) onPodGroupDelete(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if u, ok := obj.(*unstructured.Unstructured); ok {
		c.warner.Forget(u.GetUID())
	}
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(key)
	}
}

// processNext reconciles one key; false once the queue shuts down. A
// failed key comes back rate-limited (exponential back-off per key), never
// in a hot loop.
func (c *Controller) processNext(ctx context.Context) bool {
	key, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(key)
	requeue, err := c.reconcile(ctx, key)
	switch {
	case err != nil:
		klog.FromContext(ctx).Error(err, "Reconciling PodGroup failed; will retry", "podGroup", key)
		c.queue.AddRateLimited(key)
	default:
		c.queue.Forget(key)
		if requeue > 0 {
			c.queue.AddAfter(key, requeue)
		}
	}
	return true
}

// reconcile brings one PodGroup's status and scheduled-time annotation in
// step with its members and gives the events due. It returns when to look
// again with no change (0: only on change).
func (c *Controller) reconcile(ctx context.Context, key string) (time.Duration, error) {
	logger := klog.FromContext(ctx).WithValues("podGroup", key)
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		logger.Error(err, "Dropping a malformed key")
		return 0, nil
	}
	obj, err := c.groups.ByNamespace(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		c.phases.remove(key)
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("getting PodGroup %s from the cache: %w", key, err)
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		logger.Error(nil, "PodGroup cache holds an unexpected object", "type", fmt.Sprintf("%T", obj))
		return 0, nil
	}
	pg, err := toPodGroup(u)
	if err != nil {
		// Written by hand and not a PodGroup we can read: retrying will
		// not help; its next change brings it back.
		logger.Error(err, "Ignoring PodGroup")
		return 0, nil
	}
	pods, err := c.pods.Pods(namespace).List(labels.SelectorFromSet(labels.Set{schedv1alpha1.PodGroupLabel: name}))
	if err != nil {
		return 0, fmt.Errorf("listing the members of PodGroup %s: %w", key, err)
	}

	now := c.clock.Now()
	d := Decide(pg, pods, now)
	warnings, requeue := c.warner.Next(pg, pods, d, now)
	for _, w := range warnings {
		logger.V(2).Info("Warning about PodGroup", "reason", w.Reason, "message", w.Message)
		c.recorder.Event(pg, v1.EventTypeWarning, w.Reason, w.Message)
	}

	if !d.ScheduledTime.IsZero() {
		if u, err = c.setScheduledTime(ctx, u, d.ScheduledTime); err != nil {
			return 0, err
		}
		if d.ObserveLatency {
			scheduleLatency.Observe(d.ScheduledTime.Sub(d.Status.ScheduleStartTime.Time).Seconds())
		}
	}

	old, written, err := c.writeStatus(ctx, u, pods, now)
	if err != nil {
		return 0, err
	}
	if written.Phase != "" {
		c.phases.set(key, written.Phase)
	}
	if e, ok := PhaseChange(old, Decision{Status: written, Counts: Count(pods), MinMember: d.MinMember}); ok {
		logger.V(2).Info("PodGroup phase changed", "from", old, "to", written.Phase)
		c.recorder.Event(pg, e.Type, e.Reason, e.Message)
	}
	return requeue, nil
}

// setScheduledTime records when the gang was scheduled, once, in an
// annotation on the PodGroup itself: the status subresource ignores
// metadata. The patch carries the resourceVersion it was made against, so
// two writers cannot both set it; on a conflict it looks again and leaves
// a value another writer set. It returns the PodGroup as written.
func (c *Controller) setScheduledTime(ctx context.Context, u *unstructured.Unstructured, at time.Time) (*unstructured.Unstructured, error) {
	client := c.dyn.Resource(Resource).Namespace(u.GetNamespace())
	value := at.UTC().Format(time.RFC3339)
	cur := u
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if cur.GetAnnotations()[gantryv1alpha1.ScheduledTimeAnnotation] != "" {
			return nil
		}
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
			"resourceVersion": cur.GetResourceVersion(),
			"annotations":     map[string]string{gantryv1alpha1.ScheduledTimeAnnotation: value},
		}})
		if err != nil {
			return err
		}
		got, err := client.Patch(ctx, u.GetName(), types.MergePatchType, patch, metav1.PatchOptions{FieldManager: FieldManager})
		if apierrors.IsConflict(err) {
			if fresh, gerr := client.Get(ctx, u.GetName(), metav1.GetOptions{}); gerr == nil {
				cur = fresh
			}
		} else if err == nil {
			cur = got
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("annotating PodGroup %s/%s with %s: %w", u.GetNamespace(), u.GetName(), gantryv1alpha1.ScheduledTimeAnnotation, err)
	}
	return cur, nil
}

// writeStatus writes the desired status through the status subresource if
// it differs from the PodGroup's. On a conflict it reads the PodGroup
// again from the API server and decides again against that copy (pods from
// the cache). It returns the phase before and the status after.
func (c *Controller) writeStatus(ctx context.Context, u *unstructured.Unstructured, pods []*v1.Pod, now time.Time) (schedv1alpha1.PodGroupPhase, schedv1alpha1.PodGroupStatus, error) {
	client := c.dyn.Resource(Resource).Namespace(u.GetNamespace())
	var (
		oldPhase schedv1alpha1.PodGroupPhase
		written  schedv1alpha1.PodGroupStatus
	)
	cur := u
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pg, err := toPodGroup(cur)
		if err != nil {
			return err
		}
		oldPhase, written = pg.Status.Phase, pg.Status
		d := Decide(pg, pods, now)
		if equality.Semantic.DeepEqual(pg.Status, d.Status) {
			return nil
		}
		status, err := statusContent(d.Status)
		if err != nil {
			return err
		}
		next := cur.DeepCopy()
		next.Object["status"] = status
		if _, err = client.UpdateStatus(ctx, next, metav1.UpdateOptions{FieldManager: FieldManager}); err != nil {
			if apierrors.IsConflict(err) {
				if fresh, gerr := client.Get(ctx, u.GetName(), metav1.GetOptions{}); gerr == nil {
					cur = fresh
				}
			}
			return err
		}
		written = d.Status
		return nil
	})
	if err != nil {
		return "", schedv1alpha1.PodGroupStatus{}, fmt.Errorf("updating the status of PodGroup %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	return oldPhase, written, nil
}

// toPodGroup converts an informer's or the dynamic client's PodGroup to
// the typed struct, keeping its kind, which events need.
func toPodGroup(u *unstructured.Unstructured) (*schedv1alpha1.PodGroup, error) {
	var pg schedv1alpha1.PodGroup
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.UnstructuredContent(), &pg); err != nil {
		return nil, fmt.Errorf("converting PodGroup %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	pg.APIVersion, pg.Kind = schedv1alpha1.SchemeGroupVersion.String(), "PodGroup"
	return &pg, nil
}

// statusContent is a status as unstructured content. A zero
// scheduleStartTime converts to null, which the CRD's schema (a string)
// does not allow; it is left out instead.
func statusContent(s schedv1alpha1.PodGroupStatus) (map[string]any, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&s)
	if err != nil {
		return nil, fmt.Errorf("converting a PodGroup status: %w", err)
	}
	if m["scheduleStartTime"] == nil {
		delete(m, "scheduleStartTime")
	}
	return m, nil
}
