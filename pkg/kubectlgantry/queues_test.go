package kubectlgantry

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
)

func TestQueueOf(t *testing.T) {
	pg := podGroup("ns", "g", 2, "", "from-pg")
	pgNoLabel := podGroup("ns", "g", 2, "", "")
	ns := namespace("ns", "from-ns")
	nsNoLabel := namespace("ns", "")
	for _, tc := range []struct {
		name       string
		pod        corev1.Pod
		pg         *schedv1alpha1.PodGroup
		ns         *corev1.Namespace
		want       string
		wantSource gantryv1alpha1.QueueSource
	}{
		{"pod label wins", pod("ns", "p", 1, label(gantryv1alpha1.QueueLabel, "from-pod")), &pg, &ns, "from-pod", gantryv1alpha1.QueueFromPod},
		{"then the PodGroup's", pod("ns", "p", 1), &pg, &ns, "from-pg", gantryv1alpha1.QueueFromPodGroup},
		{"then the namespace's", pod("ns", "p", 1), &pgNoLabel, &ns, "from-ns", gantryv1alpha1.QueueFromNamespace},
		{"no PodGroup: the namespace's", pod("ns", "p", 1), nil, &ns, "from-ns", gantryv1alpha1.QueueFromNamespace},
		{"else default", pod("ns", "p", 1), &pgNoLabel, &nsNoLabel, "default", gantryv1alpha1.QueueFromDefault},
		{"namespace unknown: default", pod("ns", "p", 1), nil, nil, "default", gantryv1alpha1.QueueFromDefault},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, src := queueOf(&tc.pod, tc.pg, tc.ns)
			if got != tc.want || src != tc.wantSource {
				t.Errorf("queueOf = %s (%s), want %s (%s)", got, src, tc.want, tc.wantSource)
			}
		})
	}
}

func TestPodGPUs(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	for _, tc := range []struct {
		name string
		pod  corev1.Pod
		want int64
	}{
		{"limits", pod("ns", "p", 4), 4},
		{"two containers add up", pod("ns", "p", 2, func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "b", Resources: corev1.ResourceRequirements{Requests: gpus(3)}})
		}), 5},
		{"a larger init container", pod("ns", "p", 1, func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "i", Resources: corev1.ResourceRequirements{Limits: gpus(4)}}}
		}), 4},
		{"a sidecar adds", pod("ns", "p", 1, func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "s", RestartPolicy: &always, Resources: corev1.ResourceRequirements{Limits: gpus(1)}}}
		}), 2},
		{"no GPUs", pod("ns", "p", 0, func(p *corev1.Pod) { p.Spec.Containers[0].Resources = corev1.ResourceRequirements{} }), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := int64(gpu.PodGPUs(&tc.pod, DefaultGPUResource)); got != tc.want {
				t.Errorf("gpu.PodGPUs = %d, want %d", got, tc.want)
			}
		})
	}
}

// queueState is a tree org -> {team-a, team-b}, an orphan, a two-queue
// cycle, and pods that reach their queues every way there is.
func queueState() *State {
	return &State{
		Now: testNow,
		Queues: []gantryv1alpha1.Queue{
			queue("org", "", 0, 8, 16),
			queue("team-b", "org", 1, 4, -1),
			queue("team-a", "org", 2, 2, 8),
			queue("lost", "gone", 1, -1, -1),
			queue("c1", "c2", 1, -1, -1),
			queue("c2", "c1", 1, -1, -1),
		},
		Namespaces: []corev1.Namespace{namespace("ns-a", "team-a"), namespace("ns-b", "")},
		PodGroups:  []schedv1alpha1.PodGroup{podGroup("ns-b", "train", 2, schedv1alpha1.PodGroupRunning, "team-b")},
		Pods: []corev1.Pod{
			pod("ns-a", "infer-0", 2, on("node-a")),                                                               // team-a by namespace
			pod("ns-a", "infer-1", 3, on("node-a")),                                                               // team-a by namespace
			pod("ns-b", "train-0", 2, inGang("train"), on("node-a")),                                              // team-b by PodGroup
			pod("ns-b", "train-1", 2, inGang("train"), on("node-a")),                                              // team-b by PodGroup
			pod("ns-b", "train-2", 2, inGang("train")),                                                            // team-b, pending
			pod("ns-b", "labelled", 1, label(gantryv1alpha1.QueueLabel, "team-a"), inGang("train"), on("node-b")), // pod label beats PodGroup
			pod("ns-b", "solo", 1, on("node-b")),                                                                  // default
			pod("ns-b", "done", 4, on("node-b"), phase(corev1.PodSucceeded)),                                      // released its GPUs
			pod("ns-b", "cpu", 0, on("node-b")),                                                                   // no GPUs
			pod("ns-a", "lost-0", 1, label(gantryv1alpha1.QueueLabel, "lost"), on("node-b")),
		},
	}
}

