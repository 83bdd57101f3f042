package gputopology

import (
	"context"
	"strings"
	"testing"

	"github.com/gantry-gpu/gantry/pkg/scheduler/gpus"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gpus/gpustest"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	toolscache "k8s.io/client-go/tools/cache"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

type testEnv struct {
	pl     *GPUTopology
	cache  *gpus.Cache
	client *fake.Clientset
	store  toolscache.Indexer
}

// newTestEnv builds the plugin on a cache holding nodeGPUs and pods, with a
// fake API server holding pods.
func newTestEnv(t testing.TB, nodeGPUs []*gantryv1alpha1.NodeGPU, pods ...*v1.Pod) *testEnv {
	t.Helper()
	c, _ := newTestCache(t)
	for _, ng := range nodeGPUs {
		c.SetNodeGPU(ng)
	}
	store := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc})
	client := fake.NewClientset()
	for _, p := range pods {
		c.SetPod(p)
		if err := store.Add(p); err != nil {
			t.Fatal(err)
		}
		if _, err := client.CoreV1().Pods(p.Namespace).Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The API server's pods/binding: set the node and copy the binding's
	// annotations onto the pod, or NotFound for a pod that is gone.
	client.PrependReactor("create", "pods", func(action clienttesting.Action) (bool, runtime.Object, error) {
		create := action.(clienttesting.CreateAction)
		if create.GetSubresource() != "binding" {
			return false, nil, nil
		}
		b := create.GetObject().(*v1.Binding)
		obj, err := client.Tracker().Get(v1.SchemeGroupVersion.WithResource("pods"), b.Namespace, b.Name)
		if err != nil {
			return true, nil, err
		}
		pod := obj.(*v1.Pod).DeepCopy()
		pod.Spec.NodeName = b.Target.Name
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		for k, v := range b.Annotations {
			pod.Annotations[k] = v
		}
		return true, nil, client.Tracker().Update(v1.SchemeGroupVersion.WithResource("pods"), pod, b.Namespace)
	})
	return &testEnv{pl: newPlugin(DefaultArgs(), c, client), cache: c, client: client, store: store}
}

func nodeInfo(name string) fwk.NodeInfo {
	ni := framework.NewNodeInfo()
	ni.SetNode(&v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})
	return ni
}

func withAnnotation(p *v1.Pod, k, v string) *v1.Pod {
	p = p.DeepCopy()
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	p.Annotations[k] = v
	return p
}

// testNodes are the nodes most tests filter and score.
func testNodes() []*gantryv1alpha1.NodeGPU {
	return []*gantryv1alpha1.NodeGPU{
		// a free NVLink island (4-7) beside a used one
		gpustest.NodeGPU("island", "1", gpustest.TwoIslandSpec("island"), nil, map[int]string{0: "x", 1: "x"}),
		// four free GPUs across the sockets
		gpustest.NodeGPU("straddle", "1", gpustest.TwoIslandSpec("straddle"), nil, map[int]string{0: "x", 1: "x", 4: "y", 5: "y"}),
		// three free, one sick
		gpustest.NodeGPU("sick", "1", gpustest.NVSwitchSpec("sick", 8), []int{7}, map[int]string{0: "x", 1: "x", 2: "x", 3: "x"}),
		// nothing used
		gpustest.NodeGPU("empty", "1", gpustest.NVSwitchSpec("empty", 8), nil, nil),
		gpustest.NodeGPU("empty-islands", "1", gpustest.TwoIslandSpec("empty-islands"), nil, nil),
	}
}

