package queue

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// Name is the controller's name: its work queue's, and its events'
// reporting component is "gantry-controller/queue".
const Name = "queue"

// FieldManager names the controller's writes in managedFields.
const FieldManager = "gantry-controller"

// Resource is the Queue resource. Gantry has no generated clientset; the
// dynamic client reads and writes Queues.
var Resource = gantryv1alpha1.SchemeGroupVersion.WithResource("queues")

// podGroupResource is scheduler-plugins' PodGroup, read for its queue label.
var podGroupResource = schedv1alpha1.SchemeGroupVersion.WithResource("podgroups")

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
	kube     kubernetes.Interface
	dyn      dynamic.Interface
	recorder record.EventRecorder
	opts     Options
	meter    Meter
	metrics  *queueMetrics

	// Set by Run before the workers start.
	queue      workqueue.TypedRateLimitingInterface[string]
	queues     cache.GenericLister
	podGroups  cache.GenericLister
	pods       corelisters.PodLister
	namespaces corelisters.NamespaceLister
	nodes      corelisters.NodeLister
	synced     atomic.Bool
}

// New returns a Queue status controller.
func New(kube kubernetes.Interface, dyn dynamic.Interface, recorder record.EventRecorder, opts Options) *Controller {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Coalesce <= 0 {
		opts.Coalesce = DefaultOptions().Coalesce
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultOptions().Interval
	}
	return &Controller{kube: kube, dyn: dyn, recorder: recorder, opts: opts, metrics: newQueueMetrics()}
}

// Name implements the manager's Controller.
func (c *Controller) Name() string { return Name }

// HasSynced reports whether the informers have listed and the worker runs.
func (c *Controller) HasSynced() bool { return c.synced.Load() }

// Run starts the informers and the worker, and blocks until ctx ends. One
// worker whatever workers says: there is one key.
func (c *Controller) Run(ctx context.Context, _ int) error {
	logger := klog.FromContext(ctx)
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: Name})
	defer c.queue.ShutDown()
	defer c.metrics.reset()
	c.meter = Meter{}

	// Terminal pods hold nothing: leaving them out of the watch keeps the
	// cache small, and a pod that finishes looks deleted, which for the
	// accounting it is.
	podFactory := informers.NewSharedInformerFactoryWithOptions(c.kube, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = "status.phase!=" + string(corev1.PodSucceeded) + ",status.phase!=" + string(corev1.PodFailed)
		}),
		informers.WithTransform(stripManagedFields))
	podInformer := podFactory.Core().V1().Pods()
	c.pods = podInformer.Lister()
	clusterFactory := informers.NewSharedInformerFactoryWithOptions(c.kube, 0, informers.WithTransform(stripManagedFields))
	nsInformer := clusterFactory.Core().V1().Namespaces()
	nodeInformer := clusterFactory.Core().V1().Nodes()
	c.namespaces, c.nodes = nsInformer.Lister(), nodeInformer.Lister()
	dynFactory := dynamicinformer.NewDynamicSharedInformerFactory(c.dyn, 0)
	queueInformer := dynFactory.ForResource(Resource)
	groupInformer := dynFactory.ForResource(podGroupResource)
	c.queues, c.podGroups = queueInformer.Lister(), groupInformer.Lister()

	handlers := []struct {
		what     string
		informer cache.SharedIndexInformer
		changed  func(oldObj, newObj any) bool
	}{
		{"pods", podInformer.Informer(), podChanged},
		{"namespaces", nsInformer.Informer(), queueLabelChanged},
		{"nodes", nodeInformer.Informer(), nodeChanged},
		{"queues", queueInformer.Informer(), queueChanged},
		{"PodGroups", groupInformer.Informer(), queueLabelChanged},
	}
	var hasSynced []cache.InformerSynced
	for _, h := range handlers {
		if _, err := h.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(any) { c.enqueue() },
			UpdateFunc: func(oldObj, newObj any) {
				if h.changed(oldObj, newObj) {
					c.enqueue()
				}
			},
			DeleteFunc: func(any) { c.enqueue() },
		}); err != nil {
			return fmt.Errorf("watching %s: %w", h.what, err)
		}
		hasSynced = append(hasSynced, h.informer.HasSynced)
	}

	podFactory.Start(ctx.Done())
	clusterFactory.Start(ctx.Done())
	dynFactory.Start(ctx.Done())
	defer podFactory.Shutdown()
	defer clusterFactory.Shutdown()
	defer dynFactory.Shutdown()
	if !cache.WaitForNamedCacheSyncWithContext(ctx, hasSynced...) {
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

// podChanged: what the accounting reads of a pod is its node, labels and
// requests; status updates (conditions, container states) are most pod
// updates and change none of them.
func podChanged(oldObj, newObj any) bool {
	o, ok1 := oldObj.(*corev1.Pod)
	n, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 {
		return true
	}
	return o.Spec.NodeName != n.Spec.NodeName || !maps.Equal(o.Labels, n.Labels) ||
		!equality.Semantic.DeepEqual(Requests(o), Requests(n))
}

// queueLabelChanged: namespaces and PodGroups matter only for their queue
// label (PodGroup status is written often).
func queueLabelChanged(oldObj, newObj any) bool {
	o, err1 := metaAccessor(oldObj)
	n, err2 := metaAccessor(newObj)
	if err1 != nil || err2 != nil {
		return true
	}
	return o.GetLabels()[gantryv1alpha1.QueueLabel] != n.GetLabels()[gantryv1alpha1.QueueLabel]
}

// nodeChanged: nodes update their status every few seconds; only
// allocatable and schedulability change the capacity.
func nodeChanged(oldObj, newObj any) bool {
	o, ok1 := oldObj.(*corev1.Node)
	n, ok2 := newObj.(*corev1.Node)
	if !ok1 || !ok2 {
		return true
	}
	return o.Spec.Unschedulable != n.Spec.Unschedulable || !equality.Semantic.DeepEqual(o.Status.Allocatable, n.Status.Allocatable)
}

// queueChanged: the controller's own status writes come back as updates
// and need no evaluation; spec, finalizer and deletion changes do.
func queueChanged(oldObj, newObj any) bool {
	o, err1 := metaAccessor(oldObj)
	n, err2 := metaAccessor(newObj)
	if err1 != nil || err2 != nil {
		return true
	}
	return o.GetGeneration() != n.GetGeneration() || !slices.Equal(o.GetFinalizers(), n.GetFinalizers()) ||
		(o.GetDeletionTimestamp() == nil) != (n.GetDeletionTimestamp() == nil)
}

// stripManagedFields drops what the controller never reads and what makes
// up much of an object's size in the cache.
func stripManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

func metaAccessor(obj any) (metav1.Object, error) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	o, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T is not an object", obj)
	}
	return o, nil
}

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
	logger := klog.FromContext(ctx)
	snap, objs, err := c.snapshot(logger)
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
		if err := c.sync(ctx, q, objs[q.Name], results[q.Name], metav1.NewTime(now)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// snapshot reads everything an evaluation needs from the caches. Queues
// that cannot be read as Queues are logged and left out: a malformed
// object must not stop the others' accounting.
func (c *Controller) snapshot(logger klog.Logger) (Snapshot, map[string]*unstructured.Unstructured, error) {
	var s Snapshot
	objs := map[string]*unstructured.Unstructured{}
	list, err := c.queues.List(labels.Everything())
	if err != nil {
		return s, nil, fmt.Errorf("listing queues from the cache: %w", err)
	}
	for _, obj := range list {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		q, err := toQueue(u)
		if err != nil {
			logger.Error(err, "Ignoring a queue that cannot be read", "queue", u.GetName())
			continue
		}
		s.Queues = append(s.Queues, q)
		objs[q.Name] = u
	}

	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		return s, nil, fmt.Errorf("listing pods from the cache: %w", err)
	}
	nsLabels := map[string]map[string]string{}
	for _, p := range pods {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
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
		if g := p.Labels[schedv1alpha1.PodGroupLabel]; g != "" {
			if obj, err := c.podGroups.ByNamespace(p.Namespace).Get(g); err == nil {
				if m, ok := obj.(metav1.Object); ok {
					groupLabels = m.GetLabels()
				}
			}
		}
		s.Pods = append(s.Pods, Pod{
			Namespace: p.Namespace,
			Name:      p.Name,
			Queue:     queueOf(p, groupLabels, nsLabels[p.Namespace]),
			Workload:  WorkloadOf(p),
			Bound:     p.Spec.NodeName != "",
			Requests:  Requests(p),
		})
	}

	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return s, nil, fmt.Errorf("listing nodes from the cache: %w", err)
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
	return s, objs, nil
}

