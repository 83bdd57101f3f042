package replay

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/test/framework"
)

// Labels the driver puts on its pods.
const (
	RunLabel = "bench.gantry.dev/run"
	JobLabel = "bench.gantry.dev/job"
)

// Options tune a replay.
type Options struct {
	// Compression is simulated seconds per wall second.
	Compression float64
	// Horizon is the simulated length of the replay.
	Horizon time.Duration
	// Weights and Guaranteed GPUs of the queues (Queue objects for
	// schedulers that read them).
	Weights    map[string]int32
	Guaranteed map[string]int
	// PodCPUPerGPU and PodMemoryGiBPerGPU size the pods' cpu and memory
	// requests.
	PodCPUPerGPU, PodMemoryGiBPerGPU int
	// Workers create and delete pods in parallel (default 8).
	Workers int
	// GangBindGrace (wall time, default 2 s): see Timeline.GangBindGrace.
	GangBindGrace time.Duration
	// StarvationAfter (simulated, default 1 h): see Timeline.StarvationAfter.
	StarvationAfter time.Duration
	// Logf logs progress (nil: silent).
	Logf func(format string, args ...any)
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.GangBindGrace <= 0 {
		o.GangBindGrace = 2 * time.Second
	}
	if o.StarvationAfter <= 0 {
		o.StarvationAfter = time.Hour
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// podState is the driver's bookkeeping of one pod.
type podState struct {
	rec  *PodRecord
	node *SimNode
	set  gpu.Set
}

// replay is one scheduler's replay in progress.
type replay struct {
	cp      *framework.ControlPlane
	c       client.Client // without the client-side rate limit
	cluster *Cluster
	sched   Scheduler
	jobs    []Job
	opts    Options
	run     string

	mu        sync.Mutex
	t0        time.Time
	tl        *Timeline
	pods      map[string]*podState // by namespace/name
	used      map[string]gpu.Set   // by node
	bound     []int                // per job
	gen       []int                // per job: bumped when a run is preempted
	recreates chan [2]int          // preempted pods (job, member) to create again
	jobIdx    map[string]int       // job name → index
	finished  bool
	due       dueHeap
	wake      chan struct{}
}

// Replay runs jobs against one scheduler on the cluster and returns what
// happened. The scheduler runs in this process for the replay only. Pods
// are created at their job's arrival (compressed), a job's pods are
// deleted (they finish) its duration after the last of them was bound,
// and at the horizon everything the replay created is deleted. Pods are
// never run: there is no kubelet, a bound pod holds its resources until
// deleted, which is all a scheduler sees of a running pod.
//
// GPU sets: for a scheduler that chooses GPUs (Gantry) they are the
// gantry.dev/gpu-ids the scheduler wrote; for the others they are what
// the device plugin's GetPreferredAllocation would hand out on the node's
// free GPUs, the best set by pkg/gpu's scoring (BestSet), the same choice
// Gantry's device plugin makes for a pod without an annotation: a fair
// model of a topology-aware device plugin under a scheduler that does not
// choose GPUs.
func Replay(ctx context.Context, t testing.TB, cp *framework.ControlPlane, cluster *Cluster, s Scheduler, jobs []Job, opts Options) (*Timeline, error) {
	opts.defaults()
	r := &replay{
		cp: cp, cluster: cluster, sched: s, jobs: jobs, opts: opts,
		run:  fmt.Sprintf("%s-%d", s.Name, time.Now().UnixNano()%1e6),
		pods: map[string]*podState{}, used: map[string]gpu.Set{}, bound: make([]int, len(jobs)), gen: make([]int, len(jobs)),
		recreates: make(chan [2]int, 1<<16),
		wake:      make(chan struct{}, 1),
		tl: &Timeline{
			Scheduler: s.Name, Jobs: jobs, Pods: make([][]PodRecord, len(jobs)), Horizon: opts.Horizon,
			ClusterGPUs: cluster.GPUs, Compression: opts.Compression, Weights: opts.Weights,
			GangBindGrace:   time.Duration(float64(opts.GangBindGrace) * opts.Compression),
			StarvationAfter: opts.StarvationAfter,
		},
	}
	r.jobIdx = make(map[string]int, len(jobs))
	for i, j := range jobs {
		r.jobIdx[j.Name] = i
		r.tl.Pods[i] = make([]PodRecord, j.Pods)
		for k := range j.Pods {
			r.tl.Pods[i][k] = PodRecord{GPUs: j.GPUsPerPod, Bound: Never, End: Never}
		}
	}
	queues := map[string]bool{}
	for _, j := range jobs {
		queues[j.Queue] = true
	}
	for q := range opts.Weights {
		queues[q] = true
	}
	// The control plane's client is rate-limited on the client side (20
	// QPS), which would decide the figures; this one is not.
	cfg := rest.CopyConfig(cp.Config)
	cfg.QPS, cfg.Burst = 5000, 5000
	c, err := client.New(cfg, client.Options{Scheme: framework.Scheme()})
	if err != nil {
		return nil, err
	}
	r.c = c
	if err := r.setUp(ctx, queues); err != nil {
		return nil, err
	}
	defer r.tearDown(context.WithoutCancel(ctx), queues)

	// Watch the replay's pods.
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.LabelSelector = RunLabel + "=" + r.run
	}))
	inf := factory.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { r.observe(obj) },
		UpdateFunc: func(_, obj any) { r.observe(obj) },
		DeleteFunc: func(obj any) { r.deleted(obj) },
	}); err != nil {
		return nil, err
	}
	infCtx, stopInf := context.WithCancel(ctx)
	defer stopInf()
	factory.Start(infCtx.Done())
	factory.WaitForCacheSync(infCtx.Done())

	config, err := s.Config(cp.Kubeconfig, t.TempDir(), r.run)
	if err != nil {
		return nil, err
	}
	var stopSched func()
	if s.Tool != "" {
		stopSched = framework.StartSchedulerTool(ctx, t, s.Tool, config)
	} else {
		stopSched = framework.StartScheduler(ctx, t, config)
	}
	defer stopSched()

	r.mu.Lock()
	r.t0 = time.Now()
	r.mu.Unlock()
	wallHorizon := time.Duration(float64(opts.Horizon) / opts.Compression)
	runCtx, cancel := context.WithTimeout(ctx, wallHorizon)
	defer cancel()

	creates := make(chan int, 4096)
	deletes := make(chan int, 4096)
	var workers sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	fail := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		// Calls cut short by the end of the replay are not errors.
		if firstErr == nil && runCtx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "context deadline") {
			firstErr = err
		}
	}
	for range opts.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				select {
				case i, ok := <-creates:
					if !ok {
						return
					}
					if err := r.create(runCtx, i); err != nil {
						fail(err)
					}
				case ik := <-r.recreates:
					if err := r.createPod(runCtx, ik[0], ik[1]); err != nil {
						fail(err)
					}
				case i := <-deletes:
					if err := r.finish(runCtx, i); err != nil {
						fail(err)
					}
				case <-runCtx.Done():
					return
				}
			}
		}()
	}
	// The completer: deletes each started job's pods when it is due.
	go r.complete(runCtx, deletes)
	// The machine's load, to tell a scheduler's slowness from a busy
	// machine's.
	go r.sampleLoad(runCtx)
	// The submitter, on this goroutine.
	last := time.Now()
	for i, j := range jobs {
		if j.Arrival >= opts.Horizon {
			break
		}
		at := r.t0.Add(time.Duration(float64(j.Arrival) / opts.Compression))
		if d := time.Until(at); d > 0 {
			select {
			case <-time.After(d):
			case <-runCtx.Done():
			}
		}
		if runCtx.Err() != nil {
			break
		}
		select {
		case creates <- i:
		case <-runCtx.Done():
		}
		if time.Since(last) > 30*time.Second {
			last = time.Now()
			r.progress(i)
		}
	}
	<-runCtx.Done()
	r.mu.Lock()
	r.finished = true
	r.tl.Wall = time.Since(r.t0)
	tl := r.tl
	r.mu.Unlock()
	stopSched()
	workers.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return tl, nil
}

