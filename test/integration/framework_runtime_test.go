package integration

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corev1listers "k8s.io/client-go/listers/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	resourceslicetracker "k8s.io/dynamic-resource-allocation/resourceslice/tracker"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/features"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/scheme"
	internalcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	frameworkplugins "k8s.io/kubernetes/pkg/scheduler/framework/plugins"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/dynamicresources"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/nodevolumelimits"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	schedulermetrics "k8s.io/kubernetes/pkg/scheduler/metrics"
	"k8s.io/kubernetes/pkg/scheduler/util/assumecache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gantry-gpu/gantry/pkg/scheduler"
	"github.com/gantry-gpu/gantry/pkg/scheduler/shared"
)

// profileRuntime is the shipped "gantry" profile built by the framework
// runtime itself (frameworkruntime.NewFramework, the in-tree registry and
// Gantry's), on informers of the test control plane, with a scheduling
// cycle driven by the test: the framework's own runners call the plugins
// at each extension point, in the configured order, with the cycle state,
// the snapshot and the waiting pods they would have in the scheduler.
type profileRuntime struct {
	t     *testing.T
	state *shared.State
	ctx   context.Context
	fw    framework.Framework
	pods  corev1listers.PodLister
	nodes []string
	// snapshot is what the framework's SnapshotSharedLister serves; each
	// cycle takes a new one.
	snapshot *snapshotLister
	// assumed are pods reserved in an earlier cycle and not yet seen bound
	// by the informer: the scheduler's cache counts them on their node.
	assumed map[string]*corev1.Pod
}

// snapshotLister serves the current cycle's snapshot.
type snapshotLister struct {
	mu sync.Mutex
	s  *internalcache.Snapshot
}

func (l *snapshotLister) get() *internalcache.Snapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s
}

func (l *snapshotLister) NodeInfos() fwk.NodeInfoLister       { return l.get().NodeInfos() }
func (l *snapshotLister) StorageInfos() fwk.StorageInfoLister { return l.get().StorageInfos() }
func (l *snapshotLister) PodGroupStates() fwk.PodGroupStateLister {
	return l.get().PodGroupStates()
}
func (l *snapshotLister) PodGroups() fwk.PodGroupLister { return l.get().PodGroups() }
func (l *snapshotLister) CompositePodGroupStates() fwk.CompositePodGroupStateLister {
	return l.get().CompositePodGroupStates()
}
func (l *snapshotLister) CompositePodGroups() fwk.CompositePodGroupLister {
	return l.get().CompositePodGroups()
}

// shippedProfile is the "gantry" profile of deploy/config, defaulted and
// converted as the scheduler loads it.
func shippedProfile(t *testing.T) config.KubeSchedulerProfile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "config", "scheduler-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	obj, _, err := scheme.Codecs.UniversalDecoder().Decode(data, nil, nil)
	if err != nil {
		t.Fatalf("decoding the shipped scheduler configuration: %v", err)
	}
	cfg, ok := obj.(*config.KubeSchedulerConfiguration)
	if !ok || len(cfg.Profiles) != 1 {
		t.Fatalf("the shipped scheduler configuration is %T with %d profiles, want one profile", obj, len(cfg.Profiles))
	}
	return cfg.Profiles[0]
}

