// Package integration holds Gantry's tests against a real etcd and
// kube-apiserver (see test/framework). One control plane serves the package;
// each test works in objects of its own.
package integration

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
		fmt.Fprintf(os.Stderr, "integration: %v\n", err)
		os.Exit(1)
	}
	controlPlane = cp
	code := m.Run()
	if err := cp.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "integration: stopping control plane: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}
