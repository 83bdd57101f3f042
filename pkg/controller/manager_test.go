package controller

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
)

// fakeController counts its runs, syncs when told, and fails when told.
type fakeController struct {
	synced  atomic.Bool
	running atomic.Int32
	fail    error
}

func (f *fakeController) Name() string    { return "fake" }
func (f *fakeController) HasSynced() bool { return f.synced.Load() }
func (f *fakeController) Run(ctx context.Context, _ int) error {
	f.running.Add(1)
	defer f.running.Add(-1)
	if f.fail != nil {
		return f.fail
	}
	<-ctx.Done()
	return nil
}

// fakeInformers counts its starts and shutdowns and keeps the stop channel
// it was started with.
type fakeInformers struct {
	started, shutdown atomic.Int32
	stop              atomic.Pointer[<-chan struct{}]
}

func (f *fakeInformers) Start(stop <-chan struct{}) {
	f.started.Add(1)
	f.stop.Store(&stop)
}

func (f *fakeInformers) Shutdown() { f.shutdown.Add(1) }

// stopped reports whether the informers were started and told to stop.
func (f *fakeInformers) stopped() bool {
	p := f.stop.Load()
	if p == nil {
		return false
	}
	select {
	case <-*p:
		return true
	default:
		return false
	}
}

func get(t *testing.T, m *Manager, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + m.Addr().String() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil }); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// run runs m until the test ends; wait returns Run's error once it has
// returned.
func run(t *testing.T, m *Manager) (cancel context.CancelFunc, wait func() error) {
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	var err error
	go func() {
		defer close(stopped)
		err = m.Run(ctx)
	}()
	wait = func() error { <-stopped; return err }
	t.Cleanup(func() { cancel(); _ = wait() })
	return cancel, wait
}

func TestManagerServesHealthAndReadiness(t *testing.T) {
	m := NewManager(fake.NewClientset(), ManagerOptions{BindAddress: "127.0.0.1:0", Workers: 1})
	c := &fakeController{}
	m.Register(c)
	cancel, done := run(t, m)
	waitFor(t, "the controller to run", func() bool { return c.running.Load() == 1 && m.Addr() != nil })

	if code, body := get(t, m, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d %s", code, body)
	}
	if code, body := get(t, m, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "fake has not synced") {
		t.Errorf("/readyz before sync = %d %q, want 503 naming the controller", code, body)
	}
	c.synced.Store(true)
	if code, body := get(t, m, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after sync = %d %s", code, body)
	}
	if code, body := get(t, m, "/metrics"); code != http.StatusOK || !strings.Contains(body, "# TYPE") {
		t.Errorf("/metrics = %d, %d bytes", code, len(body))
	}
	if !strings.HasPrefix(m.Addr().String(), "127.0.0.1:") {
		t.Errorf("serving on %s, want loopback", m.Addr())
	}

	cancel()
	if err := done(); err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	if c.running.Load() != 0 {
		t.Error("the controller still runs after Run returned")
	}
}

func TestManagerFailsWhenAControllerFails(t *testing.T) {
	m := NewManager(fake.NewClientset(), ManagerOptions{Workers: 1})
	boom := errors.New("boom")
	m.Register(&fakeController{fail: boom})
	m.Register(&fakeController{})
	_, done := run(t, m)
	// Run returns on its own: the test's context is still live.
	if err := done(); !errors.Is(err, boom) || !strings.Contains(err.Error(), "controller fake") {
		t.Errorf("Run = %v, want the controller's error, wrapped with its name", err)
	}
}

// TestManagerLeaderElection runs two managers on one Lease: only one runs
// its controller and starts its informers; when it stops, it stops its
// informers and releases the Lease, and the other takes over.
func TestManagerLeaderElection(t *testing.T) {
	kube := fake.NewClientset()
	opts := func(id string) ManagerOptions {
		return ManagerOptions{Workers: 1, LeaderElection: LeaderElection{
			Enabled: true, Namespace: "gantry-system", Name: "gantry-controller", Identity: id,
			LeaseDuration: 30 * time.Second, RenewDeadline: 20 * time.Second, RetryPeriod: 50 * time.Millisecond,
		}}
	}
	a, b := NewManager(kube, opts("a")), NewManager(kube, opts("b"))
	ca, cb := &fakeController{}, &fakeController{}
	ia, ib := &fakeInformers{}, &fakeInformers{}
	a.Register(ca)
	a.AddInformers(ia)
	b.Register(cb)
	b.AddInformers(ib)

	cancelA, doneA := run(t, a)
	waitFor(t, "a to lead", func() bool { return a.Leading() && ca.running.Load() == 1 })
	if n := ia.started.Load(); n != 1 {
		t.Errorf("a started its informers %d times, want once", n)
	}
	run(t, b)
	// b retries every 50ms; give it a few rounds to (wrongly) take over.
	// The Lease, held and renewed by a, is valid for 30s.
	if err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, 500*time.Millisecond, true,
		func(context.Context) (bool, error) {
			return b.Leading() || cb.running.Load() > 0 || ib.started.Load() > 0, nil
		}); err == nil {
		t.Fatal("b runs its controller or informers while a holds the Lease")
	}

	cancelA()
	if err := doneA(); err != nil {
		t.Errorf("a's Run = %v", err)
	}
	if !ia.stopped() || ia.shutdown.Load() != 1 {
		t.Errorf("after a's Run returned: informers told to stop %v, shut down %d times; want true and once", ia.stopped(), ia.shutdown.Load())
	}
	waitFor(t, "b to take over after a released the Lease", func() bool { return b.Leading() && cb.running.Load() == 1 })
	if ca.running.Load() != 0 {
		t.Error("a's controller still runs")
	}
	if n := ib.started.Load(); n != 1 {
		t.Errorf("b started its informers %d times after taking over, want once", n)
	}
}

func TestOptionsValidate(t *testing.T) {
	o := NewOptions()
	if err := o.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if o.BindAddress != "127.0.0.1:9402" || !o.LeaderElect || o.LeaseName != "gantry-controller" || o.Workers != 2 {
		t.Errorf("defaults = %+v", o)
	}
	o.Workers, o.BindAddress, o.LeaseName = 0, "9402", ""
	err := o.Validate()
	for _, want := range []string{"--workers", "--bind-address", "--leader-elect-lease-name"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to name %s", err, want)
		}
	}
}

func TestLeaseNamespaceDefaultsToPodNamespace(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "gantry-system")
	if ns := NewOptions().LeaseNamespace; ns != "gantry-system" {
		t.Errorf("lease namespace = %q, want $POD_NAMESPACE", ns)
	}
	t.Setenv("POD_NAMESPACE", "")
	if ns := NewOptions().LeaseNamespace; ns != "kube-system" {
		t.Errorf("lease namespace = %q, want kube-system without $POD_NAMESPACE", ns)
	}
}
