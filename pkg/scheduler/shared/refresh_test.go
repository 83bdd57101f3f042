package shared

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	toolscache "k8s.io/client-go/tools/cache"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// TestRefreshRunsBeforeTheSchedulersHandler: a handler added through the
// wrapped informer (as the scheduler adds its requeueing handler) sees
// each event only after the resource's refreshers ran, and the refreshers
// find the object's newest copy in the informer's store.
func TestRefreshRunsBeforeTheSchedulersHandler(t *testing.T) {
	gvr := gantryv1alpha1.SchemeGroupVersion.WithResource("nodegpus")
	fw := watch.NewFake()
	inf := toolscache.NewSharedIndexInformer(&toolscache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (runtime.Object, error) {
			return &gantryv1alpha1.NodeGPUList{}, nil
		},
		WatchFuncWithContext: func(context.Context, metav1.ListOptions) (watch.Interface, error) { return fw, nil },
	}, &gantryv1alpha1.NodeGPU{}, 0, toolscache.Indexers{})

	var mu sync.Mutex
	var seen []string
	record := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, s)
	}
	r := &refreshers{}
	r.add(gvr, func(obj any) {
		ng := obj.(*gantryv1alpha1.NodeGPU)
		cur, exists, _ := inf.GetStore().GetByKey(ng.Name)
		switch {
		case !exists:
			record("refresh:gone")
		default:
			record("refresh:" + cur.(*gantryv1alpha1.NodeGPU).ResourceVersion)
		}
	})
	wrapped := &refreshingSharedInformer{SharedIndexInformer: inf, gvr: gvr, refresh: r}
	done := make(chan struct{}, 3)
	if _, err := wrapped.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { record("handler:add"); done <- struct{}{} },
		UpdateFunc: func(_, obj any) { record("handler:update"); done <- struct{}{} },
		DeleteFunc: func(obj any) { record("handler:delete"); done <- struct{}{} },
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go inf.Run(ctx.Done())
	// The reflector streams its initial list as a watch, which ends with
	// a bookmark.
	fw.Action(watch.Bookmark, &gantryv1alpha1.NodeGPU{ObjectMeta: metav1.ObjectMeta{
		ResourceVersion: "0", Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true"},
	}})
	if !toolscache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("informer did not sync")
	}
	ng := &gantryv1alpha1.NodeGPU{ObjectMeta: metav1.ObjectMeta{Name: "n", ResourceVersion: "1"}}
	fw.Add(ng)
	ng2 := ng.DeepCopy()
	ng2.ResourceVersion = "2"
	fw.Modify(ng2)
	fw.Delete(ng2)
	for range 3 {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("handler not called; seen %v", seen)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// Each handler call comes right after a refresh; the store may be
	// ahead of the event being delivered (a refresh reads the newest
	// copy), but by the delete the object is gone.
	want := []string{"handler:add", "handler:update", "handler:delete"}
	if len(seen) != 2*len(want) {
		t.Fatalf("seen %v, want a refresh before each of %v", seen, want)
	}
	for i, h := range want {
		if seen[2*i+1] != h || !strings.HasPrefix(seen[2*i], "refresh:") {
			t.Fatalf("seen %v, want a refresh before each of %v", seen, want)
		}
	}
	if seen[4] != "refresh:gone" {
		t.Errorf("the refresh before the delete found %s, want the object gone", seen[4])
	}
}
