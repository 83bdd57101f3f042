package queue

import (
	"context"
	"strconv"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

type fakePodGroups map[string]*schedv1alpha1.PodGroup

func (f fakePodGroups) Get(namespace, name string) (*schedv1alpha1.PodGroup, bool) {
	pg, ok := f[namespace+"/"+name]
	return pg, ok
}

type fixture struct {
	t       *testing.T
	pl      *Plugin
	members toolscache.Indexer
	rv      int
}

func newFixture(t *testing.T, namespaces ...*v1.Namespace) *fixture {
	nsIndexer := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{})
	for _, ns := range namespaces {
		_ = nsIndexer.Add(ns)
	}
	members := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{gangIndex: gangIndexFunc})
	groups := fakePodGroups{"ns/labelled": {ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "labelled", Labels: map[string]string{gantryv1alpha1.QueueLabel: "team"}}}}
	pl := newPlugin(&QueueArgs{ResourceName: DefaultResourceName}, newAccounting(DefaultResourceName), corelisters.NewNamespaceLister(nsIndexer), groups, members)
	return &fixture{t: t, pl: pl, members: members}
}

func (f *fixture) queue(name, parent string, limitGPUs int64) {
	f.t.Helper()
	f.rv++
	q := &gantryv1alpha1.Queue{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: strconv.Itoa(f.rv)}, Spec: gantryv1alpha1.QueueSpec{Parent: parent}}
	if limitGPUs >= 0 {
		q.Spec.Limit = v1.ResourceList{DefaultResourceName: *resource.NewQuantity(limitGPUs, resource.DecimalSI)}
	}
	if _, err := f.pl.acct.SetQueueObject(q); err != nil {
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
		t.Errorf("the hint did not apply the queue: limit %s", l.String())
	}
}

func TestMalformedQueueIgnored(t *testing.T) {
	f := newFixture(t)
	bad := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gantry.dev/v1alpha1", "kind": "Queue",
		"metadata": map[string]any{"name": "bad"},
		"spec":     map[string]any{"limit": "not-a-map"},
	}}
	if _, err := f.pl.acct.SetQueueObject(bad); err == nil {
		t.Fatal("a malformed Queue converted")
	}
	if len(f.pl.acct.Tree()) != 0 {
		t.Fatal("a malformed Queue was recorded")
	}
}
