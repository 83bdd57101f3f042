package core

import (
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/gantry-gpu/gantry/pkg/queuemodel"
)

// pendingOf serves Cluster.Pending from a plain map: each workload is one
// pod asking for its demand's GPUs. Every workload waits since t0.
func pendingOf(m map[string]map[string]v1.ResourceList) func(string, func(Waiting) bool) {
	return func(q string, yield func(Waiting) bool) {
		for w, d := range m[q] {
			n := d[gpu]
			if !yield(Waiting{Name: w, Demand: d, GPUs: []int64{n.Value()}, Since: t0}) {
				return
			}
		}
	}
}

var t0 = time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)

func TestFair(t *testing.T) {
	capacity := gpus(16)
	tree := queuemodel.NewTree(
		Queue{Name: "a", Weight: 1},
		Queue{Name: "b", Weight: 1},
		Queue{Name: "heavy", Weight: 3},
		Queue{Name: "org"},
		Queue{Name: "training", Parent: "org", Weight: 3, Guaranteed: gpus(8)},
		Queue{Name: "inference", Parent: "org", Weight: 1, Guaranteed: gpus(8)},
	)
	tests := []struct {
		name    string
		own     map[string]v1.ResourceList
		pending map[string]map[string]v1.ResourceList
		w       Workload
		// waited is how long the pending workloads have waited.
		waited time.Duration
		// idle overrides the idle GPUs (capacity less own by default).
		idle *int64
		// nodes is the idle GPUs node by node (nil: totals only).
		nodes NodeRoom
		want  Code
		msg   string
	}{{
		name: "nobody else waits: borrow",
		own:  map[string]v1.ResourceList{"a": gpus(10)},
		w:    Workload{Queue: "a", Demand: gpus(2)},
		want: Admit,
	}, {
		name:    "a sibling with a lower share waits, the last idle GPU: defer",
		own:     map[string]v1.ResourceList{"a": gpus(6), "b": gpus(4)},
		pending: map[string]map[string]v1.ResourceList{"b": {"pod ns/b1": gpus(1)}},
		idle:    ptr.To[int64](1),
		w:       Workload{Queue: "a", Demand: gpus(1)},
		want:    Deferred,
		msg:     "queue a would borrow beyond its guarantee while queue b, with a lower weighted share, waits",
	}, {
		name:    "a sibling with a lower share waits, room for both: both go",
		own:     map[string]v1.ResourceList{"a": gpus(6), "b": gpus(4)},
		pending: map[string]map[string]v1.ResourceList{"b": {"pod ns/b1": gpus(1)}},
		w:       Workload{Queue: "a", Demand: gpus(1)},
		want:    Admit,
	}, {
		name: "half the cluster free, the other queue waits with many pods: room for its share, go",
		own:  map[string]v1.ResourceList{"a": gpus(4), "b": gpus(0)},
		pending: map[string]map[string]v1.ResourceList{"b": {
			"pod ns/b1": gpus(1), "pod ns/b2": gpus(1), "pod ns/b3": gpus(1), "pod ns/b4": gpus(1), "pod ns/b5": gpus(1), "pod ns/b6": gpus(1),
		}},
		idle: ptr.To[int64](12),
		w:    Workload{Queue: "a", Demand: gpus(1)},
		want: Admit,
	}, {
		name: "the other queue's pods would need more than the room left: defer",
		own:  map[string]v1.ResourceList{"a": gpus(9), "b": gpus(0)},
		pending: map[string]map[string]v1.ResourceList{"b": {
			"pod ns/b1": gpus(1), "pod ns/b2": gpus(1), "pod ns/b3": gpus(1), "pod ns/b4": gpus(1), "pod ns/b5": gpus(1), "pod ns/b6": gpus(1),
			"pod ns/b7": gpus(1), "pod ns/b8": gpus(1),
		}},
		idle: ptr.To[int64](7),
		w:    Workload{Queue: "a", Demand: gpus(1)},
		want: Deferred,
		msg:  "while queue b, with a lower weighted share, waits",
	}, {
		name:    "equal shares: both may go",
		own:     map[string]v1.ResourceList{"a": gpus(4), "b": gpus(4)},
		pending: map[string]map[string]v1.ResourceList{"b": {"pod ns/b1": gpus(1)}},
		idle:    ptr.To[int64](1),
		w:       Workload{Queue: "a", Demand: gpus(1)},
		want:    Admit,
	}, {
		name:    "one pod ahead: the last GPU goes to the sibling, whose share is the lower",
		own:     map[string]v1.ResourceList{"a": gpus(5), "b": gpus(4)},
		pending: map[string]map[string]v1.ResourceList{"b": {"pod ns/b1": gpus(1)}},
		idle:    ptr.To[int64](1),
		w:       Workload{Queue: "a", Demand: gpus(1)},
		want:    Deferred,
		msg:     "while queue b, with a lower weighted share, waits",
	}, {
		name:    "one pod ahead with room for both: both go",
		own:     map[string]v1.ResourceList{"a": gpus(5), "b": gpus(4)},
		pending: map[string]map[string]v1.ResourceList{"b": {"pod ns/b1": gpus(1)}},
		idle:    ptr.To[int64](2),
		w:       Workload{Queue: "a", Demand: gpus(1)},
		want:    Admit,
	}, {
		name:    "one pod behind: the sibling's share is the higher, this one goes",
		own:     map[string]v1.ResourceList{"a": gpus(4), "b": gpus(5)},
		pending: map[string]map[string]v1.ResourceList{"b": {"pod ns/b1": gpus(1)}},
		idle:    ptr.To[int64](1),
		w:       Workload{Queue: "a", Demand: gpus(1)},
		want:    Admit,
	}, {
		name:    "weights: 3 of 16 GPUs for a weight-3 queue is a lower share than 2 for weight 1",
		own:     map[string]v1.ResourceList{"heavy": gpus(3), "a": gpus(2)},
		pending: map[string]map[string]v1.ResourceList{"heavy": {"pod ns/h": gpus(1)}},
		idle:    ptr.To[int64](1),
		w:       Workload{Queue: "a", Demand: gpus(1)},
		want:    Deferred,
		msg:     "while queue heavy, with a lower weighted share, waits",
	}, {
		name:    "the waiting workload fits nothing idle: not held back for it",
		own:     map[string]v1.ResourceList{"a": gpus(10), "b": gpus(0)},
		pending: map[string]map[string]v1.ResourceList{"b": {"ns/big": gpus(8)}},
		w:       Workload{Queue: "a", Demand: gpus(1)},
		want:    Admit,
	}, {
		name:    "the waiting workload fits nothing idle but has starved: held back for it",
		own:     map[string]v1.ResourceList{"a": gpus(10), "b": gpus(0)},
		pending: map[string]map[string]v1.ResourceList{"b": {"ns/big": gpus(8)}},
		w:       Workload{Queue: "a", Demand: gpus(1)},
		waited:  10 * time.Minute,
		want:    Deferred,
		msg:     "while queue b, with a lower weighted share, waits",
	}, {
		name:    "the waiting 8-GPU pod fits the idle total but no node: not held back for it",
		own:     map[string]v1.ResourceList{"a": gpus(10), "b": gpus(0)},
		pending: map[string]map[string]v1.ResourceList{"b": {"pod ns/big": gpus(8)}},
		idle:    ptr.To[int64](8),
		nodes:   NodeRoom{4: 2},
		w:       Workload{Queue: "a", Demand: gpus(1), GPUs: []int64{1}},
		want:    Admit,
	}, {
		name:    "the borrower's 8-GPU pod would take the one node the sibling's 8-GPU pod fits: defer",
		own:     map[string]v1.ResourceList{"a": gpus(10), "b": gpus(0)},
		pending: map[string]map[string]v1.ResourceList{"b": {"pod ns/big": gpus(8)}},
		idle:    ptr.To[int64](16),
		nodes:   NodeRoom{8: 1, 4: 2},
		w:       Workload{Queue: "a", Demand: gpus(8), GPUs: []int64{8}},
		want:    Deferred,
		msg:     "while queue b, with a lower weighted share, waits",
	}, {
		name:    "the borrower's 1-GPU pod fits a node's leftover GPU, the sibling's 8-GPU pod still fits: both go",
		own:     map[string]v1.ResourceList{"a": gpus(10), "b": gpus(0)},
		pending: map[string]map[string]v1.ResourceList{"b": {"pod ns/big": gpus(8)}},
		idle:    ptr.To[int64](9),
		nodes:   NodeRoom{8: 1, 1: 1},
		w:       Workload{Queue: "a", Demand: gpus(1), GPUs: []int64{1}},
		want:    Admit,
	}, {
		name:    "the borrower's 4-GPU pod would split the one node the sibling's 8-GPU pod fits: defer",
		own:     map[string]v1.ResourceList{"a": gpus(10), "b": gpus(0)},
		pending: map[string]map[string]v1.ResourceList{"b": {"pod ns/big": gpus(8)}},
		idle:    ptr.To[int64](14),
		nodes:   NodeRoom{8: 1, 3: 2},
		w:       Workload{Queue: "a", Demand: gpus(4), GPUs: []int64{4}},
		want:    Deferred,
		msg:     "while queue b, with a lower weighted share, waits",
	}, {
		// Comparing shares once admitted (b's 8 of 16 against a's 8)
		// would let a's 1-GPU pod go and split the one node b's pod fits.
		name:    "a sibling far behind waits with a pod as big as the idle room: the borrower's small pod defers",
		own:     map[string]v1.ResourceList{"a": gpus(7), "b": gpus(0)},
		pending: map[string]map[string]v1.ResourceList{"b": {"pod ns/big": gpus(8)}},
		idle:    ptr.To[int64](8),
		nodes:   NodeRoom{8: 1},
		w:       Workload{Queue: "a", Demand: gpus(1), GPUs: []int64{1}},
		want:    Deferred,
		msg:     "while queue b, with a lower weighted share, waits",
	}, {
		name:    "within its guarantee: never deferred",
		own:     map[string]v1.ResourceList{"training": gpus(2), "inference": gpus(0)},
		pending: map[string]map[string]v1.ResourceList{"inference": {"pod ns/i": gpus(1)}},
		w:       Workload{Queue: "training", Demand: gpus(4)},
		want:    Admit,
	}, {
		name:    "a sibling below its guarantee waits: the borrower defers even with a lower share",
		own:     map[string]v1.ResourceList{"training": gpus(8), "inference": gpus(2)},
		pending: map[string]map[string]v1.ResourceList{"inference": {"pod ns/i": gpus(2)}},
		idle:    ptr.To[int64](2),
		w:       Workload{Queue: "training", Demand: gpus(2)},
		want:    Deferred,
		msg:     "queue training would borrow beyond its guarantee while queue inference, below its guarantee, waits",
	}, {
		name:    "a sibling below its guarantee waits, room for both: both go",
		own:     map[string]v1.ResourceList{"training": gpus(8), "inference": gpus(2)},
		pending: map[string]map[string]v1.ResourceList{"inference": {"pod ns/i": gpus(2)}},
		w:       Workload{Queue: "training", Demand: gpus(2)},
		want:    Admit,
	}, {
		name:    "the workload's own gang is not a claim against it",
		own:     map[string]v1.ResourceList{"a": gpus(6), "b": gpus(4)},
		pending: map[string]map[string]v1.ResourceList{"a": {"ns/g": gpus(4)}},
		w:       Workload{Queue: "a", Gang: "ns/g", Demand: gpus(4)},
		want:    Admit,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			usage := tree.Rollup(tc.own)
			idle := capacity.DeepCopy()
			for _, u := range tc.own {
				for r, q := range u {
					i := idle[r]
					i.Sub(q)
					idle[r] = i
				}
			}
			if tc.idle != nil {
				idle = gpus(*tc.idle)
			}
			got := Fair(tree, Cluster{Usage: usage, Capacity: capacity, Idle: idle, NodeRoom: tc.nodes, Resources: []v1.ResourceName{gpu}, Pending: pendingOf(tc.pending),
				Now: t0.Add(tc.waited), StarvationAfter: 5 * time.Minute}, tc.w)
			if got.Code != tc.want || !strings.Contains(got.Message, tc.msg) {
				t.Fatalf("Fair = %v %q, want %v containing %q", got.Code, got.Message, tc.want, tc.msg)
			}
		})
	}
}

