// Package kubectl tests the kubectl-gantry plugin against a real etcd and
// kube-apiserver (see test/framework): it creates nodes, NodeGPUs, queues,
// PodGroups and bound pods, runs the plugin's commands in-process, and
// checks their table and JSON output. One control plane serves the package.
package kubectl

import (
	"os"
	"testing"

	"github.com/gantry-gpu/gantry/test/framework"
)

var controlPlane *framework.ControlPlane

func TestMain(m *testing.M) {
	os.Exit(framework.RunTests(m, "integration/kubectl", &controlPlane, nil))
}
