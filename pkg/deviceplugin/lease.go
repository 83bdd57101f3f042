package deviceplugin

import (
	"context"
	"fmt"
	"maps"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/component-helpers/apimachinery/lease"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/gantry-gpu/gantry/pkg/nodelease"
)

// runNodeLease renews the node's Lease (package nodelease) until ctx ends,
// with the kubelet's own node-lease controller: created when missing,
// renewed every quarter of its duration, owned by the Node so that it goes
// with it. The Lease is what says the plugin is alive; the NodeGPU only
// changes with the GPUs.
//
// On shutdown the Lease is left to expire rather than deleted: a restart
// (a rolling update, a crash) renews it before it expires, so the node's
// GPUs stay known throughout, and a plugin that is gone for good reads the
// same as one that crashed. It also keeps delete out of the plugin's RBAC.
func runNodeLease(ctx context.Context, kube kubernetes.Interface, o *Options) {
	name := nodelease.Name(o.NodeName)
	logger := klog.FromContext(ctx).WithValues("lease", klog.KRef(o.LeaseNamespace, name))
	ctx = klog.NewContext(ctx, logger)
	controller := lease.NewController(clock.RealClock{}, kube, o.NodeName, int32(o.LeaseDuration/time.Second),
		nil, nodelease.RenewInterval(o.LeaseDuration), name, o.LeaseNamespace, leaseMetadata(ctx, kube, o.NodeName))
	logger.Info("Renewing the node's Lease", "duration", o.LeaseDuration)
	// Run, not Start/Stop: those delete the Lease, at start and at exit.
	controller.Run(ctx)
}

// leaseMetadata labels the Lease as a node's and makes the Node its owner.
// An error stops only a create (the controller retries at the next
// renewal), so a Lease never exists without its owner.
func leaseMetadata(ctx context.Context, kube kubernetes.Interface, nodeName string) lease.ProcessLeaseFunc {
	return func(l *coordinationv1.Lease) error {
		if l.Labels == nil {
			l.Labels = map[string]string{}
		}
		maps.Copy(l.Labels, nodelease.Labels())
		if len(l.OwnerReferences) > 0 {
			return nil
		}
		node, err := kube.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		if err != nil {
			err = fmt.Errorf("reading node %s, the owner of its Lease: %w", nodeName, err)
			klog.FromContext(ctx).Error(err, "Not creating the node's Lease yet")
			return err
		}
		l.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}}
		return nil
	}
}
