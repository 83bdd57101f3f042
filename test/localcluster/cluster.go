// Package localcluster brings up Gantry on this machine without a cluster
// or GPUs, for `make demo` (hack/local-up) and `make test-e2e` (test/e2e),
// which share this code: etcd and kube-apiserver (test/framework, with
// Gantry's CRDs), kube-controller-manager (Jobs, CronJobs, Deployments,
// garbage collection...), KWOK as the kubelet of a few fake GPU nodes,
// the rendered chart's objects (deploy/manifests/gantry.yaml: namespace,
// ServiceAccounts, RBAC, the scheduler's ConfigMap, the NodeGPU admission
// policy, priority class, PDBs; not its Deployments and DaemonSet, whose
// pods KWOK would only pretend to run), and Gantry's binaries as processes
// under the identities the chart gives them (each impersonates its
// ServiceAccount, the device plugin with its node in the token's extra as
// a projected token carries it): one gantry-device-plugin per node on the
// node's NVML fixture, gantry-scheduler with the chart's configuration,
// gantry-controller. A plain kube-scheduler profile (run by the
// gantry-scheduler binary, which is kube-scheduler plus plugins) stands in
// for the cluster's default scheduler, for pods that do not opt in to
// Gantry. Everything listens on 127.0.0.1 only.
package localcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/test/framework"
)

// Node is a fake GPU node: KWOK is its kubelet, a gantry-device-plugin on
// an NVML fixture publishes its NodeGPU.
type Node struct {
	Name    string
	Fixture string // --nvml=fixture:NAME of gantry-device-plugin
	GPUs    int
	Labels  map[string]string
}

// DefaultNodes: four NVLink-all-to-all 8-GPU nodes (two DGX A100, two DGX
// H100, room for the 4 × 8-GPU training gang of deploy/examples), a PCIe
// box with two 4-GPU NVLink islands and a 4 × L40S PCIe box: 44 GPUs.
var DefaultNodes = []Node{
	{Name: "gpu-a100-0", Fixture: "dgx-a100", GPUs: 8},
	{Name: "gpu-a100-1", Fixture: "dgx-a100", GPUs: 8},
	{Name: "gpu-h100-0", Fixture: "dgx-h100", GPUs: 8},
	{Name: "gpu-h100-1", Fixture: "dgx-h100", GPUs: 8},
	{Name: "gpu-pcie-0", Fixture: "pcie-2island", GPUs: 8},
	{Name: "gpu-pcie-1", Fixture: "pcie-4", GPUs: 4},
}

// Namespace is where the chart installs Gantry.
const Namespace = "gantry-system"

// DefaultSchedulerName is the profile of the stand-in default scheduler.
const DefaultSchedulerName = corev1.DefaultSchedulerName

// Options configures Up.
type Options struct {
	// Dir holds the cluster's state: kubeconfig, logs/, pids. Required.
	Dir string
	// BinDir holds gantry-scheduler, gantry-device-plugin and
	// gantry-controller (`make build`: bin/).
	BinDir string
	// Nodes default to DefaultNodes.
	Nodes []Node
	// Log receives one line per step (nil: discarded).
	Log io.Writer
	// NoDefaultScheduler leaves out the stand-in default scheduler.
	NoDefaultScheduler bool
}

// Cluster is a running local cluster.
type Cluster struct {
	CP *framework.ControlPlane
	// Kubeconfig is the admin kubeconfig, in Options.Dir.
	Kubeconfig string
	Nodes      []Node

	opts  Options
	mu    sync.Mutex
	procs []*framework.Process
}

func (c *Cluster) logf(format string, args ...any) {
	if c.opts.Log != nil {
		fmt.Fprintf(c.opts.Log, format+"\n", args...)
	}
}

