package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/test/framework"
)

func gpus(n int64) corev1.ResourceList {
	return corev1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(n, resource.DecimalSI)}
}

func queue(name string, mutate ...func(*gantryv1alpha1.Queue)) *gantryv1alpha1.Queue {
	q := &gantryv1alpha1.Queue{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: gantryv1alpha1.QueueSpec{
			Guaranteed: gpus(8),
			Limit:      gpus(32),
		},
	}
	for _, m := range mutate {
		m(q)
	}
	return q
}

// nvswitchNode is an 8-GPU node whose GPUs all reach each other over NVLink
// through NVSwitches, as on a DGX A100 (12 lanes per GPU into the fabric).
func nvswitchNode(name string, mutate ...func(*gantryv1alpha1.NodeGPU)) *gantryv1alpha1.NodeGPU {
	n := &gantryv1alpha1.NodeGPU{ObjectMeta: metav1.ObjectMeta{Name: name}}
	for i := int32(0); i < 8; i++ {
		n.Spec.GPUs = append(n.Spec.GPUs, gantryv1alpha1.GPUDevice{
			Index:     i,
			UUID:      "GPU-" + name + "-" + string(rune('a'+i)),
			Model:     "NVIDIA A100-SXM4-80GB",
			MemoryMiB: 81920,
			NUMANode:  ptr.To(i / 4),
		})
		for j := i + 1; j < 8; j++ {
			n.Spec.Links = append(n.Spec.Links, gantryv1alpha1.GPULink{A: i, B: j, Type: gantryv1alpha1.LinkNVLink, NVLinkLanes: 12})
		}
	}
	for _, m := range mutate {
		m(n)
	}
	return n
}

// unstructuredQueue writes quantities exactly as given, so a test can send
// the integers that kubectl sends for `nvidia.com/gpu: 8`; the typed client
// always sends strings.
func unstructuredQueue(name string, guaranteed, limit map[string]any) *unstructured.Unstructured {
	spec := map[string]any{}
	if guaranteed != nil {
		spec["guaranteed"] = guaranteed
	}
	if limit != nil {
		spec["limit"] = limit
	}
	u := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": name}, "spec": spec}}
	u.SetGroupVersionKind(gantryv1alpha1.SchemeGroupVersion.WithKind("Queue"))
	return u
}

func TestQueueIntegerAndStringQuantities(t *testing.T) {
	q := unstructuredQueue("mixed-quantities",
		map[string]any{"nvidia.com/gpu": int64(4), "memory": "64Gi", "cpu": int64(2)},
		map[string]any{"nvidia.com/gpu": "8", "memory": int64(68719476736), "cpu": "2000m"})
	if err := controlPlane.Client.Create(t.Context(), q); err != nil {
		t.Fatalf("a queue whose guaranteed equals or is below its limit, in mixed notations, was rejected: %v", err)
	}
}

func TestQueueRoundTrip(t *testing.T) {
	ctx := t.Context()
	c := controlPlane.Client

	parent := queue("research")
	if err := c.Create(ctx, parent); err != nil {
		t.Fatalf("creating queue: %v", err)
	}
	child := queue("research-vision", func(q *gantryv1alpha1.Queue) { q.Spec.Parent = "research"; q.Spec.Weight = 3 })
	if err := c.Create(ctx, child); err != nil {
		t.Fatalf("creating child queue: %v", err)
	}

	var got gantryv1alpha1.Queue
	if err := c.Get(ctx, client.ObjectKey{Name: "research"}, &got); err != nil {
		t.Fatalf("reading queue back: %v", err)
	}
	if got.Spec.Weight != 1 {
		t.Errorf("defaulted weight = %d, want 1", got.Spec.Weight)
	}
	if q := got.Spec.Guaranteed["nvidia.com/gpu"]; q.Cmp(resource.MustParse("8")) != 0 {
		t.Errorf("guaranteed GPUs = %s, want 8", q.String())
	}

	// The scheduler writes status through the status subresource; a spec
	// write must not touch it, and a status write must not touch the spec.
	got.Status.Allocated = gpus(12)
	got.Status.Borrowed = gpus(4)
	got.Status.AdmittedWorkloads = 2
	got.Spec.Weight = 7
	if err := c.Status().Update(ctx, &got); err != nil {
		t.Fatalf("updating status: %v", err)
	}
	var after gantryv1alpha1.Queue
	if err := c.Get(ctx, client.ObjectKey{Name: "research"}, &after); err != nil {
		t.Fatal(err)
	}
	if b := after.Status.Borrowed["nvidia.com/gpu"]; b.Value() != 4 || after.Status.AdmittedWorkloads != 2 {
		t.Errorf("status after update = %+v, want 4 borrowed GPUs and 2 admitted workloads", after.Status)
	}
	if after.Spec.Weight != 1 {
		t.Errorf("status update changed spec.weight to %d", after.Spec.Weight)
	}
}

