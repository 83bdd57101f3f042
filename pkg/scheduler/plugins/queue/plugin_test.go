package queue

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/utils/ptr"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"
	splisters "sigs.k8s.io/scheduler-plugins/pkg/generated/listers/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	gantrylisters "github.com/gantry-gpu/gantry/pkg/generated/listers/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs"
	"github.com/gantry-gpu/gantry/pkg/scheduler/queues"
)

// switchActivator forwards activations to the activator a test sets.
type switchActivator struct {
	mu     sync.Mutex
	target gangs.Activator
}

func (s *switchActivator) Activate(logger klog.Logger, pods map[string]*v1.Pod) {
	s.mu.Lock()
	t := s.target
	s.mu.Unlock()
	if t != nil {
		t.Activate(logger, pods)
	}
}

func (s *switchActivator) set(a gangs.Activator) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.target = a
}

// newInformer is an informer that is never started: tests fill its store.
func newInformer(obj runtime.Object) toolscache.SharedIndexInformer {
	return toolscache.NewSharedIndexInformer(&toolscache.ListWatch{}, obj, 0, toolscache.Indexers{})
}

type fixture struct {
	t       *testing.T
	pl      *Plugin
	members toolscache.Indexer
	// queues is the Queue informer's store.
	queues toolscache.Indexer
	rv     int
	act    *switchActivator
}

func newFixture(t *testing.T, namespaces ...*v1.Namespace) *fixture {
	t.Helper()
	nsInformer := newInformer(&v1.Namespace{})
	for _, ns := range namespaces {
		_ = nsInformer.GetStore().Add(ns)
	}
	pods := newInformer(&v1.Pod{})
	groups := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{})
	_ = groups.Add(&schedv1alpha1.PodGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "labelled", Labels: map[string]string{gantryv1alpha1.QueueLabel: "team"}}})
	act := &switchActivator{}
	index, err := gangs.NewIndex(klog.Background(), splisters.NewPodGroupLister(groups), pods, act)
	if err != nil {
		t.Fatal(err)
	}
	queueInformer := newInformer(&gantryv1alpha1.Queue{})
	qs, err := queues.New(klog.Background(), DefaultResourceName, queues.Informers{
		Pods:            pods,
		Namespaces:      nsInformer,
		Queues:          queueInformer,
		QueueLister:     gantrylisters.NewQueueLister(queueInformer.GetIndexer()),
		NamespaceLister: corelisters.NewNamespaceLister(nsInformer.GetIndexer()),
	}, index, act)
	if err != nil {
		t.Fatal(err)
	}
	args := &QueueArgs{}
	SetDefaultsQueueArgs(args)
	// No judge of turns (New sets the plugin's): every queue's turn.
	pl := newPlugin(args, qs, pods.GetIndexer())
	return &fixture{t: t, pl: pl, members: pods.GetIndexer(), queues: queueInformer.GetIndexer(), act: act}
}

func (f *fixture) queue(name, parent string, limitGPUs int64) {
	f.t.Helper()
	f.rv++
	q := &gantryv1alpha1.Queue{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: strconv.Itoa(f.rv)}, Spec: gantryv1alpha1.QueueSpec{Parent: parent}}
	if limitGPUs >= 0 {
		q.Spec.Limit = v1.ResourceList{DefaultResourceName: *resource.NewQuantity(limitGPUs, resource.DecimalSI)}
	}
	if err := f.queues.Update(q); err != nil {
		f.t.Fatal(err)
	}
}

func pod(name, queue, gang string, gpus int64, node string) *v1.Pod {
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID(name), Labels: map[string]string{}},
		Spec: v1.PodSpec{NodeName: node, Containers: []v1.Container{{Name: "c", Resources: v1.ResourceRequirements{
			Limits: v1.ResourceList{DefaultResourceName: *resource.NewQuantity(gpus, resource.DecimalSI)},
		}}}},
	}
	if queue != "" {
		p.Labels[gantryv1alpha1.QueueLabel] = queue
	}
	if gang != "" {
		p.Labels[schedv1alpha1.PodGroupLabel] = gang
	}
	return p
}

