// Package deploy tests what Gantry ships for a cluster: the Helm chart
// (deploy/helm/gantry) and the plain manifests rendered from it
// (deploy/manifests), applied with server-side apply to a real etcd and
// kube-apiserver (see test/framework), so that a schema error, an unknown
// field or a rejected value cannot hide until someone installs it.
package deploy

import (
	"os"
	"testing"

	"github.com/gantry-gpu/gantry/test/framework"
)

var controlPlane *framework.ControlPlane

func TestMain(m *testing.M) { os.Exit(framework.RunTests(m, "integration/deploy", &controlPlane, nil)) }
