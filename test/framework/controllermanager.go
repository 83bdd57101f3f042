package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultControllers are the kube-controller-manager controllers
// StartControllerManager runs when given none: what workloads need to run
// and finish (Jobs, CronJobs, Deployments and their ReplicaSets, finished-Job
// clean-up, owner-based garbage collection, namespace deletion, default
// ServiceAccounts, orphaned-pod clean-up). The node lifecycle controller is
// left out: KWOK's nodes keep their own heartbeats, and CreateKWOKGPUNode
// lifts the not-ready taint itself.
var DefaultControllers = []string{
	"job-controller",
	"cronjob-controller",
	"deployment-controller",
	"replicaset-controller",
	"ttl-after-finished-controller",
	"garbage-collector-controller",
	"namespace-controller",
	"serviceaccount-controller",
	"pod-garbage-collector-controller",
	"disruption-controller",
}

// StartControllerManager runs _output/tools/kube-controller-manager (`make
// tools` builds it) against the control plane with the given controllers
// (kube-controller-manager's names, e.g. "job-controller"; the short forms
// such as "job" work too; none means DefaultControllers), admin
// credentials, no leader election, no service-account credentials, and its
// secure port on a free loopback port. It returns once /healthz answers ok,
// and a function that stops it; its log is in a temporary folder (or in
// cp.LogDir when set) and named in every error.
func (cp *ControlPlane) StartControllerManager(ctx context.Context, controllers ...string) (stop func() error, err error) {
	p, err := cp.StartControllerManagerProcess(ctx, controllers...)
	if err != nil {
		return nil, err
	}
	return p.Stop, nil
}

// StartControllerManagerProcess is StartControllerManager returning the
// process itself (for its pid and log).
func (cp *ControlPlane) StartControllerManagerProcess(ctx context.Context, controllers ...string) (*Process, error) {
	bin, err := toolBinary("kube-controller-manager")
	if err != nil {
		return nil, err
	}
	if len(controllers) == 0 {
		controllers = DefaultControllers
	}
	dir, temp, err := cp.processDir("kube-controller-manager")
	if err != nil {
		return nil, err
	}
	port, err := FreeLoopbackPort()
	if err != nil {
		return nil, fmt.Errorf("finding a free port for kube-controller-manager: %w", err)
	}
	args := []string{
		"--kubeconfig=" + cp.Kubeconfig,
		"--controllers=" + strings.Join(controllers, ","),
		"--leader-elect=false",
		"--use-service-account-credentials=false",
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + filepath.Join(dir, "certs"),
		// Quick reactions: tests and the demo wait on Jobs and ReplicaSets.
		"--concurrent-job-syncs=5",
		"--v=2",
	}
	p, err := StartProcess("kube-controller-manager", filepath.Join(dir, "kube-controller-manager.log"), bin, args...)
	if err != nil {
		return nil, err
	}
	if temp {
		p.tempDir = dir
	}
	err = p.WaitServing(ctx, 90*time.Second, fmt.Sprintf("https://127.0.0.1:%d/healthz", port))
	if err != nil {
		p.tempDir = "" // keep the log the error names
		_ = p.Stop()
		return nil, fmt.Errorf("kube-controller-manager: %w", err)
	}
	return p, nil
}

// processDir makes the folder for one process's log and files: under
// cp.LogDir when set, else a new temporary folder (temp true), which a
// clean Stop removes.
func (cp *ControlPlane) processDir(name string) (dir string, temp bool, err error) {
	if cp.LogDir != "" {
		dir := filepath.Join(cp.LogDir, name)
		return dir, false, os.MkdirAll(dir, 0o755)
	}
	dir, err = os.MkdirTemp("", "gantry-"+name+"-")
	if err != nil {
		return "", false, fmt.Errorf("making a folder for %s: %w", name, err)
	}
	return dir, true, nil
}
