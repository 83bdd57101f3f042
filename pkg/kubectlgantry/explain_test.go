package kubectlgantry

import (
	"bytes"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

func TestExplainBoundPod(t *testing.T) {
	s := nodeState()
	s.Queues = []gantryv1alpha1.Queue{queue("default", "", 1, 2, 8)}
	// train-0 holds GPUs 0 and 1 (one NVLink island); span-0 holds 3 and 4,
	// across the islands.
	s.Pods = append(s.Pods, pod("ns", "span-0", 2, on("node-a", uuid("node-a", 4), uuid("node-a", 3))))
	x := BuildExplanation(s, &s.Pods[len(s.Pods)-1])
	if x.Waiting || x.Node != "node-a" || x.GPUSource != "annotation" || len(x.GPUs) != 2 || x.GPUs[0].Index != 3 || x.GPUs[1].Index != 4 {
		t.Fatalf("explanation = %+v", x)
	}
	if x.WorstLink != "System" || len(x.Links) != 1 || x.Links[0].Type != gantryv1alpha1.LinkSystem {
		t.Errorf("links %+v worst %s, want one System link", x.Links, x.WorstLink)
	}
	// GPU 4 is allocated by the kubelet to other/legacy, not to span-0: no
	// note, since the kubelet has allocated nothing to span-0 yet.
	if len(x.Notes) != 0 {
		t.Errorf("notes = %v", x.Notes)
	}
	if x.Queue != "default" || x.QueueSource != gantryv1alpha1.QueueFromDefault || x.QueueUsage == nil || x.QueueUsage.UsedGPUs != 9 {
		t.Errorf("queue %s (%s) usage %+v", x.Queue, x.QueueSource, x.QueueUsage)
	}

	x = BuildExplanation(s, &s.Pods[0])
	var buf bytes.Buffer
	if err := RenderExplanation(&buf, x, testNow); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, want := range []string{
		"Pod:        ns/train-0\n",
		"Queue:      default (no gantry.dev/queue label on the pod, its PodGroup or its namespace)\n",
		"uses 9 GPUs, guaranteed 2, limit 8, borrowing 7; 1 GPUs pending; over its limit\n",
		"Node:       node-a\n",
		"GPUs (from the pod's gantry.dev/gpu-ids annotation):\n",
		"  0       GPU-node-a-0   NVIDIA A100-SXM4-80GB   Healthy\n",
		"Links:      NVLink x12: 0-1\n",
		"Worst link: NVLink x12\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("explanation lacks %q:\n%s", want, got)
		}
	}
}

func TestExplainMismatchAndAllocations(t *testing.T) {
	s := nodeState()
	// ns/infer is annotated GPU 5, the kubelet gave GPU 5 to other/legacy;
	// now say the kubelet gave infer GPU 6.
	s.NodeGPUs[0].Status.Allocations = append(s.NodeGPUs[0].Status.Allocations, gantryv1alpha1.GPUAllocation{Index: 6, PodNamespace: "ns", PodName: "infer"})
	x := BuildExplanation(s, &s.Pods[1])
	if len(x.Notes) != 1 || x.Notes[0] != "the scheduler assigned GPUs 5 but the kubelet allocated 6" {
		t.Errorf("notes = %q", x.Notes)
	}
	// A pod the scheduler did not place: its GPUs come from the allocations.
	legacy := pod("other", "legacy", 2, on("node-a"))
	x = BuildExplanation(s, &legacy)
	if x.GPUSource != "allocations" || len(x.GPUs) != 2 || x.GPUs[0].Index != 4 || x.GPUs[1].Index != 5 || x.WorstLink != "NVLink x12" {
		t.Errorf("legacy = %+v", x)
	}
	// A GPU the node does not have.
	x = BuildExplanation(s, &s.Pods[2])
	if len(x.Notes) != 1 || !strings.Contains(x.Notes[0], "GPU GPU-elsewhere named in gantry.dev/gpu-ids is not on node node-a") {
		t.Errorf("ghost notes = %q", x.Notes)
	}
}

func TestExplainWaitingPod(t *testing.T) {
	s := gangState()
	s.Queues = []gantryv1alpha1.Queue{queue("research", "", 1, 8, 16)}
	s.Events = append(s.Events, event("Pod", "ml", "big-0", "gantry", "FailedScheduling", "pod is waiting for its gang", 20*time.Second))
	x := BuildExplanation(s, &s.Pods[0])
	if !x.Waiting || x.Node != "" || x.Scheduled == nil || x.Scheduled.Reason != corev1.PodReasonUnschedulable {
		t.Fatalf("explanation = %+v", x)
	}
	if x.Gang == nil || x.Gang.Name != "big" || x.Gang.Reason != "GangUnschedulable" {
		t.Errorf("gang = %+v", x.Gang)
	}
	if x.Queue != "research" || x.QueueSource != gantryv1alpha1.QueueFromNamespace || x.QueueUsage == nil || x.QueueUsage.PendingGPUs != 19 {
		t.Errorf("queue %s (%s) usage %+v", x.Queue, x.QueueSource, x.QueueUsage)
	}
	var reasons []string
	for _, e := range x.Events {
		reasons = append(reasons, e.Reason)
	}
	if got := strings.Join(reasons, " "); got != "GangScheduling FailedScheduling GangUnschedulable GangReleased" {
		t.Errorf("events newest first = %s", got)
	}
	var buf bytes.Buffer
	if err := RenderExplanation(&buf, x, testNow); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, want := range []string{
		"Node:       none: the pod waits\n",
		"Why:        PodScheduled=False Unschedulable: 0/3 nodes are available (2m ago)\n",
		"Gang:       big (PodGroup), minMember 4: 2 pods, 0 bound, 0 running; phase Scheduling\n",
		"            waits: GangUnschedulable: gang ml/big needs 32 GPUs; the largest domain has 16 free\n",
		"Queue:      research (its namespace's gantry.dev/queue label)\n",
		"  60s   Warning   GangUnschedulable   PodGroup/big   gang ml/big needs 32 GPUs",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("explanation lacks %q:\n%s", want, got)
		}
	}

	unscheduled := pod("ml", "new", 1)
	unscheduled.Spec.SchedulerName = "gantry"
	x = BuildExplanation(&State{}, &unscheduled)
	buf.Reset()
	if err := RenderExplanation(&buf, x, testNow); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `no scheduler has tried the pod (is "gantry" running?)`) {
		t.Errorf("untried pod:\n%s", buf.String())
	}
}
