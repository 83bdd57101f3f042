package gangs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	schedulingv1beta1 "k8s.io/api/scheduling/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	schedulinglisters "k8s.io/client-go/listers/scheduling/v1beta1"
	k8stesting "k8s.io/client-go/testing"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs/core"
)

// upstreamPodGroup is an upstream PodGroup of the gang policy (minCount 0:
// the basic policy).
func upstreamPodGroup(name string, minCount int32, created time.Time) *schedulingv1beta1.PodGroup {
	pg := &schedulingv1beta1.PodGroup{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "ns", Name: name, UID: types.UID("pg-" + name), ResourceVersion: "1",
			CreationTimestamp: metav1.NewTime(created), Labels: map[string]string{"gantry.dev/queue": "training"},
		},
	}
	if minCount > 0 {
		pg.Spec.SchedulingPolicy.Gang = &schedulingv1beta1.GangSchedulingPolicy{MinCount: minCount}
	} else {
		pg.Spec.SchedulingPolicy.Basic = &schedulingv1beta1.BasicSchedulingPolicy{}
	}
	return pg
}

// groupPod is a pending pod that names its upstream PodGroup.
func groupPod(name, group string) *v1.Pod {
	p := gangPod(name, "")
	p.Spec.SchedulingGroup = &v1.PodSchedulingGroup{PodGroupName: ptr.To(group)}
	return p
}

// withUpstream adds a view of the upstream PodGroups in a store of its own
// to c, and returns the store.
func withUpstream(c *PodGroups, groups ...*schedulingv1beta1.PodGroup) (toolscache.Indexer, error) {
	store := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{})
	for _, pg := range groups {
		if err := store.Add(pg); err != nil {
			return nil, err
		}
	}
	c.upstream.Store(&upstreamView{lister: schedulinglisters.NewPodGroupLister(store), synced: func() bool { return true }})
	return store, nil
}

func TestOfNamesTheGroup(t *testing.T) {
	both := groupPod("both", "upstream")
	both.Labels = map[string]string{PodGroupLabel: "labelled"}
	for _, tt := range []struct {
		pod  *v1.Pod
		want string
	}{
		{gangPod("plain", ""), ""},
		{gangPod("labelled", "g"), "g"},
		{groupPod("grouped", "g"), "g"},
		{both, "labelled"},
		{&v1.Pod{Spec: v1.PodSpec{SchedulingGroup: &v1.PodSchedulingGroup{}}}, ""},
	} {
		if got := Of(tt.pod); got != tt.want {
			t.Errorf("Of(%s) = %q, want %q", tt.pod.Name, got, tt.want)
		}
	}
	if got, _ := MembersIndexFunc(groupPod("grouped", "g")); !slices.Equal(got, []string{"ns/g"}) {
		t.Errorf("MembersIndexFunc of a pod with spec.schedulingGroup = %v, want [ns/g]", got)
	}
}

func TestFromUpstream(t *testing.T) {
	gang := FromUpstream(upstreamPodGroup("g", 3, t0))
	if gang.Spec.MinMember != 3 || gang.Name != "g" || gang.Namespace != "ns" || gang.UID != "pg-g" ||
		!gang.CreationTimestamp.Time.Equal(t0) || gang.Labels["gantry.dev/queue"] != "training" {
		t.Errorf("gang policy: %+v", gang)
	}
	if gang.APIVersion != "scheduling.k8s.io/v1beta1" || gang.Kind != "PodGroup" || !IsUpstream(gang) {
		t.Errorf("the view names %s %s, want the upstream kind (events are recorded on it)", gang.APIVersion, gang.Kind)
	}
	if basic := FromUpstream(upstreamPodGroup("b", 0, t0)); basic.Spec.MinMember != 1 {
		t.Errorf("basic policy: minMember %d, want 1 (one workload, no all-or-nothing)", basic.Spec.MinMember)
	}
	if IsUpstream(podGroup("g", 3, t0)) {
		t.Error("a scheduler-plugins PodGroup reads as upstream")
	}
}

