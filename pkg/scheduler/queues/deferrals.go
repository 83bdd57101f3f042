package queues

import (
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// activateBatch is how many deferred pods of one queue a share change
// activates at once: the scheduling queue sorts them, and the queue's
// next workload is among the first.
const activateBatch = 4

// Deferrals are the pods refused for fair share (core.Deferred), by
// queue. A deferred pod waits for another queue's claim to be met, which
// no cluster event of the framework's names; and a pod deferred again and
// again would sit out ever longer backoffs while its turn comes and goes.
// So when a queue's share changes, the plugin activates (h.Activate, which
// skips backoff) the deferred pods whose turn it may be. Safe for
// concurrent use.
//
// While a queue's last workload was deferred and nothing that could change
// that has happened since, the queue is blocked: PreEnqueue holds its pods
// that would borrow out of the scheduling cycle (each refusal would cost a
// cycle and a status write, and the queue's oldest pods, sorted first,
// would crowd out the pods whose turn it is). Activation unblocks.
type Deferrals struct {
	mu      sync.Mutex
	byQueue map[string]map[types.UID]*v1.Pod
	queueOf map[types.UID]string
	blocked map[string]string // queue -> why
}

// NewDeferrals returns empty deferrals.
func NewDeferrals() *Deferrals {
	return &Deferrals{byQueue: map[string]map[types.UID]*v1.Pod{}, queueOf: map[types.UID]string{}, blocked: map[string]string{}}
}

// Block marks the queue blocked, for the reason given.
func (d *Deferrals) Block(queue, why string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.blocked[queue] = why
}

// Blocked says why the queue is blocked, "" if it is not.
func (d *Deferrals) Blocked(queue string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.blocked[queue]
}

// Add records that the pod of queue was deferred.
func (d *Deferrals) Add(queue string, pod *v1.Pod) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.removeLocked(pod.UID)
	m := d.byQueue[queue]
	if m == nil {
		m = map[types.UID]*v1.Pod{}
		d.byQueue[queue] = m
	}
	m[pod.UID] = pod
	d.queueOf[pod.UID] = queue
}

// Remove forgets the pod: it was not deferred this time, or it is gone.
func (d *Deferrals) Remove(uid types.UID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.removeLocked(uid)
}

func (d *Deferrals) removeLocked(uid types.UID) {
	q, ok := d.queueOf[uid]
	if !ok {
		return
	}
	delete(d.queueOf, uid)
	if m := d.byQueue[q]; m != nil {
		delete(m, uid)
		if len(m) == 0 {
			delete(d.byQueue, q)
		}
	}
}

// Has reports whether the pod was deferred last time.
func (d *Deferrals) Has(uid types.UID) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.queueOf[uid]
	return ok
}

// any reports whether a pod is deferred or a queue blocked.
func (d *Deferrals) any() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.byQueue) > 0 || len(d.blocked) > 0
}

// pick unblocks the blocked queues the filter accepts and returns up to
// activateBatch deferred pods of each queue it accepts, keyed as
// h.Activate wants them.
func (d *Deferrals) pick(accept func(queue string) bool) map[string]*v1.Pod {
	d.mu.Lock()
	defer d.mu.Unlock()
	for q := range d.blocked {
		if accept(q) {
			delete(d.blocked, q)
		}
	}
	out := map[string]*v1.Pod{}
	for q, m := range d.byQueue {
		if !accept(q) {
			continue
		}
		n := 0
		for _, p := range m {
			if n == activateBatch {
				break
			}
			out[p.Namespace+"/"+p.Name] = p
			n++
		}
	}
	return out
}

// ShareChanged activates, when queue's usage went up or down or a
// workload stopped waiting in it, up to activateBatch deferred pods of
// each queue whose turn it may now be (unblocking it), as the queue
// plugin's judge set with SetTurns says (every queue's, before one is
// set). Any queue, not only those under queue's root: the roots are
// siblings too, and a root's share moves with any of its descendants'. A
// queue whose turn it is not stays blocked: retrying its pods would only
// defer them again, a scheduling cycle each, which on a busy cluster
// leaves no time for the pods whose turn it is. This, not the queueing
// hints, is what retries deferred pods, a few per queue at a time.
func (st *State) ShareChanged(queue string) {
	if queue == "" || st.activator == nil {
		return
	}
	if !st.Deferred.any() {
		return
	}
	turn := func(string) bool { return true }
	if t := st.turns.Load(); t != nil {
		turn = (*t)()
	}
	pods := st.Deferred.pick(turn)
	if len(pods) > 0 {
		st.logger.V(5).Info("Queue share changed, activating deferred pods", "queue", queue, "pods", len(pods))
		// Never under the scheduling queue's lock, which Activate takes
		// (Unreserve, say, may run where it is held).
		go st.activator.Activate(st.logger, pods)
	}
}
