package core

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/queuemodel"
)

const gpu v1.ResourceName = "nvidia.com/gpu"

func gpus(n int64) v1.ResourceList {
	return v1.ResourceList{gpu: *resource.NewQuantity(n, resource.DecimalSI)}
}

func TestDecide(t *testing.T) {
	tree := queuemodel.NewTree(
		Queue{Name: "org", Limit: gpus(48)},
		Queue{Name: "research", Parent: "org", Limit: gpus(32)},
		Queue{Name: "vision", Parent: "research"},
		Queue{Name: "infra", Parent: "org"},
		Queue{Name: "loop-a", Parent: "loop-b"},
		Queue{Name: "loop-b", Parent: "loop-a"},
		Queue{Name: "orphan", Parent: "gone"},
		Queue{Name: "cpu-only", Limit: v1.ResourceList{v1.ResourceCPU: resource.MustParse("2")}},
	)
	fromPod := gantryv1alpha1.QueueFromPod
	for _, tc := range []struct {
		name     string
		tree     Tree
		own      map[string]v1.ResourceList
		workload Workload
		opts     Options
		want     Code
		wantMsg  string
	}{
		{name: "no queues: inert", tree: Tree{}, workload: Workload{Queue: "research", Source: fromPod, Demand: gpus(100)}, want: Admit},
		{name: "within limit", tree: tree, own: map[string]v1.ResourceList{"research": gpus(28)}, workload: Workload{Queue: "research", Source: fromPod, Demand: gpus(4)}, want: Admit},
		{name: "over own limit", tree: tree, own: map[string]v1.ResourceList{"research": gpus(30)},
			workload: Workload{Queue: "research", Source: fromPod, Demand: gpus(4)}, want: OverLimit,
			wantMsg: "queue research is at its limit of 32 nvidia.com/gpu: 30 in use, the pod needs 4 more"},
		{name: "gang whole", tree: tree, own: map[string]v1.ResourceList{"research": gpus(30)},
			workload: Workload{Queue: "research", Source: fromPod, Gang: "ns/train", Demand: gpus(16)}, want: OverLimit,
			wantMsg: "queue research is at its limit of 32 nvidia.com/gpu: 30 in use, the gang ns/train needs 16 more"},
		{name: "descendant usage counts", tree: tree, own: map[string]v1.ResourceList{"vision": gpus(30)},
			workload: Workload{Queue: "research", Source: fromPod, Demand: gpus(4)}, want: OverLimit,
			wantMsg: "30 in use"},
		{name: "ancestor blocks child", tree: tree, own: map[string]v1.ResourceList{"infra": gpus(40), "vision": gpus(4)},
			workload: Workload{Queue: "vision", Source: fromPod, Demand: gpus(8)}, want: OverLimit,
			wantMsg: "queue org is at its limit of 48 nvidia.com/gpu: 44 in use, the pod needs 8 more (an ancestor of queue vision)"},
		{name: "unlimited resource", tree: tree, own: map[string]v1.ResourceList{"cpu-only": gpus(1000)},
			workload: Workload{Queue: "cpu-only", Source: fromPod, Demand: gpus(8)}, want: Admit},
		{name: "missing queue", tree: tree, workload: Workload{Queue: "nope", Source: fromPod, Demand: gpus(1)}, want: Missing,
			wantMsg: "queue nope does not exist (pod label gantry.dev/queue)"},
		{name: "missing queue from namespace", tree: tree, workload: Workload{Queue: "nope", Source: gantryv1alpha1.QueueFromNamespace}, want: Missing,
			wantMsg: "(namespace label gantry.dev/queue)"},
		{name: "missing ancestor", tree: tree, workload: Workload{Queue: "orphan", Source: fromPod}, want: Missing,
			wantMsg: "queue orphan has an ancestor gone that does not exist"},
		{name: "loop", tree: tree, workload: Workload{Queue: "loop-a", Source: fromPod}, want: Missing, wantMsg: "loops"},
		{name: "no default queue: not governed", tree: tree,
			workload: Workload{Queue: "default", Source: gantryv1alpha1.QueueFromDefault, Demand: gpus(1)}, want: Admit},
		{name: "no default queue, required", tree: tree, opts: Options{RequireDefaultQueue: true},
			workload: Workload{Queue: "default", Source: gantryv1alpha1.QueueFromDefault, Demand: gpus(1)}, want: Missing,
			wantMsg: "queue default does not exist (no gantry.dev/queue label on the pod, its PodGroup or its namespace)"},
		{name: "default queue exists: governed", tree: queuemodel.NewTree(Queue{Name: "default", Limit: gpus(2)}),
			workload: Workload{Queue: "default", Source: gantryv1alpha1.QueueFromDefault, Demand: gpus(4)}, want: OverLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Decide(tc.tree, tc.tree.Rollup(tc.own), tc.workload, tc.opts)
			if got.Code != tc.want || !strings.Contains(got.Message, tc.wantMsg) {
				t.Errorf("Decide = %+v, want code %d and a message containing %q", got, tc.want, tc.wantMsg)
			}
		})
	}
}