func TestBuildQueues(t *testing.T) {
	v := BuildQueues(queueState())
	var buf bytes.Buffer
	if err := RenderQueuesTable(&buf, v); err != nil {
		t.Fatal(err)
	}
	want := `QUEUE      WEIGHT   GUARANTEED   LIMIT   USED   BORROWED   PENDING   PODS   PROBLEM
default    1        -            -       1      1          0         1/1    no Queue object
org        1        8            16      10     2          2         5/6    -
  team-a   2        2            8       6      4          0         3/3    -
  team-b   1        4            -       4      0          2         2/3    -
lost       1        -            -       1      1          0         1/1    parent gone not found
c1         1        -            -       0      0          0         0/0    on a parent cycle
  c2       1        -            -       0      0          0         0/0    on a parent cycle
`
	if got := buf.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestQueuesOverLimitAndJSON(t *testing.T) {
	s := &State{
		Queues: []gantryv1alpha1.Queue{queue("small", "", 3, 1, 2)},
		Pods:   []corev1.Pod{pod("ns", "big", 3, label(gantryv1alpha1.QueueLabel, "small"), on("n"))},
	}
	v := BuildQueues(s)
	out, err := printAs(OutputJSON, &v)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		APIVersion string           `json:"apiVersion"`
		Kind       string           `json:"kind"`
		Queues     []map[string]any `json:"queues"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.APIVersion != "kubectl.gantry.dev/v1alpha1" || got.Kind != "QueuesView" {
		t.Errorf("apiVersion, kind = %q, %q; want kubectl.gantry.dev/v1alpha1, QueuesView", got.APIVersion, got.Kind)
	}
	if len(got.Queues) != 1 {
		t.Fatalf("queues = %v", got.Queues)
	}
	q := got.Queues[0]
	for k, want := range map[string]any{"name": "small", "weight": 3.0, "guaranteedGPUs": 1.0, "limitGPUs": 2.0, "usedGPUs": 3.0, "borrowedGPUs": 2.0, "boundPods": 1.0, "problem": "over its limit"} {
		if q[k] != want {
			t.Errorf("%s = %v, want %v (all: %v)", k, q[k], want, q)
		}
	}
	if _, ok := q["parent"]; ok {
		t.Errorf("a root has no parent field: %v", q)
	}
	out, err = printAs(OutputYAML, &v)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "usedGPUs: 3") || !strings.Contains(out, "kind: QueuesView") {
		t.Errorf("YAML lacks usedGPUs or kind: %s", out)
	}
}

// TestQueuesProblemsAsStatusSays: the PROBLEM column shows what the
// Queue's Valid condition reports (queuemodel.Validate), and a missing
// parent that workloads name is listed with its children below it, whose
// usage it sums as the scheduler does.
func TestQueuesProblemsAsStatusSays(t *testing.T) {
	s := &State{
		Queues: []gantryv1alpha1.Queue{
			queue("org", "", 1, 8, -1),
			queue("research", "org", 1, 16, -1),
			queue("lost", "gone", 1, -1, -1),
		},
		Pods: []corev1.Pod{
			pod("ns", "a", 2, label(gantryv1alpha1.QueueLabel, "lost"), on("n")),
			pod("ns", "b", 1, label(gantryv1alpha1.QueueLabel, "gone"), on("n")),
		},
	}
	var buf bytes.Buffer
	if err := RenderQueuesTable(&buf, BuildQueues(s)); err != nil {
		t.Fatal(err)
	}
	want := `QUEUE        WEIGHT   GUARANTEED   LIMIT   USED   BORROWED   PENDING   PODS   PROBLEM
gone         1        -            -       3      3          0         2/2    no Queue object
  lost       1        -            -       2      2          0         1/1    parent gone not found
org          1        8            -       0      0          0         0/0    -
  research   1        16           -       0      0          0         0/0    guarantees more than its parent
`
	if got := buf.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}
