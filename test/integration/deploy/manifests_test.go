package deploy

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/test/framework"
)

// fieldManager owns what these tests apply, as a deploy tool would.
const fieldManager = "gantry-deploy-test"

// chartDir is the Helm chart; manifestsDir is what it renders with default values.
var (
	chartDir     = filepath.Join(framework.RepoRoot(), "deploy", "helm", "gantry")
	manifestsDir = filepath.Join(framework.RepoRoot(), "deploy", "manifests")
)

func readObjects(t *testing.T, name string) []*unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(manifestsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := framework.DecodeObjects(raw)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(objs) == 0 {
		t.Fatalf("%s holds no objects", name)
	}
	return objs
}

// apply server-side applies one object with strict field validation, so an
// unknown or misspelt field is an error, not a warning.
func apply(ctx context.Context, u *unstructured.Unstructured, opts ...client.PatchOption) error {
	obj := u.DeepCopy()
	opts = append([]client.PatchOption{client.FieldOwner(fieldManager), client.FieldValidation("Strict")}, opts...)
	//lint:ignore SA1019 client.Client.Apply cannot ask for fieldValidation=Strict, which this test is for.
	if err := controlPlane.Client.Patch(ctx, obj, client.Apply, opts...); err != nil {
		return fmt.Errorf("applying %s %s: %w", u.GetKind(), key(u), err)
	}
	return nil
}

func key(u *unstructured.Unstructured) string {
	if u.GetNamespace() == "" {
		return u.GetName()
	}
	return u.GetNamespace() + "/" + u.GetName()
}

// TestRenderedManifestsApply installs deploy/manifests the way its README
// says (`kubectl apply --server-side -f deploy/manifests/`): the CRDs from
// scratch (the ones the control plane started with are deleted first) until
// they are Established, then every object of gantry.yaml. Each must be
// accepted, be stored with this field manager, and a second apply must
// change nothing (no field the server rewrites on every apply).
func TestRenderedManifestsApply(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c := controlPlane.Client

	crds := readObjects(t, "crds.yaml")
	for _, u := range crds {
		if u.GetKind() != "CustomResourceDefinition" {
			t.Fatalf("crds.yaml holds a %s (%s)", u.GetKind(), u.GetName())
		}
		old := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: u.GetName()}}
		if err := c.Delete(ctx, old); client.IgnoreNotFound(err) != nil {
			t.Fatal(err)
		}
		if err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			err := c.Get(ctx, client.ObjectKeyFromObject(old), old)
			return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
		}); err != nil {
			t.Fatalf("CRD %s was not deleted: %v", u.GetName(), err)
		}
	}
	for _, u := range crds {
		if err := apply(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range crds {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			if err := c.Get(ctx, client.ObjectKey{Name: u.GetName()}, crd); err != nil {
				return false, err
			}
			return crdCondition(crd, apiextensionsv1.Established) && crdCondition(crd, apiextensionsv1.NamesAccepted), nil
		}); err != nil {
			t.Fatalf("CRD %s never became Established: %v (conditions %+v)", u.GetName(), err, crd.Status.Conditions)
		}
	}

	objs := readObjects(t, "gantry.yaml")
	if objs[0].GetKind() != "Namespace" {
		t.Fatalf("gantry.yaml starts with a %s, want the Namespace (kubectl applies in order)", objs[0].GetKind())
	}
	for _, u := range objs {
		if u.GetKind() == "ServiceMonitor" {
			t.Fatalf("gantry.yaml holds ServiceMonitor %s, which needs the Prometheus Operator's CRDs; it must be off by default", u.GetName())
		}
		if err := apply(ctx, u); err != nil {
			t.Fatal(err)
		}
	}

	versions := map[string]string{}
	for _, u := range objs {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(u.GroupVersionKind())
		if err := c.Get(ctx, client.ObjectKeyFromObject(u), got); err != nil {
			t.Fatalf("%s %s was applied but cannot be read back: %v", u.GetKind(), key(u), err)
		}
		owned := false
		for _, mf := range got.GetManagedFields() {
			owned = owned || (mf.Manager == fieldManager && mf.Operation == metav1.ManagedFieldsOperationApply)
		}
		if !owned {
			t.Errorf("%s %s: no fields applied by %s in %+v", u.GetKind(), key(u), fieldManager, got.GetManagedFields())
		}
		versions[u.GetKind()+"/"+key(u)] = got.GetResourceVersion()
	}
	for _, u := range objs {
		if err := apply(ctx, u); err != nil {
			t.Fatalf("applying again: %v", err)
		}
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(u.GroupVersionKind())
		if err := c.Get(ctx, client.ObjectKeyFromObject(u), got); err != nil {
			t.Fatal(err)
		}
		if rv := versions[u.GetKind()+"/"+key(u)]; got.GetResourceVersion() != rv {
			t.Errorf("%s %s changed when applied a second time with the same content (resourceVersion %s -> %s)", u.GetKind(), key(u), rv, got.GetResourceVersion())
		}
	}
	t.Logf("applied %d CRDs and %d objects", len(crds), len(objs))

	t.Run("device plugin writes only its own NodeGPU", func(t *testing.T) {
		devicePluginWritesOnlyItsOwnNodeGPU(ctx, t)
	})
}

func crdCondition(crd *apiextensionsv1.CustomResourceDefinition, typ apiextensionsv1.CustomResourceDefinitionConditionType) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == typ && c.Status == apiextensionsv1.ConditionTrue {
			return true
		}
	}
	return false
}

