package kubectlgantry

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"
	schedulingclientset "sigs.k8s.io/scheduler-plugins/pkg/generated/clientset/versioned"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	gantryclientset "github.com/gantry-gpu/gantry/pkg/generated/clientset/versioned"
)

// DefaultGPUResource is the extended resource that counts whole GPUs.
const DefaultGPUResource corev1.ResourceName = "nvidia.com/gpu"

// State is what the commands read from the cluster, as plain objects. The
// views are built from it alone, so tests build a State in memory.
type State struct {
	// Now is the time ages are measured against.
	Now time.Time
	// GPUResource is the resource that counts GPUs (nvidia.com/gpu).
	GPUResource corev1.ResourceName

	Nodes      []corev1.Node
	NodeGPUs   []gantryv1alpha1.NodeGPU
	Queues     []gantryv1alpha1.Queue
	PodGroups  []schedv1alpha1.PodGroup
	Pods       []corev1.Pod
	Namespaces []corev1.Namespace
	Events     []corev1.Event
}

func (s *State) gpuResource() corev1.ResourceName {
	if s.GPUResource == "" {
		return DefaultGPUResource
	}
	return s.GPUResource
}

func (s *State) namespace(name string) *corev1.Namespace {
	for i := range s.Namespaces {
		if s.Namespaces[i].Name == name {
			return &s.Namespaces[i]
		}
	}
	return nil
}

func (s *State) podGroup(namespace, name string) *schedv1alpha1.PodGroup {
	for i := range s.PodGroups {
		if s.PodGroups[i].Namespace == namespace && s.PodGroups[i].Name == name {
			return &s.PodGroups[i]
		}
	}
	return nil
}

func (s *State) nodeGPU(node string) *gantryv1alpha1.NodeGPU {
	for i := range s.NodeGPUs {
		if s.NodeGPUs[i].Name == node {
			return &s.NodeGPUs[i]
		}
	}
	return nil
}

// gatherer lists objects for a State through the typed clients. It only
// reads.
type gatherer struct {
	kube       kubernetes.Interface
	gantry     gantryclientset.Interface
	scheduling schedulingclientset.Interface
	// warn receives non-fatal problems, such as a CRD that is not installed.
	warn func(format string, args ...any)
}

// listOrNone calls list; a resource the API server does not serve (its CRD
// is not installed) answers 404 Not Found, and lists as none with a
// warning, so the plugin still works on a cluster that has, say, no
// PodGroup CRD. Listing never answers 404 otherwise: a namespace that does
// not exist lists as empty.
func listOrNone[L any](ctx context.Context, g gatherer, what string, list func(context.Context, metav1.ListOptions) (*L, error)) (*L, error) {
	l, err := list(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		g.warn("%s: the API server does not serve them (CRD not installed?); taken as none", what)
		return new(L), nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", what, err)
	}
	return l, nil
}

// pods lists the pods of namespace ns, of all namespaces when ns is "".
func (g gatherer) pods(ctx context.Context, s *State, ns string) error {
	l, err := listOrNone(ctx, g, "pods", g.kube.CoreV1().Pods(ns).List)
	if err != nil {
		return err
	}
	s.Pods = l.Items
	return nil
}

func (g gatherer) podGroups(ctx context.Context, s *State, ns string) error {
	l, err := listOrNone(ctx, g, "podgroups."+schedv1alpha1.SchemeGroupVersion.Group, g.scheduling.SchedulingV1alpha1().PodGroups(ns).List)
	if err != nil {
		return err
	}
	s.PodGroups = l.Items
	return nil
}

func (g gatherer) queues(ctx context.Context, s *State) error {
	l, err := listOrNone(ctx, g, "queues."+gantryv1alpha1.GroupName, g.gantry.GantryV1alpha1().Queues().List)
	if err != nil {
		return err
	}
	s.Queues = l.Items
	return nil
}

func (g gatherer) nodeGPUs(ctx context.Context, s *State) error {
	l, err := listOrNone(ctx, g, "nodegpus."+gantryv1alpha1.GroupName, g.gantry.GantryV1alpha1().NodeGPUs().List)
	if err != nil {
		return err
	}
	s.NodeGPUs = l.Items
	return nil
}

func (g gatherer) nodes(ctx context.Context, s *State) error {
	l, err := listOrNone(ctx, g, "nodes", g.kube.CoreV1().Nodes().List)
	if err != nil {
		return err
	}
	s.Nodes = l.Items
	return nil
}

// namespaces lists namespaces for their queue labels. A user who may not
// list namespaces still gets an answer: workloads then fall back to the
// default queue instead of their namespace's, and a warning says so.
func (g gatherer) namespaces(ctx context.Context, s *State) error {
	l, err := g.kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		g.warn("listing namespaces for their %s labels: %v; namespace labels are ignored", gantryv1alpha1.QueueLabel, err)
		return nil
	}
	s.Namespaces = l.Items
	return nil
}

// events lists core/v1 Events, which also shows those written through
// events.k8s.io/v1 (the scheduler's): both are views of one resource.
func (g gatherer) events(ctx context.Context, s *State, ns string) error {
	l, err := listOrNone(ctx, g, "events", g.kube.CoreV1().Events(ns).List)
	if err != nil {
		return err
	}
	s.Events = l.Items
	return nil
}

// eventTime is when the event last happened, whichever API wrote it:
// events.k8s.io/v1 sets eventTime and series, core/v1 lastTimestamp.
func eventTime(e *corev1.Event) time.Time {
	t := e.CreationTimestamp.Time
	for _, c := range []time.Time{e.FirstTimestamp.Time, e.LastTimestamp.Time, e.EventTime.Time} {
		if c.After(t) {
			t = c
		}
	}
	if e.Series != nil && e.Series.LastObservedTime.After(t) {
		t = e.Series.LastObservedTime.Time
	}
	return t
}

// eventsFor returns the events about one object, newest first.
func (s *State) eventsFor(kind, namespace, name string) []*corev1.Event {
	var out []*corev1.Event
	for i := range s.Events {
		e := &s.Events[i]
		if e.InvolvedObject.Kind == kind && e.InvolvedObject.Namespace == namespace && e.InvolvedObject.Name == name {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return eventTime(out[i]).After(eventTime(out[j])) })
	return out
}

// eventReporter is who wrote an event: reportingController for
// events.k8s.io events, source.component for core/v1 ones.
func eventReporter(e *corev1.Event) string {
	if e.ReportingController != "" {
		return e.ReportingController
	}
	return e.Source.Component
}
