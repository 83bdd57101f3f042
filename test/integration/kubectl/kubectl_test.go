package kubectl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/kubectlgantry"
	"github.com/gantry-gpu/gantry/test/framework"
)

const gpu corev1.ResourceName = "nvidia.com/gpu"

func gpus(n int64) corev1.ResourceList {
	return corev1.ResourceList{gpu: *resource.NewQuantity(n, resource.DecimalSI)}
}

// run runs kubectl-gantry in-process against the control plane and returns
// its standard output; it fails the test on an error.
func run(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := kubectlgantry.NewCommand(&out, &errOut)
	cmd.SetArgs(append(args, "--kubeconfig", controlPlane.Kubeconfig))
	if err := cmd.Execute(); err != nil {
		t.Fatalf("kubectl gantry %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut.String())
	}
	if errOut.Len() > 0 {
		t.Logf("kubectl gantry %s: stderr: %s", strings.Join(args, " "), errOut.String())
	}
	t.Logf("kubectl gantry %s:\n%s", strings.Join(args, " "), out.String())
	return out.String()
}

// mustContain checks that got has each of wants, comparing with runs of
// spaces collapsed so that column widths do not matter.
func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	norm := collapseSpaces(got)
	for _, w := range wants {
		if !strings.Contains(norm, collapseSpaces(w)) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

func collapseSpaces(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
		if strings.HasPrefix(l, " ") && lines[i] != "" {
			lines[i] = " " + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}

// nodeGPU publishes an 8-GPU NodeGPU with NVLink islands 0-3 and 4-7 and
// the given status, as the device plugin would.
func nodeGPU(ctx context.Context, t *testing.T, node string, status gantryv1alpha1.NodeGPUStatus) {
	t.Helper()
	ng := &gantryv1alpha1.NodeGPU{ObjectMeta: metav1.ObjectMeta{Name: node}}
	for i := range 8 {
		ng.Spec.GPUs = append(ng.Spec.GPUs, gantryv1alpha1.GPUDevice{Index: int32(i), UUID: uuid(node, i), Model: "NVIDIA H100 80GB HBM3", MemoryMiB: 81559})
	}
	for a := range 8 {
		for b := a + 1; b < 8; b++ {
			l := gantryv1alpha1.GPULink{A: int32(a), B: int32(b), Type: gantryv1alpha1.LinkSystem}
			if a/4 == b/4 {
				l.Type, l.NVLinkLanes = gantryv1alpha1.LinkNVLink, 18
			}
			ng.Spec.Links = append(ng.Spec.Links, l)
		}
	}
	if err := controlPlane.Client.Create(ctx, ng); err != nil {
		t.Fatalf("creating NodeGPU %s: %v", node, err)
	}
	ng.Status = status
	ng.Status.Capacity = 8
	if err := controlPlane.Client.Status().Update(ctx, ng); err != nil {
		t.Fatalf("updating NodeGPU %s status: %v", node, err)
	}
}

func uuid(node string, i int) string { return fmt.Sprintf("GPU-%s-%d", node, i) }

// gpuPod creates a pod asking for n GPUs; with a node it is bound there
// through the binding subresource, carrying the GPU IDs as the scheduler's
// Binding does, and then marked Running.
func gpuPod(ctx context.Context, t *testing.T, ns, name string, n int64, labels map[string]string, node string, gpuIDs ...string) *corev1.Pod {
	t.Helper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: corev1.PodSpec{SchedulerName: "gantry", Containers: []corev1.Container{{
			Name: "main", Image: "busybox", Resources: corev1.ResourceRequirements{Limits: gpus(n), Requests: gpus(n)},
		}}},
	}
	if err := controlPlane.Client.Create(ctx, p); err != nil {
		t.Fatalf("creating pod %s: %v", name, err)
	}
	if node == "" {
		return p
	}
	b := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: map[string]string{gantryv1alpha1.GPUIDsAnnotation: gantryv1alpha1.FormatGPUIDs(gpuIDs)}},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}
	if err := controlPlane.Client.SubResource("binding").Create(ctx, p, b); err != nil {
		t.Fatalf("binding pod %s to %s: %v", name, node, err)
	}
	if err := controlPlane.Client.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
		t.Fatal(err)
	}
	p.Status.Phase = corev1.PodRunning
	if err := controlPlane.Client.Status().Update(ctx, p); err != nil {
		t.Fatalf("marking pod %s Running: %v", name, err)
	}
	return p
}

