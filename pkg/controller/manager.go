// Package controller is gantry-controller: a small controller manager that
// runs Gantry's controllers (the PodGroup and Queue status controllers) in the
// replica that holds a leader-election Lease, and serves health and
// metrics.
package controller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"
	schedv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
)

// Controller is one control loop the manager runs while it leads.
type Controller interface {
	// Name names the controller in logs.
	Name() string
	// Run waits for the controller's informers (which the manager starts)
	// to sync, starts its workers and blocks until ctx ends. An error ends
	// the manager.
	Run(ctx context.Context, workers int) error
	// HasSynced reports whether the controller's caches have synced; the
	// manager is ready while it leads only once every controller has.
	HasSynced() bool
}

// LeaderElection configures the Lease the replicas compete for.
type LeaderElection struct {
	// Enabled turns leader election on; off, the manager runs its
	// controllers at once (one replica only).
	Enabled bool
	// Namespace and Name name the Lease.
	Namespace, Name string
	// Identity is this replica's holder identity; empty is hostname_UUID.
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod are client-go's
	// leader-election timings; zero takes the defaults of kube-controller-
	// manager (15s, 10s, 2s).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	// BindAddress serves /healthz, /readyz and /metrics; empty serves
	// nothing.
	BindAddress string
	// Workers is each controller's number of workers.
	Workers int
	// LeaderElection configures the Lease.
	LeaderElection LeaderElection
}

// Manager runs registered controllers while it holds the leader Lease.
type Manager struct {
	kube        kubernetes.Interface
	opts        ManagerOptions
	broadcaster record.EventBroadcaster
	controllers []Controller
	informers   []InformerFactory

	leading atomic.Bool
	elector atomic.Pointer[leaderelection.LeaderElector]
	// Addr is set once the health and metrics server listens.
	addr atomic.Pointer[net.Addr]
}

// Scheme is the scheme the manager's event recorders resolve the kinds of
// objects they record events on with: typed informers' and clients'
// objects carry no kind. It holds gantry.dev's and scheduler-plugins'
// types; a controller that records events on other objects adds their
// types before recording.
var Scheme = newScheme()

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(gantryv1alpha1.AddToScheme(s))
	utilruntime.Must(schedv1alpha1.AddToScheme(s))
	return s
}

// NewManager returns a Manager that talks to the API server with kube.
func NewManager(kube kubernetes.Interface, opts ManagerOptions) *Manager {
	return &Manager{
		kube:        kube,
		opts:        opts,
		broadcaster: record.NewBroadcaster(),
	}
}

// EventRecorder returns a recorder whose events name the controller as
// gantry-controller/<name>. Events reach the API server only while Run
// runs.
//
// They are core/v1 events (client-go's record package), not events.k8s.io
// ones: the events.k8s.io recorder folds every event with the same reason
// on the same object into one series that keeps its first note, so a
// warning given again because its facts changed would still show the old
// facts. The core/v1 recorder folds only identical messages.
func (m *Manager) EventRecorder(name string) record.EventRecorder {
	return m.broadcaster.NewRecorder(Scheme, corev1.EventSource{Component: "gantry-controller/" + name})
}

// Register adds a controller. Call it before Run.
func (m *Manager) Register(c Controller) { m.controllers = append(m.controllers, c) }

// AddInformers adds the shared informer factories the controllers took
// their informers from when they were built. The manager starts them, once,
// when it starts the controllers, so that a replica that does not lead
// does not even list, and shuts them down when the controllers stop. Call
// it before Run.
func (m *Manager) AddInformers(factories ...InformerFactory) {
	m.informers = append(m.informers, factories...)
}

// Addr is the address the health and metrics server listens on, once Run
// has started it; nil before or when it serves nothing.
func (m *Manager) Addr() net.Addr {
	if a := m.addr.Load(); a != nil {
		return *a
	}
	return nil
}

// Leading reports whether the manager holds the Lease and runs its
// controllers.
func (m *Manager) Leading() bool { return m.leading.Load() }

// Run serves health and metrics, waits for the Lease, and runs the
// controllers until ctx ends (nil) or the Lease is lost or a controller
// fails (an error: the process should exit, and a fresh one compete
// again, rather than carry on with state from its time as leader). On
// return, the controllers have stopped and, if ctx ended, the Lease is
// released.
func (m *Manager) Run(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	if len(m.controllers) == 0 {
		return errors.New("no controllers registered")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var serving sync.WaitGroup
	if m.opts.BindAddress != "" {
		ln, err := net.Listen("tcp", m.opts.BindAddress)
		if err != nil {
			return fmt.Errorf("listening on --bind-address %s: %w", m.opts.BindAddress, err)
		}
		addr := ln.Addr()
		m.addr.Store(&addr)
		srv := &http.Server{Handler: m.handler(), ReadHeaderTimeout: 5 * time.Second}
		serving.Add(1)
		go func() {
			defer serving.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				cancel(fmt.Errorf("serving health and metrics on %s: %w", addr, err))
			}
		}()
		defer func() {
			shutdownCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer done()
			_ = srv.Shutdown(shutdownCtx)
			serving.Wait()
		}()
		logger.Info("Serving health and metrics", "address", addr.String())
	}

	m.broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: m.kube.CoreV1().Events("")})
	m.broadcaster.StartStructuredLogging(3)
	defer m.broadcaster.Shutdown()

	if !m.opts.LeaderElection.Enabled {
		m.leading.Store(true)
		defer m.leading.Store(false)
		return m.runControllers(ctx)
	}
	return m.runLeaderElected(ctx, cancel)
}

