package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gantry-gpu/gantry/pkg/nodelease"
	"github.com/gantry-gpu/gantry/test/framework"
)

// The device plugin's service account, as its pods' tokens present it.
const devicePluginUser = "system:serviceaccount:gantry-system:gantry-device-plugin"

var devicePluginGroups = []string{"system:serviceaccounts", "system:serviceaccounts:gantry-system", "system:authenticated"}

// nodeExtra is the user extra of a service-account token bound to a pod on node.
func nodeExtra(node string) map[string][]string {
	return map[string][]string{"authentication.kubernetes.io/node-name": {node}}
}

// TestDevicePluginWritesOnlyItsOwnNodeGPU applies the device plugin's RBAC
// and admission policy, then acts as the device plugin's service account
// with a token bound to node policy-a (impersonation carries the node-name
// extra a real pod token has): its own NodeGPU is accepted, another node's
// is refused with a message that says why.
func TestDevicePluginWritesOnlyItsOwnNodeGPU(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c := controlPlane.Client
	applyDevicePluginRBAC(ctx, t)

	plugin := devicePluginClient(t, "policy-a")
	t.Cleanup(func() {
		for _, node := range []string{"policy-a", "policy-b"} {
			_ = c.Delete(context.Background(), nvswitchNode(node))
		}
	})

	// The policy takes effect asynchronously once created; poll until the
	// foreign write is refused by it.
	var foreignErr error
	if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		foreignErr = plugin.Create(ctx, nvswitchNode("policy-b"))
		if foreignErr == nil {
			// Accepted before the policy was active: clean up and try again.
			return false, c.Delete(ctx, nvswitchNode("policy-b"))
		}
		return apierrors.IsForbidden(foreignErr) && strings.Contains(foreignErr.Error(), "only the NodeGPU of its own node"), nil
	}); err != nil {
		t.Fatalf("writing another node's NodeGPU: last err = %v, want the policy to forbid it", foreignErr)
	}
	if err := plugin.Create(ctx, nvswitchNode("policy-a")); err != nil {
		t.Errorf("the device plugin could not write its own node's NodeGPU: %v", err)
	}
}

// devicePluginClient acts as the device plugin's service account with a
// token bound to node (impersonation carries the node-name extra a real
// pod token has).
func devicePluginClient(t *testing.T, node string) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(controlPlane.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: devicePluginUser, Groups: devicePluginGroups, Extra: nodeExtra(node)}
	c, err := client.New(cfg, client.Options{Scheme: framework.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func nodeLease(namespace, node string) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: nodelease.Name(node), Labels: nodelease.Labels()},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(node), LeaseDurationSeconds: ptr.To[int32](40), RenewTime: &metav1.MicroTime{Time: time.Now()}},
	}
}

// TestDevicePluginWritesOnlyItsOwnLease applies the device plugin's RBAC and
// admission policies, then acts as its service account with a token bound
// to node lease-a: it may create and renew its own node's Lease in its
// namespace; creating or renewing another node's is refused by the policy
// with a message naming that Lease; and Leases outside its namespace are
// not its to write at all (a Role, not a ClusterRole).
func TestDevicePluginWritesOnlyItsOwnLease(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c := controlPlane.Client
	applyDevicePluginRBAC(ctx, t)
	plugin := devicePluginClient(t, "lease-a")
	t.Cleanup(func() {
		for _, node := range []string{"lease-a", "lease-b", "lease-c"} {
			_ = c.Delete(context.Background(), nodeLease(devicePluginNamespace, node))
		}
	})

	// The policy takes effect asynchronously once created; poll until the
	// foreign create is refused by it.
	const refusal = "only the Lease of its own node"
	var foreignErr error
	if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		foreignErr = plugin.Create(ctx, nodeLease(devicePluginNamespace, "lease-b"))
		if foreignErr == nil {
			// Accepted before the policy was active: clean up and try again.
			return false, c.Delete(ctx, nodeLease(devicePluginNamespace, "lease-b"))
		}
		return apierrors.IsForbidden(foreignErr) && strings.Contains(foreignErr.Error(), refusal), nil
	}); err != nil {
		t.Fatalf("creating another node's Lease: last err = %v, want the policy to forbid it", foreignErr)
	}
	if want := devicePluginNamespace + "/" + nodelease.Name("lease-b"); !strings.Contains(foreignErr.Error(), want) {
		t.Errorf("refusal %q does not name the Lease %s", foreignErr, want)
	}

	own := nodeLease(devicePluginNamespace, "lease-a")
	if err := plugin.Create(ctx, own); err != nil {
		t.Fatalf("the device plugin could not create its own node's Lease: %v", err)
	}
	own.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
	if err := plugin.Update(ctx, own); err != nil {
		t.Errorf("the device plugin could not renew its own node's Lease: %v", err)
	}

	// Another node's Lease, as that node's plugin created it: not renewable.
	other := nodeLease(devicePluginNamespace, "lease-c")
	if err := c.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	other.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
	if err := plugin.Update(ctx, other); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), refusal) ||
		!strings.Contains(err.Error(), nodelease.Name("lease-c")) {
		t.Errorf("renewing another node's Lease: err = %v, want the policy to forbid it, naming %s", err, nodelease.Name("lease-c"))
	}

	// Its own node's Lease name, in a namespace not its own: RBAC says no.
	if err := plugin.Create(ctx, nodeLease("default", "lease-a")); !apierrors.IsForbidden(err) || strings.Contains(err.Error(), refusal) {
		t.Errorf("creating a Lease in namespace default: err = %v, want RBAC to forbid it", err)
	}
}