// bind records a pod as the informer would see it bound.
func (f *fixture) bind(p *v1.Pod) {
	_ = f.members.Add(p)
	f.pl.acct.SetPod(p)
}

func (f *fixture) preFilter(p *v1.Pod) (fwk.CycleState, *fwk.Status) {
	cs := framework.NewCycleState()
	_, st := f.pl.PreFilter(context.Background(), cs, p, nil)
	return cs, st
}

func wantStatus(t *testing.T, st *fwk.Status, code fwk.Code, msg string) {
	t.Helper()
	if st.Code() != code || !strings.Contains(st.Message(), msg) {
		t.Fatalf("status = %v %q, want %v containing %q", st.Code(), st.Message(), code, msg)
	}
}

func TestPreFilterInertWithoutQueues(t *testing.T) {
	f := newFixture(t)
	_, st := f.preFilter(pod("p", "research", "", 100, ""))
	wantStatus(t, st, fwk.Skip, "")
}

func TestPreFilterMissingQueue(t *testing.T) {
	f := newFixture(t, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns", Labels: map[string]string{gantryv1alpha1.QueueLabel: "ns-queue"}}})
	f.queue("other", "", 8)
	_, st := f.preFilter(pod("p", "research", "", 1, ""))
	wantStatus(t, st, fwk.UnschedulableAndUnresolvable, "queue research does not exist (pod label gantry.dev/queue)")
	_, st = f.preFilter(pod("q", "", "", 1, ""))
	wantStatus(t, st, fwk.UnschedulableAndUnresolvable, "queue ns-queue does not exist (namespace label gantry.dev/queue)")
	_, st = f.preFilter(pod("r", "", "labelled", 1, ""))
	wantStatus(t, st, fwk.UnschedulableAndUnresolvable, "queue team does not exist (PodGroup label gantry.dev/queue)")
}

func TestPreFilterNoQueueNamedIsNotGovernedWithoutDefault(t *testing.T) {
	f := newFixture(t)
	f.queue("other", "", 0)
	_, st := f.preFilter(pod("p", "", "", 1, ""))
	wantStatus(t, st, fwk.Skip, "")
	f.pl.opts.RequireDefaultQueue = true
	_, st = f.preFilter(pod("p", "", "", 1, ""))
	wantStatus(t, st, fwk.UnschedulableAndUnresolvable, "queue default does not exist")
}

func TestLimitCountsBoundAndReservedOnce(t *testing.T) {
	f := newFixture(t)
	f.queue("team", "", 8)
	a := pod("a", "team", "", 4, "")
	f.pl.Reserve(context.Background(), nil, a, "n1")
	b := pod("b", "team", "", 4, "n1")
	f.bind(b)
	// a is now seen bound: its reservation ends, and it counts once.
	aBound := a.DeepCopy()
	aBound.Spec.NodeName = "n1"
	f.bind(aBound)
	_, st := f.preFilter(pod("c", "team", "", 1, ""))
	wantStatus(t, st, fwk.UnschedulableAndUnresolvable, "queue team is at its limit of 8 nvidia.com/gpu: 8 in use, the pod needs 1 more")

	f.pl.acct.DeletePod(b)
	if _, st = f.preFilter(pod("c", "team", "", 4, "")); !st.IsSuccess() {
		t.Fatalf("after b is deleted: %v", st)
	}
	// A reservation counts until unreserved.
	d := pod("d", "team", "", 4, "")
	f.pl.Reserve(context.Background(), nil, d, "n2")
	_, st = f.preFilter(pod("c", "team", "", 4, ""))
	wantStatus(t, st, fwk.UnschedulableAndUnresolvable, "8 in use")
	f.pl.Unreserve(context.Background(), nil, d, "n2")
	if _, st = f.preFilter(pod("c", "team", "", 4, "")); !st.IsSuccess() {
		t.Fatalf("after d is unreserved: %v", st)
	}
	// A terminal pod no longer counts.
	done := aBound.DeepCopy()
	done.Status.Phase = v1.PodSucceeded
	f.pl.acct.SetPod(done)
	if _, st = f.preFilter(pod("c", "team", "", 8, "")); !st.IsSuccess() {
		t.Fatalf("after a succeeded: %v", st)
	}
}

func TestGangDemandIsItsUnplacedMembers(t *testing.T) {
	f := newFixture(t)
	f.queue("team", "", 8)
	m := []*v1.Pod{pod("m0", "team", "g", 4, ""), pod("m1", "team", "g", 4, ""), pod("m2", "team", "g", 4, "")}
	for _, p := range m {
		_ = f.members.Add(p)
	}
	_, st := f.preFilter(m[0])
	wantStatus(t, st, fwk.UnschedulableAndUnresolvable, "queue team is at its limit of 8 nvidia.com/gpu: 0 in use, the gang ns/g needs 12 more")

	// With the limit at 12, the first member admits the gang; once it is
	// reserved the next member's demand is the two left, on top of it.
	f.queue("team", "", 12)
	if _, st = f.preFilter(m[0]); !st.IsSuccess() {
		t.Fatalf("gang within the limit: %v", st)
	}
	f.pl.Reserve(context.Background(), nil, m[0], "n1")
	if _, st = f.preFilter(m[1]); !st.IsSuccess() {
		t.Fatalf("second member: %v", st)
	}
}

func TestAncestorLimitAndDescendantUsage(t *testing.T) {
	f := newFixture(t)
	f.queue("org", "", 8)
	f.queue("vision", "org", -1)
	f.queue("nlp", "org", -1)
	f.bind(pod("a", "nlp", "", 4, "n1"))
	f.bind(pod("b", "vision", "", 4, "n1"))
	_, st := f.preFilter(pod("c", "vision", "", 4, ""))
	wantStatus(t, st, fwk.UnschedulableAndUnresolvable, "queue org is at its limit of 8 nvidia.com/gpu: 8 in use, the pod needs 4 more (an ancestor of queue vision)")
}

func TestExtensionsAdjustUsage(t *testing.T) {
	f := newFixture(t)
	f.queue("team", "", 8)
	victim := pod("v", "team", "", 4, "n1")
	f.bind(victim)
	cs, st := f.preFilter(pod("c", "team", "", 4, ""))
	if !st.IsSuccess() {
		t.Fatal(st)
	}
	nominated := pod("n", "team", "", 4, "")
	ctx := context.Background()
	f.pl.AddPod(ctx, cs, nil, &framework.PodInfo{Pod: nominated}, nil)
	wantStatus(t, f.pl.Filter(ctx, cs, nil, nil), fwk.UnschedulableAndUnresolvable, "8 in use")
	f.pl.RemovePod(ctx, cs, nil, &framework.PodInfo{Pod: victim}, nil)
	if st := f.pl.Filter(ctx, cs, nil, nil); !st.IsSuccess() {
		t.Fatalf("after removing the victim: %v", st)
	}
}

func TestQueueChangeHint(t *testing.T) {
	f := newFixture(t)
	f.queue("org", "", 8)
	f.queue("vision", "org", -1)
	f.queue("infra", "", -1)
	logger := klog.Background()
	changed := &gantryv1alpha1.Queue{ObjectMeta: metav1.ObjectMeta{Name: "org", ResourceVersion: "100"}, Spec: gantryv1alpha1.QueueSpec{Limit: v1.ResourceList{DefaultResourceName: resource.MustParse("16")}}}
	// The informer's store has the change before any handler hears of it.
	if err := f.queues.Update(changed); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pod  *v1.Pod
		want fwk.QueueingHint
	}{
		{pod("a", "org", "", 1, ""), fwk.Queue},
		{pod("b", "vision", "", 1, ""), fwk.Queue},
		{pod("c", "infra", "", 1, ""), fwk.QueueSkip},
		{pod("d", "missing", "", 1, ""), fwk.Queue},
	} {
		if got, err := f.pl.isSchedulableAfterQueueChange(logger, tc.pod, nil, changed); err != nil || got != tc.want {
			t.Errorf("hint for %s = %v, %v; want %v", tc.pod.Name, got, err, tc.want)
		}
	}
	if l := f.pl.acct.Tree()["org"].Limit[DefaultResourceName]; l.Value() != 16 {
		t.Errorf("the tree does not read the store: limit %s", l.String())
	}
}

