package gpu

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// SelfLink is the Worst of a set with fewer than two GPUs. A lone GPU needs
// no path to another, so nothing constrains it: SelfLink is Better than every
// real link (NVLink with more lanes than any GPU has), and its Quality is 100.
// Sets of different sizes are never ranked against each other by BestSet;
// this only keeps Worst and Quality meaningful for one-GPU requests.
var SelfLink = Link{Type: LinkNVLink, NVLinkLanes: math.MaxInt32}

// ErrTooFewGPUs is wrapped by BestSet's error when fewer GPUs are free than
// requested: the node cannot fit the request, as opposed to a malformed call.
var ErrTooFewGPUs = errors.New("not enough free GPUs")

// SetScore describes a candidate set of GPUs and what choosing it leaves
// behind. Compare scores with Better; the fields are in the order they count.
type SetScore struct {
	// Worst is the worst link between any two members: the bottleneck of
	// collective operations across the set. SelfLink for a set of one.
	Worst Link
	// IslandsBroken counts the NVLink islands that were wholly free before
	// the allocation and are partly used after it. Fewer is better: whole
	// islands are what the next large job needs. Taking a whole island, or
	// more GPUs of an island that was already in use, breaks nothing.
	IslandsBroken int
	// LargestFreeIsland is, after the allocation, the most free GPUs left in
	// any one NVLink island. Larger is better, for the same reason.
	LargestFreeIsland int
	// NUMANodes counts the NUMA groups the set spans (a GPU of unknown NUMA
	// node is a group of its own). Fewer is better: host memory traffic stays
	// on one socket.
	NUMANodes int
	// NVLinkLanes sums the NVLink lanes over every pair of members. More is
	// better: more aggregate bandwidth between sets with the same bottleneck.
	NVLinkLanes int
}

// Better reports whether s is strictly better than o. The order is
// lexicographic, the first difference deciding:
//
//  1. the better Worst link (Link.Better: link type, then NVLink lanes),
//     because a set's bottleneck bounds every collective the job runs;
//  2. fewer IslandsBroken, then
//  3. a larger LargestFreeIsland, to keep room for the next large job;
//  4. fewer NUMANodes;
//  5. more NVLinkLanes.
//
// Two scores with the same fields are equal: neither is Better.
func (s SetScore) Better(o SetScore) bool {
	if s.Worst != o.Worst {
		return s.Worst.Better(o.Worst)
	}
	if s.IslandsBroken != o.IslandsBroken {
		return s.IslandsBroken < o.IslandsBroken
	}
	if s.LargestFreeIsland != o.LargestFreeIsland {
		return s.LargestFreeIsland > o.LargestFreeIsland
	}
	if s.NUMANodes != o.NUMANodes {
		return s.NUMANodes < o.NUMANodes
	}
	return s.NVLinkLanes > o.NVLinkLanes
}

// linkQuality is Quality for each link type below NVLink. NVLink scores
// nvlinkQuality plus one per lane, up to 100.
var linkQuality = [...]int{
	LinkUnknown:          0,
	LinkSystem:           10,
	LinkNUMANode:         25,
	LinkHostBridge:       40,
	LinkMultipleSwitches: 55,
	LinkSingleSwitch:     65,
	LinkSameBoard:        75,
}

const nvlinkQuality = 80

// Quality maps the set's bottleneck link (Worst) to 0..100 for scoring nodes
// against each other for one request. Highest first:
//
//	NVLink            80 + one per lane, at most 100 (SelfLink: 100)
//	SameBoard         75
//	SingleSwitch      65
//	MultipleSwitches  55
//	HostBridge        40
//	NUMANode          25
//	System            10
//	Unknown            0
//
// Quality never decreases as Worst gets better, and every link type scores
// above all worse types. The other fields do not count: they matter when
// choosing within a node, where BestSet uses Better.
func (s SetScore) Quality() int {
	w := s.Worst
	if w.Type == LinkNVLink {
		return nvlinkQuality + min(max(w.NVLinkLanes, 0), 100-nvlinkQuality)
	}
	if int(w.Type) < len(linkQuality) {
		return linkQuality[w.Type]
	}
	return 0
}

// String summarises the score for logs and events.
func (s SetScore) String() string {
	worst := s.Worst.String()
	if s.Worst == SelfLink {
		worst = "single GPU"
	}
	return fmt.Sprintf("worst link %s, %d NVLink lanes, %d NUMA nodes, %d islands broken, largest free island %d",
		worst, s.NVLinkLanes, s.NUMANodes, s.IslandsBroken, s.LargestFreeIsland)
}

