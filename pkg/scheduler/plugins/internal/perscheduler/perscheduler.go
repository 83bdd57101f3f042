// Package perscheduler keeps one value per scheduler for Gantry's plugins.
// A scheduler builds a plugin instance per profile that enables it, but
// what the instances know (GPUs reserved, gang plans, queue usage) must be
// one for the whole scheduler: a GPU reserved by a pod of one profile must
// not be handed to a pod of another. The scheduler's informer factory
// identifies the scheduler.
package perscheduler

import (
	"context"
	"sync"

	"k8s.io/client-go/informers"
	fwk "k8s.io/kube-scheduler/framework"
)

// Values holds one T per scheduler. The zero value is ready to use.
type Values[T any] struct {
	mu     sync.Mutex
	values map[informers.SharedInformerFactory]T
}

// Get returns the scheduler's value, building it with build the first time
// (a failed build is not kept). The value is forgotten when ctx, the
// context the scheduler builds its plugins with, ends.
func (v *Values[T]) Get(ctx context.Context, h fwk.Handle, build func() (T, error)) (T, error) {
	factory := h.SharedInformerFactory()
	v.mu.Lock()
	defer v.mu.Unlock()
	if val, ok := v.values[factory]; ok {
		return val, nil
	}
	val, err := build()
	if err != nil {
		return val, err
	}
	if v.values == nil {
		v.values = map[informers.SharedInformerFactory]T{}
	}
	v.values[factory] = val
	context.AfterFunc(ctx, func() {
		v.mu.Lock()
		defer v.mu.Unlock()
		delete(v.values, factory)
	})
	return val, nil
}