// queueSpec records a queue with a weight and GPU guarantee (none when
// negative) and no limit.
func (f *fixture) queueSpec(name, parent string, weight int32, guaranteedGPUs int64) {
	f.t.Helper()
	f.rv++
	q := &gantryv1alpha1.Queue{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: strconv.Itoa(f.rv)}, Spec: gantryv1alpha1.QueueSpec{Parent: parent, Weight: weight}}
	if guaranteedGPUs >= 0 {
		q.Spec.Guaranteed = v1.ResourceList{DefaultResourceName: *resource.NewQuantity(guaranteedGPUs, resource.DecimalSI)}
	}
	if err := f.queues.Update(q); err != nil {
		f.t.Fatal(err)
	}
}

// gpuNodeInfos are n nodes of 8 GPUs each, nothing requested.
func gpuNodeInfos(n int) []fwk.NodeInfo {
	var out []fwk.NodeInfo
	for i := range n {
		node := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n" + strconv.Itoa(i)}, Status: v1.NodeStatus{Allocatable: v1.ResourceList{
			DefaultResourceName: resource.MustParse("8"),
		}}}
		ni := framework.NewNodeInfo()
		ni.SetNode(node)
		out = append(out, ni)
	}
	return out
}

// nearlyFullNodeInfos is one 8-GPU node with only free GPUs idle.
func nearlyFullNodeInfos(t *testing.T, free int64) []fwk.NodeInfo {
	return nodeInfosWithIdle(t, free)
}

