package kubectlgantry

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

var testNow = time.Date(2025, 6, 1, 11, 0, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(testNow.Add(-d)) }

func gpus(n int64) corev1.ResourceList {
	return corev1.ResourceList{DefaultGPUResource: *resource.NewQuantity(n, resource.DecimalSI)}
}

func queue(name, parent string, weight int32, guaranteed, limit int64) gantryv1alpha1.Queue {
	q := gantryv1alpha1.Queue{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: gantryv1alpha1.QueueSpec{Parent: parent, Weight: weight}}
	if guaranteed >= 0 {
		q.Spec.Guaranteed = gpus(guaranteed)
	}
	if limit >= 0 {
		q.Spec.Limit = gpus(limit)
	}
	return q
}

func namespace(name, queue string) corev1.Namespace {
	ns := corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if queue != "" {
		ns.Labels = map[string]string{gantryv1alpha1.QueueLabel: queue}
	}
	return ns
}

// pod is a pod asking for n GPUs; options change it.
func pod(ns, name string, n int64, opts ...func(*corev1.Pod)) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: ago(time.Hour)},
		Spec: corev1.PodSpec{SchedulerName: "gantry", Containers: []corev1.Container{{
			Name: "main", Resources: corev1.ResourceRequirements{Limits: gpus(n), Requests: gpus(n)},
		}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func on(node string, uuids ...string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.NodeName = node
		p.Status.Phase = corev1.PodRunning
		if len(uuids) > 0 {
			setAnnotation(p, gantryv1alpha1.GPUIDsAnnotation, gantryv1alpha1.FormatGPUIDs(uuids))
		}
	}
}

func phase(ph corev1.PodPhase) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Status.Phase = ph }
}

func label(k, v string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		p.Labels[k] = v
	}
}

func inGang(name string) func(*corev1.Pod) { return label(schedv1alpha1.PodGroupLabel, name) }

func unschedulable(msg string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
			Message: msg, LastTransitionTime: ago(2 * time.Minute),
		})
	}
}

func setAnnotation(p *corev1.Pod, k, v string) {
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	p.Annotations[k] = v
}

func podGroup(ns, name string, minMember int32, ph schedv1alpha1.PodGroupPhase, queue string) schedv1alpha1.PodGroup {
	pg := schedv1alpha1.PodGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: ago(90 * time.Minute)},
		Spec:       schedv1alpha1.PodGroupSpec{MinMember: minMember},
		Status:     schedv1alpha1.PodGroupStatus{Phase: ph},
	}
	if queue != "" {
		pg.Labels = map[string]string{gantryv1alpha1.QueueLabel: queue}
	}
	return pg
}

func uuid(node string, i int) string { return fmt.Sprintf("GPU-%s-%d", node, i) }

// dgx is an 8-GPU NodeGPU with two NVLink islands, 0-3 and 4-7, joined
// across by the inter-socket link.
func dgx(node string) gantryv1alpha1.NodeGPU {
	ng := gantryv1alpha1.NodeGPU{ObjectMeta: metav1.ObjectMeta{Name: node}}
	for i := range 8 {
		ng.Spec.GPUs = append(ng.Spec.GPUs, gantryv1alpha1.GPUDevice{Index: int32(i), UUID: uuid(node, i), Model: "NVIDIA A100-SXM4-80GB", MemoryMiB: 81920})
	}
	for a := range 8 {
		for b := a + 1; b < 8; b++ {
			l := gantryv1alpha1.GPULink{A: int32(a), B: int32(b), Type: gantryv1alpha1.LinkSystem}
			if a/4 == b/4 {
				l.Type, l.NVLinkLanes = gantryv1alpha1.LinkNVLink, 12
			}
			ng.Spec.Links = append(ng.Spec.Links, l)
		}
	}
	return ng
}

func event(kind, ns, name, reporter, reason, msg string, at time.Duration) corev1.Event {
	return corev1.Event{
		ObjectMeta:          metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s.%s.%d", name, reason, at)},
		InvolvedObject:      corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name},
		Reason:              reason,
		Message:             msg,
		Type:                corev1.EventTypeWarning,
		ReportingController: reporter,
		EventTime:           metav1.NewMicroTime(testNow.Add(-at)),
	}
}