// TestFairConverges simulates a full cluster where pods of two queues that
// always have more waiting end one at a time, round robin, and the freed
// GPU is offered to one queue's pods first (they were created first), then
// the other's: from a start where a holds everything, the split reaches the
// weights exactly, whichever queue is offered first, and stays there. The
// queue whose share is lower goes first, so the order pods are offered in
// does not tilt the split.
func TestFairConverges(t *testing.T) {
	for _, tc := range []struct {
		wa, wb   int32
		wantA    int64
		capacity int64
	}{{1, 1, 32, 64}, {3, 1, 48, 64}, {1, 3, 16, 64}, {1, 1, 8, 16}, {3, 1, 12, 16}} {
		for _, first := range []string{"a", "b"} {
			tree := queuemodel.NewTree(Queue{Name: "a", Weight: tc.wa}, Queue{Name: "b", Weight: tc.wb})
			own := map[string]v1.ResourceList{"a": gpus(tc.capacity), "b": gpus(0)}
			pending := map[string]map[string]v1.ResourceList{"a": {"pod a": gpus(1)}, "b": {"pod b": gpus(1)}}
			used := func(q string) int64 { u := own[q][gpu]; return u.Value() }
			order := map[string][]string{"a": {"a", "b"}, "b": {"b", "a"}}[first]
			rounds := 16 * tc.capacity
			for round := range rounds {
				// A pod ends: the queues take turns, as long as they hold any.
				q := []string{"a", "b"}[round%2]
				if used(q) == 0 {
					q = map[string]string{"a": "b", "b": "a"}[q]
				}
				Sub(own, q, gpus(1))
				admitted := false
				for _, q := range order {
					c := Cluster{Usage: tree.Rollup(own), Capacity: gpus(tc.capacity), Idle: gpus(1), Resources: []v1.ResourceName{gpu}, Pending: pendingOf(pending)}
					if Fair(tree, c, Workload{Queue: q, Demand: gpus(1)}).Code == Admit {
						Add(own, q, gpus(1))
						admitted = true
						break
					}
				}
				if !admitted {
					t.Fatalf("weights %d:%d, %s offered first: the freed GPU went to nobody (a %d, b %d)", tc.wa, tc.wb, first, used("a"), used("b"))
				}
				// Once converged (a quarter of the rounds is plenty: each
				// round moves one GPU), it stays converged.
				if round >= rounds/4 && used("a") != tc.wantA {
					t.Fatalf("weights %d:%d, %s offered first: after round %d queue a holds %d of %d GPUs, want %d", tc.wa, tc.wb, first, round, used("a"), tc.capacity, tc.wantA)
				}
			}
		}
	}
}