// sampleLoad records the 1-minute load average every 5 seconds.
func (r *replay) sampleLoad(ctx context.Context) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		raw, err := os.ReadFile("/proc/loadavg")
		if err != nil {
			return
		}
		var load float64
		if _, err := fmt.Sscanf(string(raw), "%f", &load); err != nil {
			return
		}
		r.mu.Lock()
		if !r.finished {
			r.tl.Load = append(r.tl.Load, load)
		}
		r.mu.Unlock()
	}
}

func (r *replay) progress(submitted int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	used := 0
	for _, s := range r.used {
		used += s.Len()
	}
	load := 0.0
	if n := len(r.tl.Load); n > 0 {
		load = r.tl.Load[n-1]
	}
	r.opts.Logf("%s: %s simulated, %d jobs submitted, %d pods bound, %d/%d GPUs in use, load average %.1f",
		r.sched.Name, r.simNow().Round(time.Minute), submitted+1, len(r.tl.BindWall), used, r.cluster.GPUs, load)
}

// simNow is the simulated time since the start; r.mu held.
func (r *replay) simNow() time.Duration {
	return time.Duration(float64(time.Since(r.t0)) * r.opts.Compression)
}

func (r *replay) namespace(queue string) string { return "bench-" + r.run + "-" + queue }