// devicePluginWritesOnlyItsOwnNodeGPU acts as the installed device plugin's
// service account with a token bound to node deploy-a (impersonation carries
// the node-name extra that a pod's projected token has): with the RBAC and
// admission policy of gantry.yaml, its own NodeGPU is accepted and another
// node's is refused with the policy's message.
func devicePluginWritesOnlyItsOwnNodeGPU(ctx context.Context, t *testing.T) {
	cfg := rest.CopyConfig(controlPlane.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:gantry-system:gantry-device-plugin",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:gantry-system", "system:authenticated"},
		Extra:    map[string][]string{"authentication.kubernetes.io/node-name": {"deploy-a"}},
	}
	plugin, err := client.New(cfg, client.Options{Scheme: framework.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	// The policy takes effect asynchronously once created.
	var foreignErr error
	if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		foreignErr = plugin.Create(ctx, nodeGPU("deploy-b"))
		if foreignErr == nil {
			return false, controlPlane.Client.Delete(ctx, nodeGPU("deploy-b"))
		}
		return apierrors.IsForbidden(foreignErr) && strings.Contains(foreignErr.Error(), "only the NodeGPU of its own node"), nil
	}); err != nil {
		t.Fatalf("writing another node's NodeGPU: last err = %v, want the admission policy to forbid it", foreignErr)
	}
	if err := plugin.Create(ctx, nodeGPU("deploy-a")); err != nil {
		t.Errorf("the device plugin could not write its own node's NodeGPU: %v", err)
	}
}

func nodeGPU(name string) *gantryv1alpha1.NodeGPU {
	n := &gantryv1alpha1.NodeGPU{ObjectMeta: metav1.ObjectMeta{Name: name}}
	for i := int32(0); i < 2; i++ {
		n.Spec.GPUs = append(n.Spec.GPUs, gantryv1alpha1.GPUDevice{
			Index: i, UUID: fmt.Sprintf("GPU-%s-%d", name, i), Model: "NVIDIA L4", MemoryMiB: 23034, NUMANode: ptr.To(int32(0)),
		})
	}
	n.Spec.Links = []gantryv1alpha1.GPULink{{A: 0, B: 1, Type: gantryv1alpha1.LinkNUMANode}}
	return n
}

// helm runs the Helm binary that `make tools` builds beside etcd and
// kube-apiserver.
func helm(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	tools, err := framework.ToolsDir()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tools, "helm")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("helm not found in %s: run `make tools` (hack/build-tools.sh helm)", tools)
	}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// TestMalformedValuesAreRejected renders the chart with values that are
// wrong, and expects each to be refused with a message that names what is
// wrong: by the chart's values schema where it can tell, otherwise by the
// API server (a server-side dry run of the rendered object).
func TestMalformedValuesAreRejected(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gantry-system"}}
	if err := controlPlane.Client.Create(ctx, ns); client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		set  string
		want []string
	}{
		{"scheduler.replicas=-1", []string{"/scheduler/replicas", "minimum"}},
		{"controller.bindAddress=9402", []string{"/controller/bindAddress"}},
		{"schedulr.replicas=3", []string{"schedulr"}},
	} {
		_, err := helm(t, "template", "gantry", chartDir, "--namespace", "gantry-system", "--set", tc.set)
		if err == nil {
			t.Errorf("helm template --set %s: accepted, want the values schema to refuse it", tc.set)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("helm template --set %s: error does not name %q:\n%v", tc.set, w, err)
			}
		}
	}

	for _, tc := range []struct {
		set        string
		kind, name string
		want       []string
	}{
		// Values the schema lets through, and only the API server knows.
		{"priorityClass.value=2000000000", "PriorityClass", "gantry-too-high", []string{"value", "1000000000"}},
		{"devicePlugin.updateStrategy.rollingUpdate.maxUnavailable=0", "DaemonSet", "gantry-device-plugin",
			[]string{"spec.updateStrategy.rollingUpdate.maxUnavailable"}},
		{"controller.podDisruptionBudget.minAvailable=150%", "PodDisruptionBudget", "gantry-controller", []string{"spec.minAvailable"}},
	} {
		// A priority class's value cannot change once created (the other
		// test installs gantry-critical): render this one under a new name.
		out, err := helm(t, "template", "gantry", chartDir, "--namespace", "gantry-system", "--set", tc.set,
			"--set", "priorityClass.name=gantry-too-high")
		if err != nil {
			t.Errorf("helm template --set %s: %v", tc.set, err)
			continue
		}
		objs, err := framework.DecodeObjects(out)
		if err != nil {
			t.Fatalf("helm template --set %s: %v", tc.set, err)
		}
		var target *unstructured.Unstructured
		for _, u := range objs {
			if u.GetKind() == tc.kind && u.GetName() == tc.name {
				target = u
			}
		}
		if target == nil {
			t.Fatalf("helm template --set %s rendered no %s %s", tc.set, tc.kind, tc.name)
		}
		err = apply(ctx, target, client.DryRunAll)
		if err == nil {
			t.Errorf("--set %s: the API server accepted %s %s", tc.set, tc.kind, tc.name)
			continue
		}
		if !apierrors.IsInvalid(err) && !apierrors.IsBadRequest(err) {
			t.Errorf("--set %s: error is not a validation error: %v", tc.set, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("--set %s: error does not name %q: %v", tc.set, w, err)
			}
		}
	}
}