// TestGetAcrossAPIs: Get finds scheduler-plugins' PodGroup first, then
// the upstream one, then a label-only gang; it reuses a view until the
// informer's object changes.
func TestGetAcrossAPIs(t *testing.T) {
	c, spStore := newPodGroups(t)
	up, err := withUpstream(c, upstreamPodGroup("g", 3, t0))
	if err != nil {
		t.Fatal(err)
	}
	first, ok := c.Get("ns", "g")
	if !ok || first.Spec.MinMember != 3 || !IsUpstream(first) {
		t.Fatalf("Get = %+v, %v; want the upstream PodGroup, minMember 3", first, ok)
	}
	if again, _ := c.Get("ns", "g"); again != first {
		t.Error("an unchanged upstream PodGroup was converted again")
	}
	changed := upstreamPodGroup("g", 4, t0)
	changed.ResourceVersion = "2"
	if err := up.Update(changed); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get("ns", "g"); got.Spec.MinMember != 4 {
		t.Errorf("after the update minMember = %d, want 4", got.Spec.MinMember)
	}
	if err := spStore.Add(podGroup("g", 5, t0)); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get("ns", "g"); got.Spec.MinMember != 5 || IsUpstream(got) {
		t.Errorf("scheduler-plugins' PodGroup does not take precedence: %+v", got)
	}
	implicit := gangPod("a", "l")
	implicit.Labels[MinMemberLabel] = "2"
	if err := c.SetImplicit(implicit); err != nil {
		t.Fatal(err)
	}
	if err := up.Add(upstreamPodGroup("l", 6, t0)); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get("ns", "l"); got.Spec.MinMember != 6 {
		t.Errorf("the upstream PodGroup does not take precedence over a label-only gang: minMember %d", got.Spec.MinMember)
	}
}

// TestIndexUpstreamEvents: upstream PodGroups activate the gangs they
// complete and tell label observers, as scheduler-plugins' do.
func TestIndexUpstreamEvents(t *testing.T) {
	members := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{MembersIndex: MembersIndexFunc})
	for i := range 3 {
		if err := members.Add(groupPod(fmt.Sprintf("g-%d", i), "g")); err != nil {
			t.Fatal(err)
		}
	}
	groups, _ := newPodGroups(t)
	up, err := withUpstream(groups)
	if err != nil {
		t.Fatal(err)
	}
	var observed []string
	groups.OnLabelsChange(func(ns, name string) { observed = append(observed, ns+"/"+name) })
	a := &fakeActivator{}
	x := &Index{logger: klog.Background(), PodGroups: groups, Plans: core.NewBook(nil), members: members, activator: a}

	pg := upstreamPodGroup("g", 4, t0)
	if err := up.Add(pg); err != nil {
		t.Fatal(err)
	}
	x.onUpstreamAdd(pg, false)
	if len(a.activated) != 0 || !slices.Equal(observed, []string{"ns/g"}) {
		t.Fatalf("PodGroup of minCount 4 over 3 pods: activated %v, observers told %v", a.activated, observed)
	}
	status := pg.DeepCopy()
	status.Status.Conditions = []metav1.Condition{{Type: schedulingv1beta1.PodGroupInitiallyScheduled, Status: metav1.ConditionFalse}}
	x.onUpstreamUpdate(pg, status)
	if len(a.activated) != 0 || len(observed) != 1 {
		t.Fatalf("a status update: activated %v, observers told %v", a.activated, observed)
	}
	// The gang's controller lowers minCount: the gang is complete.
	lowered := upstreamPodGroup("g", 3, t0)
	lowered.Labels = map[string]string{"gantry.dev/queue": "inference"}
	if err := up.Update(lowered); err != nil {
		t.Fatal(err)
	}
	x.onUpstreamUpdate(status, lowered)
	if want := []string{"ns/g-0", "ns/g-1", "ns/g-2"}; !slices.Equal(a.activated, want) || len(observed) != 2 {
		t.Fatalf("minCount lowered to 3 and labels changed: activated %v, want %v; observers told %v", a.activated, want, observed)
	}
	if err := up.Delete(lowered); err != nil {
		t.Fatal(err)
	}
	x.onUpstreamDelete(toolscache.DeletedFinalStateUnknown{Key: "ns/g", Obj: lowered})
	if _, ok := groups.Get("ns", "g"); ok || len(observed) != 3 {
		t.Fatalf("after the delete: still found %v, observers told %v", ok, observed)
	}
}

// fakeUpstreamAPI is a fake API server that serves upstream PodGroups, or
// not.
func fakeUpstreamAPI(served bool, objects ...runtime.Object) *fake.Clientset {
	client := fake.NewClientset(objects...)
	if served {
		client.Resources = []*metav1.APIResourceList{{
			GroupVersion: "scheduling.k8s.io/v1beta1",
			APIResources: []metav1.APIResource{{Name: "podgroups", Namespaced: true, Kind: "PodGroup"}},
		}}
	}
	return client
}