func TestPreFilter(t *testing.T) {
	env := newTestEnv(t, testNodes())
	tests := []struct {
		name     string
		pod      *v1.Pod
		wantCode fwk.Code
		wantMsg  string
	}{
		{"no GPUs: skipped", gpustest.GPUPod("cpu-only", 0), fwk.Skip, ""},
		{"GPUs", gpustest.GPUPod("gpu", 4), fwk.Success, ""},
		{"valid minimum link", withAnnotation(gpustest.GPUPod("gpu", 4), gpus.MinLinkAnnotation, "NVLink"), fwk.Success, ""},
		{"invalid minimum link", withAnnotation(gpustest.GPUPod("gpu", 4), gpus.MinLinkAnnotation, "fast"), fwk.UnschedulableAndUnresolvable, `annotation gantry.dev/min-gpu-link: "fast" is not a GPU link type`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := framework.NewCycleState()
			_, st := env.pl.PreFilter(context.Background(), cs, tt.pod, nil)
			if st.Code() != tt.wantCode || !strings.Contains(st.Message(), tt.wantMsg) {
				t.Errorf("PreFilter = %v %q, want %v %q", st.Code(), st.Message(), tt.wantCode, tt.wantMsg)
			}
			_, err := getPreFilterState(cs)
			if (err == nil) != (tt.wantCode == fwk.Success) {
				t.Errorf("cycle state written: %v, want %v", err == nil, tt.wantCode == fwk.Success)
			}
		})
	}
}

func TestPreFilterWaitsForSync(t *testing.T) {
	env := newTestEnv(t, testNodes())
	env.cache.SetSyncedFunc(func() bool { return false })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, st := env.pl.PreFilter(ctx, framework.NewCycleState(), gpustest.GPUPod("gpu", 1), nil)
	if st.Code() != fwk.Error || !strings.Contains(st.Message(), "not synced") {
		t.Errorf("PreFilter before sync = %v %q, want an error", st.Code(), st.Message())
	}
}

func TestFilter(t *testing.T) {
	env := newTestEnv(t, testNodes())
	tests := []struct {
		name string
		pod  *v1.Pod
		node string
		code fwk.Code
		msg  string
	}{
		{"a free island fits", gpustest.GPUPod("p", 4), "island", fwk.Success, ""},
		{"straddling GPUs fit without a minimum", gpustest.GPUPod("p", 4), "straddle", fwk.Success, ""},
		{"straddling GPUs fail an NVLink minimum", withAnnotation(gpustest.GPUPod("p", 4), gpus.MinLinkAnnotation, "NVLink"), "straddle", fwk.Unschedulable,
			"the best 4 free GPUs on the node are linked by System at worst, pod needs NVLink or better"},
		{"a free island meets an NVLink minimum", withAnnotation(gpustest.GPUPod("p", 4), gpus.MinLinkAnnotation, "NVLink"), "island", fwk.Success, ""},
		{"sick GPUs do not count", gpustest.GPUPod("p", 4), "sick", fwk.Unschedulable, "node has 3 free healthy GPUs, pod needs 4"},
		{"more than the healthy GPUs", gpustest.GPUPod("p", 8), "sick", fwk.UnschedulableAndUnresolvable, "node has 7 healthy GPUs, pod needs 8"},
		{"a node without NodeGPU passes", gpustest.GPUPod("p", 8), "plain", fwk.Success, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := framework.NewCycleState()
			if _, st := env.pl.PreFilter(context.Background(), cs, tt.pod, nil); !st.IsSuccess() {
				t.Fatal(st)
			}
			st := env.pl.Filter(context.Background(), cs, tt.pod, nodeInfo(tt.node))
			if st.Code() != tt.code || st.Message() != tt.msg {
				t.Errorf("Filter = %v %q, want %v %q", st.Code(), st.Message(), tt.code, tt.msg)
			}
		})
	}
}

// scores runs PreFilter, PreScore and Score over nodes as the framework
// does, and returns each node's score.
func scores(t *testing.T, pl *GPUTopology, pod *v1.Pod, nodes ...string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	cs := framework.NewCycleState()
	if _, st := pl.PreFilter(ctx, cs, pod, nil); !st.IsSuccess() {
		t.Fatal(st)
	}
	var infos []fwk.NodeInfo
	for _, n := range nodes {
		ni := nodeInfo(n)
		if st := pl.Filter(ctx, cs, pod, ni); !st.IsSuccess() {
			t.Fatalf("Filter(%s) = %v", n, st)
		}
		infos = append(infos, ni)
	}
	if st := pl.PreScore(ctx, cs, pod, infos); !st.IsSuccess() {
		t.Fatal(st)
	}
	out := map[string]int64{}
	for _, ni := range infos {
		s, st := pl.Score(ctx, cs, pod, ni)
		if !st.IsSuccess() {
			t.Fatal(st)
		}
		out[ni.Node().Name] = s
	}
	return out
}

