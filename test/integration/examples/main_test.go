// Package examples tests the workloads in deploy/examples: every object is
// server-side applied to a real etcd and kube-apiserver (see
// test/framework) with strict field validation, so a misspelt field, a
// value the API rejects or a Queue that breaks its CEL rules fails here and
// not in a user's cluster; and the things that would make an example
// silently wrong (a GPU pod on the default scheduler, a gang whose
// minMember differs from its pod count, the daily batch at the wrong hour)
// are checked on the objects themselves.
package examples

import (
	"os"
	"testing"

	"github.com/gantry-gpu/gantry/test/framework"
)

var controlPlane *framework.ControlPlane

func TestMain(m *testing.M) {
	os.Exit(framework.RunTests(m, "integration/examples", &controlPlane, nil))
}
