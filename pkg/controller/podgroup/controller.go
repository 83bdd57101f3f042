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
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"
	spclientset "sigs.k8s.io/scheduler-plugins/pkg/generated/clientset/versioned"
	spinformers "sigs.k8s.io/scheduler-plugins/pkg/generated/informers/externalversions"
	splisters "sigs.k8s.io/scheduler-plugins/pkg/generated/listers/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// Name is the controller's name: its work queue's, and its events'
// reporting component is "gantry-controller/podgroup".
const Name = "podgroup"

// FieldManager names the controller's writes in managedFields.
const FieldManager = "gantry-controller"

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
	client   spclientset.Interface
	recorder record.EventRecorder
	clock    clock.PassiveClock
	resync   time.Duration
	warner   *Warner
	phases   *phaseGauge

	queue     workqueue.TypedRateLimitingInterface[string]
	pods      corelisters.PodLister
	groups    splisters.PodGroupLister
	hasSynced []cache.InformerSynced
	synced    atomic.Bool
}

// New returns a PodGroup status controller that writes through client and
// reads pods and PodGroups from informers of the shared factories, which
// the caller starts once every controller has been built.
func New(client spclientset.Interface, kubeInformers informers.SharedInformerFactory, podGroupInformers spinformers.SharedInformerFactory, recorder record.EventRecorder, opts Options) (*Controller, error) {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	c := &Controller{
		client:   client,
		recorder: recorder,
		clock:    opts.Clock,
		resync:   opts.Resync,
		warner:   NewWarner(opts.IncompleteAfter),
		phases:   newPhaseGauge(),
		// Made here, not in Run: the handlers below add to it as soon as
		// the informers start.
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: Name}),
	}

	// The pod informer is shared with controllers that read every pod;
	// onPod picks the members of a PodGroup. A pod that loses the label is
	// taken from its old gang by the old object of the update.
	podInformer := kubeInformers.Core().V1().Pods()
	c.pods = podInformer.Lister()
	podHandler, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.onPod,
		UpdateFunc: func(oldObj, newObj any) { c.onPod(oldObj); c.onPod(newObj) },
		DeleteFunc: c.onPod,
	})
	if err != nil {
		return nil, fmt.Errorf("watching pods: %w", err)
	}

	groupInformer := podGroupInformers.Scheduling().V1alpha1().PodGroups()
	c.groups = groupInformer.Lister()
	groupHandler, err := groupInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.onPodGroup,
		UpdateFunc: func(_, newObj any) { c.onPodGroup(newObj) },
		DeleteFunc: c.onPodGroupDelete,
	})
	if err != nil {
		return nil, fmt.Errorf("watching PodGroups: %w", err)
	}
	c.hasSynced = []cache.InformerSynced{podHandler.HasSynced, groupHandler.HasSynced}
	return c, nil
}

// Name implements the manager's Controller.
func (c *Controller) Name() string { return Name }

// HasSynced reports whether the informers have listed and the workers run.
func (c *Controller) HasSynced() bool { return c.synced.Load() }

// Run waits for the informers, which the manager starts, to sync, then runs
// the workers and the resync until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	logger := klog.FromContext(ctx)
	defer c.queue.ShutDown()
	defer c.phases.reset()
	if !cache.WaitForNamedCacheSyncWithContext(ctx, c.hasSynced...) {
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
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.resyncEvery(ctx, c.resync)
	}()
	c.synced.Store(true)
	<-ctx.Done()
	c.synced.Store(false)
	c.queue.ShutDown()
	wg.Wait()
	logger.Info("Stopped workers")
	return nil
}

// resyncEvery queues every PodGroup in the cache each period until ctx
// ends; never when period is 0. The shared informer does not resync: the
// other controllers reading PodGroups need no resyncs.
func (c *Controller) resyncEvery(ctx context.Context, period time.Duration) {
	if period <= 0 {
		return
	}
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		groups, err := c.groups.List(labels.Everything())
		if err != nil {
			klog.FromContext(ctx).Error(err, "Listing PodGroups from the cache to resync")
			continue
		}
		for _, pg := range groups {
			c.onPodGroup(pg)
		}
	}
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
	if pg, ok := obj.(*schedv1alpha1.PodGroup); ok {
		c.warner.Forget(pg.UID)
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
	pg, err := c.groups.PodGroups(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		c.phases.remove(key)
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("getting PodGroup %s from the cache: %w", key, err)
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

	// cur is the PodGroup as last written; pg stays the cache's object,
	// which is never modified.
	cur := pg
	if !d.ScheduledTime.IsZero() {
		if cur, err = c.setScheduledTime(ctx, pg, d.ScheduledTime); err != nil {
			return 0, err
		}
		if d.ObserveLatency {
			scheduleLatency.Observe(d.ScheduledTime.Sub(d.Status.ScheduleStartTime.Time).Seconds())
		}
	}

	old, written, err := c.writeStatus(ctx, cur, pods, now)
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
func (c *Controller) setScheduledTime(ctx context.Context, pg *schedv1alpha1.PodGroup, at time.Time) (*schedv1alpha1.PodGroup, error) {
	client := c.client.SchedulingV1alpha1().PodGroups(pg.Namespace)
	value := at.UTC().Format(time.RFC3339)
	cur := pg
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if cur.Annotations[gantryv1alpha1.ScheduledTimeAnnotation] != "" {
			return nil
		}
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
			"resourceVersion": cur.ResourceVersion,
			"annotations":     map[string]string{gantryv1alpha1.ScheduledTimeAnnotation: value},
		}})
		if err != nil {
			return err
		}
		got, err := client.Patch(ctx, pg.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: FieldManager})
		if apierrors.IsConflict(err) {
			if fresh, gerr := client.Get(ctx, pg.Name, metav1.GetOptions{}); gerr == nil {
				cur = fresh
			}
		} else if err == nil {
			cur = got
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("annotating PodGroup %s/%s with %s: %w", pg.Namespace, pg.Name, gantryv1alpha1.ScheduledTimeAnnotation, err)
	}
	return cur, nil
}

// writeStatus writes the desired status through the status subresource if
// it differs from the PodGroup's. On a conflict it reads the PodGroup
// again from the API server and decides again against that copy (pods from
// the cache). It returns the phase before and the status after.
func (c *Controller) writeStatus(ctx context.Context, pg *schedv1alpha1.PodGroup, pods []*v1.Pod, now time.Time) (schedv1alpha1.PodGroupPhase, schedv1alpha1.PodGroupStatus, error) {
	client := c.client.SchedulingV1alpha1().PodGroups(pg.Namespace)
	var (
		oldPhase schedv1alpha1.PodGroupPhase
		written  schedv1alpha1.PodGroupStatus
	)
	cur := pg
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		oldPhase, written = cur.Status.Phase, cur.Status
		d := Decide(cur, pods, now)
		if equality.Semantic.DeepEqual(cur.Status, d.Status) {
			return nil
		}
		next := cur.DeepCopy()
		next.Status = d.Status
		if _, err := client.UpdateStatus(ctx, next, metav1.UpdateOptions{FieldManager: FieldManager}); err != nil {
			if apierrors.IsConflict(err) {
				if fresh, gerr := client.Get(ctx, pg.Name, metav1.GetOptions{}); gerr == nil {
					cur = fresh
				}
			}
			return err
		}
		written = d.Status
		return nil
	})
	if err != nil {
		return "", schedv1alpha1.PodGroupStatus{}, fmt.Errorf("updating the status of PodGroup %s/%s: %w", pg.Namespace, pg.Name, err)
	}
	return oldPhase, written, nil
}