func TestNodeGPURoundTrip(t *testing.T) {
	ctx := t.Context()
	c := controlPlane.Client

	n := nvswitchNode("dgx-a100-roundtrip")
	if err := c.Create(ctx, n); err != nil {
		t.Fatalf("creating NodeGPU: %v", err)
	}
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	n.Status = gantryv1alpha1.NodeGPUStatus{
		Capacity:  8,
		Healthy:   7,
		Allocated: 2,
		Health: []gantryv1alpha1.GPUHealth{{
			Index: 3, Health: gantryv1alpha1.Unhealthy, Reason: "XID79",
			Message: "GPU has fallen off the bus", LastTransitionTime: &now,
		}},
		Allocations: []gantryv1alpha1.GPUAllocation{
			{Index: 0, PodNamespace: "train", PodName: "ddp-0", Container: "trainer"},
			{Index: 1, PodNamespace: "train", PodName: "ddp-0", Container: "trainer"},
		},
	}
	if err := c.Status().Update(ctx, n); err != nil {
		t.Fatalf("updating NodeGPU status: %v", err)
	}

	var got gantryv1alpha1.NodeGPU
	if err := c.Get(ctx, client.ObjectKey{Name: n.Name}, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Spec.GPUs) != 8 || len(got.Spec.Links) != 28 {
		t.Errorf("read back %d GPUs and %d links, want 8 and 28", len(got.Spec.GPUs), len(got.Spec.Links))
	}
	if got.Spec.GPUs[5].MIGMode != gantryv1alpha1.MIGDisabled {
		t.Errorf("defaulted MIG mode = %q, want %q", got.Spec.GPUs[5].MIGMode, gantryv1alpha1.MIGDisabled)
	}
	if got.Status.Health[0].Reason != "XID79" || got.Status.Allocations[1].PodName != "ddp-0" {
		t.Errorf("status read back = %+v", got.Status)
	}
}

func TestPodGroupCRDInstalled(t *testing.T) {
	ctx := t.Context()
	c := controlPlane.Client
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "podgroup-"}}
	if err := c.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	pg := &schedv1alpha1.PodGroup{
		ObjectMeta: metav1.ObjectMeta{Name: "ddp", Namespace: ns.Name},
		Spec:       schedv1alpha1.PodGroupSpec{MinMember: 4, ScheduleTimeoutSeconds: ptr.To[int32](60)},
	}
	if err := c.Create(ctx, pg); err != nil {
		t.Fatalf("creating PodGroup: %v", err)
	}
	var got schedv1alpha1.PodGroup
	if err := c.Get(ctx, client.ObjectKeyFromObject(pg), &got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.MinMember != 4 {
		t.Errorf("minMember read back = %d, want 4", got.Spec.MinMember)
	}
}

func TestRBACIsEnforced(t *testing.T) {
	cfg, err := controlPlane.AddUser("nobody")
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: framework.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Create(t.Context(), queue("nobodys-queue"))
	if !apierrors.IsForbidden(err) {
		t.Fatalf("creating a Queue as a user without roles: err = %v, want Forbidden", err)
	}
}

