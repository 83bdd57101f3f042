package deviceplugin

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// PodGPUSets watches the pods bound to one node and lists the GPU sets
// gantry-scheduler annotated on them.
type PodGPUSets struct {
	lister corelisters.PodLister
}

// NewPodGPUSets starts a pod informer limited to nodeName and waits for its
// first list. It stops with ctx.
func NewPodGPUSets(ctx context.Context, client kubernetes.Interface, nodeName string) (*PodGPUSets, error) {
	factory := informers.NewSharedInformerFactoryWithOptions(client, 10*time.Minute,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", nodeName).String()
		}))
	pods := factory.Core().V1().Pods()
	lister := pods.Lister()
	informer := pods.Informer()
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
		return nil, fmt.Errorf("pods of node %s: informer did not sync", nodeName)
	}
	return &PodGPUSets{lister: lister}, nil
}

// AnnotatedSets implements AnnotatedSets.
func (p *PodGPUSets) AnnotatedSets() [][]string {
	pods := p.annotatedPods()
	out := make([][]string, 0, len(pods))
	for _, pod := range pods {
		out = append(out, gantryv1alpha1.ParseGPUIDs(pod.Annotations[gantryv1alpha1.GPUIDsAnnotation]))
	}
	return out
}

func (p *PodGPUSets) annotatedPods() []*corev1.Pod {
	pods, err := p.lister.List(labels.Everything())
	if err != nil {
		return nil
	}
	return annotatedPods(pods)
}

// annotatedPods returns the pods that carry a GPU set and have not
// finished, oldest first.
func annotatedPods(pods []*corev1.Pod) []*corev1.Pod {
	var live []*corev1.Pod
	for _, pod := range pods {
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed || pod.DeletionTimestamp != nil {
			continue
		}
		if _, ok := pod.Annotations[gantryv1alpha1.GPUIDsAnnotation]; ok {
			live = append(live, pod)
		}
	}
	sort.SliceStable(live, func(i, j int) bool {
		ti, tj := live[i].CreationTimestamp, live[j].CreationTimestamp
		if !ti.Equal(&tj) {
			return ti.Before(&tj)
		}
		return live[i].Namespace+"/"+live[i].Name < live[j].Namespace+"/"+live[j].Name
	})
	return live
}
