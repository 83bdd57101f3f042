package shared

import (
	"os"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/rest"
	spinformers "sigs.k8s.io/scheduler-plugins/pkg/generated/informers/externalversions"

	"github.com/gantry-gpu/gantry/pkg/clients"
	gantryinformers "github.com/gantry-gpu/gantry/pkg/generated/informers/externalversions"
	"github.com/gantry-gpu/gantry/pkg/nodelease"
)

// Informers are the typed informer factories of the resources Gantry
// defines or reuses: gantry.dev (Queue, NodeGPU), scheduler-plugins'
// PodGroup and the device plugins' node Leases. One per scheduler: the
// plugins read them, and the scheduler drives its queueing hints for the
// custom resources from the same informers (Dynamic), so a hint never sees
// an object the plugins' listers do not have yet, and each resource is
// watched once.
type Informers struct {
	Gantry    gantryinformers.SharedInformerFactory
	PodGroups spinformers.SharedInformerFactory
	// NodeLeases watches the device plugins' node Leases alone (those
	// nodelease.Selector selects in NodeLeaseNamespace): the GPU cache
	// reads no other Lease, so the scheduler needs no right on Leases
	// elsewhere.
	NodeLeases informers.SharedInformerFactory

	refresh refreshers
}

// NewInformers builds the factories on cfg, with the user agent naming
// gantry-scheduler.
func NewInformers(cfg *rest.Config) (*Informers, error) {
	cs, err := clients.New(rest.AddUserAgent(rest.CopyConfig(cfg), "gantry-scheduler"))
	if err != nil {
		return nil, err
	}
	return &Informers{
		Gantry:    gantryinformers.NewSharedInformerFactory(cs.Gantry, 0),
		PodGroups: spinformers.NewSharedInformerFactory(cs.PodGroups, 0),
		NodeLeases: informers.NewSharedInformerFactoryWithOptions(cs.Kube, 0,
			informers.WithNamespace(NodeLeaseNamespace()),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = nodelease.Selector().String() })),
	}, nil
}

// NodeLeaseNamespace is where the device plugins renew their node Leases:
// the scheduler's own namespace ($POD_NAMESPACE, from the downward API),
// since the chart runs both in the release namespace and the device plugin
// defaults to its own; outside a pod, nodelease.DefaultNamespace, the
// device plugin's default there too.
func NodeLeaseNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	return nodelease.DefaultNamespace
}

// Dynamic returns the factory kube-scheduler builds the informers of
// custom resources in plugins' EventsToRegister from: Gantry's typed
// informers for the resources above (hints then receive typed objects),
// and fallback's for any other.
func (i *Informers) Dynamic(fallback dynamicinformer.DynamicSharedInformerFactory) dynamicinformer.DynamicSharedInformerFactory {
	return &dynamicFactory{informers: i, fallback: fallback}
}

// Start starts the informers asked for so far; later ones start on the
// next call.
func (i *Informers) Start(stop <-chan struct{}) {
	i.Gantry.Start(stop)
	i.PodGroups.Start(stop)
	i.NodeLeases.Start(stop)
}

type dynamicFactory struct {
	informers *Informers
	fallback  dynamicinformer.DynamicSharedInformerFactory
}

func (f *dynamicFactory) ForResource(gvr schema.GroupVersionResource) informers.GenericInformer {
	if inf, err := f.informers.Gantry.ForResource(gvr); err == nil {
		return &refreshingInformer{GenericInformer: inf, gvr: gvr, refresh: &f.informers.refresh}
	}
	if inf, err := f.informers.PodGroups.ForResource(gvr); err == nil {
		return &refreshingInformer{GenericInformer: inf, gvr: gvr, refresh: &f.informers.refresh}
	}
	return f.fallback.ForResource(gvr)
}

func (f *dynamicFactory) Start(stop <-chan struct{}) {
	f.informers.Start(stop)
	if f.fallback != nil {
		f.fallback.Start(stop)
	}
}

func (f *dynamicFactory) WaitForCacheSync(stop <-chan struct{}) map[schema.GroupVersionResource]bool {
	out := map[schema.GroupVersionResource]bool{}
	if f.fallback != nil {
		out = f.fallback.WaitForCacheSync(stop)
	}
	// The typed factories key by Go type; the scheduler only checks the
	// values.
	for typ, ok := range f.informers.Gantry.WaitForCacheSync(stop) {
		out[schema.GroupVersionResource{Resource: typ.String()}] = ok
	}
	for typ, ok := range f.informers.PodGroups.WaitForCacheSync(stop) {
		out[schema.GroupVersionResource{Resource: typ.String()}] = ok
	}
	for typ, ok := range f.informers.NodeLeases.WaitForCacheSync(stop) {
		out[schema.GroupVersionResource{Resource: typ.String()}] = ok
	}
	return out
}

func (f *dynamicFactory) Shutdown() {
	f.informers.Gantry.Shutdown()
	f.informers.PodGroups.Shutdown()
	f.informers.NodeLeases.Shutdown()
	if f.fallback != nil {
		f.fallback.Shutdown()
	}
}
