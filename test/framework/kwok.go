package framework

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	// KWOKNodeAnnotation marks the nodes StartKWOK's KWOK manages
	// (KWOKNodeAnnotation: KWOKNodeAnnotationValue).
	KWOKNodeAnnotation      = "kwok.x-k8s.io/node"
	KWOKNodeAnnotationValue = "fake"

	// RunForAnnotation on a pod bound to a KWOK node makes it Succeed that
	// long after it started: one number with the unit ms, s, m or h ("90s",
	// "1500ms", "2m"; whole seconds are what counts). Pods without it run
	// until deleted. See kwok-stages.yaml.
	RunForAnnotation = "sim.gantry.dev/run-for"

	// StopAfterAnnotation on a pod bound to a KWOK node makes its deletion
	// take that long (same form as RunForAnnotation; capped by the grace
	// period) instead of none: a container slow to stop on SIGTERM.
	StopAfterAnnotation = "sim.gantry.dev/stop-after"

	// GPUResource is the extended resource of whole GPUs.
	GPUResource corev1.ResourceName = "nvidia.com/gpu"
	// GPUPresentLabel is the label the device plugin's DaemonSet selects.
	GPUPresentLabel = "nvidia.com/gpu.present"
)

// KWOKStages is the stage configuration every KWOK of Gantry's tests, local
// cluster and benchmarks runs (kwok-stages.yaml, documented there).
//
//go:embed kwok-stages.yaml
var KWOKStages []byte

// KWOKOptions configures StartKWOK.
type KWOKOptions struct {
	// Stages replaces KWOKStages when not empty (KWOK Stage objects, YAML).
	Stages []byte
	// ExtraArgs are appended to KWOK's command line.
	ExtraArgs []string
}

// StartKWOK runs _output/tools/kwok (`make tools` builds it; KWOK v0.7.0
// from hack/tools/go.mod) as the fake kubelet of every node annotated
// KWOKNodeAnnotation=KWOKNodeAnnotationValue, with the stages of
// opts.Stages (default KWOKStages), no CRDs and no server (nothing listens).
// It returns once KWOK is starting its controllers, and a function that
// stops it; its log is in a temporary folder (or cp.LogDir) and named in
// every error.
func (cp *ControlPlane) StartKWOK(ctx context.Context, opts KWOKOptions) (stop func() error, err error) {
	p, err := cp.StartKWOKProcess(ctx, opts)
	if err != nil {
		return nil, err
	}
	return p.Stop, nil
}

// StartKWOKProcess is StartKWOK returning the process itself.
func (cp *ControlPlane) StartKWOKProcess(ctx context.Context, opts KWOKOptions) (*Process, error) {
	bin, err := toolBinary("kwok")
	if err != nil {
		return nil, err
	}
	dir, temp, err := cp.processDir("kwok")
	if err != nil {
		return nil, err
	}
	stages := opts.Stages
	if len(stages) == 0 {
		stages = KWOKStages
	}
	config := filepath.Join(dir, "kwok-stages.yaml")
	if err := os.WriteFile(config, stages, 0o600); err != nil {
		return nil, fmt.Errorf("writing KWOK's stages: %w", err)
	}
	args := append([]string{
		"--kubeconfig=" + cp.Kubeconfig,
		"--config=" + config,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + KWOKNodeAnnotation + "=" + KWOKNodeAnnotationValue,
		"--enable-crds=",
		"--server-address=",
		"--node-ip=127.0.0.1",
		// Pod IPs for benchmarks' thousands of pods (KWOK's default is a /24).
		"--cidr=10.0.0.1/16",
	}, opts.ExtraArgs...)
	p, err := StartProcess("kwok", filepath.Join(dir, "kwok.log"), bin, args...)
	if err != nil {
		return nil, err
	}
	if temp {
		p.tempDir = dir
	}
	// KWOK logs this once it has read its configuration and reached the
	// API server, just before it starts its controllers (nodes created in
	// the meantime are listed when they start; CreateKWOKGPUNode waits for
	// KWOK to mark its node Ready).
	err = p.WaitReady(ctx, time.Minute, func(context.Context) (bool, error) {
		b, err := os.ReadFile(p.Log)
		return err == nil && strings.Contains(string(b), kwokStartedLine), err
	})
	if err != nil {
		p.tempDir = "" // keep the log the error names
		_ = p.Stop()
		return nil, fmt.Errorf("kwok: %w", err)
	}
	return p, nil
}