func podName(job string, k int) string { return fmt.Sprintf("%s-%d", job, k) }

func (r *replay) setUp(ctx context.Context, queues map[string]bool) error {
	c := r.c
	for q := range queues {
		ns := r.namespace(q)
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return fmt.Errorf("creating namespace %s: %w", ns, err)
		}
		// Admission refuses pods until the default ServiceAccount
		// exists, and no controller-manager creates it here.
		if err := c.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns}}); err != nil {
			return err
		}
		if r.sched.ElasticQuotas {
			if err := c.Create(ctx, r.elasticQuota(ns, q)); err != nil {
				return fmt.Errorf("creating ElasticQuota in %s: %w", ns, err)
			}
		}
		if r.sched.Queues {
			w := r.opts.Weights[q]
			if w <= 0 {
				w = 1
			}
			qo := &gantryv1alpha1.Queue{ObjectMeta: metav1.ObjectMeta{Name: q}, Spec: gantryv1alpha1.QueueSpec{Weight: w}}
			if g := r.opts.Guaranteed[q]; g > 0 {
				qo.Spec.Guaranteed = corev1.ResourceList{GPUResource: *resource.NewQuantity(int64(g), resource.DecimalSI)}
			}
			if err := c.Create(ctx, qo); err != nil {
				return fmt.Errorf("creating Queue %s: %w", q, err)
			}
		}
	}
	return nil
}

// elasticQuota is queue q's ElasticQuota: min its weighted share of the
// cluster (weights over the queues of Options.Weights), max the cluster.
func (r *replay) elasticQuota(ns, q string) *schedv1alpha1.ElasticQuota {
	var sum float64
	for _, w := range r.opts.Weights {
		sum += float64(w)
	}
	share := 1.0
	if w, ok := r.opts.Weights[q]; ok && sum > 0 {
		share = float64(w) / sum
	}
	gpus := int64(r.cluster.GPUs)
	cpu := int64(r.cluster.spec.NodeCPU) * int64(len(r.cluster.Nodes))
	mem := int64(r.cluster.spec.NodeMemoryGiB) * int64(len(r.cluster.Nodes)) << 30
	list := func(f float64) corev1.ResourceList {
		return corev1.ResourceList{
			GPUResource:           *resource.NewQuantity(int64(f*float64(gpus)), resource.DecimalSI),
			corev1.ResourceCPU:    *resource.NewQuantity(int64(f*float64(cpu)), resource.DecimalSI),
			corev1.ResourceMemory: *resource.NewQuantity(int64(f*float64(mem)), resource.BinarySI),
		}
	}
	return &schedv1alpha1.ElasticQuota{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "quota"},
		Spec:       schedv1alpha1.ElasticQuotaSpec{Min: list(share), Max: list(1)},
	}
}