// nodeInfosWithIdle is 8-GPU nodes n0, n1, ... with the given GPUs idle,
// the rest held by a pod that counts in no queue (filler-n0, ...).
func nodeInfosWithIdle(t *testing.T, idle ...int64) []fwk.NodeInfo {
	t.Helper()
	out := gpuNodeInfos(len(idle))
	for i, free := range idle {
		if free == 8 {
			continue
		}
		node := "n" + strconv.Itoa(i)
		filler := pod("filler-"+node, "", "", 8-free, node)
		filler.Spec.Containers[0].Resources.Requests = filler.Spec.Containers[0].Resources.Limits
		pi, err := framework.NewPodInfo(filler)
		if err != nil {
			t.Fatal(err)
		}
		out[i].AddPodInfo(pi)
	}
	return out
}

// TestFairJudgesRoomNodeByNode: the idle GPUs are judged node by node. b
// (the lower share) waits with an 8-GPU pod; of 16 idle GPUs only one node
// holds it. a's 8-GPU pod would take that node and waits; a's 4-GPU pod
// fits a half-used node and goes. Once a terminating pod's 4 GPUs on a
// half-used node count as idle there, two nodes hold 8 and both go.
func TestFairJudgesRoomNodeByNode(t *testing.T) {
	f := newFixture(t)
	f.queueSpec("a", "", 1, -1)
	f.queueSpec("b", "", 1, -1)
	f.bind(pod("a-run", "a", "", 12, "elsewhere"))
	f.pl.acct.SetPod(pod("b-wait", "b", "", 8, ""))

	nodes := nodeInfosWithIdle(t, 8, 4, 4)
	_, st := f.pl.PreFilter(context.Background(), framework.NewCycleState(), pod("a-big", "a", "", 8, ""), nodes)
	wantStatus(t, st, fwk.UnschedulableAndUnresolvable, "while queue b, with a lower weighted share, waits")
	_, st = f.pl.PreFilter(context.Background(), framework.NewCycleState(), pod("a-small", "a", "", 4, ""), nodes)
	wantStatus(t, st, fwk.Success, "")

	leaving := pod("a-leaving", "a", "", 4, "n1")
	leaving.DeletionTimestamp = &metav1.Time{}
	f.bind(leaving)
	if got := f.pl.acct.Snapshot().LeavingGPUs; got["n1"] != 4 {
		t.Fatalf("GPUs leaving by node = %v, want n1: 4", got)
	}
	_, st = f.pl.PreFilter(context.Background(), framework.NewCycleState(), pod("a-big", "a", "", 8, ""), nodes)
	wantStatus(t, st, fwk.Success, "")

	// Gone: nothing is leaving any more.
	f.pl.acct.DeletePod(leaving)
	if got := f.pl.acct.Snapshot().LeavingGPUs; len(got) != 0 {
		t.Errorf("GPUs leaving by node once the pod is gone = %v, want none", got)
	}
}

