package gpu

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// newTopo builds a topology of len(numa) GPUs, index i on NUMA node numa[i],
// with link(a, b) between each pair a < b (LinkUnknown pairs are left out).
func newTopo(tb testing.TB, numa []int, link func(a, b int) Link) *Topology {
	tb.Helper()
	devs := make([]Device, len(numa))
	links := map[[2]int]Link{}
	for a := range numa {
		devs[a] = Device{Index: a, UUID: fmt.Sprintf("GPU-%02d", a), Minor: a, NUMANode: numa[a]}
		for b := a + 1; b < len(numa); b++ {
			if l := link(a, b); l.Type != LinkUnknown {
				links[[2]int{a, b}] = l
			}
		}
	}
	topo, err := NewTopology(devs, links)
	if err != nil {
		tb.Fatal(err)
	}
	return topo
}

// numaBy gives n GPUs NUMA node i/per.
func numaBy(n, per int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i / per
	}
	return out
}

func nvlink(lanes int) Link { return Link{Type: LinkNVLink, NVLinkLanes: lanes} }

// dgxA100 is 8 GPUs behind NVSwitches: every pair NVLink x12, GPUs 0-3 on
// NUMA 0 and 4-7 on NUMA 1.
func dgxA100(tb testing.TB) *Topology {
	return newTopo(tb, numaBy(8, 4), func(a, b int) Link { return nvlink(12) })
}

// twoIslands is an 8-GPU PCIe box with two NVLink-bridged islands: GPUs 0-3
// pairwise NVLink x4 on NUMA 0, GPUs 4-7 likewise on NUMA 1, and the
// inter-socket link between the islands.
func twoIslands(tb testing.TB) *Topology {
	return newTopo(tb, numaBy(8, 4), func(a, b int) Link {
		if a/4 == b/4 {
			return nvlink(4)
		}
		return Link{Type: LinkSystem}
	})
}

// pcie4 is a 4-GPU PCIe-only box on one socket: GPUs 0-1 share a PCIe switch,
// 2-3 share another, and both switches hang off the same host bridge.
func pcie4(tb testing.TB) *Topology {
	return newTopo(tb, numaBy(4, 4), func(a, b int) Link {
		if a/2 == b/2 {
			return Link{Type: LinkSingleSwitch}
		}
		return Link{Type: LinkHostBridge}
	})
}

// single is a 1-GPU box.
func single(tb testing.TB) *Topology {
	return newTopo(tb, []int{0}, nil)
}

// fourIslands16 is 16 GPUs in four NVLink x4 islands of four (0-3, 4-7, 8-11,
// 12-15); islands 0-1 on NUMA 0 and 2-3 on NUMA 1, PCIe within a socket
// across host bridges (NUMANode), the inter-socket link across sockets.
func fourIslands16(tb testing.TB) *Topology {
	return newTopo(tb, numaBy(16, 8), func(a, b int) Link {
		switch {
		case a/4 == b/4:
			return nvlink(4)
		case a/8 == b/8:
			return Link{Type: LinkNUMANode}
		default:
			return Link{Type: LinkSystem}
		}
	})
}

// twoIslands16 is 16 GPUs in two 8-GPU NVSwitch islands (0-7, 8-15, NVLink
// x6), each island spanning two NUMA nodes of four, the inter-socket link
// between islands.
func twoIslands16(tb testing.TB) *Topology {
	return newTopo(tb, numaBy(16, 4), func(a, b int) Link {
		if a/8 == b/8 {
			return nvlink(6)
		}
		return Link{Type: LinkSystem}
	})
}

// nvswitch16 is a DGX-2-like box: 16 GPUs, every pair NVLink x6, 0-7 on NUMA
// 0 and 8-15 on NUMA 1.
func nvswitch16(tb testing.TB) *Topology {
	return newTopo(tb, numaBy(16, 8), func(a, b int) Link { return nvlink(6) })
}

