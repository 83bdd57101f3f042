package gpu

import (
	"math/rand/v2"
	"testing"
)

// TestBestSetMemoAnswersAsTheSearchDoes asks random questions of random
// topologies, each several times and far more distinct ones than the memo
// holds (so answers replace each other), and checks every answer against a
// fresh search.
func TestBestSetMemoAnswersAsTheSearchDoes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 6 {
		topo := randomTopo(t, rng, 6+rng.IntN(7), LinkSystem, LinkNUMANode, LinkSingleSwitch, LinkNVLink, LinkNVLink)
		for range 16 * bestSetMemoSlots {
			free := Set(rng.Uint64()) & topo.All()
			must := free & sparseSet(rng, 2)
			free &^= must
			size := must.Len() + rng.IntN((free|must).Len()-must.Len()+1)
			if size == 0 {
				continue
			}
			wantSet, wantScore := topo.bestSet(free|must, must, size)
			for range 2 {
				set, score, err := topo.BestSet(free, must, size)
				if err != nil {
					t.Fatalf("BestSet(%v, %v, %d): %v", free, must, size, err)
				}
				if set != wantSet || score != wantScore {
					t.Fatalf("BestSet(%v, %v, %d) = %v %v, a fresh search says %v %v", free, must, size, set, score, wantSet, wantScore)
				}
			}
			if _, ok := topo.bestSets.load(bestSetKey{free: free, mustInclude: must, size: size}); !ok {
				t.Fatalf("BestSet(%v, %v, %d) was not remembered", free, must, size)
			}
		}
	}
}

// TestBestSetMemoKeepsErrorsUncached checks that a question BestSet refuses
// is refused again (errors are not remembered as answers) and that a zero
// Topology, which has no memo, still answers.
func TestBestSetMemoKeepsErrorsUncached(t *testing.T) {
	topo := dgxA100(t)
	for range 2 {
		if _, _, err := topo.BestSet(setOf(0, 1), 0, 3); err == nil {
			t.Fatal("3 GPUs out of 2 free: no error")
		}
	}
	bare := &Topology{devices: topo.devices, links: topo.links, islands: topo.islands, numa: topo.numa}
	set, _, err := bare.BestSet(topo.All(), 0, 8)
	if err != nil || set != topo.All() {
		t.Fatalf("topology without memo: %v, %v", set, err)
	}
}
