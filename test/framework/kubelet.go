package framework

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

const (
	// KubeletDevicePluginDir is where every kubelet serves the device-plugin
	// registration socket and keeps its device checkpoint: a path fixed in
	// the kubelet (k8s.io/kubelet's DevicePluginPath, used by
	// pkg/kubelet/cm/devicemanager whatever --root-dir says). So one test
	// kubelet runs on a machine at a time, under a lock.
	KubeletDevicePluginDir = "/var/lib/kubelet/device-plugins"

	// maxUnixSocketPath is the longest path a unix socket can be bound at
	// (sun_path is 108 bytes, with the final NUL).
	maxUnixSocketPath = 107
)

// KubeletOptions configures StartKubelet.
type KubeletOptions struct {
	// NodeName is the node the kubelet registers; required.
	NodeName string
	// Labels are the node's labels (the kubelet's --node-labels; the
	// kubelet refuses most labels in the kubernetes.io domains).
	Labels map[string]string
	// TopologyManagerPolicy is the kubelet's topologyManagerPolicy; empty
	// means "none".
	TopologyManagerPolicy string
}

// Kubelet is a real kubelet (_output/tools/kubelet, built by `make tools`
// from the version pinned in go.mod) running as root against the control
// plane, with a FakeRuntime as its container runtime. It registers its
// node as the user system:node:NAME in group system:nodes (so the Node
// authorizer and RBAC apply as in a cluster), admits pods with its device,
// CPU and topology managers, serves PodResources, and serves the
// device-plugin registration socket in KubeletDevicePluginDir, which is
// fixed in the kubelet: so one Kubelet runs on a machine at a time, and
// StartKubelet waits for the one running to stop. Its cgroup handling is
// off (cgroupfs driver, no per-QoS cgroups, no enforced allocatable) and
// its server listens on loopback only.
type Kubelet struct {
	NodeName string
	// Dir holds the kubelet's files: its root folder, config, kubeconfig,
	// log and the runtime's socket.
	Dir string
	// RootDir is the kubelet's --root-dir.
	RootDir string
	// PodResourcesSocket is the kubelet's PodResources API socket.
	PodResourcesSocket string
	// Runtime is the kubelet's container runtime; it outlives restarts.
	Runtime *FakeRuntime
	// Process is the running kubelet; Restart replaces it.
	Process *Process

	cp      *ControlPlane
	host    *kubeletHost
	bin     string
	args    []string
	log     string
	healthz string
	tempDir bool
}

// StartKubelet starts a kubelet as StartKubeletT does, for callers other
// than tests. Stop it with Stop.
func (cp *ControlPlane) StartKubelet(ctx context.Context, opts KubeletOptions) (*Kubelet, error) {
	if opts.NodeName == "" {
		return nil, errors.New("kubelet: NodeName must not be empty")
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("kubelet: a real kubelet needs root (it sets kernel settings and serves in /var/lib/kubelet)")
	}
	bin, err := toolBinary("kubelet")
	if err != nil {
		return nil, err
	}
	host, err := claimKubeletHost(ctx)
	if err != nil {
		return nil, err
	}
	k := &Kubelet{NodeName: opts.NodeName, cp: cp, host: host, bin: bin}
	if err := k.setUp(opts); err != nil {
		return nil, errors.Join(fmt.Errorf("kubelet for node %s: %w", opts.NodeName, err), k.Stop())
	}
	if err := k.start(ctx); err != nil {
		return nil, errors.Join(err, k.Stop())
	}
	return k, nil
}

// StartKubeletT starts a kubelet for one test and stops it when the test
// ends, or skips the test when not run as root on Linux (CI runs it). It
// returns once the node is Ready. A failed test keeps the kubelet's log
// and shows its tail.
func (cp *ControlPlane) StartKubeletT(t testing.TB, opts KubeletOptions) *Kubelet {
	t.Helper()
	SkipUnlessRootOnLinux(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	k, err := cp.StartKubelet(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			k.tempDir = false // keep the log
			t.Logf("kubelet log %s ends with:\n%s", k.log, LogTail(k.log, 40))
		}
		if err := k.Stop(); err != nil {
			t.Errorf("stopping kubelet: %v", err)
		}
	})
	return k
}

// SkipUnlessRootOnLinux skips a test that runs a real kubelet when not run
// as root on Linux.
func SkipUnlessRootOnLinux(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux: a real kubelet runs there only")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: a real kubelet sets kernel settings and serves its device-plugin socket in /var/lib/kubelet (CI runs these tests as root)")
	}
}

