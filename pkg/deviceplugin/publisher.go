package deviceplugin

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	gantryclientset "github.com/gantry-gpu/gantry/pkg/generated/clientset/versioned"
	"github.com/gantry-gpu/gantry/pkg/gpu"
)

// ReasonAllocationMismatch is the event reason on a pod whose GPUs differ
// from the set gantry-scheduler annotated on it.
const ReasonAllocationMismatch = "GPUAllocationMismatch"

// Publisher keeps the node's NodeGPU current: the spec from the discovered
// topology, the status from the health tracker and the kubelet's
// allocations, written when they change. It is the only writer of that
// object.
type Publisher struct {
	// KubeClient reads the Node, which owns the NodeGPU.
	KubeClient kubernetes.Interface
	// GantryClient writes the NodeGPU.
	GantryClient  gantryclientset.Interface
	NodeName      string
	Topology      *gpu.Topology
	DriverVersion string
	Health        *HealthTracker
	// Allocations is the kubelet's PodResources API; nil publishes none.
	Allocations AllocationLister
	// Pods are the pods bound to the node, to compare their annotated GPU
	// sets with what the kubelet allocated; nil skips the comparison.
	Pods *PodGPUSets
	// Recorder records mismatch events on pods; nil records none.
	Recorder record.EventRecorder
	// Interval is the allocation refresh period.
	Interval time.Duration
	Clock    clock.WithTicker

	reported map[string]string       // pod key -> mismatch already reported
	last     *gantryv1alpha1.NodeGPU // as last written or read; nil: read it
}

// Run creates or updates the NodeGPU, then publishes its status on every
// health transition and every Interval until ctx ends.
func (p *Publisher) Run(ctx context.Context) error {
	logger := klog.FromContext(ctx).WithValues("nodegpu", p.NodeName)
	if p.Clock == nil {
		p.Clock = clock.RealClock{}
	}
	changed, unsubscribe := p.Health.Subscribe()
	defer unsubscribe()
	ticker := p.Clock.NewTicker(p.Interval)
	defer ticker.Stop()
	specDone := false
	for {
		if !specDone {
			if err := p.ensureSpec(ctx); err != nil {
				logger.Error(err, "Publishing NodeGPU spec")
			} else {
				specDone = true
			}
		}
		if specDone {
			if err := p.PublishStatus(ctx); err != nil {
				logger.Error(err, "Publishing NodeGPU status")
				// Deleted (by hand, or with its Node): create it again.
				specDone = !apierrors.IsNotFound(err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-ticker.C():
		}
	}
}

// ensureSpec creates the NodeGPU, owned by the Node, or brings its spec up
// to date.
func (p *Publisher) ensureSpec(ctx context.Context) error {
	node, err := p.KubeClient.CoreV1().Nodes().Get(ctx, p.NodeName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading node %s: %w", p.NodeName, err)
	}
	nodeGPUs := p.GantryClient.GantryV1alpha1().NodeGPUs()
	want := p.Topology.Spec(p.DriverVersion)
	owner := metav1.OwnerReference{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := nodeGPUs.Get(ctx, p.NodeName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			obj := &gantryv1alpha1.NodeGPU{
				ObjectMeta: metav1.ObjectMeta{Name: p.NodeName, OwnerReferences: []metav1.OwnerReference{owner}},
				Spec:       want,
			}
			if _, err := nodeGPUs.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
				return fmt.Errorf("creating NodeGPU %s: %w", p.NodeName, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading NodeGPU %s: %w", p.NodeName, err)
		}
		if apiequality.Semantic.DeepEqual(cur.Spec, want) && hasOwner(cur.OwnerReferences, owner) {
			return nil
		}
		cur.Spec = want
		if !hasOwner(cur.OwnerReferences, owner) {
			cur.OwnerReferences = append(cur.OwnerReferences, owner)
		}
		if _, err := nodeGPUs.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("updating NodeGPU %s: %w", p.NodeName, err)
		}
		return nil
	})
}

func hasOwner(refs []metav1.OwnerReference, want metav1.OwnerReference) bool {
	for _, r := range refs {
		if r.UID == want.UID {
			return true
		}
	}
	return false
}

// PublishStatus brings the status (health and allocations) up to date,
// and writes it only when it changed: an unchanged node costs the API server
// one read from its watch cache per Interval and no write. That the plugin
// is alive is the node Lease's to say, not this object's. When the kubelet
// cannot be read, the allocations last published stay (with
// AllocationsCurrent False): an empty list would tell the scheduler that
// GPUs held by running pods are free, and it would hand them out again.
func (p *Publisher) PublishStatus(ctx context.Context) error {
	var allocs []Allocation
	var readErr error
	if p.Allocations != nil {
		if allocs, readErr = p.Allocations.Allocations(ctx); readErr != nil {
			// Keep publishing health: the GPUs still change.
			klog.FromContext(ctx).Error(readErr, "Reading allocations from the kubelet; keeping the last ones published")
		} else {
			p.reportMismatches(allocs)
		}
	}
	status := p.status(allocs)
	now := metav1.NewTime(p.Clock.Now()).Rfc3339Copy()
	nodeGPUs := p.GantryClient.GantryV1alpha1().NodeGPUs()
	cur, err := p.stored(ctx)
	if err != nil {
		return err
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if cur == nil {
			if cur, err = nodeGPUs.Get(ctx, p.NodeName, metav1.GetOptions{}); err != nil {
				p.last = nil
				return fmt.Errorf("reading NodeGPU %s: %w", p.NodeName, err)
			}
		}
		next := status
		next.Conditions = slices.Clone(cur.Status.Conditions)
		if p.Allocations != nil {
			if readErr != nil {
				next.Allocations, next.Allocated = cur.Status.Allocations, cur.Status.Allocated
			}
			// Sets lastTransitionTime only when the condition's status changes.
			meta.SetStatusCondition(&next.Conditions, allocationsCondition(readErr, now))
		}
		if apiequality.Semantic.DeepEqual(cur.Status, next) {
			p.last = cur
			return nil
		}
		update := cur.DeepCopy()
		update.Status = next
		written, err := nodeGPUs.UpdateStatus(ctx, update, metav1.UpdateOptions{})
		if err != nil {
			cur, p.last = nil, nil // a conflict retries on a fresh read
			return fmt.Errorf("updating NodeGPU %s status: %w", p.NodeName, err)
		}
		p.last = written
		return nil
	})
}