// TestFairShareDeferralBlocksAndActivation: a pod of the queue with the
// higher share is deferred while the other queue waits; its queue is then
// blocked (PreEnqueue holds its borrowing pods, not those its guarantee
// covers) until the other queue's share rises, which activates it.
func TestFairShareDeferralBlocksAndActivation(t *testing.T) {
	f := newFixture(t)
	f.queueSpec("org", "", 1, -1)
	f.queueSpec("a", "org", 1, 2)
	f.queueSpec("b", "org", 1, -1)
	for i := range 4 {
		f.bind(pod("a-run-"+strconv.Itoa(i), "a", "", 1, "n0"))
	}
	waiting := pod("b-wait", "b", "", 1, "")
	f.pl.acct.SetPod(waiting)          // b has a workload waiting, and a lower share
	nodes := nearlyFullNodeInfos(t, 1) // the last idle GPU

	next := pod("a-next", "a", "", 1, "")
	_, st := f.pl.PreFilter(context.Background(), framework.NewCycleState(), next, nodes)
	wantStatus(t, st, fwk.UnschedulableAndUnresolvable, "queue a would borrow beyond its guarantee while queue b, with a lower weighted share, waits")
	if !f.pl.deferred.Has(next.UID) {
		t.Fatal("the deferred pod is not recorded")
	}
	wantStatus(t, f.pl.PreEnqueue(context.Background(), pod("a-more", "a", "", 1, "")), fwk.UnschedulableAndUnresolvable, "while queue b")
	// b's pods are not held: b is not blocked.
	if st := f.pl.PreEnqueue(context.Background(), waiting); st != nil {
		t.Fatalf("b's pod held: %v", st)
	}

	// b's pod is placed: b's share rose, a's deferred pods are activated
	// and a is no longer blocked.
	act := &recordingActivator{pods: make(chan map[string]*v1.Pod, 1)}
	f.act.set(act)
	f.pl.queues.ShareChanged("b")
	select {
	case got := <-act.pods:
		if got["ns/a-next"] == nil {
			t.Fatalf("activated %v, want a's deferred pods", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("b's share changed and a's deferred pods were not activated")
	}
	if st := f.pl.PreEnqueue(context.Background(), pod("a-more", "a", "", 1, "")); st != nil {
		t.Fatalf("a is still held after b's share rose: %v", st)
	}
}

// TestShareChangeActivatesSiblingRoots: queues that are roots compete
// with each other (they are siblings under no parent), so one root's share
// changing activates another root's deferred pods.
func TestShareChangeActivatesSiblingRoots(t *testing.T) {
	f := newFixture(t)
	f.queueSpec("a", "", 1, -1)
	f.queueSpec("b", "", 1, -1)
	for i := range 4 {
		f.bind(pod("a-run-"+strconv.Itoa(i), "a", "", 1, "n0"))
	}
	f.pl.acct.SetPod(pod("b-wait", "b", "", 1, ""))
	next := pod("a-next", "a", "", 1, "")
	_, st := f.pl.PreFilter(context.Background(), framework.NewCycleState(), next, nearlyFullNodeInfos(t, 1))
	wantStatus(t, st, fwk.UnschedulableAndUnresolvable, "while queue b, with a lower weighted share, waits")

	act := &recordingActivator{pods: make(chan map[string]*v1.Pod, 1)}
	f.act.set(act)
	f.pl.queues.ShareChanged("b")
	select {
	case got := <-act.pods:
		if got["ns/a-next"] == nil {
			t.Fatalf("activated %v, want root a's deferred pod after root b's share changed", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("root b's share changed and root a's deferred pod was not activated")
	}
	if st := f.pl.PreEnqueue(context.Background(), pod("a-more", "a", "", 1, "")); st != nil {
		t.Fatalf("a is still held after b's share rose: %v", st)
	}
}

// TestFairIdleRoomOfTerminatingPods: a terminating pod's room counts as
// idle for the share resources only; its CPU must not stand for all the
// idle CPU there is, which made every waiting workload that asks for CPU
// look too big for the idle room (and its queue lose its turn).
func TestFairIdleRoomOfTerminatingPods(t *testing.T) {
	withCPU := func(p *v1.Pod) *v1.Pod {
		p.Spec.Containers[0].Resources.Requests = v1.ResourceList{v1.ResourceCPU: resource.MustParse("12")}
		return p
	}
	f := newFixture(t)
	f.queueSpec("a", "", 1, -1)
	f.queueSpec("b", "", 1, -1)
	for i := range 4 {
		f.bind(withCPU(pod("a-run-"+strconv.Itoa(i), "a", "", 1, "n0")))
	}
	leaving := pod("a-leaving", "a", "", 1, "n0")
	leaving.Spec.Containers[0].Resources.Requests = v1.ResourceList{v1.ResourceCPU: resource.MustParse("2")}
	leaving.DeletionTimestamp = &metav1.Time{}
	f.bind(leaving)
	f.pl.acct.SetPod(withCPU(pod("b-wait", "b", "", 1, "")))

	// No GPU idle but the terminating pod's: b's pod fits only there.
	_, st := f.pl.PreFilter(context.Background(), framework.NewCycleState(), withCPU(pod("a-next", "a", "", 1, "")), nearlyFullNodeInfos(t, 0))
	wantStatus(t, st, fwk.UnschedulableAndUnresolvable, "while queue b, with a lower weighted share, waits")
}

// TestPreEnqueueNeverHoldsGuaranteedPods: a blocked queue's pod that its
// guarantee covers goes to PreFilter.
func TestPreEnqueueNeverHoldsGuaranteedPods(t *testing.T) {
	f := newFixture(t)
	f.queueSpec("org", "", 1, -1)
	f.queueSpec("a", "org", 1, 8)
	f.pl.deferred.Block("a", "blocked for the test")
	if st := f.pl.PreEnqueue(context.Background(), pod("small", "a", "", 4, "")); st != nil {
		t.Fatalf("a pod within its queue's guarantee was held: %v", st)
	}
	wantStatus(t, f.pl.PreEnqueue(context.Background(), pod("big", "a", "", 9, "")), fwk.UnschedulableAndUnresolvable, "blocked for the test")
}

type recordingActivator struct {
	pods chan map[string]*v1.Pod
}

func (r *recordingActivator) Activate(_ klog.Logger, pods map[string]*v1.Pod) { r.pods <- pods }

// TestReclaimPolicy: a workload within its guarantee may take GPUs from
// queues above theirs, as much as they hold beyond it; one beyond its
// guarantee may not; pods already terminating do not count as usage.
func TestReclaimPolicy(t *testing.T) {
	f := newFixture(t)
	f.queueSpec("org", "", 1, -1)
	f.queueSpec("training", "org", 3, 8)
	f.queueSpec("inference", "org", 1, 8)
	for i := range 3 {
		f.bind(pod("train-"+strconv.Itoa(i), "training", "", 4, "n0"))
	}
	leaving := pod("train-leaving", "training", "", 4, "n1")
	leaving.DeletionTimestamp = &metav1.Time{}
	f.bind(leaving)

	policy := f.pl.ReclaimPolicy([]*v1.Pod{pod("infer-0", "inference", "", 4, ""), pod("infer-1", "inference", "", 4, "")})
	if policy == nil {
		t.Fatal("inference within its guarantee may reclaim")
	}
	if got := policy.Budgets["training"]; got != 4 {
		t.Fatalf("training's budget = %d, want 4 (12 GPUs held by pods not terminating, 8 guaranteed)", got)
	}
	if b, ok := policy.Victim(pod("train-0", "training", "", 4, "n0")); !ok || len(b) != 1 || b[0] != "training" {
		t.Fatalf("Victim(train-0) = %v %v", b, ok)
	}
	if _, ok := policy.Victim(pod("infer-x", "inference", "", 4, "n1")); ok {
		t.Fatal("a pod of the preemptor's own queue is not reclaimed")
	}
	if _, ok := policy.Victim(pod("stray", "", "", 4, "n1")); ok {
		t.Fatal("a pod outside queues is not reclaimed")
	}
	if p := f.pl.ReclaimPolicy([]*v1.Pod{pod("huge", "inference", "", 12, "")}); p != nil {
		t.Fatalf("a workload beyond its guarantee, whose queue would then have a higher weighted share than training's, reclaims: %+v", p.Budgets)
	}
}

// TestReclaimPolicyFairShare: a workload that borrows may take from a
// sibling queue above its weighted share what keeps that queue's share no
// lower than its own once admitted (with args fairShareReclaim), and not
// when its queue is deferred or fairShareReclaim is off (the default).
func TestReclaimPolicyFairShare(t *testing.T) {
	f := newFixture(t)
	f.pl.args.FairShareReclaim = ptr.To(true)
	f.queueSpec("a", "", 2, -1)
	f.queueSpec("b", "", 1, -1)
	for i := range 4 {
		f.bind(pod("b-"+strconv.Itoa(i), "b", "", 4, "n"+strconv.Itoa(i)))
	}
	f.bind(pod("a-0", "a", "", 4, "n4"))
	// a after: (4 + 8) / 2 = 6; b keeps 6 of its 16: may lose 10.
	want := []*v1.Pod{pod("a-1", "a", "", 8, "")}
	policy := f.pl.ReclaimPolicy(want)
	if policy == nil {
		t.Fatal("a, below its weighted share, may reclaim from b")
	}
	if got := policy.Budgets["b"]; got != 10 {
		t.Fatalf("b's budget = %d, want 10", got)
	}
	if !strings.Contains(policy.For, "fair share of queue a") {
		t.Errorf("For = %q, want it to name a's fair share", policy.For)
	}
	if _, ok := policy.Victim(pod("b-0", "b", "", 4, "n0")); !ok {
		t.Error("b's pod of the same priority is not a victim")
	}
	high := pod("b-high", "b", "", 4, "n5")
	high.Spec.Priority = ptr.To[int32](100)
	if _, ok := policy.Victim(high); ok {
		t.Error("a fair share must not take a pod of a higher priority")
	}
	if p := f.pl.ReclaimPolicy([]*v1.Pod{pod("b-more", "b", "", 1, "")}); p != nil {
		t.Fatalf("b, above its share, reclaims %v", p.Budgets)
	}

	f.pl.deferred.Block("a", "blocked for the test")
	if p := f.pl.ReclaimPolicy(want); p != nil {
		t.Fatal("a deferred queue's workload reclaims")
	}
	f.pl.deferred.Block("a", "")
	f.pl.args.FairShareReclaim = ptr.To(false)
	if p := f.pl.ReclaimPolicy(want); p != nil {
		t.Fatal("with fairShareReclaim off, a borrower reclaims")
	}
}
