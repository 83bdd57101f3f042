package kubectlgantry

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// ViewGroupVersion is the apiVersion of the views the commands print. No
// API server serves it: the views are computed by the plugin, and carry
// apiVersion and kind so that cli-runtime's printers (and readers of
// -o json) can tell them apart.
var ViewGroupVersion = schema.GroupVersion{Group: "kubectl.gantry.dev", Version: "v1alpha1"}

// Kinds of the views.
const (
	KindQueuesView  = "QueuesView"
	KindNodesView   = "NodesView"
	KindGangsView   = "GangsView"
	KindExplanation = "Explanation"
)

func viewTypeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: ViewGroupVersion.String(), Kind: kind}
}

// objectRef is an API object by kind and name, for -o name.
func objectRef(gvk schema.GroupVersionKind, namespace, name string) metav1.PartialObjectMetadata {
	return metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
	}
}

// namedObjects are the Queues of the rows, including those that workloads
// name but that do not exist (their problem says so).
func (v *QueuesView) namedObjects() []metav1.PartialObjectMetadata {
	var out []metav1.PartialObjectMetadata
	for _, q := range v.Queues {
		out = append(out, objectRef(gantryv1alpha1.SchemeGroupVersion.WithKind("Queue"), "", q.Name))
	}
	return out
}

// namedObjects are the Nodes; a NodeGPU has its node's name.
func (v *NodesView) namedObjects() []metav1.PartialObjectMetadata {
	var out []metav1.PartialObjectMetadata
	for _, n := range v.Nodes {
		out = append(out, objectRef(corev1.SchemeGroupVersion.WithKind("Node"), "", n.Name))
	}
	return out
}

// namedObjects are the gangs' PodGroups by name; the scheduler treats a
// label-only gang as a PodGroup of that name that has no object.
func (v *GangsView) namedObjects() []metav1.PartialObjectMetadata {
	var out []metav1.PartialObjectMetadata
	for _, g := range v.Gangs {
		out = append(out, objectRef(schedv1alpha1.SchemeGroupVersion.WithKind("PodGroup"), g.Namespace, g.Name))
	}
	return out
}

// namedObjects is the pod explained.
func (x *Explanation) namedObjects() []metav1.PartialObjectMetadata {
	return []metav1.PartialObjectMetadata{objectRef(corev1.SchemeGroupVersion.WithKind("Pod"), x.Namespace, x.Name)}
}