// newProfileRuntime builds the framework on nodes (the test's nodes; the
// snapshot holds them alone) and starts its informers.
func newProfileRuntime(ctx context.Context, t *testing.T, nodes []string) *profileRuntime {
	t.Helper()
	st, err := shared.New(controlPlane.Config)
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(controlPlane.Config)
	if err != nil {
		t.Fatal(err)
	}
	// The scheduler's own factory, as scheduler.Setup wraps it.
	factory := st.Informers.Kube(informers.NewSharedInformerFactory(kube, 0))
	registry := frameworkplugins.NewInTreeRegistry()
	if err := registry.Merge(scheduler.Registry(st)); err != nil {
		t.Fatal(err)
	}
	profile := shippedProfile(t)
	// DynamicResources and the volume plugins need what the scheduler
	// builds for them (kubescheduler.New).
	claims := assumecache.NewAssumeCache(klog.FromContext(ctx), factory.Resource().V1().ResourceClaims().Informer(), "ResourceClaim", "", nil)
	sliceOpts := resourceslicetracker.Options{
		EnableDeviceTaintRules:   feature.DefaultFeatureGate.Enabled(features.DRADeviceTaintRules),
		EnableConsumableCapacity: feature.DefaultFeatureGate.Enabled(features.DRAConsumableCapacity),
		SliceInformer:            factory.Resource().V1().ResourceSlices(),
		KubeClient:               kube,
	}
	if sliceOpts.EnableDeviceTaintRules {
		sliceOpts.TaintInformer = factory.Resource().V1().DeviceTaintRules()
	}
	sliceTracker, err := resourceslicetracker.StartTracker(ctx, sliceOpts)
	if err != nil {
		t.Fatal(err)
	}
	// The framework records its metrics from the start, as the scheduler
	// registers them.
	schedulermetrics.Register()
	snapshot := &snapshotLister{s: internalcache.NewEmptySnapshot()}
	fw, err := frameworkruntime.NewFramework(ctx, registry, &profile,
		frameworkruntime.WithClientSet(kube),
		frameworkruntime.WithKubeConfig(controlPlane.Config),
		frameworkruntime.WithInformerFactory(factory),
		frameworkruntime.WithEventRecorder(events.NewFakeRecorder(1000)),
		frameworkruntime.WithSnapshotSharedLister(snapshot),
		frameworkruntime.WithSharedDRAManager(dynamicresources.NewDRAManager(ctx, claims, sliceTracker, factory)),
		frameworkruntime.WithSharedCSIManager(nodevolumelimits.NewCSIManager(factory.Storage().V1().CSINodes().Lister())),
		frameworkruntime.WithWaitingPods(frameworkruntime.NewWaitingPodsMap()),
		frameworkruntime.WithPodActivator(noActivation{}),
	)
	if err != nil {
		t.Fatalf("building the shipped profile in the framework runtime: %v", err)
	}
	// The scheduler's handlers on pods and NodeGPUs, through which the
	// shared state applies each event first (shared.Informers.RefreshFirst).
	noop := toolscache.ResourceEventHandlerFuncs{}
	if _, err := factory.Core().V1().Pods().Informer().AddEventHandler(noop); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Informers.Dynamic(nil).ForResource(shared.NodeGPUResource).Informer().AddEventHandler(noop); err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	st.Informers.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	st.Informers.Dynamic(nil).WaitForCacheSync(ctx.Done())
	return &profileRuntime{
		t: t, state: st, ctx: ctx, fw: fw, nodes: nodes, snapshot: snapshot,
		pods:    factory.Core().V1().Pods().Lister(),
		assumed: map[string]*corev1.Pod{},
	}
}

// noActivation is the scheduling queue's activator; the driven cycles
// never requeue.
type noActivation struct{}

func (noActivation) Activate(klog.Logger, map[string]*corev1.Pod) {}