// hybridCube is a DGX-1-like hybrid cube mesh: quads 0-3 (NUMA 0) and 4-7
// (NUMA 1) each fully NVLinked with one or two lanes, GPU i joined to i+4 by
// two lanes, and the remaining cross-quad pairs over the inter-socket link.
// It is one island with uneven links.
func hybridCube(tb testing.TB) *Topology {
	quad := map[[2]int]int{{0, 1}: 1, {0, 2}: 1, {0, 3}: 2, {1, 2}: 2, {1, 3}: 1, {2, 3}: 1}
	return newTopo(tb, numaBy(8, 4), func(a, b int) Link {
		switch {
		case a/4 == b/4:
			return nvlink(quad[[2]int{a % 4, b % 4}])
		case b == a+4:
			return nvlink(2)
		default:
			return Link{Type: LinkSystem}
		}
	})
}

// randomTopo has n GPUs with random links of the given types (NVLink with
// one to three lanes) and random NUMA nodes, so that some GPUs are
// interchangeable and most are not.
func randomTopo(tb testing.TB, rng *rand.Rand, n int, types ...LinkType) *Topology {
	numa := make([]int, n)
	for i := range numa {
		numa[i] = rng.IntN(3) - 1 // -1 is unknown
	}
	return newTopo(tb, numa, func(a, b int) Link {
		l := Link{Type: types[rng.IntN(len(types))]}
		if l.Type == LinkNVLink {
			l.NVLinkLanes = 1 + rng.IntN(3)
		}
		return l
	})
}

// distinct16 gives every pair of 16 GPUs its own NVLink lane count, so no
// two GPUs are interchangeable: the search's worst case.
func distinct16(tb testing.TB) *Topology {
	rng := rand.New(rand.NewPCG(16, 16))
	return newTopo(tb, numaBy(16, 8), func(a, b int) Link { return nvlink(1 + rng.IntN(12)) })
}

// sparseSet is a random set holding each position with probability 2^-k.
func sparseSet(rng *rand.Rand, k int) Set {
	v := ^uint64(0)
	for range k {
		v &= rng.Uint64()
	}
	return Set(v)
}

func setOf(positions ...int) Set {
	var s Set
	for _, p := range positions {
		s = s.Add(p)
	}
	return s
}

func rangeSet(lo, hi int) Set { // positions lo..hi-1
	var s Set
	for p := lo; p < hi; p++ {
		s = s.Add(p)
	}
	return s
}

// bruteBest enumerates every candidate and keeps the best by Score and
// Better, ties to the lowest sorted positions.
func bruteBest(topo *Topology, free, must Set, size int) (Set, SetScore) {
	pool := free | must
	var best Set
	var bestScore SetScore
	found := false
	for sub := pool; ; sub = (sub - 1) & pool {
		if sub.Len() == size && sub&must == must {
			sc := topo.Score(sub, pool)
			if !found || sc.Better(bestScore) ||
				(!bestScore.Better(sc) && slices.Compare(sub.Positions(), best.Positions()) < 0) {
				found, best, bestScore = true, sub, sc
			}
		}
		if sub == 0 {
			break
		}
	}
	return best, bestScore
}

