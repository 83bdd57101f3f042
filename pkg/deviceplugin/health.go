package deviceplugin

import (
	"sort"
	"sync"
	"time"

	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// DeviceHealth is the health of one GPU and why.
type DeviceHealth struct {
	Healthy bool
	// Reason is a CamelCase cause of the last transition, e.g. "XID79",
	// "GPULost" or "Recovered".
	Reason  string
	Message string
	// Since is the time of the last transition.
	Since time.Time
}

// HealthTracker holds the health of every GPU of the node and brings a GPU
// back once it has passed its checks for a quiet period after its last
// fault. NVIDIA's plugin never does the latter, so one transient XID takes a
// GPU out of service until the daemon restarts.
//
// It is fed by the health monitor (NVML events and periodic checks) and read
// by the plugin servers (ListAndWatch) and the NodeGPU publisher; readers
// learn of changes through Subscribe.
type HealthTracker struct {
	clock clock.PassiveClock
	// quiet is how long a GPU must pass its checks, with no new fault, before
	// it is healthy again. Zero disables recovery.
	quiet time.Duration

	mu          sync.Mutex
	devices     map[string]*trackedDevice
	subscribers map[chan struct{}]struct{}
}

type trackedDevice struct {
	DeviceHealth
	lastFault time.Time
}

// NewHealthTracker starts every listed GPU healthy.
func NewHealthTracker(clk clock.PassiveClock, quiet time.Duration, uuids []string) *HealthTracker {
	t := &HealthTracker{
		clock:       clk,
		quiet:       quiet,
		devices:     make(map[string]*trackedDevice, len(uuids)),
		subscribers: map[chan struct{}]struct{}{},
	}
	now := clk.Now()
	for _, u := range uuids {
		t.devices[u] = &trackedDevice{DeviceHealth: DeviceHealth{Healthy: true, Reason: "Discovered", Since: now}}
	}
	return t
}

// Fault records a fault on a GPU: it becomes unhealthy if it was not, and its
// quiet period starts again either way.
func (t *HealthTracker) Fault(uuid, reason, message string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, ok := t.devices[uuid]
	if !ok {
		return
	}
	now := t.clock.Now()
	d.lastFault = now
	if !d.Healthy {
		return
	}
	d.DeviceHealth = DeviceHealth{Healthy: false, Reason: reason, Message: message, Since: now}
	klog.InfoS("GPU unhealthy", "uuid", uuid, "reason", reason, "message", message)
	healthTransitions.WithLabelValues("Unhealthy", reason).Inc()
	t.notifyLocked()
}

// CheckPassed records that a GPU passed its health check. An unhealthy GPU
// whose last fault is at least the quiet period ago becomes healthy again.
func (t *HealthTracker) CheckPassed(uuid string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, ok := t.devices[uuid]
	if !ok || d.Healthy || t.quiet <= 0 {
		return
	}
	now := t.clock.Now()
	if now.Sub(d.lastFault) < t.quiet {
		return
	}
	msg := "passed health checks for " + t.quiet.String() + " after " + d.Reason
	d.DeviceHealth = DeviceHealth{Healthy: true, Reason: "Recovered", Message: msg, Since: now}
	klog.InfoS("GPU recovered", "uuid", uuid, "quietPeriod", t.quiet)
	healthTransitions.WithLabelValues("Healthy", "Recovered").Inc()
	t.notifyLocked()
}

// Get returns the health of one GPU; unknown GPUs are reported unhealthy.
func (t *HealthTracker) Get(uuid string) DeviceHealth {
	t.mu.Lock()
	defer t.mu.Unlock()
	if d, ok := t.devices[uuid]; ok {
		return d.DeviceHealth
	}
	return DeviceHealth{Reason: "Unknown", Message: "not a GPU of this node"}
}

// Snapshot returns the health of every GPU by UUID.
func (t *HealthTracker) Snapshot() map[string]DeviceHealth {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]DeviceHealth, len(t.devices))
	for u, d := range t.devices {
		out[u] = d.DeviceHealth
	}
	return out
}

// Unhealthy lists the UUIDs of unhealthy GPUs, sorted.
func (t *HealthTracker) Unhealthy() []string {
	var out []string
	for u, h := range t.Snapshot() {
		if !h.Healthy {
			out = append(out, u)
		}
	}
	sort.Strings(out)
	return out
}

// Subscribe returns a channel that receives a value after any transition
// (coalesced: one pending value stands for any number of changes) and a
// function that ends the subscription.
func (t *HealthTracker) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	t.mu.Lock()
	t.subscribers[ch] = struct{}{}
	t.mu.Unlock()
	return ch, func() {
		t.mu.Lock()
		delete(t.subscribers, ch)
		t.mu.Unlock()
	}
}

func (t *HealthTracker) notifyLocked() {
	for ch := range t.subscribers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