// sync brings one queue's finalizer and status in step with its result and
// records the events due.
func (c *Controller) sync(ctx context.Context, q *gantryv1alpha1.Queue, u *unstructured.Unstructured, r *Result, now metav1.Time) error {
	logger := klog.FromContext(ctx).WithValues("queue", q.Name)
	client := c.dyn.Resource(Resource)
	switch {
	case q.DeletionTimestamp == nil && !HasFinalizer(q):
		next := u.DeepCopy()
		next.SetFinalizers(append(next.GetFinalizers(), gantryv1alpha1.QueueInUseFinalizer))
		got, err := client.Update(ctx, next, metav1.UpdateOptions{FieldManager: FieldManager})
		if err != nil {
			return fmt.Errorf("adding finalizer %s to queue %s: %w", gantryv1alpha1.QueueInUseFinalizer, q.Name, err)
		}
		logger.V(2).Info("Added finalizer", "finalizer", gantryv1alpha1.QueueInUseFinalizer)
		u = got
	case q.DeletionTimestamp != nil && HasFinalizer(q) && r.BoundPods == 0:
		next := u.DeepCopy()
		next.SetFinalizers(slices.DeleteFunc(next.GetFinalizers(), func(f string) bool { return f == gantryv1alpha1.QueueInUseFinalizer }))
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
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&status)
	if err != nil {
		return fmt.Errorf("converting the status of queue %s: %w", q.Name, err)
	}
	next := u.DeepCopy()
	next.Object["status"] = content
	if _, err := client.UpdateStatus(ctx, next, metav1.UpdateOptions{FieldManager: FieldManager}); err != nil {
		return fmt.Errorf("updating the status of queue %s: %w", q.Name, err)
	}
	for _, e := range events {
		logger.V(2).Info("Event on queue", "type", e.Type, "reason", e.Reason, "message", e.Message)
		c.recorder.Event(q, e.Type, e.Reason, e.Message)
	}
	return nil
}

// toQueue converts an informer's Queue to the typed struct, keeping its
// kind, which events need.
func toQueue(u *unstructured.Unstructured) (*gantryv1alpha1.Queue, error) {
	var q gantryv1alpha1.Queue
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.UnstructuredContent(), &q); err != nil {
		return nil, fmt.Errorf("converting queue %s: %w", u.GetName(), err)
	}
	q.APIVersion, q.Kind = gantryv1alpha1.SchemeGroupVersion.String(), "Queue"
	return &q, nil
}

// queueOf is the pod's queue (gantryv1alpha1.QueueOf).
func queueOf(pod *corev1.Pod, podGroupLabels, namespaceLabels map[string]string) string {
	q, _ := gantryv1alpha1.QueueOf(pod.Labels, podGroupLabels, namespaceLabels)
	return q
}