// Up starts the cluster; on error it stops what it started.
func Up(ctx context.Context, opts Options) (_ *Cluster, err error) {
	if opts.Dir == "" {
		return nil, errors.New("localcluster: Options.Dir is required")
	}
	if opts.BinDir == "" {
		opts.BinDir = filepath.Join(framework.RepoRoot(), "bin")
	}
	if len(opts.Nodes) == 0 {
		opts.Nodes = DefaultNodes
	}
	for _, b := range []string{"gantry-scheduler", "gantry-device-plugin", "gantry-controller"} {
		if _, err := os.Stat(filepath.Join(opts.BinDir, b)); err != nil {
			return nil, fmt.Errorf("%s: %w (run `make build`)", filepath.Join(opts.BinDir, b), err)
		}
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, Nodes: opts.Nodes}
	start := time.Now()
	c.logf("starting etcd and kube-apiserver (127.0.0.1) ...")
	cp, err := framework.Start()
	if err != nil {
		return nil, err
	}
	c.CP = cp
	cp.LogDir = filepath.Join(opts.Dir, "logs")
	defer func() {
		if err != nil {
			err = errors.Join(err, c.Down())
		}
	}()
	c.Kubeconfig = filepath.Join(opts.Dir, "kubeconfig")
	raw, err := os.ReadFile(cp.Kubeconfig)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(c.Kubeconfig, raw, 0o600); err != nil {
		return nil, err
	}
	c.logf("API server %s is up (%s)", cp.Config.Host, since(start))

	kcm, err := cp.StartControllerManagerProcess(ctx)
	if err != nil {
		return nil, err
	}
	c.add(kcm)
	c.logf("kube-controller-manager is healthy: %s", strings.Join(framework.DefaultControllers, ", "))
	kwok, err := cp.StartKWOKProcess(ctx, framework.KWOKOptions{})
	if err != nil {
		return nil, err
	}
	c.add(kwok)
	c.logf("KWOK is the kubelet of nodes annotated %s=%s", framework.KWOKNodeAnnotation, framework.KWOKNodeAnnotationValue)

	objs, err := c.installChart(ctx)
	if err != nil {
		return nil, err
	}
	c.logf("applied %d objects of deploy/manifests/gantry.yaml (server-side; not its Deployments and DaemonSet: their binaries run here as processes)", len(objs))

	if err := c.startNodes(ctx); err != nil {
		return nil, err
	}
	if err := c.startController(ctx); err != nil {
		return nil, err
	}
	if err := c.startScheduler(ctx, objs); err != nil {
		return nil, err
	}
	if !opts.NoDefaultScheduler {
		if err := c.startDefaultScheduler(ctx); err != nil {
			return nil, err
		}
	}
	c.logf("cluster ready in %s", since(start))
	return c, nil
}

func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }

func (c *Cluster) add(p *framework.Process) {
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	c.writePids()
}

// writePids records every process this cluster started (name pid), for
// `make demo-down` when the owner is gone.
func (c *Cluster) writePids() {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "local-up %d\n", os.Getpid())
	for _, p := range c.procs {
		fmt.Fprintf(&b, "%s %d\n", p.Name, p.Pid())
	}
	_ = os.WriteFile(filepath.Join(c.opts.Dir, "pids"), []byte(b.String()), 0o644)
}

// Processes are the processes the cluster started, in start order.
func (c *Cluster) Processes() []*framework.Process {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*framework.Process(nil), c.procs...)
}

// Down stops every process (last started first) and the control plane.
func (c *Cluster) Down() error {
	procs := c.Processes()
	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		if err := procs[i].Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.CP != nil {
		errs = append(errs, c.CP.Stop())
	}
	_ = os.Remove(filepath.Join(c.opts.Dir, "pids"))
	return errors.Join(errs...)
}

