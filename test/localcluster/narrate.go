package localcluster

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/test/framework"
)

// GPUPlacement describes the GPUs a pod was given on its node.
type GPUPlacement struct {
	Indexes []int
	Model   string
	// Weakest is the worst link between two of the GPUs (NVLink with its
	// lanes, or a PCIe relationship); zero for one GPU.
	Weakest gpu.Link
}

func (p GPUPlacement) String() string {
	s := fmt.Sprintf("GPUs %v (%s)", p.Indexes, p.Model)
	if len(p.Indexes) > 1 {
		s += ", weakest link " + p.Weakest.String()
	}
	return s
}

// Placement reads a bound pod's gantry.dev/gpu-ids against its node's
// NodeGPU.
func (c *Cluster) Placement(ctx context.Context, pod *corev1.Pod) (GPUPlacement, error) {
	ids := gantryv1alpha1.ParseGPUIDs(pod.Annotations[gantryv1alpha1.GPUIDsAnnotation])
	if len(ids) == 0 {
		return GPUPlacement{}, fmt.Errorf("pod %s has no %s", key(pod), gantryv1alpha1.GPUIDsAnnotation)
	}
	var ng gantryv1alpha1.NodeGPU
	if err := c.CP.Client.Get(ctx, client.ObjectKey{Name: pod.Spec.NodeName}, &ng); err != nil {
		return GPUPlacement{}, err
	}
	topo, err := gpu.FromSpec(ng.Spec)
	if err != nil {
		return GPUPlacement{}, err
	}
	set, err := topo.SetOfUUIDs(ids)
	if err != nil {
		return GPUPlacement{}, err
	}
	var positions []int
	for p := 0; p < topo.Len(); p++ {
		if set.Has(p) {
			positions = append(positions, p)
		}
	}
	pl := GPUPlacement{Indexes: topo.Indexes(set), Model: topo.Device(positions[0]).Model}
	first := true
	for i, a := range positions {
		for _, b := range positions[i+1:] {
			if l := topo.Link(a, b); first || pl.Weakest.Better(l) {
				pl.Weakest, first = l, false
			}
		}
	}
	return pl, nil
}