// Less reports whether s comes before o when their positions, ascending, are
// compared as sequences: the first position where they differ decides, and a
// set that is a prefix of the other comes first. BestSet breaks ties between
// equal scores with it, so of equal sets the lowest positions win.
func (s Set) Less(o Set) bool {
	d := s ^ o
	if d == 0 {
		return false
	}
	low := d & -d          // the first position in one set and not the other
	above := ^(low<<1 - 1) // positions after it
	if s&low != 0 {
		// s continues with low; o continues with something later, or ends.
		return o&above != 0
	}
	// o continues with low: s is first only if s ends here.
	return s&above == 0
}

// Score scores allocating set when free is the set of free GPUs before the
// allocation. set should be a subset of free; GPUs of set that are not in
// free are taken as free. Positions outside the topology are ignored.
func (t *Topology) Score(set, free Set) SetScore {
	set &= t.All()
	free = (free | set) & t.All()
	n := len(t.devices)
	s := SetScore{Worst: SelfLink}
	for v := uint64(set); v != 0; v &= v - 1 {
		a := bits.TrailingZeros64(v)
		row := t.links[a*n : a*n+n]
		for w := v & (v - 1); w != 0; w &= w - 1 {
			l := row[bits.TrailingZeros64(w)]
			if s.Worst.Better(l) {
				s.Worst = l
			}
			s.NVLinkLanes += l.NVLinkLanes
		}
	}
	s.IslandsBroken, s.LargestFreeIsland, s.NUMANodes = t.spread(set, free)
	return s
}

// spread computes the scores of set that depend on groups rather than pairs.
func (t *Topology) spread(set, free Set) (broken, largestFree, numaNodes int) {
	after := free &^ set
	for _, isl := range t.islands {
		if isl&^free == 0 && isl&set != 0 && isl&^set != 0 {
			broken++
		}
		largestFree = max(largestFree, (isl & after).Len())
	}
	for _, g := range t.numa {
		if g&set != 0 {
			numaNodes++
		}
	}
	return broken, largestFree, numaNodes
}

// BestSet returns the best set of exactly size GPUs that holds every GPU of
// mustInclude and otherwise only GPUs of free, with its score: the set that
// no other candidate is Better than, the lowest positions (Set.Less) among
// equals. The GPUs of mustInclude count as free (the kubelet's mustInclude
// is part of its available list). It is an error if size is not positive, if
// free or mustInclude name GPUs outside the topology, if size is smaller
// than mustInclude, or (wrapping ErrTooFewGPUs) larger than free|mustInclude.
//
// The search is exhaustive, with two reductions that cannot change the
// answer:
//   - Interchangeable GPUs are grouped: two candidates with the same NVLink
//     island (or both without NVLink), the same NUMA group and the same
//     link to every other GPU that could be in the set give equal scores
//     when one is swapped for the other, and the lower-positioned one gives
//     the lower set. So only how many GPUs each group contributes is
//     enumerated, taking the lowest of each group. An NVSwitch box's GPUs
//     form one group per NUMA node; GPUs sharing a PCIe switch form one.
//   - A partial set whose worst link is already worse than the best complete
//     set's is abandoned: adding GPUs never improves the worst link, and the
//     worst link decides first.
func (t *Topology) BestSet(free, mustInclude Set, size int) (Set, SetScore, error) {
	if size <= 0 {
		return 0, SetScore{}, fmt.Errorf("cannot choose %d GPUs: the size must be positive", size)
	}
	if out := mustInclude &^ t.All(); out != 0 {
		return 0, SetScore{}, fmt.Errorf("must-include positions %v are not among the node's %d GPUs", out, t.Len())
	}
	if out := free &^ t.All(); out != 0 {
		return 0, SetScore{}, fmt.Errorf("free positions %v are not among the node's %d GPUs", out, t.Len())
	}
	if m := mustInclude.Len(); size < m {
		return 0, SetScore{}, fmt.Errorf("cannot choose %d GPUs that include the %d GPUs %v", size, m, mustInclude)
	}
	pool := free | mustInclude
	if size > pool.Len() {
		return 0, SetScore{}, fmt.Errorf("%w: %d requested, %d free", ErrTooFewGPUs, size, pool.Len())
	}
	key := bestSetKey{free: free, mustInclude: mustInclude, size: size}
	if a, ok := t.bestSets.load(key); ok {
		return a.set, a.score, nil
	}
	set, score := t.bestSet(pool, mustInclude, size)
	t.bestSets.store(key, bestSetAnswer{set: set, score: score})
	return set, score, nil
}

// bestSet is BestSet's search, on arguments BestSet has checked.
func (t *Topology) bestSet(pool, mustInclude Set, size int) (Set, SetScore) {
	s := t.newSearch(pool, mustInclude)
	worst, lanes := SelfLink, 0
	for v := uint64(mustInclude); v != 0; v &= v - 1 {
		p := bits.TrailingZeros64(v)
		l, ln := s.linkTo(p, Set(v&(v-1)))
		if worst.Better(l) {
			worst = l
		}
		lanes += ln
	}
	s.search(0, mustInclude, size-mustInclude.Len(), worst, lanes)
	return s.best, s.bestScore
}

