package queue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	podutil "github.com/gantry-gpu/gantry/pkg/pods"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	spinformers "sigs.k8s.io/scheduler-plugins/pkg/generated/informers/externalversions"
	splisters "sigs.k8s.io/scheduler-plugins/pkg/generated/listers/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	gantryclientset "github.com/gantry-gpu/gantry/pkg/generated/clientset/versioned"
	gantryinformers "github.com/gantry-gpu/gantry/pkg/generated/informers/externalversions"
	gantrylisters "github.com/gantry-gpu/gantry/pkg/generated/listers/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/queuemodel"
)

// Name is the controller's name: its work queue's, and its events'
// reporting component is "gantry-controller/queue".
const Name = "queue"

// FieldManager names the controller's writes in managedFields.
const FieldManager = "gantry-controller"

// treeKey is the one work-queue key: every change re-evaluates the whole
// tree (see Controller).
const treeKey = "tree"

// Options tune the controller.
type Options struct {
	// Coalesce is how long a change waits before the tree is evaluated;
	// the changes that arrive meanwhile are taken in the same evaluation,
	// so a burst of pod events costs one evaluation, not one each.
	Coalesce time.Duration
	// Interval is how often the tree is evaluated with no change: the
	// GPU-seconds counters advance (see Meter) and anything an event
	// missed is caught up.
	Interval time.Duration
	// Clock is the time source; nil is the real clock.
	Clock clock.WithTicker
}

// DefaultOptions are the defaults gantry-controller runs with.
func DefaultOptions() Options {
	return Options{Coalesce: time.Second, Interval: 30 * time.Second}
}

// Controller keeps Queue status, finalizers and metrics in step with the
// queue tree and the pods. Build it with New and Run it once.
//
// It evaluates the whole tree at once, from one snapshot of its caches,
// rather than queue by queue: a parent's numbers sum its children's and
// siblings' fair shares depend on each other, so one snapshot keeps them
// consistent, and the pods are walked once per evaluation instead of once
// per queue. Every change adds the same key after Options.Coalesce, and the
// work queue holds a key once, so evaluations follow changes at most about
// once per Coalesce however many pods change; a failed evaluation comes
// back with the work queue's per-key exponential back-off. Writes happen
// only for queues whose status or finalizers differ.
type Controller struct {
	client   gantryclientset.Interface
	recorder record.EventRecorder
	opts     Options
	meter    Meter
	metrics  *queueMetrics

	queue      workqueue.TypedRateLimitingInterface[string]
	queues     gantrylisters.QueueLister
	podGroups  splisters.PodGroupLister
	pods       corelisters.PodLister
	namespaces corelisters.NamespaceLister
	nodes      corelisters.NodeLister
	hasSynced  []cache.InformerSynced
	synced     atomic.Bool
}

// New returns a Queue status controller that writes through client and
// reads queues, PodGroups, pods, namespaces and nodes from informers of
// the shared factories, which the caller starts once every controller has
// been built.
func New(client gantryclientset.Interface, kubeInformers informers.SharedInformerFactory, gantryInformers gantryinformers.SharedInformerFactory, podGroupInformers spinformers.SharedInformerFactory, recorder record.EventRecorder, opts Options) (*Controller, error) {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Coalesce <= 0 {
		opts.Coalesce = DefaultOptions().Coalesce
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultOptions().Interval
	}
	c := &Controller{
		client:   client,
		recorder: recorder,
		opts:     opts,
		metrics:  newQueueMetrics(),
		// Made here, not in Run: the handlers below add to it as soon as
		// the informers start.
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: Name}),
	}
	podInformer := kubeInformers.Core().V1().Pods()
	nsInformer := kubeInformers.Core().V1().Namespaces()
	nodeInformer := kubeInformers.Core().V1().Nodes()
	queueInformer := gantryInformers.Gantry().V1alpha1().Queues()
	groupInformer := podGroupInformers.Scheduling().V1alpha1().PodGroups()
	c.pods, c.namespaces, c.nodes = podInformer.Lister(), nsInformer.Lister(), nodeInformer.Lister()
	c.queues, c.podGroups = queueInformer.Lister(), groupInformer.Lister()

	handlers := []struct {
		what     string
		informer cache.SharedIndexInformer
		changed  func(oldObj, newObj any) bool
		// filter, when set, limits the handler to the objects it passes;
		// an object that stops passing looks deleted.
		filter func(obj any) bool
	}{
		// Terminal pods hold nothing: for the accounting, a pod that
		// finishes is gone. (The informer is shared with controllers
		// that read them.)
		{"pods", podInformer.Informer(), podChanged, notTerminal},
		{"namespaces", nsInformer.Informer(), queueLabelChanged, nil},
		{"nodes", nodeInformer.Informer(), nodeChanged, nil},
		{"queues", queueInformer.Informer(), queueChanged, nil},
		{"PodGroups", groupInformer.Informer(), queueLabelChanged, nil},
	}
	for _, h := range handlers {
		registration, err := h.informer.AddEventHandler(eventHandler(c.enqueue, h.changed, h.filter))
		if err != nil {
			return nil, fmt.Errorf("watching %s: %w", h.what, err)
		}
		c.hasSynced = append(c.hasSynced, registration.HasSynced)
	}
	return c, nil
}

