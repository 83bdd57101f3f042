package gang

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"
	splisters "sigs.k8s.io/scheduler-plugins/pkg/generated/listers/scheduling/v1alpha1"

	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs/core"
)

var t0 = time.Date(2025, 1, 1, 11, 0, 0, 0, time.UTC)

// fakeWaitingPod is a pod waiting in Permit.
type fakeWaitingPod struct {
	pod      *v1.Pod
	pending  []string
	allowed  bool
	rejected string
}

func (w *fakeWaitingPod) GetPod() *v1.Pod             { return w.pod }
func (w *fakeWaitingPod) GetPendingPlugins() []string { return w.pending }
func (w *fakeWaitingPod) Allow(string)                { w.allowed = true }
func (w *fakeWaitingPod) Reject(_ string, msg string) bool {
	w.rejected = msg
	return true
}
func (w *fakeWaitingPod) Preempt(_ string, msg string) bool { return w.Reject("", msg) }
func (w *fakeWaitingPod) String() string                    { return w.pod.Name }
func (w *fakeWaitingPod) isWaiting() bool                   { return !w.allowed && w.rejected == "" }

// fakeHandle records what the plugin asks of the framework.
type fakeHandle struct {
	mu        sync.Mutex
	waiting   []*fakeWaitingPod
	activated []string
	recorder  *events.FakeRecorder
}

func (h *fakeHandle) IterateOverWaitingPods(cb func(fwk.WaitingPod)) {
	h.mu.Lock()
	ws := slices.Clone(h.waiting)
	h.mu.Unlock()
	for _, w := range ws {
		if w.isWaiting() {
			cb(w)
		}
	}
}

func (h *fakeHandle) Activate(_ klog.Logger, pods map[string]*v1.Pod) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k := range pods {
		h.activated = append(h.activated, k)
	}
	slices.Sort(h.activated)
}

func (h *fakeHandle) EventRecorder() events.EventRecorderLogger { return h.recorder }

// wait puts pods in Permit, waiting on the plugin.
func (h *fakeHandle) wait(pods ...*v1.Pod) []*fakeWaitingPod {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*fakeWaitingPod
	for _, p := range pods {
		w := &fakeWaitingPod{pod: p, pending: []string{Name}}
		h.waiting = append(h.waiting, w)
		out = append(out, w)
	}
	return out
}

// events returns the events recorded so far.
func (h *fakeHandle) events() []string {
	var out []string
	for {
		select {
		case e := <-h.recorder.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

type testEnv struct {
	pl    *Gang
	h     *fakeHandle
	store toolscache.Indexer
	// groups is the PodGroup informer's store.
	groups toolscache.Indexer
	clock  *time.Time
}

// newPodGroups is a PodGroups view over a store holding groups.
func newPodGroups(t testing.TB, groups ...*schedv1alpha1.PodGroup) (*gangs.PodGroups, toolscache.Indexer) {
	t.Helper()
	store := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{})
	for _, pg := range groups {
		if err := store.Add(pg); err != nil {
			t.Fatal(err)
		}
	}
	return gangs.NewPodGroups(klog.Background(), splisters.NewPodGroupLister(store)), store
}

func newTestEnv(t testing.TB, args *GangArgs, groups []*schedv1alpha1.PodGroup, pods ...*v1.Pod) *testEnv {
	t.Helper()
	if args == nil {
		args = DefaultArgs()
	}
	store := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{gangs.MembersIndex: gangs.MembersIndexFunc})
	for _, p := range pods {
		if err := store.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	pgs, groupStore := newPodGroups(t, groups...)
	now := t0
	h := &fakeHandle{recorder: events.NewFakeRecorder(100)}
	book := core.NewBook(func() time.Time { return now })
	pl := newPlugin(args, h, corelisters.NewPodLister(store), store, pgs, book, nil)
	pl.now = func() time.Time { return now }
	return &testEnv{pl: pl, h: h, store: store, groups: groupStore, clock: &now}
}

func (e *testEnv) advance(d time.Duration) { *e.clock = e.clock.Add(d) }

func (e *testEnv) ctx(testing.TB) context.Context { return context.Background() }

func podGroup(name string, minMember int32, created time.Time) *schedv1alpha1.PodGroup {
	return &schedv1alpha1.PodGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, ResourceVersion: "1", CreationTimestamp: metav1.NewTime(created)},
		Spec:       schedv1alpha1.PodGroupSpec{MinMember: minMember},
	}
}

// gangPod is a pending pod of gang (none when "") asking for gpus GPUs and
// one CPU.
func gangPod(name, gang string, gpus int64) *v1.Pod {
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Spec: v1.PodSpec{Containers: []v1.Container{{Name: "c", Resources: v1.ResourceRequirements{
			Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("1")},
		}}}},
	}
	if gang != "" {
		p.Labels = map[string]string{gangs.PodGroupLabel: gang}
	}
	if gpus > 0 {
		q := *resource.NewQuantity(gpus, resource.DecimalSI)
		p.Spec.Containers[0].Resources.Requests["nvidia.com/gpu"] = q
		p.Spec.Containers[0].Resources.Limits = v1.ResourceList{"nvidia.com/gpu": q}
	}
	return p
}

func makeGang(gang string, n int, gpus int64) []*v1.Pod {
	var out []*v1.Pod
	for i := range n {
		out = append(out, gangPod(fmt.Sprintf("%s-%d", gang, i), gang, gpus))
	}
	return out
}

func boundTo(p *v1.Pod, node string) *v1.Pod {
	p = p.DeepCopy()
	p.Spec.NodeName = node
	return p
}

// gpuNode is a node with gpus GPUs, 32 CPUs and the pods on it.
func gpuNode(name string, gpus int64, labels map[string]string, pods ...*v1.Pod) fwk.NodeInfo {
	ni := framework.NewNodeInfo(pods...)
	alloc := v1.ResourceList{
		v1.ResourceCPU: resource.MustParse("32"), v1.ResourceMemory: resource.MustParse("256Gi"),
		v1.ResourcePods: resource.MustParse("110"), "nvidia.com/gpu": *resource.NewQuantity(gpus, resource.DecimalSI),
	}
	ni.SetNode(&v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Status: v1.NodeStatus{Allocatable: alloc, Capacity: alloc}})
	return ni
}

func gpuNodes(n int, gpus int64) []fwk.NodeInfo {
	var out []fwk.NodeInfo
	for i := range n {
		out = append(out, gpuNode(fmt.Sprintf("n%d", i), gpus, nil))
	}
	return out
}
