package examples

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gantry-gpu/gantry/test/framework"
)

// fieldManager owns what the test applies, as `kubectl apply --server-side`
// would own what a user applies.
const fieldManager = "gantry-examples-test"

// applyOrder ranks kinds so that what others depend on goes first:
// namespaces, then cluster-wide setup (queues, priority classes, CRDs),
// then objects workloads refer to, then workloads. Within a rank, file
// order is kept, as `kubectl apply -f` keeps it.
func applyOrder(kind string) int {
	switch kind {
	case "Namespace":
		return 0
	case "CustomResourceDefinition", "Queue", "PriorityClass":
		return 1
	case "PodGroup", "Service", "ServiceAccount", "ConfigMap", "Secret":
		return 2
	default:
		return 3
	}
}

// standInCRDs are kinds the examples use whose CRDs belong to other projects
// and are not vendored. Each gets a CRD that accepts any spec
// (x-kubernetes-preserve-unknown-fields), so the object still goes through
// the API server (names, namespace, metadata, apply); its spec is checked
// against a Go mirror of the upstream type instead (see checkPyTorchJob).
var standInCRDs = map[schema.GroupKind]apiextensionsv1.CustomResourceDefinitionNames{
	{Group: "kubeflow.org", Kind: "PyTorchJob"}: {Plural: "pytorchjobs", Singular: "pytorchjob", Kind: "PyTorchJob", ListKind: "PyTorchJobList"},
}

// TestExamplesApply server-side applies every object of deploy/examples, in
// dependency order, with strict field validation: an unknown or misspelt
// field is an error, not a warning, and every value must pass the API
// server's validation (Queue CEL rules included). Each object must then
// read back, and applying everything again must change nothing.
func TestExamplesApply(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	objs := loadExamples(t)
	installStandInCRDs(ctx, t, objs)
	// A fresh client: its REST mapper discovers the stand-in CRDs' kinds.
	c, err := client.New(controlPlane.Config, client.Options{Scheme: framework.Scheme()})
	if err != nil {
		t.Fatal(err)
	}

	slices.SortStableFunc(objs, func(a, b object) int { return applyOrder(a.GetKind()) - applyOrder(b.GetKind()) })
	for _, o := range objs {
		if err := apply(ctx, c, o.Unstructured); err != nil {
			t.Fatalf("%s: %v", o, err)
		}
	}

	versions := map[string]string{}
	for _, o := range objs {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(o.GroupVersionKind())
		if err := c.Get(ctx, client.ObjectKeyFromObject(o), got); err != nil {
			t.Fatalf("%s was applied but cannot be read back: %v", o, err)
		}
		versions[o.String()] = got.GetResourceVersion()
	}
	for _, o := range objs {
		if err := apply(ctx, c, o.Unstructured); err != nil {
			t.Fatalf("applying again: %s: %v", o, err)
		}
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(o.GroupVersionKind())
		if err := c.Get(ctx, client.ObjectKeyFromObject(o), got); err != nil {
			t.Fatal(err)
		}
		if rv := versions[o.String()]; got.GetResourceVersion() != rv {
			t.Errorf("%s changed when applied a second time with the same content (resourceVersion %s -> %s)", o, rv, got.GetResourceVersion())
		}
	}
	t.Logf("applied %d objects", len(objs))

	for _, o := range ofKind(objs, "PyTorchJob") {
		checkPyTorchJob(ctx, t, c, o)
	}

	// The checks above are only worth something if the server would refuse
	// a broken example: prove it on two copies.
	t.Run("a misspelt field is refused", func(t *testing.T) {
		job := ofKind(objs, "Job")[0].DeepCopy()
		spec := job.Object["spec"].(map[string]any)
		spec["parallelizm"] = spec["parallelism"]
		err := apply(ctx, c, job, client.DryRunAll)
		if err == nil || !strings.Contains(err.Error(), "parallelizm") {
			t.Fatalf("applying a Job with spec.parallelizm: got %v, want an error naming the field", err)
		}
	})
	t.Run("a queue guaranteed more than its limit is refused", func(t *testing.T) {
		var q *unstructured.Unstructured
		for _, o := range ofKind(objs, "Queue") {
			if _, ok, _ := unstructured.NestedMap(o.Object, "spec", "limit"); ok {
				if _, ok, _ := unstructured.NestedMap(o.Object, "spec", "guaranteed"); ok {
					q = o.DeepCopy()
				}
			}
		}
		if q == nil {
			t.Fatal("no example Queue has both guaranteed and limit")
		}
		if err := unstructured.SetNestedField(q.Object, "1000", "spec", "guaranteed", "nvidia.com/gpu"); err != nil {
			t.Fatal(err)
		}
		err := apply(ctx, c, q, client.DryRunAll)
		if !apierrors.IsInvalid(err) {
			t.Fatalf("applying queue %s guaranteed 1000 GPUs over its limit: got %v, want Invalid", q.GetName(), err)
		}
	})
}

