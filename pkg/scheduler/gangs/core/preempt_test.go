package core

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// onNode is a victim pod holding the given GPU positions of a node.
func onNode(key, node string, set gpu.Set) VictimPod {
	return VictimPod{Key: key, Node: node, GPUs: set.Len(), Set: set, Requests: Resources{"cpu": 1000}}
}

func TestChooseVictims(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)
	all, low, high := gpu.Set(0xff), gpu.Set(0x0f), gpu.Set(0xf0)
	tests := []struct {
		name       string
		nodes      []Node
		members    []Member
		candidates []Victim
		want       []string // victim keys, least important first
		wantErr    string
	}{
		{
			// A pod outside gangs that started last goes before a gang of
			// the same priority, and the gang is left whole.
			name:    "single pod before an older gang",
			nodes:   []Node{gpuNode(t, "a", "", 4, 8), gpuNode(t, "b", "", 4, 8), gpuNode(t, "c", "", 4, 8)},
			members: members(2, 4, 1000),
			candidates: []Victim{
				{Key: "ns/gang", Started: t0, Pods: []VictimPod{onNode("g-0", "a", low), onNode("g-1", "a", high), onNode("g-2", "b", all)}},
				{Key: "ns/single", Started: t0.Add(time.Hour), Pods: []VictimPod{onNode("s", "c", all)}},
			},
			want: []string{"ns/single"},
		},
		{
			// Lower priority goes first, however recently the other started.
			name:    "lower priority first",
			nodes:   []Node{gpuNode(t, "a", "", 4, 8), gpuNode(t, "b", "", 4, 8)},
			members: members(1, 8, 1000),
			candidates: []Victim{
				{Key: "ns/new", Priority: 5, Started: t0.Add(time.Hour), Pods: []VictimPod{onNode("n", "a", all)}},
				{Key: "ns/old", Priority: 1, Started: t0, Pods: []VictimPod{onNode("o", "b", all)}},
			},
			want: []string{"ns/old"},
		},
		{
			// Half of each node is held by a gang; the preemptor needs
			// four GPUs: the whole victim gang goes, both its pods.
			name:    "whole victim gang",
			nodes:   []Node{gpuNode(t, "a", "", 4, 8), gpuNode(t, "b", "", 4, 8)},
			members: members(1, 4, 1000),
			candidates: []Victim{
				{Key: "ns/gang", Pods: []VictimPod{onNode("g-0", "a", high), onNode("g-1", "b", high)}},
			},
			want: []string{"ns/gang"},
		},
		{
			// The least important victim is in the shortest prefix that
			// makes room, but freeing it alone helps nothing (the rest of
			// its node stays held): it is spared.
			name:    "spares what is not needed",
			nodes:   []Node{gpuNode(t, "a", "", 4, 8), gpuNode(t, "b", "", 4, 8)},
			members: members(1, 8, 1000),
			candidates: []Victim{
				{Key: "ns/a-half", Started: t0.Add(time.Hour), Pods: []VictimPod{onNode("a", "a", low)}},
				{Key: "ns/b-whole", Started: t0, Pods: []VictimPod{onNode("b", "b", all)}},
			},
			want: []string{"ns/b-whole"},
		},
		{
			name:    "nothing helps",
			nodes:   []Node{gpuNode(t, "a", "", 4, 8)},
			members: members(3, 4, 1000),
			candidates: []Victim{
				{Key: "ns/x", Pods: []VictimPod{onNode("x", "a", all)}},
			},
			wantErr: "preempting every pod of lower priority would not make room",
		},
		{
			// Room is not what keeps the pod out (an unmodelled filter
			// refused it): nothing is preempted.
			name:    "fits without preempting",
			nodes:   []Node{gpuNode(t, "a", "", 4, 0)},
			members: members(1, 4, 1000),
			candidates: []Victim{
				{Key: "ns/x", Pods: []VictimPod{onNode("x", "a", 0)}},
			},
			wantErr: "fit without preempting",
		},
		{
			name:    "no candidates",
			nodes:   []Node{gpuNode(t, "a", "", 4, 8)},
			members: members(1, 4, 1000),
			wantErr: "no pod of lower priority",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := make([]gpu.Set, len(tc.nodes))
			for i, n := range tc.nodes {
				before[i] = n.GPU.Allocated
			}
			got, err := ChooseVictims(tc.members, tc.nodes, tc.candidates, Options{}, VictimRules{})
			for i, n := range tc.nodes {
				if n.GPU.Allocated != before[i] {
					t.Errorf("node %s changed: allocated %v, was %v", n.Name, n.GPU.Allocated, before[i])
				}
			}
			if tc.wantErr != "" {
				var f *Failure
				if !errors.As(err, &f) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want a Failure containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, v := range got.Victims {
				keys = append(keys, v.Key)
			}
			if !slices.Equal(keys, tc.want) {
				t.Fatalf("victims %v, want %v", keys, tc.want)
			}
			if len(got.Plan.Assignments) != len(tc.members) {
				t.Fatalf("plan places %d of %d members", len(got.Plan.Assignments), len(tc.members))
			}
			// The plan uses only GPUs the victims freed or that were free.
			freed := map[string]gpu.Set{}
			for _, v := range got.Victims {
				for _, p := range v.Pods {
					freed[p.Node] |= p.Set
				}
			}
			for _, n := range tc.nodes {
				for _, a := range got.Plan.Assignments {
					if a.Node == n.Name && a.GPUs&n.GPU.Allocated&^freed[n.Name] != 0 {
						t.Fatalf("plan gives %v on %s, some held by a pod that stays", a.GPUs, n.Name)
					}
				}
			}
		})
	}
}

