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
	"fmt"
	"os"
	"testing"

	"github.com/gantry-gpu/gantry/test/framework"
)

var controlPlane *framework.ControlPlane

func TestMain(m *testing.M) {
	cp, err := framework.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "examples: %v\n", err)
		os.Exit(1)
	}
	controlPlane = cp
	code := m.Run()
	if err := cp.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "examples: stopping control plane: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}