// tearDown deletes the replay's pods, PodGroups and Queues and waits for
// the pods to be gone, so the next replay starts on an empty cluster.
func (r *replay) tearDown(ctx context.Context, queues map[string]bool) {
	c := r.c
	for q := range queues {
		ns := r.namespace(q)
		_ = c.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(ns), client.GracePeriodSeconds(0))
		_ = c.DeleteAllOf(ctx, &schedv1alpha1.PodGroup{}, client.InNamespace(ns))
		if r.sched.ElasticQuotas {
			_ = c.DeleteAllOf(ctx, &schedv1alpha1.ElasticQuota{}, client.InNamespace(ns))
		}
		if r.sched.Queues {
			_ = c.Delete(ctx, &gantryv1alpha1.Queue{ObjectMeta: metav1.ObjectMeta{Name: q}})
		}
	}
	_ = wait.PollUntilContextTimeout(ctx, time.Second, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		var pods corev1.PodList
		if err := c.List(ctx, &pods, client.MatchingLabels{RunLabel: r.run}, client.Limit(1)); err != nil {
			return false, nil
		}
		return len(pods.Items) == 0, nil
	})
	_ = wait.PollUntilContextTimeout(ctx, time.Second, time.Minute, true, func(ctx context.Context) (bool, error) {
		var qs gantryv1alpha1.QueueList
		err := c.List(ctx, &qs)
		return err == nil && len(qs.Items) == 0, nil
	})
}

// create creates job i's PodGroup (for a gang) and pods.
func (r *replay) create(ctx context.Context, i int) error {
	j := r.jobs[i]
	ns := r.namespace(j.Queue)
	c := r.c
	labels := map[string]string{RunLabel: r.run, JobLabel: j.Name, gantryv1alpha1.QueueLabel: j.Queue}
	if j.Gang() {
		labels[schedv1alpha1.PodGroupLabel] = j.Name
		pg := &schedv1alpha1.PodGroup{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: j.Name, Labels: map[string]string{gantryv1alpha1.QueueLabel: j.Queue}},
			Spec:       schedv1alpha1.PodGroupSpec{MinMember: int32(j.Pods), ScheduleTimeoutSeconds: ptr.To[int32](GangTimeoutSeconds)},
		}
		if err := c.Create(ctx, pg); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating PodGroup %s: %w", j.Name, err)
		}
	}
	for k := range j.Pods {
		name := podName(j.Name, k)
		r.mu.Lock()
		r.pods[ns+"/"+name] = &podState{rec: &r.tl.Pods[i][k]}
		r.mu.Unlock()
		if err := r.createPod(ctx, i, k); err != nil {
			return err
		}
	}
	return nil
}

// createPod creates pod k of job i.
func (r *replay) createPod(ctx context.Context, i, k int) error {
	j := r.jobs[i]
	labels := map[string]string{RunLabel: r.run, JobLabel: j.Name, gantryv1alpha1.QueueLabel: j.Queue}
	if j.Gang() {
		labels[schedv1alpha1.PodGroupLabel] = j.Name
	}
	gpus := int64(j.GPUsPerPod)
	res := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(gpus*int64(r.opts.PodCPUPerGPU), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(gpus*int64(r.opts.PodMemoryGiBPerGPU)<<30, resource.BinarySI),
		GPUResource:           *resource.NewQuantity(gpus, resource.DecimalSI),
	}
	name := podName(j.Name, k)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: r.namespace(j.Queue), Name: name, Labels: labels},
		Spec: corev1.PodSpec{
			SchedulerName: r.run,
			Containers: []corev1.Container{{
				Name: "main", Image: "registry.example/train",
				Resources: corev1.ResourceRequirements{Requests: res, Limits: res},
			}},
			TerminationGracePeriodSeconds: ptr.To[int64](0),
		},
	}
	if err := r.c.Create(ctx, pod); err != nil {
		return fmt.Errorf("creating pod %s: %w", name, err)
	}
	return nil
}

// deleted handles a pod deleted by someone else than the driver: the
// scheduler preempted it. Its GPUs are free, the time it held them is
// kept, its job is no longer running (its completion is cancelled), and
// the pod is created again, as a Job or training operator would, to wait
// for another placement.
func (r *replay) deleted(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.pods[pod.Namespace+"/"+pod.Name]
	if r.finished || st == nil || st.rec.End != Never || st.rec.Bound == Never {
		return
	}
	i, ok := r.jobIdx[pod.Labels[JobLabel]]
	if !ok {
		return
	}
	now := r.simNow()
	st.rec.Preempted = append(st.rec.Preempted, Span{From: st.rec.Bound, To: now})
	st.rec.Bound, st.rec.Node = Never, ""
	if st.node != nil {
		r.used[st.node.Name] &^= st.set
	}
	st.node, st.set = nil, 0
	r.tl.Preemptions++
	r.bound[i]--
	r.gen[i]++ // a pending completion of the job is stale now
	k, err := strconv.Atoi(pod.Name[strings.LastIndex(pod.Name, "-")+1:])
	if err != nil {
		return
	}
	select {
	case r.recreates <- [2]int{i, k}:
	default:
		r.tl.Mismatches++ // cannot happen with the channel's room
	}
}

