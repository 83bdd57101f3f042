package controller

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	spinformers "sigs.k8s.io/scheduler-plugins/pkg/generated/informers/externalversions"

	"github.com/gantry-gpu/gantry/pkg/clients"
	gantryinformers "github.com/gantry-gpu/gantry/pkg/generated/informers/externalversions"
)

// InformerFactory is a shared informer factory, client-go's or a generated
// one.
type InformerFactory interface {
	Start(stopCh <-chan struct{})
	Shutdown()
}

// Informers are the shared informer factories every controller of the
// process takes its informers from when it is built, so that each resource
// is listed and watched once however many controllers read it. The
// manager starts them (see Manager.AddInformers).
type Informers struct {
	Kube      informers.SharedInformerFactory
	Gantry    gantryinformers.SharedInformerFactory
	PodGroups spinformers.SharedInformerFactory
}

// NewInformers returns factories on c's clients. None resyncs: controllers
// that want a periodic look at every object schedule it themselves, so
// that the others sharing the informer do not pay for it.
func NewInformers(c *clients.Set) *Informers {
	return &Informers{
		// Pods, namespaces and nodes are the bulk of the cache, and no
		// controller reads their managedFields. Queues and PodGroups keep
		// theirs: they are written back whole.
		Kube:      informers.NewSharedInformerFactoryWithOptions(c.Kube, 0, informers.WithTransform(stripManagedFields)),
		Gantry:    gantryinformers.NewSharedInformerFactory(c.Gantry, 0),
		PodGroups: spinformers.NewSharedInformerFactory(c.PodGroups, 0),
	}
}

// Start starts the informers asked for so far.
func (i *Informers) Start(stopCh <-chan struct{}) {
	i.Kube.Start(stopCh)
	i.Gantry.Start(stopCh)
	i.PodGroups.Start(stopCh)
}

// Shutdown waits for the started informers to stop, once stopCh is closed.
func (i *Informers) Shutdown() {
	i.Kube.Shutdown()
	i.Gantry.Shutdown()
	i.PodGroups.Shutdown()
}

// stripManagedFields drops what the controllers never read and what makes
// up much of an object's size in the cache.
func stripManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