// eventHandler calls enqueue for every add and delete, and for updates
// changed reports. With filter, only objects it passes count: an object
// that stops passing looks deleted, one that starts looks added.
func eventHandler(enqueue func(), changed func(oldObj, newObj any) bool, filter func(obj any) bool) cache.ResourceEventHandler {
	var handler cache.ResourceEventHandler = cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { enqueue() },
		UpdateFunc: func(oldObj, newObj any) {
			if changed(oldObj, newObj) {
				enqueue()
			}
		},
		DeleteFunc: func(any) { enqueue() },
	}
	if filter != nil {
		handler = cache.FilteringResourceEventHandler{FilterFunc: filter, Handler: handler}
	}
	return handler
}

// Name implements the manager's Controller.
func (c *Controller) Name() string { return Name }

// HasSynced reports whether the informers have listed and the worker runs.
func (c *Controller) HasSynced() bool { return c.synced.Load() }

// Run waits for the informers, which the manager starts, to sync, then runs
// the worker until ctx ends. One worker whatever workers says: there is
// one key.
func (c *Controller) Run(ctx context.Context, _ int) error {
	logger := klog.FromContext(ctx)
	defer c.queue.ShutDown()
	defer c.metrics.reset()
	c.meter = Meter{}
	if !cache.WaitForNamedCacheSyncWithContext(ctx, c.hasSynced...) {
		return fmt.Errorf("%s: informers did not sync: %w", Name, context.Cause(ctx))
	}

	logger.Info("Starting worker", "coalesce", c.opts.Coalesce, "interval", c.opts.Interval)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for c.processNext(ctx) {
		}
	}()
	go func() {
		defer wg.Done()
		ticker := c.opts.Clock.NewTicker(c.opts.Interval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C():
				c.queue.Add(treeKey)
			}
		}
	}()
	c.queue.Add(treeKey)
	c.synced.Store(true)
	<-ctx.Done()
	c.synced.Store(false)
	c.queue.ShutDown()
	wg.Wait()
	logger.Info("Stopped worker")
	return nil
}

// enqueue asks for an evaluation after the coalescing delay. A key already
// waiting keeps its earlier time, so a steady stream of changes cannot
// postpone the evaluation.
func (c *Controller) enqueue() { c.queue.AddAfter(treeKey, c.opts.Coalesce) }