// runLeaderElected competes for the Lease and runs the controllers while
// it holds it.
func (m *Manager) runLeaderElected(ctx context.Context, cancel context.CancelCauseFunc) error {
	logger := klog.FromContext(ctx)
	le := m.opts.LeaderElection
	id := le.Identity
	if id == "" {
		host, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("getting the hostname for the leader-election identity: %w", err)
		}
		// The UUID keeps two replicas on one host apart.
		id = host + "_" + string(uuid.NewUUID())
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: le.Namespace, Name: le.Name},
		Client:     m.kube.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: id},
	}
	var (
		controllersDone = make(chan struct{})
		started         atomic.Bool
		runErr          atomic.Pointer[error]
	)
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   orDefault(le.LeaseDuration, 15*time.Second),
		RenewDeadline:   orDefault(le.RenewDeadline, 10*time.Second),
		RetryPeriod:     orDefault(le.RetryPeriod, 2*time.Second),
		ReleaseOnCancel: true,
		Name:            le.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leadCtx context.Context) {
				started.Store(true)
				defer close(controllersDone)
				logger.Info("Leading: starting controllers", "lease", le.Namespace+"/"+le.Name, "identity", id)
				m.leading.Store(true)
				defer m.leading.Store(false)
				if err := m.runControllers(leadCtx); err != nil {
					runErr.Store(&err)
					cancel(err)
				}
			},
			OnStoppedLeading: func() {
				if started.Load() {
					logger.Info("Stopped leading", "lease", le.Namespace+"/"+le.Name, "identity", id)
				}
			},
			OnNewLeader: func(identity string) {
				if identity != id {
					logger.Info("Another replica leads", "lease", le.Namespace+"/"+le.Name, "leader", identity)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("configuring leader election on Lease %s/%s: %w", le.Namespace, le.Name, err)
	}
	m.elector.Store(elector)
	logger.Info("Waiting for the leader Lease", "lease", le.Namespace+"/"+le.Name, "identity", id)
	elector.Run(ctx)
	if !started.Load() {
		return nil // ctx ended before this replica led
	}
	// Run returned: ctx ended or the Lease was lost, and the controllers'
	// context is cancelled. Wait for them, so that nothing writes once
	// Run has returned.
	<-controllersDone
	if p := runErr.Load(); p != nil {
		return *p
	}
	if ctx.Err() == nil {
		return fmt.Errorf("lost the leader Lease %s/%s", le.Namespace, le.Name)
	}
	return nil
}

// runControllers starts the informers and runs every controller until ctx
// ends or one fails.
func (m *Manager) runControllers(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, f := range m.informers {
		f.Start(ctx.Done())
	}
	// Waits for the informers' goroutines, so that none outlives Run.
	defer func() {
		cancel()
		for _, f := range m.informers {
			f.Shutdown()
		}
	}()
	errs := make(chan error, len(m.controllers))
	for _, c := range m.controllers {
		go func() {
			logger := klog.FromContext(ctx).WithValues("controller", c.Name())
			err := c.Run(klog.NewContext(ctx, logger), m.opts.Workers)
			if err != nil {
				err = fmt.Errorf("controller %s: %w", c.Name(), err)
				cancel()
			}
			errs <- err
		}()
	}
	var all []error
	for range m.controllers {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}

// handler serves /healthz (the process is up and, while it leads, renews
// its Lease), /readyz (healthy and, while it leads, every controller has
// synced; a standby replica is ready: it is ready to take over) and
// /metrics.
func (m *Manager) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if err := m.healthy(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := m.healthy(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		if m.leading.Load() {
			for _, c := range m.controllers {
				if !c.HasSynced() {
					http.Error(w, fmt.Sprintf("controller %s has not synced", c.Name()), http.StatusServiceUnavailable)
					return
				}
			}
		}
		_, _ = w.Write([]byte("ok"))
	})
	mux.Handle("/metrics", legacyregistry.Handler())
	return mux
}

// healthy fails when the manager leads but has not renewed its Lease for
// longer than the lease duration plus a grace period: its controllers may
// be wedged while another replica could take over.
func (m *Manager) healthy() error {
	if e := m.elector.Load(); e != nil {
		if err := e.Check(20 * time.Second); err != nil {
			return fmt.Errorf("leader election: %w", err)
		}
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
