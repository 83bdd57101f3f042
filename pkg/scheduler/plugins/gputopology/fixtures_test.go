package gputopology

import (
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"
	"k8s.io/klog/v2"

	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/scheduler/gpus"
)

// testLogger logs to the test and keeps the lines for assertions.
type testLogger struct {
	mu    sync.Mutex
	lines []string
}

func newTestLogger(t testing.TB) (klog.Logger, *testLogger) {
	tl := &testLogger{}
	return funcr.New(func(prefix, args string) {
		t.Log(prefix, args)
		tl.mu.Lock()
		defer tl.mu.Unlock()
		tl.lines = append(tl.lines, prefix+" "+args)
	}, funcr.Options{Verbosity: 5}), tl
}

func newTestCache(t testing.TB) (*gpus.Cache, *testLogger) {
	logger, logs := newTestLogger(t)
	return gpus.NewCache(logger), logs
}

func klogDiscard() klog.Logger { return klog.Background().V(10) }

// allocated is the node's allocated GPUs in the cache.
func allocated(t testing.TB, c *gpus.Cache, node string) gpu.Set {
	t.Helper()
	st, ok := c.Node(node)
	if !ok {
		t.Fatalf("node %s has no usable NodeGPU in the cache", node)
	}
	return st.Allocated
}
