package gpus

import (
	"testing"
)

var defaultWeights = Weights{Quality: 60, Packing: 40}

func TestPacking(t *testing.T) {
	nvswitch := nvswitchBox(t, 8)
	tests := []struct {
		name string
		node NodeState
		gpus int
		want int64
	}{
		{"empty node, one GPU", state(nvswitch, 0, 0), 1, 13},
		{"half used, one GPU", state(nvswitch, set(0, 1, 2, 3), 0), 1, 63},
		{"filling the node", state(nvswitch, set(0, 1, 2, 3), 0), 4, 100},
		{"unhealthy GPUs count neither way", state(nvswitch, set(0, 1), set(6, 7)), 2, 67},
		{"an unhealthy allocated GPU is not in use capacity", state(nvswitch, set(7), set(7)), 1, 14},
		{"no healthy GPU", state(nvswitch, 0, nvswitch.All()), 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Packing(tt.node, tt.gpus); got != tt.want {
				t.Errorf("Packing = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestScore(t *testing.T) {
	islands, nvswitch := twoIslandBox(t), nvswitchBox(t, 8)
	tests := []struct {
		name           string
		node           NodeState
		gpus           int
		weights        Weights
		partlyUsedFits bool
		want           int64
	}{
		// quality 84 (NVLink x4), packing 75: (60·84 + 40·75) / 100 = 80.4
		{"a free island on a partly used node", state(islands, set(0, 1), 0), 4, defaultWeights, true, 80},
		// quality 10 (System), packing 100: (600 + 4000) / 100 = 46
		{"four GPUs across the sockets", state(islands, set(0, 1, 4, 5), 0), 4, defaultWeights, true, 46},
		// quality 100, packing 13: 65, less the larger of the island
		// and empty-node penalties
		{"one GPU on an empty NVSwitch box", state(nvswitch, 0, 0), 1, defaultWeights, true, 65 - 10},
		{"breaking the island counts without a partly used node", state(nvswitch, 0, 0), 1, defaultWeights, false, 65 - 10},
		// quality 84, packing 50: 70; a whole island breaks nothing
		{"a whole island of an empty node", state(islands, 0, 0), 4, defaultWeights, true, 70 - 10},
		{"no empty-node penalty when nothing partly used fits", state(islands, 0, 0), 4, defaultWeights, false, 70},
		// quality 100, packing 50: 80, the island is already broken
		{"one GPU on a partly used NVSwitch box", state(nvswitch, set(0, 1, 2), 0), 1, defaultWeights, true, 80},
		{"quality only", state(islands, set(0, 1, 4, 5), 0), 4, Weights{Quality: 100}, true, 10},
		{"packing only", state(islands, set(0, 1, 4, 5), 0), 4, Weights{Packing: 1}, true, 100},
		{"zero weights score nothing", state(nvswitch, 0, 0), 1, Weights{}, false, 0},
		{"penalties never go below zero", state(nvswitchBox(t, 16), 0, 0), 1, Weights{Packing: 1}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Place(tt.node, Request{GPUs: tt.gpus})
			if !p.Fits {
				t.Fatalf("node does not fit: %s", p.Reason)
			}
			if got := Score(tt.node, p, tt.gpus, tt.weights, tt.partlyUsedFits); got != tt.want {
				t.Errorf("Score = %d, want %d (placement %v, %v)", got, tt.want, p.Set, p.Score)
			}
		})
	}
}

// TestScoreRanksNodes checks the trade-offs the formula is for, with the
// default weights: each case lists candidate nodes and which must win.
func TestScoreRanksNodes(t *testing.T) {
	islands, nvswitch, pcie := twoIslandBox(t), nvswitchBox(t, 8), pcieBox(t)
	type candidate struct {
		name string
		node NodeState
	}
	tests := []struct {
		name  string
		gpus  int
		nodes []candidate
		want  string
	}{
		{
			name: "topology wins: a free NVLink island beats four GPUs across sockets",
			gpus: 4,
			nodes: []candidate{
				{"straddling", state(islands, set(0, 1, 4, 5), 0)},
				{"free-island", state(islands, set(0, 1), 0)},
			},
			want: "free-island",
		},
		{
			name: "packing wins for one GPU: a partly used node beats an empty one",
			gpus: 1,
			nodes: []candidate{
				{"empty", state(nvswitch, 0, 0)},
				{"partly-used", state(nvswitch, set(0, 1, 2), 0)},
			},
			want: "partly-used",
		},
		{
			name: "the fullest node that still fits wins",
			gpus: 1,
			nodes: []candidate{
				{"quarter", state(nvswitch, set(0, 1), 0)},
				{"three-quarters", state(nvswitch, set(0, 1, 2, 3, 4, 5), 0)},
			},
			want: "three-quarters",
		},
		{
			name: "two GPUs on one PCIe switch of a used node beat an empty NVSwitch box",
			gpus: 2,
			nodes: []candidate{
				{"empty-nvswitch", state(nvswitch, 0, 0)},
				{"used-pcie", state(pcie, set(0, 1, 2, 3, 4, 5), 0)},
			},
			want: "used-pcie",
		},
		{
			name: "but not when the used node's pair crosses the sockets",
			gpus: 2,
			nodes: []candidate{
				{"empty-nvswitch", state(nvswitch, 0, 0)},
				{"used-pcie", state(pcie, set(0, 2, 3, 4, 5, 6), 0)},
			},
			want: "empty-nvswitch",
		},
		{
			name: "a pod that breaks no island beats one that breaks a free island",
			gpus: 2,
			nodes: []candidate{
				{"breaks", state(islands, set(0, 1, 2, 3), 0)},
				{"keeps", state(islands, set(0, 1, 4, 5, 6, 7), 0)},
			},
			want: "keeps",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			partlyUsed := false
			for _, c := range tt.nodes {
				if !c.node.Empty() && Place(c.node, Request{GPUs: tt.gpus}).Fits {
					partlyUsed = true
				}
			}
			best, bestScore := "", int64(-1)
			scores := map[string]int64{}
			for _, c := range tt.nodes {
				p := Place(c.node, Request{GPUs: tt.gpus})
				if !p.Fits {
					t.Fatalf("%s does not fit: %s", c.name, p.Reason)
				}
				s := Score(c.node, p, tt.gpus, defaultWeights, partlyUsed)
				scores[c.name] = s
				if s > bestScore {
					best, bestScore = c.name, s
				}
			}
			if best != tt.want {
				t.Errorf("%s won, want %s; scores %v", best, tt.want, scores)
			}
		})
	}
}
