package gpu

import (
	"sync/atomic"
)

// bestSetMemoSlots is the number of answers one topology remembers: a
// direct-mapped table, where a new answer takes the place of the one in its
// slot. A node sees a handful of distinct free sets between two changes of
// its GPUs, so a small table holds the ones asked again.
const bestSetMemoSlots = 64

// bestSetMemo remembers BestSet's answers for one topology. The scheduler
// asks every node the same question for each pending pod it filters the
// node for (hundreds of times per node in a burst), while a node's free
// GPUs change only when a pod lands on it; the search's setup (grouping
// interchangeable GPUs) is most of an answer's cost, so asking again is
// where the time went. Reads take no lock and allocate nothing: the
// framework asks about many nodes in parallel, at every pod.
type bestSetMemo struct {
	slots [bestSetMemoSlots]atomic.Pointer[bestSetEntry]
}

type bestSetKey struct {
	free, mustInclude Set
	size              int
}

type bestSetAnswer struct {
	set   Set
	score SetScore
}

type bestSetEntry struct {
	key    bestSetKey
	answer bestSetAnswer
}

func (k bestSetKey) slot() int {
	// A multiplicative hash of the sets, folded with the size.
	h := (uint64(k.free)*0x9e3779b97f4a7c15 ^ uint64(k.mustInclude)*0xc2b2ae3d27d4eb4f) + uint64(k.size)
	return int((h ^ h>>29) % bestSetMemoSlots)
}

// load and store treat a nil memo (a Topology not built by NewTopology) as
// one that remembers nothing.
func (m *bestSetMemo) load(k bestSetKey) (bestSetAnswer, bool) {
	if m == nil {
		return bestSetAnswer{}, false
	}
	if e := m.slots[k.slot()].Load(); e != nil && e.key == k {
		return e.answer, true
	}
	return bestSetAnswer{}, false
}

func (m *bestSetMemo) store(k bestSetKey, a bestSetAnswer) {
	if m == nil {
		return
	}
	m.slots[k.slot()].Store(&bestSetEntry{key: k, answer: a})
}