// watchedIndex is an index over the pods of factory, fed the upstream
// PodGroups once served (WatchUpstreamWhenServed).
func watchedIndex(t *testing.T, client *fake.Clientset) (*Index, *fakeActivator) {
	t.Helper()
	factory := informers.NewSharedInformerFactory(client, 0)
	pods := factory.Core().V1().Pods().Informer()
	if err := pods.AddIndexers(toolscache.Indexers{MembersIndex: MembersIndexFunc}); err != nil {
		t.Fatal(err)
	}
	groups, _ := newPodGroups(t)
	a := &fakeActivator{}
	x := &Index{logger: klog.Background(), PodGroups: groups, Plans: core.NewBook(nil), members: pods.GetIndexer(), activator: a}
	// scheduler-plugins' PodGroups: an informer that is never started.
	if err := x.Watch(pods, toolscache.NewSharedIndexInformer(&toolscache.ListWatch{}, &schedv1alpha1.PodGroup{}, 0, nil)); err != nil {
		t.Fatal(err)
	}
	x.PodGroups.SetSyncedFunc(func() bool { return true })
	x.WatchUpstreamWhenServed(t.Context(), client, factory, 10*time.Millisecond, pods.HasSynced)
	if x.PodGroups.HasSynced() {
		t.Error("PodGroups synced before it is known whether upstream PodGroups are served")
	}
	factory.Start(t.Context().Done())
	return x, a
}

// poll waits for cond, failing with what() if it does not come.
func poll(t *testing.T, cond func() bool, what func() string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return cond(), nil
	})
	if err != nil {
		t.Fatalf("%s: %v", what(), err)
	}
}

// TestWatchUpstreamWhenServed runs the index on real informers of a fake
// API that serves upstream PodGroups: it finds them, and a gang they
// complete is activated.
func TestWatchUpstreamWhenServed(t *testing.T) {
	client := fakeUpstreamAPI(true, upstreamPodGroup("g", 2, t0))
	x, a := watchedIndex(t, client)
	poll(t, func() bool {
		pg, ok := x.PodGroups.Get("ns", "g")
		return ok && pg.Spec.MinMember == 2 && x.PodGroups.HasSynced()
	}, func() string { return "the upstream PodGroup never appeared" })
	for _, name := range []string{"g-0", "g-1"} {
		if _, err := client.CoreV1().Pods("ns").Create(t.Context(), groupPod(name, "g"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	poll(t, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		got = slices.Clone(a.activated)
		return slices.Equal(got, []string{"ns/g-0", "ns/g-1"})
	}, func() string { return fmt.Sprintf("activated %v, want the gang's 2 pods once both exist", got) })
}

// TestWatchUpstreamNotServed: where the API is not served, no informer is
// started, and PodGroups reports itself synced once that is known.
func TestWatchUpstreamNotServed(t *testing.T) {
	client := fakeUpstreamAPI(false)
	x, _ := watchedIndex(t, client)
	poll(t, x.PodGroups.HasSynced, func() string { return "PodGroups never synced" })
	if x.PodGroups.upstream.Load() != nil {
		t.Error("upstream PodGroups watched where the API server does not serve them")
	}
	for _, a := range client.Actions() {
		if a.GetResource().Resource == "podgroups" {
			t.Errorf("the fake API was asked for upstream PodGroups: %v", a)
		}
	}
}

func TestUpstreamPodGroupsServed(t *testing.T) {
	served := fakeUpstreamAPI(true)
	otherResources := fake.NewClientset()
	otherResources.Resources = []*metav1.APIResourceList{{
		GroupVersion: "scheduling.k8s.io/v1beta1",
		APIResources: []metav1.APIResource{{Name: "workloads", Namespaced: true, Kind: "Workload"}},
	}}
	failing := fake.NewClientset()
	failing.PrependReactor("get", "resource", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	for _, tt := range []struct {
		name    string
		client  Discoverer
		want    bool
		wantErr string
	}{
		{"served", served, true, ""},
		{"group version not served", fake.NewClientset(), false, ""},
		{"no podgroups in it", otherResources, false, ""},
		{"discovery fails", failing, false, "discovering the resources of scheduling.k8s.io/v1beta1: connection refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UpstreamPodGroupsServed(t.Context(), tt.client)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("= %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
