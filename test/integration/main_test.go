// Package integration holds Gantry's tests against a real etcd and
// kube-apiserver (see test/framework). One control plane serves the package;
// each test works in objects of its own.
package integration

import (
	"context"
	"os"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/gantry-gpu/gantry/test/framework"
)

var controlPlane *framework.ControlPlane

func TestMain(m *testing.M) { os.Exit(framework.RunTests(m, "integration", &controlPlane, nil)) }

// createBurst creates pods concurrently, as a burst that reaches the
// scheduler at once.
func createBurst(ctx context.Context, t *testing.T, pods ...*corev1.Pod) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(pods))
	for i, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = controlPlane.Client.Create(ctx, p)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("creating pod %s: %v", pods[i].Name, err)
		}
	}
}
