package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

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

	cfg := rest.CopyConfig(controlPlane.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: devicePluginUser, Groups: devicePluginGroups, Extra: nodeExtra("policy-a")}
	plugin, err := client.New(cfg, client.Options{Scheme: framework.Scheme()})
	if err != nil {
		t.Fatal(err)
	}

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
