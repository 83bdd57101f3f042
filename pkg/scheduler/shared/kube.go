package shared

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	coreinformers "k8s.io/client-go/informers/core"
	corev1informers "k8s.io/client-go/informers/core/v1"
	toolscache "k8s.io/client-go/tools/cache"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

var (
	// podsResource keys the pod refreshers.
	podsResource = v1.SchemeGroupVersion.WithResource("pods")
	// NodeGPUResource is the resource of NodeGPUs.
	NodeGPUResource = gantryv1alpha1.SchemeGroupVersion.WithResource("nodegpus")
)

// Kube returns the scheduler's informer factory f with one change: the
// handlers added to its pod informer run the pod refreshers first (see
// RefreshFirst), as the handlers of Gantry's resources do. The scheduler
// is built on the returned factory.
func (i *Informers) Kube(f informers.SharedInformerFactory) informers.SharedInformerFactory {
	return &kubeFactory{SharedInformerFactory: f, informers: i}
}

// rawPods returns the pod informer under the refreshing wrapper, if inf
// is one: the state's own handlers apply events themselves.
func (i *Informers) rawPods(inf toolscache.SharedIndexInformer) toolscache.SharedIndexInformer {
	if r, ok := inf.(*refreshingSharedInformer); ok {
		return r.SharedIndexInformer
	}
	return inf
}

type kubeFactory struct {
	informers.SharedInformerFactory
	informers *Informers
}

func (f *kubeFactory) Core() coreinformers.Interface {
	return &kubeCore{Interface: f.SharedInformerFactory.Core(), informers: f.informers}
}

type kubeCore struct {
	coreinformers.Interface
	informers *Informers
}

func (c *kubeCore) V1() corev1informers.Interface {
	return &kubeCoreV1{Interface: c.Interface.V1(), informers: c.informers}
}

type kubeCoreV1 struct {
	corev1informers.Interface
	informers *Informers
}

func (c *kubeCoreV1) Pods() corev1informers.TypedPodInformer {
	return &kubePods{TypedPodInformer: c.Interface.Pods(), informers: c.informers}
}

type kubePods struct {
	corev1informers.TypedPodInformer
	informers *Informers
}

func (p *kubePods) Informer() toolscache.SharedIndexInformer {
	return &refreshingSharedInformer{SharedIndexInformer: p.TypedPodInformer.Informer(), gvr: podsResource, refresh: &p.informers.refresh}
}
