package integration

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	queueplugin "github.com/gantry-gpu/gantry/pkg/scheduler/plugins/queue"
)

// The tests of GantryQueue share the control plane with every other test of
// the package, and Queues are cluster-scoped: each test names its queues
// after its namespace and deletes them when it ends. Other tests' pods name
// no queue, and no test creates the queue "default", so GantryQueue does not
// govern them (see package queue) whatever Queues exist meanwhile.

// queueTest is a gang test (its namespace, nodes and in-process scheduler
// with the shipped profile) with queues of its own.
type queueTest struct{ *gangTest }

func newQueueTest(t *testing.T, nodes, gpusPerNode int) *queueTest {
	q := &queueTest{newGangTest(t)}
	q.addNodes(nodes, gpusPerNode)
	return q
}

// queueName is the test's name for a queue.
func (q *queueTest) queueName(short string) string { return q.ns + "-" + short }

// queue creates the test's queue short with the parent (short name, "" for
// a root) and a GPU limit (none when negative).
func (q *queueTest) queue(short, parent string, limit int64) string {
	q.t.Helper()
	return q.queueWith(short, parent, 0, -1, limit)
}

// inQueue labels the pods with the queue.
func inQueue(queue string, pods []*corev1.Pod) []*corev1.Pod {
	for _, p := range pods {
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		p.Labels[gantryv1alpha1.QueueLabel] = queue
	}
	return pods
}

func TestQueueMissingQueueWaits(t *testing.T) {
	q := newQueueTest(t, 1, 8)
	q.queue("exists", "", 8)
	q.startScheduler()

	missing := q.queueName("missing")
	pod := inQueue(missing, q.pods("p", "", 1, 1))
	q.create(pod...)
	q.waitPending(pod[0], fmt.Sprintf("queue %s does not exist (pod label %s)", missing, gantryv1alpha1.QueueLabel))

	// Creating the queue lets the pod go.
	q.queue("missing", "", -1)
	q.waitAllBound(pod, 30*time.Second)
}

func TestQueueLimitHoldsThirdPodUntilOneGoes(t *testing.T) {
	q := newQueueTest(t, 2, 8)
	name := q.queue("team", "", 8)
	q.startScheduler()

	first := inQueue(name, q.pods("first", "", 2, 4))
	q.create(first...)
	q.waitAllBound(first, 30*time.Second)

	third := inQueue(name, q.pods("third", "", 1, 4))
	q.create(third...)
	q.waitPending(third[0], fmt.Sprintf("queue %s is at its limit of 8 nvidia.com/gpu: 8 in use, the pod needs 4 more", name))

	if err := controlPlane.Client.Delete(q.ctx, first[0], client.GracePeriodSeconds(0)); err != nil {
		t.Fatalf("deleting pod %s: %v", first[0].Name, err)
	}
	q.waitAllBound(third, 30*time.Second)
}

func TestQueueLimitRefusesGangWhole(t *testing.T) {
	q := newQueueTest(t, 2, 8)
	name := q.queue("team", "", 8)
	q.startScheduler()

	q.podGroup("train", 3)
	members := inQueue(name, q.pods("train", "train", 3, 4))
	q.create(members...)
	// The cluster has room for the gang: only the queue holds it back, and
	// never in part: GantryQueue refuses every member and holds all three.
	for _, p := range members {
		q.waitPending(p, fmt.Sprintf("queue %s is at its limit of 8 nvidia.com/gpu: 0 in use, the gang %s/train needs 12 more", name, q.ns))
	}
	q.waitHeld(queueplugin.Name, len(members))
	q.assertNoneBound("gang over its queue's limit", members)
}

func TestQueueParentLimitBlocksChild(t *testing.T) {
	q := newQueueTest(t, 2, 8)
	parent := q.queue("org", "", 8)
	child := q.queue("vision", "org", 16)
	sibling := q.queue("nlp", "org", -1)
	q.startScheduler()

	a := inQueue(sibling, q.pods("nlp", "", 1, 4))
	b := inQueue(child, q.pods("vision", "", 1, 4))
	q.create(append(a, b...)...)
	q.waitAllBound(append(a, b...), 30*time.Second)

	more := inQueue(child, q.pods("more", "", 1, 4))
	q.create(more...)
	q.waitPending(more[0], fmt.Sprintf("queue %s is at its limit of 8 nvidia.com/gpu: 8 in use, the pod needs 4 more (an ancestor of queue %s)", parent, child))
}