// stored is the NodeGPU as last written or read, checked against the API
// server's watch cache (as the kubelet reads its Node): nil when it changed
// since, or the cache lags behind or lacks it, so that the caller reads it
// afresh.
func (p *Publisher) stored(ctx context.Context) (*gantryv1alpha1.NodeGPU, error) {
	cached, err := p.GantryClient.GantryV1alpha1().NodeGPUs().Get(ctx, p.NodeName, metav1.GetOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) {
		return nil, nil // deleted, or just created and not cached yet
	}
	if err != nil {
		return nil, fmt.Errorf("reading NodeGPU %s: %w", p.NodeName, err)
	}
	// Resource versions are opaque: equal means the same object, nothing more.
	if p.last == nil || cached.ResourceVersion != p.last.ResourceVersion {
		return nil, nil
	}
	return p.last, nil
}

// allocationsCondition says whether the allocations were just read.
func allocationsCondition(readErr error, now metav1.Time) metav1.Condition {
	c := metav1.Condition{
		Type: gantryv1alpha1.NodeGPUAllocationsCurrent, Status: metav1.ConditionTrue, LastTransitionTime: now,
		Reason: gantryv1alpha1.ReasonPodResourcesRead, Message: "allocations read from the kubelet's PodResources API",
	}
	if readErr != nil {
		c.Status, c.Reason = metav1.ConditionFalse, gantryv1alpha1.ReasonPodResourcesUnavailable
		c.Message = truncate("allocations are the last ones read: "+readErr.Error(), 1024)
	}
	return c
}

func (p *Publisher) status(allocs []Allocation) gantryv1alpha1.NodeGPUStatus {
	st := gantryv1alpha1.NodeGPUStatus{Capacity: int32(p.Topology.Len())}
	health := p.Health.Snapshot()
	for _, d := range p.Topology.Devices() {
		h := health[d.UUID]
		gh := gantryv1alpha1.GPUHealth{Index: int32(d.Index), Health: gantryv1alpha1.Unhealthy, Reason: h.Reason, Message: truncate(h.Message, 1024)}
		if h.Healthy {
			gh.Health = gantryv1alpha1.Healthy
			st.Healthy++
		}
		if !h.Since.IsZero() {
			// As stored (whole seconds), so that it compares equal to the stored one.
			t := metav1.NewTime(h.Since).Rfc3339Copy()
			gh.LastTransitionTime = &t
		}
		st.Health = append(st.Health, gh)
	}
	seen := map[int]bool{}
	for _, a := range allocs {
		pos, ok := p.Topology.PositionOfUUID(a.UUID)
		if !ok || seen[pos] {
			continue
		}
		seen[pos] = true
		st.Allocations = append(st.Allocations, gantryv1alpha1.GPUAllocation{
			Index: int32(p.Topology.Device(pos).Index), PodNamespace: a.PodNamespace, PodName: a.PodName, Container: a.Container,
		})
	}
	sort.Slice(st.Allocations, func(i, j int) bool { return st.Allocations[i].Index < st.Allocations[j].Index })
	st.Allocated = int32(len(st.Allocations))
	return st
}

// reportMismatches records an event on every pod whose allocated GPUs are
// not the set gantry-scheduler annotated, once per differing allocation.
func (p *Publisher) reportMismatches(allocs []Allocation) {
	if p.Pods == nil {
		return
	}
	byPod := map[string][]string{}
	for _, a := range allocs {
		k := a.PodNamespace + "/" + a.PodName
		byPod[k] = append(byPod[k], a.UUID)
	}
	if p.reported == nil {
		p.reported = map[string]string{}
	}
	for _, pod := range p.Pods.annotatedPods() {
		k := pod.Namespace + "/" + pod.Name
		got, ok := byPod[k]
		if !ok {
			continue // not admitted yet
		}
		want := gantryv1alpha1.ParseGPUIDs(pod.Annotations[gantryv1alpha1.GPUIDsAnnotation])
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, ",") == strings.Join(want, ",") {
			continue
		}
		detail := fmt.Sprintf("scheduler chose %s, kubelet allocated %s", strings.Join(want, ","), strings.Join(got, ","))
		if p.reported[k] == detail {
			continue
		}
		p.reported[k] = detail
		allocationMismatches.Inc()
		klog.InfoS("GPU allocation differs from the scheduler's choice", "pod", klog.KObj(pod), "detail", detail)
		if p.Recorder != nil {
			p.Recorder.Event(pod, corev1.EventTypeWarning, ReasonAllocationMismatch, detail)
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