// kwokStartedLine is what KWOK v0.7.0 logs as it starts its controllers.
const kwokStartedLine = `"msg":"Watch nodes"`

// CreateKWOKGPUNode registers a node that StartKWOK's KWOK runs: annotated
// for KWOK, labelled GPUPresentLabel=true (plus labels), with allocatable
// 128 CPUs, 1Ti memory, 110 pods and gpus nvidia.com/gpu (a DGX-class
// node), and the
// not-ready taint lifted (no node lifecycle controller need run). It returns
// once KWOK has marked the node Ready.
func (cp *ControlPlane) CreateKWOKGPUNode(ctx context.Context, name string, gpus int, labels map[string]string) (*corev1.Node, error) {
	l := map[string]string{GPUPresentLabel: "true", corev1.LabelHostname: name}
	for k, v := range labels {
		l[k] = v
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name: name, Labels: l,
		Annotations: map[string]string{KWOKNodeAnnotation: KWOKNodeAnnotationValue},
	}}
	if err := cp.Client.Create(ctx, node); err != nil {
		return nil, fmt.Errorf("creating node %s: %w", name, err)
	}
	alloc := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("128"),
		corev1.ResourceMemory: resource.MustParse("1Ti"),
		corev1.ResourcePods:   resource.MustParse("110"),
		GPUResource:           *resource.NewQuantity(int64(gpus), resource.DecimalSI),
	}
	// KWOK may be writing the node's status already: retry on conflicts.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := cp.Client.Get(ctx, client.ObjectKey{Name: name}, node); err != nil {
			return err
		}
		node.Status.Capacity, node.Status.Allocatable = alloc, alloc.DeepCopy()
		return cp.Client.Status().Update(ctx, node)
	}); err != nil {
		return nil, fmt.Errorf("setting the allocatable resources of node %s: %w", name, err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := cp.Client.Get(ctx, client.ObjectKey{Name: name}, node); err != nil {
			return false, err
		}
		if len(node.Spec.Taints) > 0 {
			node.Spec.Taints = removeNotReadyTaints(node.Spec.Taints)
			if err := cp.Client.Update(ctx, node); err != nil {
				return false, client.IgnoreNotFound(ignoreConflict(err))
			}
		}
		return len(node.Spec.Taints) == 0 && NodeReady(node), nil
	}); err != nil {
		return nil, fmt.Errorf("node %s did not turn Ready and untainted (is KWOK running? StartKWOK): %w", name, err)
	}
	return node, nil
}

// NodeReady reports whether a node's Ready condition is True.
func NodeReady(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func removeNotReadyTaints(taints []corev1.Taint) []corev1.Taint {
	var out []corev1.Taint
	for _, t := range taints {
		if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
			continue
		}
		out = append(out, t)
	}
	return out
}

func ignoreConflict(err error) error {
	if apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// KWOKGPUNode is one node for CreateKWOKGPUNodes.
type KWOKGPUNode struct {
	Name   string
	GPUs   int
	Labels map[string]string
}

// CreateKWOKGPUNodes creates nodes with CreateKWOKGPUNode, parallel at a
// time (16 when parallel <= 0), and returns the first error.
func (cp *ControlPlane) CreateKWOKGPUNodes(ctx context.Context, nodes []KWOKGPUNode, parallel int) error {
	if parallel <= 0 {
		parallel = 16
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, parallel)
	errs := make(chan error, len(nodes))
	for _, n := range nodes {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			_, err := cp.CreateKWOKGPUNode(ctx, n.Name, n.GPUs, n.Labels)
			if err != nil {
				cancel()
			}
			errs <- err
		}()
	}
	var first error
	for range nodes {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
