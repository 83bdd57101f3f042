// Package deploy tests what Gantry ships for a cluster: the Helm chart
// (deploy/helm/gantry) and the plain manifests rendered from it
// (deploy/manifests), applied with server-side apply to a real etcd and
// kube-apiserver (see test/framework), so that a schema error, an unknown
// field or a rejected value cannot hide until someone installs it.
package deploy

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
		fmt.Fprintf(os.Stderr, "deploy: %v\n", err)
		os.Exit(1)
	}
	controlPlane = cp
	code := m.Run()
	if err := cp.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "deploy: stopping control plane: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}
