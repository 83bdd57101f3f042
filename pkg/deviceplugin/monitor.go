package deviceplugin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	nvmllib "github.com/NVIDIA/go-nvml/pkg/nvml"
	"k8s.io/klog/v2"

	"github.com/gantry-gpu/gantry/pkg/gpu"
	"github.com/gantry-gpu/gantry/pkg/gpu/nvml"
)

// DefaultIgnoredXIDs are XIDs an application causes, not the GPU (graphics
// engine exception, memory page fault, stopped processing, preemptive
// cleanup, video processor exception, context switch timeout): they do not
// make a GPU unhealthy. It is the list NVIDIA's device plugin skips.
var DefaultIgnoredXIDs = []uint64{13, 31, 43, 45, 68, 109}

// Probe is the NVML side of health checking.
type Probe interface {
	// WatchEvents sends the GPUs' health events until ctx ends.
	WatchEvents(ctx context.Context, indexes []int, out chan<- nvml.Event) error
	// CheckDevice fails while a GPU does not answer.
	CheckDevice(index int) error
}

// HealthMonitor turns NVML events and periodic checks into the tracker's
// faults and passed checks: an XID outside the ignore list, a double-bit ECC
// error or a lost GPU is a fault; every passed check counts towards recovery.
type HealthMonitor struct {
	Probe         Probe
	Topology      *gpu.Topology
	Tracker       *HealthTracker
	IgnoredXIDs   map[uint64]bool
	CheckInterval time.Duration
}

// Run watches events and checks every GPU each CheckInterval until ctx ends.
// If the event watch fails (some boards cannot watch events) the periodic
// checks go on alone.
func (m *HealthMonitor) Run(ctx context.Context) {
	logger := klog.FromContext(ctx)
	events := make(chan nvml.Event, 64)
	watchErr := make(chan error, 1)
	indexes := m.Topology.Indexes(m.Topology.All())
	go func() { watchErr <- m.Probe.WatchEvents(ctx, indexes, events) }()

	ticker := time.NewTicker(m.CheckInterval)
	defer ticker.Stop()
	m.checkAll(ctx)
	for {
		select {
		case <-ctx.Done():
			// The watch holds an NVML event set: let it free that before
			// the daemon shuts NVML down (it returns within about a second).
			if watchErr != nil {
				<-watchErr
			}
			return
		case ev := <-events:
			m.handle(ctx, ev)
		case <-ticker.C:
			m.checkAll(ctx)
		case err := <-watchErr:
			if ctx.Err() == nil {
				logger.Error(err, "NVML event watch stopped; health rests on the periodic checks", "interval", m.CheckInterval)
			}
			watchErr = nil
		}
	}
}

func (m *HealthMonitor) handle(ctx context.Context, ev nvml.Event) {
	logger := klog.FromContext(ctx)
	uuid := ev.UUID
	if uuid == "" && ev.Index >= 0 {
		if pos, ok := m.Topology.Position(ev.Index); ok {
			uuid = m.Topology.Device(pos).UUID
		}
	}
	switch ev.Kind {
	case nvml.EventXID:
		ignored := m.IgnoredXIDs[ev.XID]
		xidEvents.WithLabelValues(strconv.FormatUint(ev.XID, 10), strconv.FormatBool(ignored)).Inc()
		if ignored {
			logger.V(2).Info("Application XID, GPU stays healthy", "event", ev.String())
			return
		}
		m.fault(ctx, uuid, fmt.Sprintf("XID%d", ev.XID), ev.String())
	case nvml.EventGPULost:
		xidEvents.WithLabelValues(strconv.FormatUint(ev.XID, 10), "false").Inc()
		m.fault(ctx, uuid, "GPULost", ev.String())
	case nvml.EventDoubleBitECC:
		m.fault(ctx, uuid, "DoubleBitECC", ev.String())
	case nvml.EventRegistrationFailed:
		logger.Info("GPU events cannot be watched; relying on periodic checks", "event", ev.String())
	default:
		logger.V(2).Info("GPU event", "event", ev.String())
	}
}

// fault records a fault, or, for an event NVML could not tie to a GPU,
// checks every GPU at once to find the culprit.
func (m *HealthMonitor) fault(ctx context.Context, uuid, reason, message string) {
	if uuid == "" {
		m.checkAll(ctx)
		return
	}
	m.Tracker.Fault(uuid, reason, message)
}

func (m *HealthMonitor) checkAll(ctx context.Context) {
	for _, d := range m.Topology.Devices() {
		err := m.Probe.CheckDevice(d.Index)
		if err == nil {
			m.Tracker.CheckPassed(d.UUID)
			continue
		}
		reason := "CheckFailed"
		if errors.Is(err, nvmllib.ERROR_GPU_IS_LOST) {
			reason = "GPULost"
		}
		klog.FromContext(ctx).V(2).Info("GPU health check failed", "gpu", d.Index, "err", err)
		m.Tracker.Fault(d.UUID, reason, err.Error())
	}
}