// group is a set of interchangeable candidate GPUs (see BestSet).
type group struct {
	// lowest[c] is the c lowest-positioned members.
	lowest []Set
	// rep is the lowest member; every member has rep's links to non-members.
	rep int
	// inner is the link between any two members (all are the same).
	inner Link
}

type search struct {
	t      *Topology
	n      int
	pool   Set
	groups []group
	// room[i] is the number of GPUs in groups[i:].
	room      []int
	found     bool
	best      Set
	bestScore SetScore
}

func (t *Topology) newSearch(pool, must Set) *search {
	n := len(t.devices)
	var island, numa [MaxDevices]int
	for i, isl := range t.islands {
		if isl.Len() == 1 {
			// A GPU without NVLink is an island of one, never broken and
			// free or not as the GPU is: such GPUs are interchangeable as
			// far as islands go, so they share a key.
			i = -1
		}
		for v := uint64(isl); v != 0; v &= v - 1 {
			island[bits.TrailingZeros64(v)] = i
		}
	}
	for i, g := range t.numa {
		for v := uint64(g); v != 0; v &= v - 1 {
			numa[bits.TrailingZeros64(v)] = i
		}
	}
	s := &search{t: t, n: n, pool: pool}
	var members []Set
	for v := uint64(pool &^ must); v != 0; v &= v - 1 {
		p := bits.TrailingZeros64(v)
		joined := false
		for i := range s.groups {
			r := s.groups[i].rep
			if island[p] == island[r] && numa[p] == numa[r] && t.sameLinks(p, r, pool) {
				members[i] = members[i].Add(p)
				s.groups[i].inner = t.links[p*n+r]
				joined = true
				break
			}
		}
		if !joined {
			s.groups = append(s.groups, group{rep: p})
			members = append(members, Set(0).Add(p))
		}
	}
	s.room = make([]int, len(s.groups)+1)
	for i := len(s.groups) - 1; i >= 0; i-- {
		m := members[i]
		g := &s.groups[i]
		g.lowest = make([]Set, 1, m.Len()+1)
		for v := uint64(m); v != 0; v &= v - 1 {
			g.lowest = append(g.lowest, g.lowest[len(g.lowest)-1]|Set(v&-v))
		}
		s.room[i] = s.room[i+1] + m.Len()
	}
	return s
}

// sameLinks reports whether a and b have the same link to every GPU of pool
// other than themselves.
func (t *Topology) sameLinks(a, b int, pool Set) bool {
	n := len(t.devices)
	ra, rb := t.links[a*n:a*n+n], t.links[b*n:b*n+n]
	for v := uint64(pool &^ Set(0).Add(a).Add(b)); v != 0; v &= v - 1 {
		x := bits.TrailingZeros64(v)
		if ra[x] != rb[x] {
			return false
		}
	}
	return true
}

// linkTo returns the worst link from p to the GPUs of set (SelfLink if set
// is empty) and the NVLink lanes summed over those links.
func (s *search) linkTo(p int, set Set) (Link, int) {
	row := s.t.links[p*s.n : p*s.n+s.n]
	worst, lanes := SelfLink, 0
	for v := uint64(set); v != 0; v &= v - 1 {
		l := row[bits.TrailingZeros64(v)]
		if worst.Better(l) {
			worst = l
		}
		lanes += l.NVLinkLanes
	}
	return worst, lanes
}

// search adds need more GPUs to set from groups[k:]. worst and lanes are
// set's Worst and NVLinkLanes.
func (s *search) search(k int, set Set, need int, worst Link, lanes int) {
	if need == 0 {
		score := SetScore{Worst: worst, NVLinkLanes: lanes}
		score.IslandsBroken, score.LargestFreeIsland, score.NUMANodes = s.t.spread(set, s.pool)
		if !s.found || score.Better(s.bestScore) || (!s.bestScore.Better(score) && set.Less(s.best)) {
			s.found, s.best, s.bestScore = true, set, score
		}
		return
	}
	g := &s.groups[k]
	toSet, lanesToSet := s.linkTo(g.rep, set)
	withOne := worst
	if withOne.Better(toSet) {
		withOne = toSet
	}
	// Take as many from this group as fit first: whole groups tend to score
	// well, and a good early best prunes more.
	for c := min(need, len(g.lowest)-1); c >= max(0, need-s.room[k+1]); c-- {
		w, l := worst, lanes
		if c > 0 {
			w, l = withOne, lanes+c*lanesToSet
			if c > 1 {
				if w.Better(g.inner) {
					w = g.inner
				}
				l += c * (c - 1) / 2 * g.inner.NVLinkLanes
			}
		}
		if s.found && s.bestScore.Worst.Better(w) {
			continue
		}
		s.search(k+1, set|g.lowest[c], need-c, w, l)
	}
}