func TestKubectlGantry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := controlPlane.Client

	ns, err := controlPlane.CreateNamespace(ctx, "kg")
	if err != nil {
		t.Fatal(err)
	}
	// Workloads in this namespace go to queue research unless they say otherwise.
	nsObj := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: ns}, nsObj); err != nil {
		t.Fatal(err)
	}
	nsObj.Labels[gantryv1alpha1.QueueLabel] = "research"
	if err := c.Update(ctx, nsObj); err != nil {
		t.Fatalf("labelling namespace: %v", err)
	}

	for _, q := range []*gantryv1alpha1.Queue{
		{ObjectMeta: metav1.ObjectMeta{Name: "kg-org"}, Spec: gantryv1alpha1.QueueSpec{Weight: 1, Guaranteed: gpus(8), Limit: gpus(16)}},
		{ObjectMeta: metav1.ObjectMeta{Name: "research"}, Spec: gantryv1alpha1.QueueSpec{Parent: "kg-org", Weight: 3, Guaranteed: gpus(2), Limit: gpus(8)}},
		{ObjectMeta: metav1.ObjectMeta{Name: "inference"}, Spec: gantryv1alpha1.QueueSpec{Parent: "kg-org", Weight: 1, Guaranteed: gpus(4)}},
	} {
		if err := c.Create(ctx, q); err != nil {
			t.Fatalf("creating queue %s: %v", q.Name, err)
		}
	}

	nodeA, nodeB := "kg-node-a", "kg-node-b"
	for _, n := range []string{nodeA, nodeB} {
		if _, err := controlPlane.CreateReadyNode(ctx, n, nil, gpus(8)); err != nil {
			t.Fatal(err)
		}
	}
	nodeGPU(ctx, t, nodeA, gantryv1alpha1.NodeGPUStatus{
		Healthy: 7,
		Health:  []gantryv1alpha1.GPUHealth{{Index: 7, Health: gantryv1alpha1.Unhealthy, Reason: "XID79", Message: "GPU has fallen off the bus"}},
		Allocations: []gantryv1alpha1.GPUAllocation{
			{Index: 0, PodNamespace: ns, PodName: "train-0"}, {Index: 1, PodNamespace: ns, PodName: "train-0"},
		},
	})
	nodeGPU(ctx, t, nodeB, gantryv1alpha1.NodeGPUStatus{Healthy: 8})

	// A running gang of two 2-GPU pods in queue research (the namespace's),
	// one NVLink island each pod.
	train := &schedv1alpha1.PodGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "train"}, Spec: schedv1alpha1.PodGroupSpec{MinMember: 2}}
	if err := c.Create(ctx, train); err != nil {
		t.Fatalf("creating PodGroup: %v", err)
	}
	trainLabels := map[string]string{schedv1alpha1.PodGroupLabel: "train"}
	gpuPod(ctx, t, ns, "train-0", 2, trainLabels, nodeA, uuid(nodeA, 0), uuid(nodeA, 1))
	gpuPod(ctx, t, ns, "train-1", 2, trainLabels, nodeA, uuid(nodeA, 4), uuid(nodeA, 5))
	// A pod of queue inference by its own label, with GPUs across islands.
	gpuPod(ctx, t, ns, "infer", 2, map[string]string{gantryv1alpha1.QueueLabel: "inference"}, nodeA, uuid(nodeA, 3), uuid(nodeA, 6))
	// A waiting gang: its PodGroup (queue inference by label) needs 3, one
	// pod exists; the scheduler said why in an events.k8s.io event.
	big := &schedv1alpha1.PodGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "big", Labels: map[string]string{gantryv1alpha1.QueueLabel: "inference"}},
		Spec:       schedv1alpha1.PodGroupSpec{MinMember: 3},
	}
	if err := c.Create(ctx, big); err != nil {
		t.Fatalf("creating PodGroup: %v", err)
	}
	waiting := gpuPod(ctx, t, ns, "big-0", 8, map[string]string{schedv1alpha1.PodGroupLabel: "big"}, "")
	waiting.Status.Conditions = []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
		Message: "gang is waiting for 2 more members", LastTransitionTime: metav1.Now(),
	}}
	if err := c.Status().Update(ctx, waiting); err != nil {
		t.Fatalf("setting PodScheduled: %v", err)
	}
	ev := &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "big.gang-unschedulable"},
		EventTime:  metav1.NewMicroTime(time.Now()), ReportingController: "gantry", ReportingInstance: "gantry-scheduler-0",
		Action: "Scheduling", Reason: "GangUnschedulable", Type: corev1.EventTypeWarning,
		Regarding: corev1.ObjectReference{APIVersion: schedv1alpha1.SchemeGroupVersion.String(), Kind: "PodGroup", Namespace: ns, Name: "big", UID: big.UID},
		Note:      "gang " + ns + "/big has 1 of minMember 3 pods",
	}
	if err := c.Create(ctx, ev); err != nil {
		t.Fatalf("creating event: %v", err)
	}
	// A label-only gang on node B.
	lbl := map[string]string{schedv1alpha1.PodGroupLabel: "sweep", gantryv1alpha1.GangMinMemberLabel: "2"}
	gpuPod(ctx, t, ns, "sweep-0", 1, lbl, nodeB, uuid(nodeB, 0))
	gpuPod(ctx, t, ns, "sweep-1", 1, lbl, nodeB, uuid(nodeB, 1))

	t.Run("queues", func(t *testing.T) {
		out := run(t, "queues")
		mustContain(t, "queues table", out,
			"QUEUE         WEIGHT   GUARANTEED   LIMIT   USED   BORROWED   PENDING   PODS   PROBLEM",
			"kg-org        1        8            16      8      0          8         5/6    -\n",
			"  inference   1        4            -       2      0          8         1/2    -\n",
			"  research    3        2            8       6      4          0         4/4    -\n")
		var v kubectlgantry.QueuesView
		if err := json.Unmarshal([]byte(run(t, "queues", "-o", "json")), &v); err != nil {
			t.Fatal(err)
		}
		for _, q := range v.Queues {
			if q.Name == "research" && (q.UsedGPUs != 6 || q.BorrowedGPUs != 4 || q.Parent != "kg-org" || q.Depth != 1) {
				t.Errorf("research = %+v", q)
			}
		}
	})

	t.Run("nodes", func(t *testing.T) {
		out := run(t, "nodes", nodeA)
		mustContain(t, "nodes table", out,
			"kg-node-a   0     NVIDIA H100 80GB HBM3   80Gi     0-3      Used                "+ns+"/train-0\n",
			"kg-node-a   2     NVIDIA H100 80GB HBM3   80Gi     0-3      Free                -\n",
			"kg-node-a   6     NVIDIA H100 80GB HBM3   80Gi     4-7      Used                "+ns+"/infer\n",
			"kg-node-a   7     NVIDIA H100 80GB HBM3   80Gi     4-7      Unhealthy (XID79)   -\n")
		if strings.Contains(out, "kg-node-b") {
			t.Errorf("nodes %s listed another node:\n%s", nodeA, out)
		}
		out = run(t, "nodes", "-o", "map", nodeA, nodeB)
		mustContain(t, "nodes map", out,
			"kg-node-a   8      1      [A A . B | C C B X]   A="+ns+"/train-0 B="+ns+"/infer C="+ns+"/train-1 X=Unhealthy(XID79)",
			"kg-node-b   8      6      [A B . . | . . . .]   A="+ns+"/sweep-0 B="+ns+"/sweep-1")
		var v kubectlgantry.NodesView
		if err := json.Unmarshal([]byte(run(t, "nodes", "-o", "json", nodeA)), &v); err != nil {
			t.Fatal(err)
		}
		if len(v.Nodes) != 1 || v.Nodes[0].FreeGPUs != 1 || v.Nodes[0].UsedGPUs != 6 || v.Nodes[0].UnhealthyGPUs != 1 || len(v.Nodes[0].NVLinkIslands) != 2 {
			t.Errorf("nodes JSON = %+v", v.Nodes)
		}
	})

	t.Run("gangs", func(t *testing.T) {
		out := run(t, "gangs", "-n", ns)
		mustContain(t, "gangs table", out,
			"NAME    KIND        MINMEMBER   PODS   BOUND   RUNNING   PHASE       QUEUE       AGE",
			"big     PodGroup    3           1      0       0         Pending*    inference",
			"GangUnschedulable: gang "+ns+"/big has 1 of minMember 3 pods\n",
			"sweep   LabelOnly   2           2      2       2         Running*    research",
			"train   PodGroup    2           2      2       2         Running*    research")
		out = run(t, "gangs", "-A")
		mustContain(t, "gangs -A table", out, "NAMESPACE", ns+"   big ")
		var v kubectlgantry.GangsView
		if err := json.Unmarshal([]byte(run(t, "gangs", "-n", ns, "-o", "json")), &v); err != nil {
			t.Fatal(err)
		}
		if len(v.Gangs) != 3 || v.Gangs[0].Name != "big" || !v.Gangs[0].Waiting || v.Gangs[0].Reason != "GangUnschedulable" || v.Gangs[2].Waiting {
			t.Errorf("gangs JSON = %+v", v.Gangs)
		}
	})

	t.Run("explain", func(t *testing.T) {
		out := run(t, "explain", "infer", "-n", ns)
		mustContain(t, "explain infer", out,
			"Queue:      inference (the pod's gantry.dev/queue label)\n",
			"Node:       kg-node-a\n",
			"  3       GPU-kg-node-a-3   NVIDIA H100 80GB HBM3   Healthy\n",
			"Links:      System: 3-6\n",
			"Worst link: System\n")
		out = run(t, "explain", "big-0", "-n", ns)
		mustContain(t, "explain big-0", out,
			"Node:       none: the pod waits\n",
			"Why:        PodScheduled=False Unschedulable: gang is waiting for 2 more members",
			"Gang:       big (PodGroup), minMember 3: 1 pods, 0 bound, 0 running; phase Pending (computed)\n",
			"Queue:      inference (its PodGroup's gantry.dev/queue label)\n",
			"Warning   GangUnschedulable   PodGroup/big")
		var x kubectlgantry.Explanation
		if err := json.Unmarshal([]byte(run(t, "explain", "train-0", "-n", ns, "-o", "json")), &x); err != nil {
			t.Fatal(err)
		}
		if x.Node != nodeA || len(x.GPUs) != 2 || x.GPUs[1].UUID != uuid(nodeA, 1) || x.WorstLink != "NVLink x18" || x.Queue != "research" || len(x.Notes) != 0 {
			t.Errorf("explain JSON = %+v", x)
		}
	})

	t.Run("binary", func(t *testing.T) {
		bin := framework.BuildBinary(t, "./cmd/kubectl-gantry")
		out, err := exec.CommandContext(ctx, bin, "nodes", "-o", "map", nodeB, "--kubeconfig", controlPlane.Kubeconfig).Output()
		if err != nil {
			t.Fatalf("kubectl-gantry nodes: %v", err)
		}
		mustContain(t, "kubectl-gantry nodes -o map", string(out), "kg-node-b 8 6 [A B . . | . . . .]")
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, "explain", "nope", "-n", ns, "--kubeconfig", controlPlane.Kubeconfig)
		cmd.Stderr = &stderr
		if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "error: pod nope not found") {
			t.Errorf("kubectl-gantry explain nope: %v, stderr %q; want exit status 1 and the error", err, stderr.String())
		}
	})

	t.Run("errors", func(t *testing.T) {
		var out, errOut bytes.Buffer
		cmd := kubectlgantry.NewCommand(&out, &errOut)
		cmd.SetArgs([]string{"explain", "nope", "-n", ns, "--kubeconfig", controlPlane.Kubeconfig})
		if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "pod nope not found in namespace "+ns) {
			t.Errorf("explain of a missing pod: %v", err)
		}
	})

	t.Run("bad output", testBadOutput)
	t.Run("templates", func(t *testing.T) { testTemplates(t, ns, nodeA, nodeB) })
	t.Run("contexts", func(t *testing.T) { testContexts(t, ns) })
	// Last: it adds RBAC objects, which nothing else needs.
	t.Run("impersonation", func(t *testing.T) { testImpersonation(ctx, t, ns) })
}