func (k *Kubelet) setUp(opts KubeletOptions) error {
	var err error
	if k.Dir, k.tempDir, err = k.cp.processDir("kubelet-" + opts.NodeName); err != nil {
		return err
	}
	k.RootDir = filepath.Join(k.Dir, "root")
	k.PodResourcesSocket = filepath.Join(k.RootDir, "pod-resources", "kubelet.sock")
	if n := len(k.PodResourcesSocket); n > maxUnixSocketPath {
		return fmt.Errorf("the PodResources socket %s would be %d bytes long, more than a unix socket path may be (%d): use a shorter TMPDIR", k.PodResourcesSocket, n, maxUnixSocketPath)
	}
	own := k.RootDir // what a test process that dies leaves to remove
	if k.tempDir {
		own = k.Dir
	}
	if err := k.host.recordOwnDir(own); err != nil {
		return err
	}
	if err := os.MkdirAll(k.RootDir, 0o750); err != nil {
		return err
	}
	if k.Runtime, err = StartFakeRuntime(filepath.Join(k.Dir, "cri.sock"), filepath.Join(k.Dir, "container-logs")); err != nil {
		return err
	}
	// A client certificate from the API server's client CA, as a kubelet's
	// bootstrap would get.
	user, err := k.cp.env.AddUser(envtest.User{Name: "system:node:" + opts.NodeName, Groups: []string{"system:nodes"}}, k.cp.Config)
	if err != nil {
		return fmt.Errorf("making the node's credentials: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("making the node's kubeconfig: %w", err)
	}
	kubeconfigPath := filepath.Join(k.Dir, "kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		return err
	}
	port, err := FreeLoopbackPort()
	if err != nil {
		return err
	}
	healthzPort, err := FreeLoopbackPort()
	if err != nil {
		return err
	}
	k.healthz = fmt.Sprintf("http://127.0.0.1:%d/healthz", healthzPort)
	configPath := filepath.Join(k.Dir, "config.yaml")
	if err := os.WriteFile(configPath, []byte(k.config(port, healthzPort, opts)), 0o600); err != nil {
		return err
	}
	k.log = filepath.Join(k.Dir, "kubelet.log")
	k.args = []string{
		"--config=" + configPath,
		"--kubeconfig=" + kubeconfigPath,
		"--root-dir=" + k.RootDir,
		"--cert-dir=" + filepath.Join(k.Dir, "pki"),
		"--hostname-override=" + opts.NodeName,
		"--v=2",
	}
	if len(opts.Labels) > 0 {
		labels := make([]string, 0, len(opts.Labels))
		for key, v := range opts.Labels {
			labels = append(labels, key+"="+v)
		}
		sort.Strings(labels)
		k.args = append(k.args, "--node-labels="+strings.Join(labels, ","))
	}
	return nil
}

// config is the kubelet's configuration file. Why each setting:
//   - cgroupfs, no per-QoS cgroups, no enforced allocatable, cgroup v1
//     allowed: the kubelet makes no cgroups on the test machine;
//   - no swap check, no eviction thresholds, no image GC: the test
//     machine's swap and disk are none of the test's business;
//   - pod logs and volume plugins in the kubelet's own folder, no
//     resolv.conf: nothing read or written outside it but the device-plugin
//     folder;
//   - a status update every second: tests wait on the node's allocatable;
//   - a server on loopback that authenticates nobody; no read-only port.
func (k *Kubelet) config(port, healthzPort int, opts KubeletOptions) string {
	topology := opts.TopologyManagerPolicy
	if topology == "" {
		topology = "none"
	}
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: %[1]s
imageServiceEndpoint: %[1]s
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failCgroupV1: false
failSwapOn: false
evictionHard: {}
imageGCHighThresholdPercent: 100
podLogsDir: %[2]s
volumePluginDir: %[3]s
resolvConf: ""
nodeStatusUpdateFrequency: 1s
nodeStatusReportFrequency: 1m
topologyManagerPolicy: %[4]s
address: 127.0.0.1
port: %[5]d
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: %[6]d
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
`, k.Runtime.Endpoint, filepath.Join(k.Dir, "pod-logs"), filepath.Join(k.Dir, "volume-plugins"), topology, port, healthzPort)
}

// start runs the kubelet and waits until its node is Ready with a
// heartbeat of this run.
func (k *Kubelet) start(ctx context.Context) error {
	started := time.Now().Truncate(time.Second) // heartbeats have whole seconds
	p, err := startProcessIn(k.RootDir, "kubelet "+k.NodeName, k.log, k.bin, k.args...)
	if err != nil {
		return err
	}
	k.Process = p
	if err := p.WaitServing(ctx, 2*time.Minute, k.healthz); err != nil {
		return err
	}
	var last string
	err = p.WaitReady(ctx, 2*time.Minute, func(ctx context.Context) (bool, error) {
		node := &corev1.Node{}
		if err := k.cp.Client.Get(ctx, client.ObjectKey{Name: k.NodeName}, node); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				last = fmt.Sprintf("Ready=%s (%s: %s) at %s", c.Status, c.Reason, c.Message, c.LastHeartbeatTime)
				return c.Status == corev1.ConditionTrue && !c.LastHeartbeatTime.Time.Before(started), nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("node %s not Ready with a fresh heartbeat (last: %s): %w", k.NodeName, last, err)
	}
	return k.liftNotReadyTaint(ctx)
}

// liftNotReadyTaint removes the not-ready taint that admission puts on a
// new node, as the node lifecycle controller (not run here) does once the
// node is Ready; schedulers skip the node until then.
func (k *Kubelet) liftNotReadyTaint(ctx context.Context) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node := &corev1.Node{}
		if err := k.cp.Client.Get(ctx, client.ObjectKey{Name: k.NodeName}, node); err != nil {
			return err
		}
		taints := slices.DeleteFunc(slices.Clone(node.Spec.Taints), func(t corev1.Taint) bool {
			return t.Key == corev1.TaintNodeNotReady
		})
		if len(taints) == len(node.Spec.Taints) {
			return nil
		}
		node.Spec.Taints = taints
		return k.cp.Client.Update(ctx, node)
	})
	if err != nil {
		return fmt.Errorf("removing the not-ready taint of node %s: %w", k.NodeName, err)
	}
	return nil
}

// Restart stops the kubelet and starts it again with the same folders,
// runtime and node, as a kubelet restarted by systemd: the pods' containers
// keep running, the device manager's checkpoint stays. It returns once the
// node is Ready again.
func (k *Kubelet) Restart(ctx context.Context) error {
	if err := k.Process.Stop(); err != nil {
		return err
	}
	return k.start(ctx)
}

// StopProcess stops the kubelet process only, leaving its files, runtime
// and node: a kubelet that is down. Start it again with Restart.
func (k *Kubelet) StopProcess() error { return k.Process.Stop() }

// Stop stops the kubelet and its runtime, deletes its Node, removes its
// files (the log too unless the control plane has a LogDir) and the
// device-plugin folder, restores the kernel settings the kubelet changed
// and lets the next kubelet start. It may be called after a failed start.
func (k *Kubelet) Stop() error {
	var errs []error
	if k.Process != nil {
		errs = append(errs, k.Process.Stop())
	}
	if k.Runtime != nil {
		k.Runtime.Stop()
	}
	if k.NodeName != "" && k.cp.Client != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := k.cp.Client.Delete(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: k.NodeName}})
		cancel()
		errs = append(errs, client.IgnoreNotFound(err))
	}
	if k.RootDir != "" {
		errs = append(errs, unmountUnder(k.RootDir), os.RemoveAll(k.RootDir))
	}
	if k.tempDir && errors.Join(errs...) == nil {
		errs = append(errs, os.RemoveAll(k.Dir))
	}
	if k.host != nil {
		errs = append(errs, k.host.release(errors.Join(errs...) == nil))
		k.host = nil
	}
	return errors.Join(errs...)
}

// WaitAllocatable waits until the node's allocatable of res is n: the
// kubelet has registered a device plugin's devices (or dropped them).
func (k *Kubelet) WaitAllocatable(ctx context.Context, res corev1.ResourceName, n int64) error {
	var last resource.Quantity
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		node := &corev1.Node{}
		if err := k.cp.Client.Get(ctx, client.ObjectKey{Name: k.NodeName}, node); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		last = node.Status.Allocatable[res]
		return last.Value() == n, nil
	})
	if err != nil {
		return fmt.Errorf("node %s: allocatable %s is %s, not %d: %w; kubelet log %s ends with:\n%s", k.NodeName, res, last.String(), n, err, k.log, LogTail(k.log, 20))
	}
	return nil
}
