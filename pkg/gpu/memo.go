package gpu

import (
	"sync"
	"sync/atomic"
)

// bestSetMemoLimit bounds the answers one topology remembers. A node sees a
// handful of distinct free sets between two changes of its NodeGPU; the
// bound only keeps a long-lived topology from growing without end (an
// 8-GPU node has at most 256 free sets times 8 sizes).
const bestSetMemoLimit = 256

// bestSetMemo remembers BestSet's answers for one topology. The scheduler
// asks every node the same question for each pending pod it filters the
// node for (hundreds of times per node in a burst), while a node's free
// GPUs change only when a pod lands on it; the search's setup (grouping
// interchangeable GPUs) is most of an answer's cost, so asking again is
// where the time went. The memo is safe for concurrent use: the framework
// filters and scores nodes in parallel.
type bestSetMemo struct {
	answers sync.Map // bestSetKey -> bestSetAnswer
	size    atomic.Int32
}

type bestSetKey struct {
	free, mustInclude Set
	size              int
}

type bestSetAnswer struct {
	set   Set
	score SetScore
}

// load and store treat a nil memo (a Topology not built by NewTopology) as
// one that remembers nothing.
func (m *bestSetMemo) load(k bestSetKey) (bestSetAnswer, bool) {
	if m == nil {
		return bestSetAnswer{}, false
	}
	v, ok := m.answers.Load(k)
	if !ok {
		return bestSetAnswer{}, false
	}
	return v.(bestSetAnswer), true
}

func (m *bestSetMemo) store(k bestSetKey, a bestSetAnswer) {
	if m == nil {
		return
	}
	if m.size.Add(1) > bestSetMemoLimit {
		// Forget everything rather than track recency: the answers still
		// wanted come back at the cost of one search each.
		m.answers.Clear()
		m.size.Store(1)
	}
	m.answers.Store(k, a)
}