// observe records a pod's binding.
func (r *replay) observe(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || pod.Spec.NodeName == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	st := r.pods[pod.Namespace+"/"+pod.Name]
	if st == nil || st.rec.Bound != Never {
		return
	}
	now := r.simNow()
	st.rec.Bound = now
	st.rec.Node = pod.Spec.NodeName
	r.tl.BindWall = append(r.tl.BindWall, time.Since(r.t0))
	node := r.cluster.ByName[pod.Spec.NodeName]
	if node != nil {
		st.node = node
		used := r.used[node.Name]
		free := node.Topology.All() &^ used
		var set gpu.Set
		if ids := pod.Annotations[gantryv1alpha1.GPUIDsAnnotation]; r.sched.GPUIDs && ids != "" {
			s, err := node.Topology.SetOfUUIDs(gantryv1alpha1.ParseGPUIDs(ids))
			if err != nil || s&used != 0 || s.Len() != st.rec.GPUs {
				r.tl.Mismatches++
			}
			set = s
		} else if s, _, err := node.Topology.BestSet(free, 0, st.rec.GPUs); err == nil {
			set = s
		} else {
			r.tl.Mismatches++
		}
		st.set = set
		r.used[node.Name] = used | set
		st.rec.Optimal = set.Len() >= 2 && r.cluster.Optimal(node, set)
	}
	i, ok := r.jobIdx[pod.Labels[JobLabel]]
	if !ok {
		return
	}
	r.bound[i]++
	if r.bound[i] == r.jobs[i].Pods {
		heap.Push(&r.due, dueJob{at: time.Now().Add(time.Duration(float64(r.jobs[i].Duration) / r.opts.Compression)), job: i, gen: r.gen[i]})
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// complete sends each started job to deletes when its duration is over.
func (r *replay) complete(ctx context.Context, deletes chan<- int) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		r.mu.Lock()
		var next time.Duration = time.Hour
		var due []int
		for r.due.Len() > 0 {
			top := r.due[0]
			if d := time.Until(top.at); d > 0 {
				next = d
				break
			}
			heap.Pop(&r.due)
			if top.gen == r.gen[top.job] {
				due = append(due, top.job)
			}
		}
		r.mu.Unlock()
		for _, i := range due {
			select {
			case deletes <- i:
			case <-ctx.Done():
				return
			}
		}
		if len(due) > 0 {
			continue
		}
		timer.Reset(next)
		select {
		case <-timer.C:
		case <-r.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		case <-ctx.Done():
			return
		}
	}
}

// finish deletes job i's pods: the job has run its duration. Their GPUs
// are freed in the bookkeeping before the deletions, so a scheduler that
// sees a deletion and hands its GPUs to a new pod never finds them taken.
func (r *replay) finish(ctx context.Context, i int) error {
	j := r.jobs[i]
	ns := r.namespace(j.Queue)
	r.mu.Lock()
	if !r.finished {
		now := r.simNow()
		for k := range j.Pods {
			if st := r.pods[ns+"/"+podName(j.Name, k)]; st != nil {
				st.rec.End = now
				if st.node != nil {
					r.used[st.node.Name] &^= st.set
				}
			}
		}
	}
	r.mu.Unlock()
	for k := range j.Pods {
		name := podName(j.Name, k)
		err := r.c.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}, client.GracePeriodSeconds(0))
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting pod %s: %w", name, err)
		}
	}
	if j.Gang() {
		err := r.c.Delete(ctx, &schedv1alpha1.PodGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: j.Name}})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting PodGroup %s: %w", j.Name, err)
		}
	}
	return nil
}

type dueJob struct {
	at       time.Time
	job, gen int
}

type dueHeap []dueJob

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(a, b int) bool { return h[a].at.Before(h[b].at) }
func (h dueHeap) Swap(a, b int)      { h[a], h[b] = h[b], h[a] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueJob)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
