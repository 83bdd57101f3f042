package bench

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/component-base/metrics/legacyregistry"
)

// dumpSchedulerMetrics logs, per profile and extension point, how many
// times the in-process scheduler ran it and its mean duration (the
// scheduler's own scheduler_framework_extension_point_duration_seconds),
// so a throughput gap between profiles can be traced to where it arises.
// Needs -v to show.
func dumpSchedulerMetrics(b *testing.B) {
	b.Helper()
	mfs, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		b.Fatal(err)
	}
	var lines []string
	for _, mf := range mfs {
		if mf.GetName() != "scheduler_framework_extension_point_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			if h == nil || h.GetSampleCount() == 0 {
				continue
			}
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			lines = append(lines, fmt.Sprintf("%-14s %-12s %-14s %7d runs  mean %9.1f µs",
				labels["profile"], labels["extension_point"], labels["status"],
				h.GetSampleCount(), 1e6*h.GetSampleSum()/float64(h.GetSampleCount())))
		}
	}
	slices.Sort(lines)
	b.Logf("extension points:\n%s", strings.Join(lines, "\n"))
}

// processCPU is the CPU time (user and system) the test process has used.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