func TestScore(t *testing.T) {
	two := twoIslands(t)
	dgx := dgxA100(t)
	tests := []struct {
		name      string
		topo      *Topology
		set, free Set
		want      SetScore
	}{
		{"empty set", two, 0, two.All(),
			SetScore{Worst: SelfLink, LargestFreeIsland: 4}},
		{"one GPU of a free island", two, setOf(0), two.All(),
			SetScore{Worst: SelfLink, NUMANodes: 1, IslandsBroken: 1, LargestFreeIsland: 4}},
		{"pair in an island", two, setOf(0, 1), two.All(),
			SetScore{Worst: nvlink(4), NVLinkLanes: 4, NUMANodes: 1, IslandsBroken: 1, LargestFreeIsland: 4}},
		{"whole island breaks nothing", two, rangeSet(0, 4), two.All(),
			SetScore{Worst: nvlink(4), NVLinkLanes: 24, NUMANodes: 1, LargestFreeIsland: 4}},
		{"across islands", two, setOf(3, 4), two.All(),
			SetScore{Worst: Link{Type: LinkSystem}, NUMANodes: 2, IslandsBroken: 2, LargestFreeIsland: 3}},
		{"island already in use is not broken again", two, setOf(1, 2), setOf(1, 2, 3) | rangeSet(4, 8),
			SetScore{Worst: nvlink(4), NVLinkLanes: 4, NUMANodes: 1, LargestFreeIsland: 4}},
		{"set outside free counts as free", two, setOf(0, 1), rangeSet(4, 8),
			SetScore{Worst: nvlink(4), NVLinkLanes: 4, NUMANodes: 1, LargestFreeIsland: 4}},
		{"positions outside the topology ignored", two, setOf(0, 1, 40), two.All() | setOf(41),
			SetScore{Worst: nvlink(4), NVLinkLanes: 4, NUMANodes: 1, IslandsBroken: 1, LargestFreeIsland: 4}},
		{"whole NVSwitch box", dgx, dgx.All(), dgx.All(),
			SetScore{Worst: nvlink(12), NVLinkLanes: 28 * 12, NUMANodes: 2}},
		{"three of a PCIe box", pcie4(t), setOf(0, 1, 2), setOf(0, 1, 2, 3),
			SetScore{Worst: Link{Type: LinkHostBridge}, NUMANodes: 1, LargestFreeIsland: 1}},
		{"uneven NVLink", hybridCube(t), setOf(0, 1, 3), hybridCube(t).All(),
			SetScore{Worst: nvlink(1), NVLinkLanes: 1 + 2 + 1, NUMANodes: 1, IslandsBroken: 1, LargestFreeIsland: 5}},
		{"unknown link is the worst", newTopo(t, []int{0, 0, 0}, func(a, b int) Link {
			if a == 0 && b == 2 {
				return Link{}
			}
			return nvlink(2)
		}), setOf(0, 1, 2), setOf(0, 1, 2),
			SetScore{Worst: Link{}, NVLinkLanes: 4, NUMANodes: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.topo.Score(tt.set, tt.free); got != tt.want {
				t.Errorf("Score(%v, %v) =\n  %+v, want\n  %+v", tt.set, tt.free, got, tt.want)
			}
		})
	}
}

