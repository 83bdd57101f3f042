package gpus

import (
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"
	"k8s.io/klog/v2"
)

// testLogger logs to the test and keeps the lines for assertions.
type testLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *testLogger) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
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

func newTestCache(t testing.TB) (*Cache, *testLogger) {
	logger, logs := newTestLogger(t)
	return NewCache(logger), logs
}