// installChart server-side applies deploy/manifests/gantry.yaml except the
// workloads, and returns what it applied.
func (c *Cluster) installChart(ctx context.Context) ([]*unstructured.Unstructured, error) {
	path := filepath.Join(framework.RepoRoot(), "deploy", "manifests", "gantry.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	all, err := framework.DecodeObjects(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var applied []*unstructured.Unstructured
	for _, u := range all {
		switch u.GetKind() {
		case "Deployment", "DaemonSet", "ServiceMonitor", "PrometheusRule":
			continue
		}
		//lint:ignore SA1019 kept a patch: it updates u in place with the server's copy, as callers have had it.
		if err := c.CP.Client.Patch(ctx, u, client.Apply, client.FieldOwner("gantry-local"), client.ForceOwnership); err != nil {
			return nil, fmt.Errorf("%s: applying %s %s: %w", path, u.GetKind(), u.GetName(), err)
		}
		applied = append(applied, u)
	}
	return applied, nil
}

func serviceAccount(name string) (string, []string) {
	return "system:serviceaccount:" + Namespace + ":" + name,
		[]string{"system:serviceaccounts", "system:serviceaccounts:" + Namespace, "system:authenticated"}
}

func (c *Cluster) bin(name string) string { return filepath.Join(c.opts.BinDir, name) }

func (c *Cluster) logPath(name string) string { return filepath.Join(c.opts.Dir, "logs", name+".log") }

func (c *Cluster) startNodes(ctx context.Context) error {
	plugins := make([]*framework.Process, len(c.Nodes))
	for i, n := range c.Nodes {
		if _, err := c.CP.CreateKWOKGPUNode(ctx, n.Name, n.GPUs, n.Labels); err != nil {
			return err
		}
		user, groups := serviceAccount("gantry-device-plugin")
		kc, err := c.CP.ImpersonatingKubeconfig(user, groups, map[string][]string{"authentication.kubernetes.io/node-name": {n.Name}})
		if err != nil {
			return err
		}
		socketDir := filepath.Join(c.opts.Dir, "nodes", n.Name, "device-plugins")
		if err := os.MkdirAll(socketDir, 0o755); err != nil {
			return err
		}
		p, err := framework.StartProcess("gantry-device-plugin@"+n.Name, c.logPath("gantry-device-plugin-"+n.Name), c.bin("gantry-device-plugin"),
			"--nvml=fixture:"+n.Fixture, "--node-name="+n.Name, "--kubeconfig="+kc,
			"--kubelet-socket-dir="+socketDir, "--pod-resources-socket=", "--metrics-bind-address=", "--publish-interval=10s")
		if err != nil {
			return err
		}
		c.add(p)
		plugins[i] = p
	}
	for i, n := range c.Nodes {
		p := plugins[i]
		var ng gantryv1alpha1.NodeGPU
		if err := p.WaitReady(ctx, time.Minute, func(ctx context.Context) (bool, error) {
			err := c.CP.Client.Get(ctx, client.ObjectKey{Name: n.Name}, &ng)
			return err == nil && ng.Status.Capacity > 0, client.IgnoreNotFound(err)
		}); err != nil {
			return fmt.Errorf("node %s: no NodeGPU published: %w", n.Name, err)
		}
		topo, err := gpu.FromSpec(ng.Spec)
		if err != nil {
			return err
		}
		c.logf("node %s (KWOK): gantry-device-plugin on fixture %s published its NodeGPU: %d × %s, %d NVLink island(s), %d healthy",
			n.Name, n.Fixture, len(ng.Spec.GPUs), ng.Spec.GPUs[0].Model, len(topo.Islands()), ng.Status.Healthy)
	}
	return nil
}

func (c *Cluster) startController(ctx context.Context) error {
	user, groups := serviceAccount("gantry-controller")
	kc, err := c.CP.ImpersonatingKubeconfig(user, groups, nil)
	if err != nil {
		return err
	}
	port, err := framework.FreeLoopbackPort()
	if err != nil {
		return err
	}
	p, err := framework.StartProcess("gantry-controller", c.logPath("gantry-controller"), c.bin("gantry-controller"),
		"--kubeconfig="+kc, "--leader-elect=true", "--leader-elect-namespace="+Namespace,
		"--leader-elect-lease-name=gantry-controller", "--bind-address=127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return err
	}
	c.add(p)
	if err := c.waitLease(ctx, p, "gantry-controller"); err != nil {
		return err
	}
	c.logf("gantry-controller leads (as %s; log %s)", user, p.Log)
	return nil
}

// waitLease waits until the process holds the named lease in Namespace.
func (c *Cluster) waitLease(ctx context.Context, p *framework.Process, name string) error {
	return p.WaitReady(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		var l coordinationv1.Lease
		err := c.CP.Client.Get(ctx, client.ObjectKey{Namespace: Namespace, Name: name}, &l)
		return err == nil && l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "", client.IgnoreNotFound(err)
	})
}

