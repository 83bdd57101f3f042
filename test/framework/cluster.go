package framework

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CreateNamespace creates a namespace with a generated name and its default
// ServiceAccount, which admission requires before any pod is accepted and
// which no controller-manager creates in this control plane.
func (cp *ControlPlane) CreateNamespace(ctx context.Context, prefix string) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	if err := cp.Client.Create(ctx, ns); err != nil {
		return "", fmt.Errorf("creating namespace: %w", err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns.Name}}
	// A running serviceaccount-controller may have made it already.
	if err := cp.Client.Create(ctx, sa); client.IgnoreAlreadyExists(err) != nil {
		return "", fmt.Errorf("creating default ServiceAccount in %s: %w", ns.Name, err)
	}
	return ns.Name, nil
}

// CreateReadyNode registers a node with the given allocatable resources and
// makes it schedulable as a kubelet would: status Ready, and the not-ready
// taint that the API server's admission puts on new nodes removed.
func (cp *ControlPlane) CreateReadyNode(ctx context.Context, name string, labels map[string]string, allocatable corev1.ResourceList) (*corev1.Node, error) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if err := cp.Client.Create(ctx, node); err != nil {
		return nil, fmt.Errorf("creating node %s: %w", name, err)
	}
	node.Spec.Taints = nil
	if err := cp.Client.Update(ctx, node); err != nil {
		return nil, fmt.Errorf("removing the not-ready taint of node %s: %w", name, err)
	}
	if _, ok := allocatable[corev1.ResourcePods]; !ok {
		allocatable = allocatable.DeepCopy()
		allocatable[corev1.ResourcePods] = resource.MustParse("110")
	}
	node.Status = corev1.NodeStatus{
		Capacity:    allocatable,
		Allocatable: allocatable,
		Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now(),
		}},
	}
	if err := cp.Client.Status().Update(ctx, node); err != nil {
		return nil, fmt.Errorf("marking node %s Ready: %w", name, err)
	}
	return node, nil
}