// Narrate prints, until ctx ends, one plain line per thing that happens to
// workloads outside the system namespaces: pods bound (by which scheduler,
// where, on which GPUs), running, finished, preempted, deleted; PodGroup
// phases; Jobs completing or failing; scheduler and controller events
// (preemption, gangs waiting, queue decisions); and each Queue's usage
// when it changes. It polls twice a second.
func (c *Cluster) Narrate(ctx context.Context, out io.Writer) {
	n := &narrator{c: c, out: out, pods: map[string]podState{}, seen: map[string]int32{}, phases: map[string]string{}, queues: map[string]string{}}
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		n.poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type podState struct {
	node, phase string
	preempted   bool
}

type narrator struct {
	c      *Cluster
	out    io.Writer
	pods   map[string]podState
	seen   map[string]int32 // event UID -> count printed
	phases map[string]string
	queues map[string]string
}

func (n *narrator) say(format string, args ...any) {
	fmt.Fprintf(n.out, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func systemNamespace(ns string) bool {
	return ns == Namespace || strings.HasPrefix(ns, "kube-")
}

func (n *narrator) poll(ctx context.Context) {
	c := n.c.CP.Client
	var pods corev1.PodList
	if err := c.List(ctx, &pods); err == nil {
		live := map[string]bool{}
		for i := range pods.Items {
			p := &pods.Items[i]
			if systemNamespace(p.Namespace) {
				continue
			}
			k := key(p)
			live[k] = true
			old, known := n.pods[k]
			cur := podState{node: p.Spec.NodeName, phase: string(p.Status.Phase), preempted: old.preempted}
			if !known {
				n.say("pod %s created (scheduler %s, %d GPU(s))", k, p.Spec.SchedulerName, gpu.PodGPUs(p, framework.GPUResource))
			}
			if cur.node != "" && old.node == "" {
				line := fmt.Sprintf("pod %s bound to %s by %s", k, cur.node, p.Spec.SchedulerName)
				if pl, err := n.c.Placement(ctx, p); err == nil {
					line += ": " + pl.String()
				}
				n.say("%s", line)
			}
			if cur.phase != old.phase && known && (cur.phase == string(corev1.PodRunning) || cur.phase == string(corev1.PodSucceeded) || cur.phase == string(corev1.PodFailed)) {
				n.say("pod %s %s on %s", k, cur.phase, cur.node)
			}
			if !cur.preempted {
				for _, cond := range p.Status.Conditions {
					if cond.Type == corev1.DisruptionTarget && cond.Status == corev1.ConditionTrue {
						cur.preempted = true
						n.say("pod %s is a preemption victim (%s: %s)", k, cond.Reason, cond.Message)
					}
				}
			}
			n.pods[k] = cur
		}
		for k := range n.pods {
			if !live[k] {
				n.say("pod %s deleted", k)
				delete(n.pods, k)
			}
		}
	}

	var pgs schedv1alpha1.PodGroupList
	if err := c.List(ctx, &pgs); err == nil {
		for _, pg := range pgs.Items {
			k, ph := "podgroup/"+key(&pg), string(pg.Status.Phase)
			if ph != "" && n.phases[k] != ph {
				n.phases[k] = ph
				n.say("PodGroup %s (minMember %d): %s, %d running, %d succeeded, %d failed", key(&pg), pg.Spec.MinMember, ph, pg.Status.Running, pg.Status.Succeeded, pg.Status.Failed)
			}
		}
	}

	var jobs batchv1.JobList
	if err := c.List(ctx, &jobs); err == nil {
		for _, j := range jobs.Items {
			for _, cond := range j.Status.Conditions {
				if (cond.Type == batchv1.JobComplete || cond.Type == batchv1.JobFailed) && cond.Status == corev1.ConditionTrue {
					k := "job/" + key(&j)
					if n.phases[k] != string(cond.Type) {
						n.phases[k] = string(cond.Type)
						n.say("Job %s %s: %d succeeded, %d failed %s", key(&j), cond.Type, j.Status.Succeeded, j.Status.Failed, strings.TrimSpace(cond.Reason+" "+cond.Message))
					}
				}
			}
		}
	}

	var events corev1.EventList
	if err := c.List(ctx, &events); err == nil {
		sort.Slice(events.Items, func(i, j int) bool {
			return events.Items[i].LastTimestamp.Before(&events.Items[j].LastTimestamp)
		})
		for _, e := range events.Items {
			if systemNamespace(e.Namespace) || !interesting(&e) {
				continue
			}
			count := max(e.Count, 1)
			if n.seen[string(e.UID)] >= count {
				continue
			}
			first := n.seen[string(e.UID)] == 0
			n.seen[string(e.UID)] = count
			if e.Reason == "FailedScheduling" || e.Reason == "Preempted" {
				// Once per pod: schedulers retry and say it again.
				k := e.Reason + "/" + e.InvolvedObject.Namespace + "/" + e.InvolvedObject.Name
				if !first || n.phases[k] != "" {
					continue
				}
				n.phases[k] = "said"
			}
			from := e.ReportingController
			if from == "" {
				from = e.Source.Component
			}
			n.say("event %s %s/%s %s (%s): %s", e.InvolvedObject.Kind, e.InvolvedObject.Namespace, e.InvolvedObject.Name, e.Reason, from, e.Message)
		}
	}

	var queues gantryv1alpha1.QueueList
	if err := c.List(ctx, &queues); err == nil {
		for _, q := range queues.Items {
			s := q.Status
			line := fmt.Sprintf("queue %s: allocated %s, borrowed %s, pending %s GPUs; %d admitted, %d pending workloads",
				q.Name, gpus(s.Allocated), gpus(s.Borrowed), gpus(s.Pending), s.AdmittedWorkloads, s.PendingWorkloads)
			if n.queues[q.Name] != line {
				n.queues[q.Name] = line
				n.say("%s", line)
			}
		}
	}
}

func gpus(l corev1.ResourceList) string {
	q, ok := l[framework.GPUResource]
	if !ok {
		return "0"
	}
	return q.String()
}

// interesting: what schedulers and Gantry's controller say, and the Job
// and CronJob controllers' decisions; not KWOK's container stories or the
// ReplicaSet controller's pod creations.
func interesting(e *corev1.Event) bool {
	switch e.InvolvedObject.Kind {
	case "PodGroup", "Queue":
		return true
	case "CronJob":
		// A Job created by hand from a CronJob is "unexpected" to it.
		return e.Reason != "UnexpectedJob"
	case "Job":
		return e.Reason != "SuccessfulCreate" && e.Reason != "SuccessfulDelete"
	case "Pod":
		if e.Reason == "Scheduled" { // said as "bound to"
			return false
		}
		return slices.Contains([]string{"Preempted", "FailedScheduling", "GPUAllocationMismatch"}, e.Reason) ||
			strings.Contains(e.ReportingController+e.Source.Component, "gantry")
	}
	return false
}