// startScheduler runs gantry-scheduler with the chart's configuration (the
// ConfigMap gantry-scheduler-config) and its client pointed at a
// kubeconfig that acts as the chart's ServiceAccount.
func (c *Cluster) startScheduler(ctx context.Context, objs []*unstructured.Unstructured) error {
	var shipped string
	for _, u := range objs {
		if u.GetKind() == "ConfigMap" && u.GetName() == "gantry-scheduler-config" {
			data, _, _ := unstructured.NestedStringMap(u.Object, "data")
			for _, v := range data {
				shipped = v
			}
		}
	}
	if shipped == "" {
		return errors.New("deploy/manifests/gantry.yaml has no ConfigMap gantry-scheduler-config with a configuration")
	}
	user, groups := serviceAccount("gantry-scheduler")
	kc, err := c.CP.ImpersonatingKubeconfig(user, groups, nil)
	if err != nil {
		return err
	}
	cfg, err := withKubeconfig([]byte(shipped), kc)
	if err != nil {
		return err
	}
	path := filepath.Join(c.opts.Dir, "gantry-scheduler-config.yaml")
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		return err
	}
	p, err := framework.StartProcess("gantry-scheduler", c.logPath("gantry-scheduler"), c.bin("gantry-scheduler"),
		"--config="+path, "--secure-port=0", "--v=2")
	if err != nil {
		return err
	}
	c.add(p)
	if err := c.waitLease(ctx, p, "gantry-scheduler"); err != nil {
		return err
	}
	c.logf("gantry-scheduler leads, profile %q, the chart's configuration (as %s; log %s)", "gantry", user, p.Log)
	return nil
}

// withKubeconfig sets clientConnection.kubeconfig of a scheduler
// configuration.
func withKubeconfig(cfg []byte, kubeconfig string) ([]byte, error) {
	var m map[string]any
	if err := yaml.Unmarshal(cfg, &m); err != nil {
		return nil, fmt.Errorf("parsing the scheduler configuration: %w", err)
	}
	cc, _ := m["clientConnection"].(map[string]any)
	if cc == nil {
		cc = map[string]any{}
	}
	cc["kubeconfig"] = kubeconfig
	m["clientConnection"] = cc
	return yaml.Marshal(m)
}

// startDefaultScheduler runs the plain default profile, as the cluster's
// default scheduler, with admin credentials (it is not Gantry's).
func (c *Cluster) startDefaultScheduler(ctx context.Context) error {
	cfg := fmt.Sprintf(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
clientConnection:
  kubeconfig: %q
profiles:
  - schedulerName: %s
`, c.Kubeconfig, DefaultSchedulerName)
	path := filepath.Join(c.opts.Dir, "default-scheduler-config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return err
	}
	p, err := framework.StartProcess("default-scheduler", c.logPath("default-scheduler"), c.bin("gantry-scheduler"),
		"--config="+path, "--secure-port=0")
	if err != nil {
		return err
	}
	c.add(p)
	// No lease to wait for: give it its informers' sync, which its log says.
	if err := p.WaitReady(ctx, time.Minute, func(context.Context) (bool, error) {
		b, err := os.ReadFile(p.Log)
		return err == nil && strings.Contains(string(b), "Starting Kubernetes Scheduler"), err
	}); err != nil {
		return err
	}
	c.logf("default-scheduler (kube-scheduler's default profile) runs pods that do not opt in to Gantry (log %s)", p.Log)
	return nil
}

// WaitFor polls cond every 250 ms until it is true or timeout passes.
func WaitFor(ctx context.Context, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	return wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, cond)
}