func TestScore(t *testing.T) {
	env := newTestEnv(t, testNodes())
	tests := []struct {
		name  string
		pod   *v1.Pod
		nodes []string
		want  map[string]int64
	}{
		{
			// island: quality 84, packing 75 → 80. straddle: 10, 100 → 46.
			// empty: 92, 50 → 75, less 10 for breaking its one island.
			// empty-islands: 84, 50 → 70, less 10 for being empty while
			// a partly used node fits. plain: NoNodeGPUScore.
			name:  "four GPUs: the free island wins",
			pod:   gpustest.GPUPod("p", 4),
			nodes: []string{"island", "straddle", "empty", "empty-islands", "plain"},
			want:  map[string]int64{"island": 80, "straddle": 46, "empty": 65, "empty-islands": 60, "plain": 10},
		},
		{
			// sick: quality 100, packing 5/7 → 71 → 88. empty: 100,
			// 1/8 → 13 → 65, less 10 for breaking its island.
			name:  "one GPU: packing wins",
			pod:   gpustest.GPUPod("p", 1),
			nodes: []string{"sick", "empty"},
			want:  map[string]int64{"sick": 88, "empty": 55},
		},
		{
			// Nothing partly used fits, so the empty node is not
			// penalised as empty: 84·0.6 + 50·0.4 = 70.4.
			name:  "empty nodes alone",
			pod:   gpustest.GPUPod("p", 4),
			nodes: []string{"empty-islands", "plain"},
			want:  map[string]int64{"empty-islands": 70, "plain": 10},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, scores(t, env.pl, tt.pod, tt.nodes...)); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPreScoreSkipsPodsWithoutGPUs(t *testing.T) {
	env := newTestEnv(t, testNodes())
	if st := env.pl.PreScore(context.Background(), framework.NewCycleState(), gpustest.GPUPod("cpu", 0), nil); !st.IsSkip() {
		t.Errorf("PreScore = %v, want Skip", st)
	}
}

func TestReserveUnreserveBind(t *testing.T) {
	ctx := context.Background()
	a, b, cpu := gpustest.GPUPod("a", 2), gpustest.GPUPod("b", 2), gpustest.GPUPod("cpu", 0)
	env := newTestEnv(t, testNodes(), a, b, cpu)

	cycle := func(pod *v1.Pod, node string) (fwk.CycleState, *fwk.Status) {
		cs := framework.NewCycleState()
		_, st := env.pl.PreFilter(ctx, cs, pod, nil)
		if !st.IsSuccess() && !st.IsSkip() {
			t.Fatal(st)
		}
		return cs, env.pl.Reserve(ctx, cs, pod, node)
	}
	annotation := func(pod *v1.Pod) (string, string) {
		got, err := env.client.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return got.Annotations[gantryv1alpha1.GPUIDsAnnotation], got.Spec.NodeName
	}

	// a and b on the island node: a takes 2,3 (finishing the used island),
	// b must not get them.
	csA, st := cycle(a, "island")
	if !st.IsSuccess() {
		t.Fatal(st)
	}
	csB, st := cycle(b, "island")
	if !st.IsSuccess() {
		t.Fatal(st)
	}
	for _, tc := range []struct {
		pod  *v1.Pod
		cs   fwk.CycleState
		want string
	}{{a, csA, "GPU-island-2,GPU-island-3"}, {b, csB, "GPU-island-4,GPU-island-5"}} {
		if st := env.pl.Bind(ctx, tc.cs, tc.pod, "island"); !st.IsSuccess() {
			t.Fatalf("Bind(%s) = %v", tc.pod.Name, st)
		}
		if got, node := annotation(tc.pod); got != tc.want || node != "island" {
			t.Errorf("%s bound to %q with GPUs %q, want island and %q", tc.pod.Name, node, got, tc.want)
		}
	}

	// Unreserve gives b's GPUs back: the next pod gets them.
	env.pl.Unreserve(ctx, csB, b, "island")
	if st := env.pl.Bind(ctx, csB, b, "island"); !st.IsSkip() {
		t.Errorf("Bind after Unreserve = %v, want Skip (DefaultBinder binds)", st)
	}
	c := gpustest.GPUPod("c", 2)
	if _, st := cycle(c, "island"); !st.IsSuccess() {
		t.Fatal(st)
	}
	if _, ids, _ := env.cache.Reservation(c.UID); !cmp.Equal(ids, gpustest.UUIDs("island", 4, 5)) {
		t.Errorf("after Unreserve the next pod got %v, want b's GPUs back", ids)
	}

	// Pods without GPUs and nodes without NodeGPU: nothing to do.
	csCPU, st := cycle(cpu, "island")
	if !st.IsSuccess() {
		t.Errorf("Reserve of a pod without GPUs = %v", st)
	}
	if st := env.pl.Bind(ctx, csCPU, cpu, "island"); !st.IsSkip() {
		t.Errorf("Bind of a pod without GPUs = %v, want Skip", st)
	}
	csPlain, st := cycle(gpustest.GPUPod("d", 2), "plain")
	if !st.IsSuccess() {
		t.Errorf("Reserve on a node without NodeGPU = %v", st)
	}
	if st := env.pl.Bind(ctx, csPlain, gpustest.GPUPod("d", 2), "plain"); !st.IsSkip() {
		t.Errorf("Bind on a node without NodeGPU = %v, want Skip", st)
	}

	// A node whose GPUs went between Filter and Reserve.
	if _, st := cycle(gpustest.GPUPod("e", 8), "island"); st.Code() != fwk.Unschedulable || !strings.Contains(st.Message(), "changed since filtering") {
		t.Errorf("Reserve with too few GPUs = %v", st)
	}
}

func TestBindFailsWhenThePodIsGone(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, testNodes())
	pod := gpustest.GPUPod("ghost", 1)
	cs := framework.NewCycleState()
	env.pl.PreFilter(ctx, cs, pod, nil)
	if st := env.pl.Reserve(ctx, cs, pod, "empty"); !st.IsSuccess() {
		t.Fatal(st)
	}
	st := env.pl.Bind(ctx, cs, pod, "empty")
	if st.Code() != fwk.Error || !strings.Contains(st.Message(), "binding pod ns/ghost to empty with gantry.dev/gpu-ids=GPU-empty-0") {
		t.Errorf("Bind of a missing pod = %v %q", st.Code(), st.Message())
	}
	if st := env.pl.Bind(ctx, cs, pod, "island"); st.Code() != fwk.Error || !strings.Contains(st.Message(), "reserved on node empty") {
		t.Errorf("Bind to another node than the reservation's = %v %q", st.Code(), st.Message())
	}
}

func TestPreemptionExtensions(t *testing.T) {
	ctx := context.Background()
	victim := gpustest.Bound(gpustest.GPUPod("victim", 4), "sick", 4, 5, 6)
	env := newTestEnv(t, []*gantryv1alpha1.NodeGPU{
		gpustest.NodeGPU("sick", "1", gpustest.NVSwitchSpec("sick", 8), []int{7}, map[int]string{0: "x", 1: "x", 2: "x", 3: "x"}),
	}, victim)
	pod := gpustest.GPUPod("p", 4)
	cs := framework.NewCycleState()
	env.pl.PreFilter(ctx, cs, pod, nil)
	ni := nodeInfo("sick")
	if st := env.pl.Filter(ctx, cs, pod, ni); st.Code() != fwk.Unschedulable || st.Message() != "node has 0 free healthy GPUs, pod needs 4" {
		t.Fatalf("Filter before preemption = %v", st)
	}

	// Preemption evaluates a clone without the victim.
	clone := cs.Clone()
	victimInfo, err := framework.NewPodInfo(victim)
	if err != nil {
		t.Fatal(err)
	}
	if st := env.pl.RemovePod(ctx, clone, pod, victimInfo, ni); !st.IsSuccess() {
		t.Fatal(st)
	}
	// 4,5,6 free again; x's GPUs 0-3 are reported for another pod.
	if st := env.pl.Filter(ctx, clone, pod, ni); st.Code() != fwk.Unschedulable || st.Message() != "node has 3 free healthy GPUs, pod needs 4" {
		t.Errorf("Filter without the victim = %v", st)
	}
	x := gpustest.GPUPod("x", 4)
	x.Spec.NodeName = "sick"
	xInfo, _ := framework.NewPodInfo(x)
	if st := env.pl.RemovePod(ctx, clone, pod, xInfo, ni); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := env.pl.Filter(ctx, clone, pod, ni); !st.IsSuccess() {
		t.Errorf("Filter without both pods = %v", st)
	}
	// The original state is untouched.
	if st := env.pl.Filter(ctx, cs, pod, ni); st.IsSuccess() {
		t.Error("RemovePod on a clone changed the original cycle state")
	}

	// A nominated pod added to the node takes GPUs in the evaluation.
	clone2 := clone.Clone()
	nominated, _ := framework.NewPodInfo(gpustest.GPUPod("nominated", 2))
	if st := env.pl.AddPod(ctx, clone2, pod, nominated, ni); !st.IsSuccess() {
		t.Fatal(st)
	}
	// 7 healthy, 2 taken by the nominated pod: 5 free, the pod fits.
	if st := env.pl.Filter(ctx, clone2, pod, ni); !st.IsSuccess() {
		t.Errorf("Filter with a nominated 2-GPU pod = %v", st)
	}
	big, _ := framework.NewPodInfo(gpustest.GPUPod("big", 4))
	if st := env.pl.AddPod(ctx, clone2, pod, big, ni); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := env.pl.Filter(ctx, clone2, pod, ni); st.Code() != fwk.Unschedulable || st.Message() != "node has 1 free healthy GPUs, pod needs 4" {
		t.Errorf("Filter with nominated pods holding 6 GPUs = %v", st)
	}
}

func TestEventsToRegister(t *testing.T) {
	env := newTestEnv(t, nil)
	events, err := env.pl.EventsToRegister(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, e.Event.Label())
	}
	want := []string{"nodegpus.v1alpha1.gantry.devAdd", "PodDelete", "PodUpdate", "NodeAdd"}
	for i, w := range want {
		if i >= len(got) || !strings.HasPrefix(got[i], strings.TrimSuffix(w, "Add")) {
			t.Errorf("events %v, want %v", got, want)
			break
		}
	}
	if events[0].Event.ActionType != fwk.Add|fwk.Update|fwk.Delete {
		t.Errorf("NodeGPU actions = %v, want Add|Update|Delete", events[0].Event.ActionType)
	}
}