func TestBestSet(t *testing.T) {
	two := twoIslands(t)
	dgx := dgxA100(t)
	pcie := pcie4(t)
	four := fourIslands16(t)
	two16 := twoIslands16(t)
	cube := hybridCube(t)
	// lanes: one island of four where every 3-set has a 2-lane bottleneck
	// but {0,1,3} and {1,2,3} carry more lanes (10 against 8).
	lanes := newTopo(t, numaBy(4, 4), func(a, b int) Link {
		if (a == 0 && (b == 1 || b == 2)) || (a == 2 && b == 3) {
			return nvlink(2)
		}
		return nvlink(4)
	})
	// interleaved: GPUs 0 and 2 are interchangeable, 1 is not (its link to
	// 3 differs), yet {0,1} and {0,2} score the same: the lower, {0,1},
	// must win although the search meets {0,2} first.
	interleaved := newTopo(t, numaBy(4, 4), func(a, b int) Link {
		switch {
		case b != 3:
			return Link{Type: LinkSingleSwitch}
		case a == 1:
			return Link{Type: LinkNUMANode}
		default:
			return Link{Type: LinkHostBridge}
		}
	})
	tests := []struct {
		name       string
		topo       *Topology
		free, must Set
		size       int
		want       Set
		wantWorst  Link
	}{
		{"4 of two islands takes a whole island", two, two.All(), 0, 4, rangeSet(0, 4), nvlink(4)},
		{"4 takes the wholly free island", two, setOf(1, 2, 3) | rangeSet(4, 8), 0, 4, rangeSet(4, 8), nvlink(4)},
		{"2 from a used island keeps the free one whole", two, setOf(0, 1, 2) | rangeSet(4, 8), 0, 2, setOf(0, 1), nvlink(4)},
		{"2 with one left in a used island: quality wins", two, setOf(3) | rangeSet(4, 8), 0, 2, setOf(4, 5), nvlink(4)},
		{"1 fills a used island first", two, setOf(3) | rangeSet(4, 8), 0, 1, setOf(3), SelfLink},
		{"1 of all free is the lowest", two, two.All(), 0, 1, setOf(0), SelfLink},
		{"5 of two islands: a whole island and one", two, two.All(), 0, 5, rangeSet(0, 5), Link{Type: LinkSystem}},
		{"must include forces a worse pair", two, two.All(), setOf(3, 4), 2, setOf(3, 4), Link{Type: LinkSystem}},
		{"must include across islands, best of the rest", two, two.All(), setOf(0, 4), 4, setOf(0, 1, 2, 4), Link{Type: LinkSystem}},
		{"must include one, completes its island", two, two.All(), setOf(5), 4, rangeSet(4, 8), nvlink(4)},
		{"must include outside free", two, rangeSet(4, 8), setOf(0), 2, setOf(0, 4), Link{Type: LinkSystem}},
		{"must include is the whole request", dgx, dgx.All(), setOf(2, 6), 2, setOf(2, 6), nvlink(12)},
		{"size equals free returns free", two, setOf(1, 3, 5, 6), 0, 4, setOf(1, 3, 5, 6), Link{Type: LinkSystem}},
		{"size equals free and must", two, setOf(1, 3), setOf(6), 3, setOf(1, 3, 6), Link{Type: LinkSystem}},
		{"PCIe prefers a switch pair", pcie, pcie.All(), 0, 2, setOf(0, 1), Link{Type: LinkSingleSwitch}},
		{"PCIe prefers the free switch pair", pcie, setOf(1, 2, 3), 0, 2, setOf(2, 3), Link{Type: LinkSingleSwitch}},
		{"PCIe 3 crosses the host bridge", pcie, pcie.All(), 0, 3, setOf(0, 1, 2), Link{Type: LinkHostBridge}},
		{"PCIe must include", pcie, pcie.All(), setOf(2), 2, setOf(2, 3), Link{Type: LinkSingleSwitch}},
		{"NVSwitch 4 stays on one NUMA node", dgx, dgx.All(), 0, 4, rangeSet(0, 4), nvlink(12)},
		{"NUMA beats lowest positions", dgx, setOf(3, 4, 5), 0, 2, setOf(4, 5), nvlink(12)},
		{"NUMA beats lowest positions for 4", dgx, rangeSet(2, 8), 0, 4, rangeSet(4, 8), nvlink(12)},
		{"must include spans NUMA, rest lowest", dgx, dgx.All(), setOf(3, 4), 4, setOf(0, 1, 3, 4), nvlink(12)},
		{"largest free island beats lowest positions", four, setOf(1, 2, 3, 6, 7), 0, 2, setOf(6, 7), nvlink(4)},
		{"broken islands beat NUMA", two16, setOf(3, 4) | rangeSet(8, 16), 0, 2, setOf(3, 4), nvlink(6)},
		{"16: 8 takes two islands on one socket", four, four.All(), 0, 8, rangeSet(0, 8), Link{Type: LinkNUMANode}},
		{"lanes break the last tie", lanes, lanes.All(), 0, 3, setOf(0, 1, 3), nvlink(2)},
		{"hybrid cube pair with two lanes", cube, cube.All(), 0, 2, setOf(0, 3), nvlink(2)},
		{"hybrid cube 4 stays in a quad", cube, cube.All(), 0, 4, rangeSet(0, 4), nvlink(1)},
		{"one GPU box", single(t), setOf(0), 0, 1, setOf(0), SelfLink},
		{"equal sets: lowest positions, not search order", interleaved, interleaved.All(), 0, 2, setOf(0, 1), Link{Type: LinkSingleSwitch}},
		{"PCIe pairs on distinct switches", pcie, setOf(0, 2), 0, 1, setOf(0), SelfLink},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, score, err := tt.topo.BestSet(tt.free, tt.must, tt.size)
			if err != nil {
				t.Fatalf("BestSet(%v, %v, %d): %v", tt.free, tt.must, tt.size, err)
			}
			if got != tt.want {
				t.Errorf("BestSet(%v, %v, %d) = %v (%v), want %v (%v)", tt.free, tt.must, tt.size,
					got, score, tt.want, tt.topo.Score(tt.want, tt.free|tt.must))
			}
			if score.Worst != tt.wantWorst {
				t.Errorf("Worst = %v, want %v", score.Worst, tt.wantWorst)
			}
			if want := tt.topo.Score(got, tt.free|tt.must); score != want {
				t.Errorf("returned score %+v, Score gives %+v", score, want)
			}
			if bf, _ := bruteBest(tt.topo, tt.free, tt.must, tt.size); bf != got {
				t.Errorf("brute force chooses %v", bf)
			}
		})
	}
}

