// Package kubectl tests the kubectl-gantry plugin against a real etcd and
// kube-apiserver (see test/framework): it creates nodes, NodeGPUs, queues,
// PodGroups and bound pods, runs the plugin's commands in-process, and
// checks their table and JSON output. One control plane serves the package.
package kubectl

import (
	"fmt"
	"os"
	"testing"

	"github.com/gantry-gpu/gantry/test/framework"
)

var controlPlane *framework.ControlPlane

func TestMain(m *testing.M) {
	cp, err := framework.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubectl integration: %v\n", err)
		os.Exit(1)
	}
	controlPlane = cp
	code := m.Run()
	if err := cp.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "kubectl integration: stopping control plane: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}