func TestNodeGPUQueueingHint(t *testing.T) {
	full := gpustest.NodeGPU("n", "10", gpustest.NVSwitchSpec("n", 8), nil, map[int]string{0: "a", 1: "a", 2: "a", 3: "a", 4: "b", 5: "b", 6: "b", 7: "b"})
	conditionOnly := full.DeepCopy()
	conditionOnly.ResourceVersion = "11"
	conditionOnly.Status.Conditions = []metav1.Condition{{Type: "AllocationsCurrent", Status: metav1.ConditionFalse, Reason: "KubeletUnreachable"}}
	freed := full.DeepCopy()
	freed.ResourceVersion = "12"
	freed.Status.Allocations = freed.Status.Allocations[:4]
	halfFreed := full.DeepCopy()
	halfFreed.ResourceVersion = "12"
	halfFreed.Status.Allocations = halfFreed.Status.Allocations[:6]

	tests := []struct {
		name     string
		pod      *v1.Pod
		old, new *gantryv1alpha1.NodeGPU
		want     fwk.QueueingHint
	}{
		{"a condition only", gpustest.GPUPod("p", 4), full, conditionOnly, fwk.QueueSkip},
		{"GPUs freed", gpustest.GPUPod("p", 4), full, freed, fwk.Queue},
		{"GPUs freed, but not enough", gpustest.GPUPod("p", 4), full, halfFreed, fwk.QueueSkip},
		{"added with room", gpustest.GPUPod("p", 4), nil, freed, fwk.Queue},
		{"deleted", gpustest.GPUPod("p", 4), full, nil, fwk.Queue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, []*gantryv1alpha1.NodeGPU{full})
			// The event handler applies the change before the hint runs.
			var oldObj, newObj any
			if tt.old != nil {
				oldObj = tt.old
			}
			if tt.new != nil {
				newObj = tt.new
				env.cache.SetNodeGPU(tt.new)
			} else {
				env.cache.DeleteNodeGPU("n")
			}
			before, hadBefore := env.cache.Node("n")
			got, err := env.pl.isSchedulableAfterNodeGPUChange(klogDiscard(), tt.pod, oldObj, newObj)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("hint = %v, want %v", got, tt.want)
			}
			// The hint only reads.
			if after, has := env.cache.Node("n"); has != hadBefore || after.Allocated != before.Allocated {
				t.Errorf("the hint changed the cache: %v %v, was %v %v", after.Allocated, has, before.Allocated, hadBefore)
			}
		})
	}
}

