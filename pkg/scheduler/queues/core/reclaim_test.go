package core

import (
	"maps"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/gantry-gpu/gantry/pkg/queuemodel"
)

func TestReclaimForGuarantee(t *testing.T) {
	tree := queuemodel.NewTree(
		Queue{Name: "org"},
		Queue{Name: "training", Parent: "org", Guaranteed: gpus(8)},
		Queue{Name: "research", Parent: "org", Guaranteed: gpus(4)},
		Queue{Name: "inference", Parent: "org", Guaranteed: gpus(8)},
		Queue{Name: "nlp", Parent: "training"},
	)
	usage := tree.Rollup(map[string]v1.ResourceList{"training": gpus(6), "nlp": gpus(6), "research": gpus(4)})
	req := ReclaimRequest{Queue: "inference", Demand: gpus(8), Resource: gpu}
	r := NewReclaim(tree, usage, req)
	if r == nil {
		t.Fatal("a workload within its guarantee may reclaim")
	}
	if !r.ForGuarantee() {
		t.Error("ForGuarantee() = false for a workload within its guarantee")
	}
	if b := r.Budgets(); b["training"] != 4 || b["nlp"] != 6 || b["research"] != 0 || b["org"] != 0 {
		t.Fatalf("budgets = %v, want training 4 (12 used, 8 guaranteed), nlp 6, research none, org (the preemptor's ancestor) none", b)
	}
	if got, ok := r.Victim("nlp", 1000); !ok || strings.Join(got, ",") != "nlp,training" {
		t.Errorf("Victim(nlp) = %v %v, want nlp and training's budgets (below org, the common ancestor), whatever the priority", got, ok)
	}
	if _, ok := r.Victim("research", 0); ok {
		t.Error("research is at its guarantee: it must not lose pods")
	}
	if _, ok := r.Victim("inference", 0); ok {
		t.Error("the preemptor's own queue is not reclaimed from")
	}
	if _, ok := r.Victim("gone", 0); ok {
		t.Error("a pod of a queue that does not exist is not reclaimed")
	}
	beyond := req
	beyond.Demand = gpus(9)
	if NewReclaim(tree, usage, beyond) != nil {
		t.Error("without FairShare, a workload beyond its guarantee must not reclaim")
	}
	none := req
	none.Demand = v1.ResourceList{}
	if NewReclaim(tree, usage, none) != nil {
		t.Error("a workload that needs no GPUs reclaims none")
	}
}

// TestReclaimForFairShare: a workload that borrows may take from siblings
// what keeps their weighted share no lower than its queue's once admitted,
// never below their guarantees, never a pod of a higher priority; a queue
// at or below its fair share loses nothing.
func TestReclaimForFairShare(t *testing.T) {
	tree := queuemodel.NewTree(
		Queue{Name: "a", Weight: 2},
		Queue{Name: "b", Weight: 1},
		Queue{Name: "c", Weight: 1, Guaranteed: gpus(10)},
		Queue{Name: "org", Weight: 1},
		Queue{Name: "nlp", Parent: "org", Weight: 1},
		Queue{Name: "vision", Parent: "org", Weight: 1, Guaranteed: gpus(2)},
	)
	tests := []struct {
		name string
		own  map[string]v1.ResourceList
		req  ReclaimRequest
		// want are the budgets; nil: NewReclaim returns nil.
		want map[string]int
		// fair are queues whose higher-priority pods stay.
		fair []string
	}{{
		name: "a below its share takes from b above its own",
		own:  map[string]v1.ResourceList{"a": gpus(8), "b": gpus(16)},
		// a after: 9 / 2 = 4.5; b keeps ceil(4.5·1) = 5: may lose 11.
		req:  ReclaimRequest{Queue: "a", Demand: gpus(1), Priority: 5, Resource: gpu, FairShare: true},
		want: map[string]int{"b": 11},
		fair: []string{"b"},
	}, {
		name: "weights count: a at twice b's usage is at its share",
		own:  map[string]v1.ResourceList{"a": gpus(16), "b": gpus(8)},
		// a after: 17 / 2 = 8.5 > b's 8: b keeps all.
		req:  ReclaimRequest{Queue: "a", Demand: gpus(1), Resource: gpu, FairShare: true},
		want: nil,
	}, {
		name: "the gang's whole demand counts",
		own:  map[string]v1.ResourceList{"a": gpus(0), "b": gpus(16)},
		// a after: 16 / 2 = 8; b keeps 8, may lose 8.
		req:  ReclaimRequest{Queue: "a", Demand: gpus(16), Resource: gpu, FairShare: true},
		want: map[string]int{"b": 8},
		fair: []string{"b"},
	}, {
		name: "a queue keeps its guarantee",
		own:  map[string]v1.ResourceList{"c": gpus(12), "b": gpus(0)},
		// c's share bound would let it lose 11; its guarantee keeps 10.
		req:  ReclaimRequest{Queue: "b", Demand: gpus(1), Resource: gpu, FairShare: true},
		want: map[string]int{"c": 2},
		fair: []string{"c"},
	}, {
		name: "without FairShare a borrower reclaims nothing",
		own:  map[string]v1.ResourceList{"a": gpus(0), "b": gpus(16)},
		req:  ReclaimRequest{Queue: "a", Demand: gpus(1), Resource: gpu},
		want: nil,
	}, {
		name: "within its guarantee c takes all b borrowed, fair shares aside",
		own:  map[string]v1.ResourceList{"c": gpus(4), "b": gpus(6)},
		req:  ReclaimRequest{Queue: "c", Demand: gpus(4), Resource: gpu, FairShare: true},
		want: map[string]int{"b": 6},
	}, {
		name: "hierarchy: shares compare at the level where the subtrees part",
		own:  map[string]v1.ResourceList{"nlp": gpus(1), "vision": gpus(5), "b": gpus(12)},
		// At org's children: nlp after 2 / 1 vs vision 5: vision may lose
		// 3, but keeps its guarantee of 2: 3. At the roots: org after
		// 7 / 1 vs b 12: b may lose 5.
		req:  ReclaimRequest{Queue: "nlp", Demand: gpus(1), Resource: gpu, FairShare: true},
		want: map[string]int{"vision": 3, "b": 5},
		fair: []string{"vision", "b"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReclaim(tree, tree.Rollup(tt.own), tt.req)
			if tt.want == nil {
				if r != nil {
					t.Fatalf("NewReclaim = budgets %v, want nil", r.Budgets())
				}
				return
			}
			if r == nil {
				t.Fatalf("NewReclaim = nil, want budgets %v", tt.want)
			}
			if got := r.Budgets(); !maps.Equal(got, tt.want) {
				t.Fatalf("budgets = %v, want %v", got, tt.want)
			}
			for _, q := range tt.fair {
				if _, ok := r.Victim(q, tt.req.Priority); !ok {
					t.Errorf("Victim(%s, same priority) refused", q)
				}
				if _, ok := r.Victim(q, tt.req.Priority+1); ok {
					t.Errorf("Victim(%s, higher priority) allowed for a fair share", q)
				}
			}
		})
	}
}