// TestInvalidObjectsRejected sends objects that the CRD schema or its CEL
// rules must refuse, and checks the API server's answer names the field.
func TestInvalidObjectsRejected(t *testing.T) {
	type statusWrite struct{ status gantryv1alpha1.NodeGPUStatus }
	cases := []struct {
		name      string
		obj       client.Object
		status    *statusWrite // written to the status subresource after a valid create
		wantField string
		wantMsg   string
	}{{
		name:      "negative guaranteed quantity",
		obj:       queue("bad-neg-guaranteed", func(q *gantryv1alpha1.Queue) { q.Spec.Guaranteed = gpus(-2) }),
		wantField: "spec.guaranteed",
		wantMsg:   "quantities must not be negative",
	}, {
		name: "negative limit quantity",
		obj: queue("bad-neg-limit", func(q *gantryv1alpha1.Queue) {
			q.Spec.Limit = corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("16"), "memory": resource.MustParse("-1Gi")}
		}),
		wantField: "spec.limit",
		wantMsg:   "quantities must not be negative",
	}, {
		name:      "guaranteed above limit",
		obj:       queue("bad-over-limit", func(q *gantryv1alpha1.Queue) { q.Spec.Guaranteed = gpus(64) }),
		wantField: "spec.guaranteed",
		wantMsg:   "must not exceed spec.limit for any resource",
	}, {
		name: "guaranteed above limit in another unit",
		obj: queue("bad-over-limit-units", func(q *gantryv1alpha1.Queue) {
			q.Spec.Guaranteed = corev1.ResourceList{"memory": resource.MustParse("2Gi")}
			q.Spec.Limit = corev1.ResourceList{"memory": resource.MustParse("1500M")}
		}),
		wantField: "spec.guaranteed",
		wantMsg:   "must not exceed spec.limit for any resource",
	}, {
		name:      "guaranteed above limit, both written as integers",
		obj:       unstructuredQueue("bad-over-limit-ints", map[string]any{"nvidia.com/gpu": int64(16)}, map[string]any{"nvidia.com/gpu": int64(8)}),
		wantField: "spec.guaranteed",
		wantMsg:   "must not exceed spec.limit for any resource",
	}, {
		name:      "guaranteed above limit, integer against string",
		obj:       unstructuredQueue("bad-over-limit-mixed", map[string]any{"cpu": int64(3)}, map[string]any{"cpu": "2500m"}),
		wantField: "spec.guaranteed",
		wantMsg:   "must not exceed spec.limit for any resource",
	}, {
		name:      "negative integer quantity",
		obj:       unstructuredQueue("bad-neg-int", map[string]any{"nvidia.com/gpu": int64(-1)}, nil),
		wantField: "spec.guaranteed",
		wantMsg:   "quantities must not be negative",
	}, {
		name:      "queue is its own parent",
		obj:       queue("loop", func(q *gantryv1alpha1.Queue) { q.Spec.Parent = "loop" }),
		wantField: "spec.parent",
		wantMsg:   "a queue cannot be its own parent",
	}, {
		name:      "parent is not a valid name",
		obj:       queue("bad-parent-name", func(q *gantryv1alpha1.Queue) { q.Spec.Parent = "Research_Team" }),
		wantField: "spec.parent",
		wantMsg:   "should match",
	}, {
		name:      "weight zero",
		obj:       queue("bad-weight", func(q *gantryv1alpha1.Queue) { q.Spec.Weight = -1 }),
		wantField: "spec.weight",
		wantMsg:   "should be greater than or equal to 1",
	}, {
		name:      "unknown link type",
		obj:       nvswitchNode("bad-link-type", func(n *gantryv1alpha1.NodeGPU) { n.Spec.Links[3].Type = "InfiniBand" }),
		wantField: "spec.links[3].type",
		wantMsg:   `Unsupported value: "InfiniBand"`,
	}, {
		name:      "link listed with the higher index first",
		obj:       nvswitchNode("bad-link-order", func(n *gantryv1alpha1.NodeGPU) { n.Spec.Links[0].A, n.Spec.Links[0].B = 1, 0 }),
		wantField: "spec.links[0].a",
		wantMsg:   "a must be less than b",
	}, {
		name:      "NVLink without lanes",
		obj:       nvswitchNode("bad-nvlink-lanes", func(n *gantryv1alpha1.NodeGPU) { n.Spec.Links[2].NVLinkLanes = 0 }),
		wantField: "spec.links[2].nvlinkLanes",
		wantMsg:   "nvlinkLanes must be set, and only be set, for NVLink links",
	}, {
		name: "PCIe link with lanes",
		obj: nvswitchNode("bad-pcie-lanes", func(n *gantryv1alpha1.NodeGPU) {
			n.Spec.Links[2].Type = gantryv1alpha1.LinkSystem
		}),
		wantField: "spec.links[2].nvlinkLanes",
		wantMsg:   "nvlinkLanes must be set, and only be set, for NVLink links",
	}, {
		name: "link to a GPU that is not listed",
		obj: nvswitchNode("bad-link-target", func(n *gantryv1alpha1.NodeGPU) {
			n.Spec.GPUs = n.Spec.GPUs[:4]
			n.Spec.Links = append(n.Spec.Links[:0], gantryv1alpha1.GPULink{A: 0, B: 6, Type: gantryv1alpha1.LinkNUMANode})
		}),
		wantField: "spec.links",
		wantMsg:   "every link must join two GPUs listed in spec.gpus",
	}, {
		name:      "duplicate GPU UUID",
		obj:       nvswitchNode("bad-dup-uuid", func(n *gantryv1alpha1.NodeGPU) { n.Spec.GPUs[7].UUID = n.Spec.GPUs[0].UUID }),
		wantField: "spec.gpus",
		wantMsg:   "GPU UUIDs must be unique",
	}, {
		name:      "duplicate GPU index",
		obj:       nvswitchNode("bad-dup-index", func(n *gantryv1alpha1.NodeGPU) { n.Spec.GPUs[7].Index = 0; n.Spec.Links = nil }),
		wantField: "spec.gpus[7]",
		wantMsg:   "Duplicate value",
	}, {
		name:      "unknown MIG mode",
		obj:       nvswitchNode("bad-mig", func(n *gantryv1alpha1.NodeGPU) { n.Spec.GPUs[1].MIGMode = "Maybe" }),
		wantField: "spec.gpus[1].migMode",
		wantMsg:   `Unsupported value: "Maybe"`,
	}, {
		name: "unknown health value in status",
		obj:  nvswitchNode("bad-health"),
		status: &statusWrite{gantryv1alpha1.NodeGPUStatus{
			Health: []gantryv1alpha1.GPUHealth{{Index: 2, Health: "Sick"}},
		}},
		wantField: "status.health[0].health",
		wantMsg:   `Unsupported value: "Sick"`,
	}}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			c := controlPlane.Client
			err := c.Create(ctx, tc.obj)
			if tc.status != nil {
				if err != nil {
					t.Fatalf("creating the valid object before its status write: %v", err)
				}
				n := tc.obj.(*gantryv1alpha1.NodeGPU)
				n.Status = tc.status.status
				err = c.Status().Update(ctx, n)
			}
			assertInvalid(t, err, tc.wantField, tc.wantMsg)
			assertAbsentOrUnchanged(ctx, t, c, tc.obj, tc.status != nil)
		})
	}
}