// apply server-side applies one object with strict field validation.
func apply(ctx context.Context, c client.Client, u *unstructured.Unstructured, opts ...client.PatchOption) error {
	obj := u.DeepCopy()
	opts = append([]client.PatchOption{client.FieldOwner(fieldManager), client.FieldValidation("Strict")}, opts...)
	//lint:ignore SA1019 client.Client.Apply cannot ask for fieldValidation=Strict, which this test is for.
	return c.Patch(ctx, obj, client.Apply, opts...)
}

// installStandInCRDs installs a permissive CRD for every kind of the
// examples that the control plane does not serve and standInCRDs knows,
// and fails on any other unknown kind: an example the test cannot send to
// the API server must be a deliberate decision, not an oversight.
func installStandInCRDs(ctx context.Context, t *testing.T, objs []object) {
	t.Helper()
	c := controlPlane.Client
	installed := map[schema.GroupKind]bool{}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if _, err := c.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version); err == nil {
			continue
		} else if !meta.IsNoMatchError(err) {
			t.Fatalf("%s: %v", o, err)
		}
		names, ok := standInCRDs[gvk.GroupKind()]
		if !ok {
			t.Fatalf("%s: the API server does not serve %s and the test has no stand-in CRD for it", o, gvk)
		}
		if installed[gvk.GroupKind()] {
			continue
		}
		installed[gvk.GroupKind()] = true
		crd := &apiextensionsv1.CustomResourceDefinition{
			ObjectMeta: metav1.ObjectMeta{Name: names.Plural + "." + gvk.Group},
			Spec: apiextensionsv1.CustomResourceDefinitionSpec{
				Group: gvk.Group,
				Names: names,
				Scope: apiextensionsv1.NamespaceScoped,
				Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
					Name: gvk.Version, Served: true, Storage: true,
					Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
					Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
						Type: "object",
						Properties: map[string]apiextensionsv1.JSONSchemaProps{
							"spec":   {Type: "object", XPreserveUnknownFields: ptr.To(true)},
							"status": {Type: "object", XPreserveUnknownFields: ptr.To(true)},
						},
					}},
				}},
			},
		}
		if err := c.Create(ctx, crd); err != nil {
			t.Fatalf("installing the stand-in CRD for %s: %v", gvk, err)
		}
		if err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			if err := c.Get(ctx, client.ObjectKeyFromObject(crd), crd); err != nil {
				return false, err
			}
			for _, cond := range crd.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		}); err != nil {
			t.Fatalf("stand-in CRD %s never became Established: %v", crd.Name, err)
		}
		t.Logf("installed stand-in CRD %s (spec not validated by the server)", crd.Name)
	}
}

