package deviceplugin

import (
	"context"
	"fmt"
	"sort"
	"time"

	podutil "github.com/gantry-gpu/gantry/pkg/pods"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	lister   corelisters.PodLister
	client   kubernetes.Interface
	nodeName string
	// kubelet, when set, says which pods the kubelet has given no GPU yet
	// (AdmittingSets).
	kubelet interface {
		Unallocated(ctx context.Context) (map[string]bool, error)
	}
}

// NewPodGPUSets starts a pod informer limited to nodeName and waits for its
// first list. It stops with ctx.
func NewPodGPUSets(ctx context.Context, client kubernetes.Interface, nodeName string) (*PodGPUSets, error) {
	factory := informers.NewSharedInformerFactoryWithOptions(client, 10*time.Minute,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = nodeSelector(nodeName)
		}))
	pods := factory.Core().V1().Pods()
	lister := pods.Lister()
	informer := pods.Informer()
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
		return nil, fmt.Errorf("pods of node %s: informer did not sync", nodeName)
	}
	return &PodGPUSets{lister: lister, client: client, nodeName: nodeName}, nil
}

// nodeSelector selects the pods bound to the node.
func nodeSelector(nodeName string) string {
	return fields.OneTermEqualSelector("spec.nodeName", nodeName).String()
}

// AnnotatedSets implements AnnotatedSets from the informer's cache.
func (p *PodGPUSets) AnnotatedSets() [][]string {
	return gpuSets(p.annotatedPods())
}

// FreshAnnotatedSets implements AnnotatedSets with a consistent read of
// the node's pods from the API server.
func (p *PodGPUSets) FreshAnnotatedSets(ctx context.Context) ([][]string, error) {
	list, err := p.client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: nodeSelector(p.nodeName)})
	if err != nil {
		return nil, fmt.Errorf("listing the pods of node %s: %w", p.nodeName, err)
	}
	pods := make([]*corev1.Pod, 0, len(list.Items))
	for i := range list.Items {
		pods = append(pods, &list.Items[i])
	}
	return gpuSets(annotatedPods(pods)), nil
}

// AdmittingSets implements Admitting: the sets of the annotated pods that
// the kubelet knows and has given no GPU yet, read from the informer, and
// from the API server for any such pod the informer has not seen.
func (p *PodGPUSets) AdmittingSets(ctx context.Context) ([][]string, error) {
	if p.kubelet == nil {
		return nil, nil
	}
	keys, err := p.kubelet.Unallocated(ctx)
	if err != nil {
		return nil, err
	}
	var pods []*corev1.Pod
	for key := range keys {
		ns, name, err := cache.SplitMetaNamespaceKey(key)
		if err != nil {
			continue
		}
		// The informer holds a pod only once it is bound, and the Binding
		// names its GPUs in the same write: a pod the informer has is
		// final, with or without a set (most are pods that need no GPU).
		// Only a pod it has not seen yet is read from the API server.
		pod, err := p.lister.Pods(ns).Get(name)
		if apierrors.IsNotFound(err) {
			pod, err = p.client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		}
		if err != nil {
			continue
		}
		if pod.Spec.NodeName == p.nodeName {
			pods = append(pods, pod)
		}
	}
	return gpuSets(annotatedPods(pods)), nil
}

func gpuSets(pods []*corev1.Pod) [][]string {
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
		if podutil.Finished(pod) || pod.DeletionTimestamp != nil {
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