func assertInvalid(t *testing.T, err error, field, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the API server accepted the object; want it rejected at %s with %q", field, msg)
	}
	if !apierrors.IsInvalid(err) {
		t.Fatalf("err = %v, want an Invalid error", err)
	}
	if !strings.Contains(err.Error(), field+":") || !strings.Contains(err.Error(), msg) {
		t.Errorf("err = %v\nwant it to name field %q with message %q", err, field, msg)
	}
}

// assertAbsentOrUnchanged checks a rejected write left nothing behind: a
// rejected create stores no object; a rejected status write keeps none of it.
func assertAbsentOrUnchanged(ctx context.Context, t *testing.T, c client.Client, obj client.Object, existed bool) {
	t.Helper()
	key := client.ObjectKeyFromObject(obj)
	fresh := obj.DeepCopyObject().(client.Object)
	err := c.Get(ctx, key, fresh)
	switch {
	case !existed && !apierrors.IsNotFound(err):
		t.Errorf("after a rejected create, Get(%s) err = %v, want NotFound", key, err)
	case existed && err != nil:
		t.Errorf("Get(%s) after a rejected status write: %v", key, err)
	case existed:
		if n, ok := fresh.(*gantryv1alpha1.NodeGPU); ok && len(n.Status.Health) != 0 {
			t.Errorf("a rejected status write was stored: %+v", n.Status.Health)
		}
	}
}