func TestBestSetErrors(t *testing.T) {
	two := twoIslands(t)
	tests := []struct {
		name       string
		topo       *Topology
		free, must Set
		size       int
		tooFew     bool
	}{
		{"zero size", two, two.All(), 0, 0, false},
		{"negative size", two, two.All(), 0, -1, false},
		{"size below must include", two, two.All(), setOf(0, 1, 2), 2, false},
		{"size above free", two, setOf(0, 1, 2), 0, 4, true},
		{"size above free and must", two, setOf(0, 1), setOf(5), 4, true},
		{"nothing free", two, 0, 0, 1, true},
		{"must include outside the topology", two, two.All(), setOf(8), 2, false},
		{"free outside the topology", two, setOf(0, 9), 0, 1, false},
		{"one GPU box asked for two", single(t), setOf(0), 0, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := tt.topo.BestSet(tt.free, tt.must, tt.size)
			if err == nil {
				t.Fatalf("BestSet(%v, %v, %d) = %v, want an error", tt.free, tt.must, tt.size, got)
			}
			if errors.Is(err, ErrTooFewGPUs) != tt.tooFew {
				t.Errorf("error %q: errors.Is(ErrTooFewGPUs) = %v, want %v", err, !tt.tooFew, tt.tooFew)
			}
		})
	}
}

// TestBestSetMatchesBruteForce compares BestSet with plain enumeration on
// random free sets and must-include sets.
func TestBestSetMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	topos := map[string]*Topology{
		"twoIslands":    twoIslands(t),
		"dgxA100":       dgxA100(t),
		"hybridCube":    hybridCube(t),
		"pcie4":         pcie4(t),
		"fourIslands16": fourIslands16(t),
		"twoIslands16":  twoIslands16(t),
	}
	for i := range 8 {
		topos[fmt.Sprintf("random%d", i)] = randomTopo(t, rng, 6+rng.IntN(7),
			LinkUnknown, LinkSystem, LinkNUMANode, LinkSingleSwitch, LinkNVLink, LinkNVLink)
		topos[fmt.Sprintf("randomPCIe%d", i)] = randomTopo(t, rng, 6+rng.IntN(7),
			LinkSystem, LinkHostBridge, LinkSingleSwitch)
	}
	names := make([]string, 0, len(topos))
	for name := range topos {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		topo := topos[name]
		trials := 150
		if topo.Len() > 12 {
			trials = 40 // brute force walks 2^16 subsets each
		}
		for range trials {
			free := Set(rng.Uint64()) & topo.All()
			if rng.IntN(4) == 0 {
				free = topo.All()
			}
			var must Set
			if rng.IntN(3) == 0 {
				must = sparseSet(rng, 3) & free
			}
			pool := free | must
			if pool.Len() == 0 {
				continue
			}
			size := max(must.Len(), 1) + rng.IntN(pool.Len()-max(must.Len(), 1)+1)
			got, score, err := topo.BestSet(free, must, size)
			if err != nil {
				t.Fatalf("%s: BestSet(%v, %v, %d): %v", name, free, must, size, err)
			}
			want, wantScore := bruteBest(topo, free, must, size)
			if got != want || score != wantScore {
				t.Fatalf("%s: BestSet(%v, %v, %d) = %v %+v, brute force %v %+v",
					name, free, must, size, got, score, want, wantScore)
			}
		}
	}
}

// TestBestSetDeterministic builds the same box from devices and links given
// in other orders and asks repeatedly.
func TestBestSetDeterministic(t *testing.T) {
	ref := fourIslands16(t)
	devs := slices.Clone(ref.Devices())
	slices.Reverse(devs)
	links := map[[2]int]Link{}
	for a := range devs {
		for b := range a {
			links[[2]int{a, b}] = ref.Link(a, b) // higher index first
		}
	}
	shuffled, err := NewTopology(devs, links)
	if err != nil {
		t.Fatal(err)
	}
	free := setOf(1, 2, 3, 5, 6, 9, 10, 11, 12, 13, 14, 15)
	for _, size := range []int{1, 2, 3, 4, 6} {
		want, _, err := ref.BestSet(free, 0, size)
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			for _, topo := range []*Topology{ref, shuffled} {
				if got, _, _ := topo.BestSet(free, 0, size); got != want {
					t.Errorf("size %d: got %v, first answer %v", size, got, want)
				}
			}
		}
	}
}