// takeSnapshot builds the cycle's snapshot: the test's nodes with the pods
// bound to them or assumed there.
func (r *profileRuntime) takeSnapshot() {
	r.t.Helper()
	var nodes []*corev1.Node
	for _, name := range r.nodes {
		n := &corev1.Node{}
		if err := controlPlane.Client.Get(r.ctx, client.ObjectKey{Name: name}, n); err != nil {
			r.t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	all, err := r.pods.List(labels.Everything())
	if err != nil {
		r.t.Fatal(err)
	}
	var pods []*corev1.Pod
	for _, p := range all {
		if slices.Contains(r.nodes, p.Spec.NodeName) {
			pods = append(pods, p)
			delete(r.assumed, p.Namespace+"/"+p.Name)
		}
	}
	for _, p := range r.assumed {
		pods = append(pods, p)
	}
	r.snapshot.mu.Lock()
	r.snapshot.s = internalcache.NewSnapshot(pods, nodes)
	r.snapshot.mu.Unlock()
}

// cycle is one scheduling cycle of pod as the scheduler runs it, from
// PreEnqueue to Permit: the node chosen, the cycle state, and the status
// that ended the cycle (nil when Permit allowed the pod; Wait when a
// plugin made it wait in Permit, where it now is).
func (r *profileRuntime) cycle(pod *corev1.Pod) (string, *framework.CycleState, *fwk.Status) {
	r.t.Helper()
	for _, pl := range r.fw.PreEnqueuePlugins() {
		if s := pl.PreEnqueue(r.ctx, pod); !s.IsSuccess() {
			return "", nil, s.WithPlugin(pl.Name())
		}
	}
	r.takeSnapshot()
	cs := framework.NewCycleState()
	res, s, _ := r.fw.RunPreFilterPlugins(r.ctx, cs, pod)
	if !s.IsSuccess() {
		return "", cs, s
	}
	all, err := r.snapshot.NodeInfos().List()
	if err != nil {
		r.t.Fatal(err)
	}
	var feasible []fwk.NodeInfo
	var rejections []string
	for _, ni := range all {
		if !res.AllNodes() && !res.NodeNames.Has(ni.Node().Name) {
			continue
		}
		if s := r.fw.RunFilterPlugins(r.ctx, cs, pod, ni); !s.IsSuccess() {
			rejections = append(rejections, ni.Node().Name+": "+s.Message())
			continue
		}
		feasible = append(feasible, ni)
	}
	if len(feasible) == 0 {
		return "", cs, fwk.NewStatus(fwk.Unschedulable, rejections...)
	}
	if s := r.fw.RunPreScorePlugins(r.ctx, cs, pod, feasible); !s.IsSuccess() {
		return "", cs, s
	}
	scores, s := r.fw.RunScorePlugins(r.ctx, cs, pod, feasible)
	if !s.IsSuccess() {
		return "", cs, s
	}
	best := scores[0]
	for _, sc := range scores[1:] {
		if sc.TotalScore > best.TotalScore {
			best = sc
		}
	}
	if s := r.fw.RunReservePluginsReserve(r.ctx, cs, pod, best.Name); !s.IsSuccess() {
		r.fw.RunReservePluginsUnreserve(r.ctx, cs, pod, best.Name)
		return best.Name, cs, s
	}
	assumed := pod.DeepCopy()
	assumed.Spec.NodeName = best.Name
	r.assumed[pod.Namespace+"/"+pod.Name] = assumed
	wait, s := r.fw.RunPermitPlugins(r.ctx, cs, pod, best.Name)
	if s.IsWait() {
		r.fw.AddWaitingPod(pod, wait)
	}
	return best.Name, cs, s
}

// bind runs the binding cycle's Bind of a pod Permit allowed, and returns
// the pod as the API server then has it.
func (r *profileRuntime) bind(pod *corev1.Pod, cs *framework.CycleState, node string) *corev1.Pod {
	r.t.Helper()
	if s := r.fw.WaitOnPermit(r.ctx, pod); !s.IsSuccess() {
		r.t.Fatalf("pod %s was not allowed in Permit: %v", pod.Name, s)
	}
	if s := r.fw.RunBindPlugins(r.ctx, cs, pod, node); !s.IsSuccess() {
		r.t.Fatalf("binding pod %s to %s: %v", pod.Name, node, s)
	}
	got := &corev1.Pod{}
	if err := controlPlane.Client.Get(r.ctx, client.ObjectKeyFromObject(pod), got); err != nil {
		r.t.Fatal(err)
	}
	return got
}

// seen waits until the runtime's informers hold pods as they are now.
func (r *profileRuntime) seen(pods ...*corev1.Pod) {
	r.t.Helper()
	for _, p := range pods {
		want := &corev1.Pod{}
		if err := controlPlane.Client.Get(r.ctx, client.ObjectKeyFromObject(p), want); err != nil {
			r.t.Fatal(err)
		}
		err := wait.PollUntilContextCancel(r.ctx, 10*time.Millisecond, true, func(context.Context) (bool, error) {
			got, err := r.pods.Pods(p.Namespace).Get(p.Name)
			return err == nil && got.ResourceVersion == want.ResourceVersion, nil
		})
		if err != nil {
			r.t.Fatalf("the runtime's pod informer never saw pod %s at resource version %s", p.Name, want.ResourceVersion)
		}
	}
}

// heldOn waits until the GPU cache holds n GPUs of node.
func (r *profileRuntime) heldOn(node string, n int) {
	r.t.Helper()
	c, err := r.state.GPUs()
	if err != nil {
		r.t.Fatal(err)
	}
	err = wait.PollUntilContextCancel(r.ctx, 10*time.Millisecond, true, func(context.Context) (bool, error) {
		ns, ok := c.Node(node)
		return ok && ns.Allocated.Len() == n, nil
	})
	if err != nil {
		ns, _ := c.Node(node)
		r.t.Fatalf("the GPU cache holds %s of node %s, want %d GPUs", ns.Allocated, node, n)
	}
}
