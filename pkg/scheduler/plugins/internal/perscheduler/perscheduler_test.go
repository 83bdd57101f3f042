package perscheduler

import (
	"context"
	"errors"
	"testing"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	fwk "k8s.io/kube-scheduler/framework"
)

// handle is a fwk.Handle that answers only SharedInformerFactory.
type handle struct {
	fwk.Handle
	factory informers.SharedInformerFactory
}

func (h handle) SharedInformerFactory() informers.SharedInformerFactory { return h.factory }

func TestValues(t *testing.T) {
	a := handle{factory: informers.NewSharedInformerFactory(fake.NewClientset(), 0)}
	b := handle{factory: informers.NewSharedInformerFactory(fake.NewClientset(), 0)}
	var v Values[*int]
	builds := 0
	build := func() (*int, error) { builds++; n := builds; return &n, nil }
	ctx, cancel := context.WithCancel(context.Background())

	if _, err := v.Get(ctx, a, func() (*int, error) { return nil, errors.New("no") }); err == nil {
		t.Fatal("a failed build returned no error")
	}
	a1, _ := v.Get(ctx, a, build)
	a2, _ := v.Get(ctx, a, build)
	b1, _ := v.Get(ctx, b, build)
	if a1 != a2 || a1 == b1 || builds != 2 {
		t.Fatalf("one scheduler got %p and %p, another %p, after %d builds; want one value each", a1, a2, b1, builds)
	}
	cancel()
	// AfterFunc runs in its own goroutine: wait until the value is gone.
	for {
		v.mu.Lock()
		n := len(v.values)
		v.mu.Unlock()
		if n == 0 {
			break
		}
	}
	if a3, _ := v.Get(context.Background(), a, build); a3 == a1 {
		t.Fatal("the value outlived its scheduler's context")
	}
}