func TestBetterPrecedence(t *testing.T) {
	base := SetScore{Worst: nvlink(4), IslandsBroken: 1, LargestFreeIsland: 4, NUMANodes: 1, NVLinkLanes: 6}
	with := func(f func(*SetScore)) SetScore {
		s := base
		f(&s)
		return s
	}
	tests := []struct {
		name          string
		better, worse SetScore
	}{
		{"better link type beats everything after", with(func(s *SetScore) {
			s.Worst, s.IslandsBroken, s.LargestFreeIsland, s.NUMANodes, s.NVLinkLanes = nvlink(1), 3, 0, 4, 0
		}), with(func(s *SetScore) { s.Worst = Link{Type: LinkSameBoard} })},
		{"more lanes in the worst link", base, with(func(s *SetScore) { s.Worst = nvlink(2); s.NVLinkLanes = 99 })},
		{"single GPU beats any link", with(func(s *SetScore) { s.Worst = SelfLink }), with(func(s *SetScore) { s.Worst = nvlink(18) })},
		{"fewer islands broken beats largest free island", with(func(s *SetScore) {
			s.IslandsBroken, s.LargestFreeIsland = 0, 0
		}), base},
		{"larger free island beats NUMA", with(func(s *SetScore) {
			s.LargestFreeIsland, s.NUMANodes = 5, 3
		}), base},
		{"fewer NUMA nodes beats lanes", with(func(s *SetScore) {
			s.NUMANodes, s.NVLinkLanes = 0, 0
		}), base},
		{"more lanes", with(func(s *SetScore) { s.NVLinkLanes = 7 }), base},
		{"unknown is worst", with(func(s *SetScore) { s.Worst = Link{Type: LinkSystem} }), with(func(s *SetScore) { s.Worst = Link{} })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.better.Better(tt.worse) {
				t.Errorf("%+v is not Better than %+v", tt.better, tt.worse)
			}
			if tt.worse.Better(tt.better) {
				t.Errorf("%+v is Better than %+v", tt.worse, tt.better)
			}
		})
	}
}

// TestBetterIsStrictOrder checks, on a random sample, that Better is
// irreflexive, asymmetric, transitive and total on unequal scores.
func TestBetterIsStrictOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	sample := make([]SetScore, 80)
	for i := range sample {
		l := Link{Type: LinkType(rng.IntN(int(LinkNVLink) + 1))}
		if l.Type == LinkNVLink {
			l.NVLinkLanes = rng.IntN(3)
		}
		sample[i] = SetScore{Worst: l, IslandsBroken: rng.IntN(2), LargestFreeIsland: rng.IntN(2),
			NUMANodes: rng.IntN(2), NVLinkLanes: rng.IntN(2)}
	}
	sample = append(sample, sample[0], sample[1]) // some equal pairs
	for i, a := range sample {
		if a.Better(a) {
			t.Fatalf("%+v is Better than itself", a)
		}
		for _, b := range sample[i+1:] {
			ab, ba := a.Better(b), b.Better(a)
			if ab && ba {
				t.Fatalf("%+v and %+v are each Better than the other", a, b)
			}
			if (a == b) == (ab || ba) {
				t.Fatalf("%+v and %+v: Better %v/%v, equal %v", a, b, ab, ba, a == b)
			}
			for _, c := range sample {
				if ab && b.Better(c) && !a.Better(c) {
					t.Fatalf("not transitive: %+v > %+v > %+v", a, b, c)
				}
			}
		}
	}
}

