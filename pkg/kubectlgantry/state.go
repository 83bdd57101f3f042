package kubectlgantry

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
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

// Scheme knows the built-in types, Gantry's Queue and NodeGPU, and
// scheduler-plugins' PodGroup: everything the plugin reads.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme,
		gantryv1alpha1.AddToScheme,
		schedv1alpha1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("building scheme: %w", err)
		}
	}
	return s, nil
}

// gatherer lists objects for a State. It only reads.
type gatherer struct {
	client client.Reader
	// warn receives non-fatal problems, such as a CRD that is not installed.
	warn func(format string, args ...any)
}

// list lists into list; a resource whose CRD is not installed lists as
// empty with a warning, so the plugin still works on a cluster that has,
// say, no PodGroup CRD.
func (g gatherer) list(ctx context.Context, what string, list client.ObjectList, opts ...client.ListOption) error {
	err := g.client.List(ctx, list, opts...)
	if meta.IsNoMatchError(err) {
		g.warn("%s: the API server does not serve them (CRD not installed?); taken as none", what)
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing %s: %w", what, err)
	}
	return nil
}

func inNamespace(ns string) []client.ListOption {
	if ns == "" {
		return nil
	}
	return []client.ListOption{client.InNamespace(ns)}
}

func (g gatherer) pods(ctx context.Context, s *State, ns string) error {
	var l corev1.PodList
	if err := g.list(ctx, "pods", &l, inNamespace(ns)...); err != nil {
		return err
	}
	s.Pods = l.Items
	return nil
}

func (g gatherer) podGroups(ctx context.Context, s *State, ns string) error {
	var l schedv1alpha1.PodGroupList
	if err := g.list(ctx, "podgroups."+schedv1alpha1.SchemeGroupVersion.Group, &l, inNamespace(ns)...); err != nil {
		return err
	}
	s.PodGroups = l.Items
	return nil
}

func (g gatherer) queues(ctx context.Context, s *State) error {
	var l gantryv1alpha1.QueueList
	if err := g.list(ctx, "queues."+gantryv1alpha1.GroupName, &l); err != nil {
		return err
	}
	s.Queues = l.Items
	return nil
}

func (g gatherer) nodeGPUs(ctx context.Context, s *State) error {
	var l gantryv1alpha1.NodeGPUList
	if err := g.list(ctx, "nodegpus."+gantryv1alpha1.GroupName, &l); err != nil {
		return err
	}
	s.NodeGPUs = l.Items
	return nil
}

func (g gatherer) nodes(ctx context.Context, s *State) error {
	var l corev1.NodeList
	if err := g.list(ctx, "nodes", &l); err != nil {
		return err
	}
	s.Nodes = l.Items
	return nil
}

// namespaces lists namespaces for their queue labels. A user who may not
// list namespaces still gets an answer: workloads then fall back to the
// default queue instead of their namespace's, and a warning says so.
func (g gatherer) namespaces(ctx context.Context, s *State) error {
	var l corev1.NamespaceList
	if err := g.client.List(ctx, &l); err != nil {
		g.warn("listing namespaces for their %s labels: %v; namespace labels are ignored", gantryv1alpha1.QueueLabel, err)
		return nil
	}
	s.Namespaces = l.Items
	return nil
}

// events lists core/v1 Events, which also shows those written through
// events.k8s.io/v1 (the scheduler's): both are views of one resource.
func (g gatherer) events(ctx context.Context, s *State, ns string) error {
	var l corev1.EventList
	if err := g.list(ctx, "events", &l, inNamespace(ns)...); err != nil {
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