// TestChooseVictimsFreesCountsWithoutSets covers victims whose exact GPUs
// are not known (no annotation): as many allocated GPUs are freed.
func TestChooseVictimsFreesCountsWithoutSets(t *testing.T) {
	nodes := []Node{gpuNode(t, "a", "", 8, 8)}
	got, err := ChooseVictims(members(1, 8, 1000), nodes, []Victim{
		{Key: "ns/p", Pods: []VictimPod{{Key: "p", Node: "a", GPUs: 8, Requests: Resources{"cpu": 1000}}}},
	}, Options{}, VictimRules{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Victims) != 1 || got.Plan.Assignments["ns/worker-0"].Node != "a" {
		t.Fatalf("victims %v, plan %v", got.Victims, got.Plan.Assignments)
	}
}

// TestChooseVictimsWithinBudgets: reclaim takes victims only while their
// queues keep their guarantees: a budget of 8 GPUs on queue "training"
// lets one 8-GPU gang go, not two, and a victim in a queue without a
// budget is never taken, even when it is the cheapest.
func TestChooseVictimsWithinBudgets(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)
	all := gpu.Set(0xff)
	nodes := []Node{gpuNode(t, "a", "", 8, 8), gpuNode(t, "b", "", 8, 8), gpuNode(t, "c", "", 8, 8)}
	candidates := []Victim{
		{Key: "ns/train-1", Started: t0, Budgets: []string{"training"}, Pods: []VictimPod{onNode("t1", "a", all)}},
		{Key: "ns/train-2", Started: t0.Add(time.Minute), Budgets: []string{"training"}, Pods: []VictimPod{onNode("t2", "b", all)}},
		{Key: "ns/guaranteed", Started: t0.Add(time.Hour), Budgets: []string{"research"}, Pods: []VictimPod{onNode("r", "c", all)}},
	}
	got, err := ChooseVictims(members(1, 8, 1000), nodes, candidates, Options{}, VictimRules{Budgets: map[string]int{"training": 8}})
	if err != nil {
		t.Fatal(err)
	}
	if keys := victimKeys(got.Victims); !slices.Equal(keys, []string{"ns/train-2"}) {
		t.Fatalf("victims = %v, want the most recently started training gang only", keys)
	}
	// Two 8-GPU pods need both training gangs; the budget allows one.
	_, err = ChooseVictims(members(2, 8, 1000), nodes, candidates, Options{}, VictimRules{Budgets: map[string]int{"training": 8}, Kind: "borrowing workload"})
	var f *Failure
	if !errors.As(err, &f) || !strings.Contains(f.Message, "preempting every borrowing workload would not make room") {
		t.Fatalf("err = %v, want a Failure saying the budget's victims do not make room", err)
	}
	// A budget of zero leaves nothing to choose from.
	_, err = ChooseVictims(members(1, 8, 1000), nodes, candidates, Options{}, VictimRules{Budgets: map[string]int{"training": 0}, Kind: "borrowing workload"})
	if !errors.As(err, &f) || !strings.Contains(f.Message, "no borrowing workload runs") {
		t.Fatalf("err = %v, want no candidates", err)
	}
}

// TestChooseVictimsCountsTerminatingPods: a pod already terminating frees
// its room; a second preemptor must not choose more victims for room that
// is on its way.
func TestChooseVictimsCountsTerminatingPods(t *testing.T) {
	all, low := gpu.Set(0xff), gpu.Set(0x0f)
	nodes := []Node{gpuNode(t, "a", "", 8, 8), gpuNode(t, "b", "", 8, 8)}
	candidates := []Victim{{Key: "ns/other", Pods: []VictimPod{onNode("o", "b", all)}}}
	gone := []Victim{{Key: "ns/gone", Pods: []VictimPod{onNode("g", "a", low)}}}
	_, err := ChooseVictims(members(1, 4, 1000), nodes, candidates, Options{}, VictimRules{Terminating: gone})
	var f *Failure
	if !errors.As(err, &f) || !strings.Contains(f.Message, "fit once 1 terminating pods are gone") {
		t.Fatalf("err = %v, want no victims while the terminating pod frees enough", err)
	}
	// Eight GPUs: the terminating four are not enough, the other pod goes.
	got, err := ChooseVictims(members(1, 8, 1000), nodes, candidates, Options{}, VictimRules{Terminating: gone})
	if err != nil {
		t.Fatal(err)
	}
	if keys := victimKeys(got.Victims); !slices.Equal(keys, []string{"ns/other"}) {
		t.Fatalf("victims = %v", keys)
	}
}

func victimKeys(vs []Victim) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Key)
	}
	return out
}
