package gangs

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	v1 "k8s.io/api/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/gantry-gpu/gantry/pkg/scheduler/gangs/core"
)

type fakeActivator struct {
	mu        sync.Mutex
	activated []string
}

func (a *fakeActivator) Activate(_ klog.Logger, pods map[string]*v1.Pod) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k := range pods {
		a.activated = append(a.activated, k)
	}
	slices.Sort(a.activated)
}

func TestIndexActivatesCompleteGangs(t *testing.T) {
	var g []*v1.Pod
	for i := range 3 {
		g = append(g, gangPod(fmt.Sprintf("g-%d", i), "g"))
	}
	store := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{MembersIndex: MembersIndexFunc})
	for _, p := range g[:2] {
		if err := store.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	groups, _ := newPodGroups(t, podGroup("g", 3, t0))
	a := &fakeActivator{}
	x := &Index{logger: klog.Background(), PodGroups: groups, Plans: core.NewBook(nil), members: store, activator: a}

	x.onPodAdd(g[1], false)
	if len(a.activated) != 0 {
		t.Fatalf("activated %v with 2 of 3 pods", a.activated)
	}
	// The pod completing the gang is in the informer's first list, as
	// every pod is after a scheduler restart: the members queued before it
	// must be woken all the same.
	if err := store.Add(g[2]); err != nil {
		t.Fatal(err)
	}
	x.onPodAdd(g[2], true)
	if want := []string{"ns/g-0", "ns/g-1", "ns/g-2"}; !slices.Equal(a.activated, want) {
		t.Errorf("activated %v, want %v", a.activated, want)
	}
	// Deleting every pod forgets the gang.
	x.Plans.Reserve("ns/g", string(g[0].UID), "n0")
	for _, p := range g {
		if err := store.Delete(p); err != nil {
			t.Fatal(err)
		}
		x.onPodDelete(p)
	}
	if x.Plans.Reserved("ns/g", string(g[0].UID)) {
		t.Error("a deleted pod is still reserved")
	}
}