// pyTorchJob mirrors the fields of kubeflow.org/v1 PyTorchJob that users
// set (training-operator pkg/apis/kubeflow.org/v1: pytorch_types.go and
// common_types.go); decoding with unknown fields disallowed catches a
// misspelt field the permissive stand-in CRD would keep. Pod templates are
// corev1.PodTemplateSpec, so the same applies inside them.
type pyTorchJob struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       struct {
		RunPolicy struct {
			CleanPodPolicy          *string `json:"cleanPodPolicy,omitempty"`
			TTLSecondsAfterFinished *int32  `json:"ttlSecondsAfterFinished,omitempty"`
			ActiveDeadlineSeconds   *int64  `json:"activeDeadlineSeconds,omitempty"`
			BackoffLimit            *int32  `json:"backoffLimit,omitempty"`
			SchedulingPolicy        *struct {
				MinAvailable           *int32              `json:"minAvailable,omitempty"`
				Queue                  string              `json:"queue,omitempty"`
				MinResources           corev1.ResourceList `json:"minResources,omitempty"`
				PriorityClass          string              `json:"priorityClass,omitempty"`
				ScheduleTimeoutSeconds *int32              `json:"scheduleTimeoutSeconds,omitempty"`
			} `json:"schedulingPolicy,omitempty"`
			Suspend   *bool   `json:"suspend,omitempty"`
			ManagedBy *string `json:"managedBy,omitempty"`
		} `json:"runPolicy"`
		ElasticPolicy       map[string]any                 `json:"elasticPolicy,omitempty"`
		PyTorchReplicaSpecs map[string]*pyTorchReplicaSpec `json:"pytorchReplicaSpecs"`
		NprocPerNode        *string                        `json:"nprocPerNode,omitempty"`
	} `json:"spec"`
}

type pyTorchReplicaSpec struct {
	Replicas      *int32                 `json:"replicas,omitempty"`
	Template      corev1.PodTemplateSpec `json:"template"`
	RestartPolicy string                 `json:"restartPolicy,omitempty"`
}

// decodePyTorchJob decodes strictly into the mirror.
func decodePyTorchJob(o object) (*pyTorchJob, error) {
	raw, err := json.Marshal(o.Object)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	job := &pyTorchJob{}
	if err := dec.Decode(job); err != nil {
		return nil, fmt.Errorf("%s: %w", o, err)
	}
	return job, nil
}

// checkPyTorchJob validates what the stand-in CRD cannot: the spec against
// the mirror of the upstream type and its enums, and every replica's pod
// template through the API server's own pod-template validation (a
// PodTemplate object created with dry run and strict field validation).
func checkPyTorchJob(ctx context.Context, t *testing.T, c client.Client, o object) {
	t.Helper()
	job, err := decodePyTorchJob(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(job.Spec.PyTorchReplicaSpecs) == 0 {
		t.Fatalf("%s has no pytorchReplicaSpecs", o)
	}
	if p := job.Spec.RunPolicy.CleanPodPolicy; p != nil && !slices.Contains([]string{"All", "Running", "None"}, *p) {
		t.Errorf("%s: runPolicy.cleanPodPolicy %q is not All, Running or None", o, *p)
	}
	for rtype, rs := range job.Spec.PyTorchReplicaSpecs {
		if rtype != "Master" && rtype != "Worker" {
			t.Errorf("%s: replica type %q is not Master or Worker", o, rtype)
		}
		if rs.RestartPolicy != "" && !slices.Contains([]string{"Always", "OnFailure", "Never", "ExitCode"}, rs.RestartPolicy) {
			t.Errorf("%s: %s restartPolicy %q is not Always, OnFailure, Never or ExitCode", o, rtype, rs.RestartPolicy)
		}
		if !slices.ContainsFunc(rs.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == "pytorch" }) {
			t.Errorf("%s: %s has no container named pytorch, which the operator configures", o, rtype)
		}
		raw, _, err := unstructured.NestedMap(o.Object, "spec", "pytorchReplicaSpecs", rtype, "template")
		if err != nil {
			t.Fatal(err)
		}
		pt := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1",
			"kind":       "PodTemplate",
			"metadata":   map[string]any{"name": strings.ToLower(o.GetName() + "-" + rtype), "namespace": o.GetNamespace()},
			"template":   raw,
		}}
		if err := apply(ctx, c, pt, client.DryRunAll); err != nil {
			t.Errorf("%s: the %s pod template is refused by the API server: %v", o, rtype, err)
		}
	}
}