func TestPodQueueingHints(t *testing.T) {
	gone := gpustest.Bound(gpustest.GPUPod("gone", 2), "n", 0, 1)
	assumed := gpustest.Bound(gpustest.GPUPod("assumed", 2), "n", 2, 3)
	env := newTestEnv(t, []*gantryv1alpha1.NodeGPU{gpustest.NodeGPU("n", "1", gpustest.NVSwitchSpec("n", 8), nil, nil)}, gone, assumed)
	// "gone" was deleted: the informer store no longer has it. "assumed"
	// is in the store still (the event was the scheduler forgetting it).
	if err := env.store.Delete(gone); err != nil {
		t.Fatal(err)
	}
	waiting := gpustest.GPUPod("waiting", 4)

	tests := []struct {
		name    string
		deleted *v1.Pod
		want    fwk.QueueingHint
	}{
		{"a bound GPU pod deleted", gone, fwk.Queue},
		{"an assumed GPU pod forgotten", assumed, fwk.Queue},
		{"an unscheduled pod left the queue", gpustest.GPUPod("pending", 2), fwk.QueueSkip},
		{"a pod without GPUs deleted", gpustest.Bound(gpustest.GPUPod("cpu", 0), "n"), fwk.QueueSkip},
	}
	for _, tt := range tests {
		got, err := env.pl.isSchedulableAfterPodDelete(klogDiscard(), waiting, tt.deleted, nil)
		if err != nil || got != tt.want {
			t.Errorf("%s: hint = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	// The hints only read: the state's pod handlers forget pods.
	if got := allocated(t, env.cache, "n"); got != gpustest.Positions(0, 1, 2, 3) {
		t.Errorf("allocated %v after the hints, want {0,1,2,3} as before them", got)
	}

	bad := withAnnotation(waiting, gpus.MinLinkAnnotation, "fast")
	fixed := withAnnotation(waiting, gpus.MinLinkAnnotation, "NVLink")
	other := withAnnotation(gpustest.GPUPod("other", 1), gpus.MinLinkAnnotation, "NVLink")
	for _, tt := range []struct {
		name     string
		old, new *v1.Pod
		want     fwk.QueueingHint
	}{
		{"the pod's annotation fixed", bad, fixed, fwk.Queue},
		{"the pod updated otherwise", bad, bad, fwk.QueueSkip},
		{"another pod", other, withAnnotation(other, gpus.MinLinkAnnotation, "System"), fwk.QueueSkip},
	} {
		got, err := env.pl.isSchedulableAfterPodUpdate(klogDiscard(), bad, tt.old, tt.new)
		if err != nil || got != tt.want {
			t.Errorf("%s: hint = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}