// processNext evaluates the tree once; false once the queue shuts down.
func (c *Controller) processNext(ctx context.Context) bool {
	key, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(key)
	if err := c.reconcile(ctx); err != nil {
		klog.FromContext(ctx).Error(err, "Reconciling queues failed; will retry")
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

// reconcile evaluates the tree from the caches, updates the metrics, and
// brings every queue's finalizer and status in step. A failure on one
// queue does not stop the others; the errors are returned together.
func (c *Controller) reconcile(ctx context.Context) error {
	snap, err := c.snapshot()
	if err != nil {
		return err
	}
	results := Evaluate(snap)
	now := c.opts.Clock.Now()
	use := make(map[string]GPUUse, len(snap.Queues))
	for _, q := range snap.Queues {
		use[q.Name] = GPUUseOf(results[q.Name].Status.Allocated, q.Spec.Guaranteed)
	}
	c.metrics.update(snap.Queues, results, c.meter.Advance(now, use))

	var errs []error
	for _, q := range snap.Queues {
		if err := c.sync(ctx, q, results[q.Name], metav1.NewTime(now)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// snapshot reads everything an evaluation needs from the caches. The
// objects are the caches' own: the evaluation only reads them.
func (c *Controller) snapshot() (Snapshot, error) {
	var s Snapshot
	queues, err := c.queues.List(labels.Everything())
	if err != nil {
		return s, fmt.Errorf("listing queues from the cache: %w", err)
	}
	s.Queues = queues

	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		return s, fmt.Errorf("listing pods from the cache: %w", err)
	}
	nsLabels := map[string]map[string]string{}
	for _, p := range pods {
		if podutil.Finished(p) {
			continue
		}
		if _, ok := nsLabels[p.Namespace]; !ok {
			if ns, err := c.namespaces.Get(p.Namespace); err == nil {
				nsLabels[p.Namespace] = ns.Labels
			} else {
				nsLabels[p.Namespace] = nil
			}
		}
		var groupLabels map[string]string
		if g := podutil.Gang(p); g != "" {
			if pg, err := c.podGroups.PodGroups(p.Namespace).Get(g); err == nil {
				groupLabels = pg.Labels
			}
		}
		s.Pods = append(s.Pods, queuemodel.Pod{
			Queue:    queueOf(p, groupLabels, nsLabels[p.Namespace]),
			Workload: WorkloadOf(p),
			Bound:    p.Spec.NodeName != "",
			Requests: Requests(p),
		})
	}

	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return s, fmt.Errorf("listing nodes from the cache: %w", err)
	}
	s.Capacity = corev1.ResourceList{}
	for _, n := range nodes {
		if n.Spec.Unschedulable {
			continue
		}
		for _, r := range Resources {
			if q, ok := n.Status.Allocatable[r]; ok {
				sum := s.Capacity[r]
				sum.Add(q)
				s.Capacity[r] = sum
			}
		}
	}
	return s, nil
}

// sync brings one queue's finalizer and status in step with its result and
// records the events due. q is the cache's object and is not modified.
func (c *Controller) sync(ctx context.Context, q *gantryv1alpha1.Queue, r *Result, now metav1.Time) error {
	logger := klog.FromContext(ctx).WithValues("queue", q.Name)
	client := c.client.GantryV1alpha1().Queues()
	// cur is the queue as last written: the status write needs its
	// resourceVersion.
	cur := q
	switch {
	case q.DeletionTimestamp == nil && !HasFinalizer(q):
		next := q.DeepCopy()
		next.Finalizers = append(next.Finalizers, gantryv1alpha1.QueueInUseFinalizer)
		got, err := client.Update(ctx, next, metav1.UpdateOptions{FieldManager: FieldManager})
		if err != nil {
			return fmt.Errorf("adding finalizer %s to queue %s: %w", gantryv1alpha1.QueueInUseFinalizer, q.Name, err)
		}
		logger.V(2).Info("Added finalizer", "finalizer", gantryv1alpha1.QueueInUseFinalizer)
		cur = got
	case q.DeletionTimestamp != nil && HasFinalizer(q) && r.BoundPods == 0:
		next := q.DeepCopy()
		next.Finalizers = slices.DeleteFunc(next.Finalizers, func(f string) bool { return f == gantryv1alpha1.QueueInUseFinalizer })
		if _, err := client.Update(ctx, next, metav1.UpdateOptions{FieldManager: FieldManager}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("removing finalizer %s from deleted queue %s: %w", gantryv1alpha1.QueueInUseFinalizer, q.Name, err)
		}
		logger.V(2).Info("Removed finalizer from a deleted queue: no bound pods run in it", "finalizer", gantryv1alpha1.QueueInUseFinalizer)
		return nil // gone, or going once others' finalizers are lifted
	}

	// Events follow the status write: they are derived from the difference
	// with the written status, so a failed write retried later must not
	// give them twice.
	status, events := DesiredStatus(q, r, now)
	if equality.Semantic.DeepEqual(q.Status, status) {
		return nil
	}
	next := cur.DeepCopy()
	next.Status = status
	if _, err := client.UpdateStatus(ctx, next, metav1.UpdateOptions{FieldManager: FieldManager}); err != nil {
		return fmt.Errorf("updating the status of queue %s: %w", q.Name, err)
	}
	for _, e := range events {
		logger.V(2).Info("Event on queue", "type", e.Type, "reason", e.Reason, "message", e.Message)
		c.recorder.Event(q, e.Type, e.Reason, e.Message)
	}
	return nil
}

// queueOf is the pod's queue (gantryv1alpha1.QueueOf).
func queueOf(pod *corev1.Pod, podGroupLabels, namespaceLabels map[string]string) string {
	q, _ := gantryv1alpha1.QueueOf(pod.Labels, podGroupLabels, namespaceLabels)
	return q
}