func TestQuality(t *testing.T) {
	order := []Link{
		{Type: LinkUnknown}, {Type: LinkSystem}, {Type: LinkNUMANode}, {Type: LinkHostBridge},
		{Type: LinkMultipleSwitches}, {Type: LinkSingleSwitch}, {Type: LinkSameBoard},
		nvlink(1), nvlink(2), nvlink(4), nvlink(12), nvlink(18), SelfLink,
	}
	prev := -1
	for _, l := range order {
		q := SetScore{Worst: l}.Quality()
		if q <= prev {
			t.Errorf("Quality(%v) = %d, not above the worse link's %d", l, q, prev)
		}
		if q < 0 || q > 100 {
			t.Errorf("Quality(%v) = %d, outside 0..100", l, q)
		}
		prev = q
	}
	for _, tt := range []struct {
		link Link
		want int
	}{
		{Link{}, 0},
		{SelfLink, 100},
		{nvlink(1000), 100},
		{nvlink(-3), SetScore{Worst: nvlink(0)}.Quality()},
		{Link{Type: LinkNVLink + 1}, 0},
	} {
		if got := (SetScore{Worst: tt.link}).Quality(); got != tt.want {
			t.Errorf("Quality(%v) = %d, want %d", tt.link, got, tt.want)
		}
	}
	// Only Worst counts.
	a := SetScore{Worst: nvlink(4), IslandsBroken: 3, NUMANodes: 2}
	if a.Quality() != (SetScore{Worst: nvlink(4)}).Quality() {
		t.Error("Quality depends on more than Worst")
	}
}

func TestSetLess(t *testing.T) {
	tests := []struct {
		a, b Set
		want bool
	}{
		{setOf(0, 1), setOf(0, 2), true},
		{setOf(0, 2), setOf(0, 1), false},
		{setOf(0, 7), setOf(1, 2), true},
		{setOf(1, 2), setOf(0, 7), false},
		{setOf(0), setOf(0, 1), true}, // a prefix comes first
		{setOf(0, 1), setOf(0), false},
		{setOf(3), setOf(3), false},
		{0, setOf(5), true},
		{setOf(5), 0, false},
		{setOf(63), setOf(62, 63), false},
		{setOf(62, 63), setOf(63), true},
		{setOf(1, 63), setOf(1), false},
	}
	for _, tt := range tests {
		if got := tt.a.Less(tt.b); got != tt.want {
			t.Errorf("%v.Less(%v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		a, b := sparseSet(rng, 2), sparseSet(rng, 2)
		if rng.IntN(2) == 0 {
			b = a ^ Set(1)<<rng.IntN(64)
		}
		if got, want := a.Less(b), slices.Compare(a.Positions(), b.Positions()) < 0; got != want {
			t.Fatalf("%v.Less(%v) = %v, want %v", a, b, got, want)
		}
	}
}

func TestSetScoreString(t *testing.T) {
	two := twoIslands(t)
	if got, want := two.Score(setOf(0), two.All()).String(),
		"worst link single GPU, 0 NVLink lanes, 1 NUMA nodes, 1 islands broken, largest free island 4"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := two.Score(setOf(0, 1), two.All()).String(),
		"worst link NVLink x4, 4 NVLink lanes, 1 NUMA nodes, 1 islands broken, largest free island 4"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func BenchmarkBestSet(b *testing.B) {
	benches := []struct {
		name string
		topo func(testing.TB) *Topology
		free Set // 0: all
		size int
	}{
		{"8gpu-nvswitch/size4", dgxA100, 0, 4},
		{"8gpu-2islands/size4", twoIslands, 0, 4},
		{"8gpu-hybridcube/size4", hybridCube, 0, 4},
		{"16gpu-nvswitch/size8", nvswitch16, 0, 8},
		{"16gpu-4islands/size8", fourIslands16, 0, 8},
		{"16gpu-4islands-fragmented/size4", fourIslands16, setOf(1, 2, 3, 5, 6, 9, 10, 11, 12, 13, 14, 15), 4},
		{"16gpu-2islands-fragmented/size4", twoIslands16, setOf(0, 2, 3, 5, 6, 7, 9, 10, 12, 13, 15), 4},
		{"16gpu-distinct/size8", distinct16, 0, 8},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			topo := bb.topo(b)
			free := bb.free
			if free == 0 {
				free = topo.All()
			}
			// search: the answer worked out (the first ask of a free set);
			// memo: the same question asked again, as the scheduler does for
			// every pod it filters the node for.
			b.Run("search", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					topo.bestSet(free, 0, bb.size)
				}
			})
			b.Run("memo", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := topo.BestSet(free, 0, bb.size); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
