package deviceplugin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"k8s.io/klog/v2"
	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"
)

// Why the plugin serves and registers again. The first two call for doing
// it at once; the third for waiting until the kubelet's socket appears.
var (
	errKubeletRestarted = errors.New("the kubelet restarted (its socket was recreated)")
	errSocketRemoved    = errors.New("the plugin socket was removed")
	errNoKubelet        = errors.New("the kubelet's registration socket is not there")
)

// Run serves and registers until ctx ends. It starts over at once when the
// kubelet restarts or the plugin's socket is removed (the kubelet admits
// pods about a second after it starts, so a fixed pause would fail the GPU
// pods bound around a restart), registers as soon as the kubelet's socket
// appears, and backs off only after real failures.
func (s *PluginServer) Run(ctx context.Context) error {
	logger := klog.FromContext(ctx).WithValues("resource", s.resource.Name)
	ctx = klog.NewContext(ctx, logger)
	var watcher *fsnotify.Watcher
	defer func() {
		if watcher != nil {
			_ = watcher.Close()
		}
	}()
	var delay time.Duration
	for {
		var err error
		if watcher == nil {
			watcher, err = s.watchSocketDir()
		}
		registeredOnce := false
		if err == nil {
			registeredOnce, err = s.serveOnce(ctx, watcher)
		}
		registered.WithLabelValues(s.resource.Name).Set(0)
		if ctx.Err() != nil {
			return nil
		}
		if registeredOnce {
			delay = 0
		}
		switch {
		case errors.Is(err, errKubeletRestarted), errors.Is(err, errSocketRemoved):
			logger.Info("Serving and registering again", "reason", err)
			continue
		case errors.Is(err, errNoKubelet):
			logger.Info("Waiting for the kubelet's registration socket", "socket", s.cfg.KubeletSocket())
			// The socket's creation ends the wait; the timer only guards
			// against a lost filesystem event.
			if !s.waitForKubelet(ctx, watcher, s.cfg.maxRetryInterval()) {
				return nil
			}
		default:
			delay = s.cfg.nextDelay(delay)
			logger.Error(err, "Serving or registering failed", "retryAfter", delay)
			if !s.waitForKubelet(ctx, watcher, delay) {
				return nil
			}
		}
	}
}

func (c ServerConfig) maxRetryInterval() time.Duration {
	if c.MaxRetryInterval > 0 {
		return max(c.MaxRetryInterval, c.RetryInterval)
	}
	return max(30*time.Second, c.RetryInterval)
}

// nextDelay is the pause after one more failure in a row.
func (c ServerConfig) nextDelay(d time.Duration) time.Duration {
	return min(max(2*d, c.RetryInterval), c.maxRetryInterval())
}

// watchSocketDir watches the kubelet's device-plugin folder, so that a
// kubelet restart (its socket recreated) or the removal of the plugin's
// socket is seen however long the plugin runs.
func (s *PluginServer) watchSocketDir() (*fsnotify.Watcher, error) {
	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", s.cfg.SocketDir, err)
	}
	if err := watcher.Add(s.cfg.SocketDir); err != nil {
		_ = watcher.Close()
		return nil, fmt.Errorf("watching %s: %w", s.cfg.SocketDir, err)
	}
	return watcher, nil
}

// waitForKubelet waits d, or less if the kubelet's socket is created
// meanwhile; false when ctx ends. A nil watcher only waits.
func (s *PluginServer) waitForKubelet(ctx context.Context, watcher *fsnotify.Watcher, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	var events <-chan fsnotify.Event
	var errs <-chan error
	if watcher != nil {
		events, errs = watcher.Events, watcher.Errors
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return true
		case ev := <-events:
			if ev.Name == s.cfg.KubeletSocket() && ev.Has(fsnotify.Create) {
				return true
			}
		case err := <-errs:
			klog.FromContext(ctx).V(2).Info("Watching the kubelet's socket folder", "err", err)
		}
	}
}

// serveOnce serves the socket and registers, then waits for a reason to
// start over, which it returns, with whether it registered. It watches the
// folder while it registers too: a kubelet starting removes the plugin's
// socket and then dials it, so a registration under way when that happens
// would wait out its timeout. The watcher outlives each round, so events
// about a socket it has since seen anew are stale and skipped.
func (s *PluginServer) serveOnce(ctx context.Context, watcher *fsnotify.Watcher) (bool, error) {
	logger := klog.FromContext(ctx)
	kubeletSocket := s.cfg.KubeletSocket()
	kubelet, err := os.Stat(kubeletSocket)
	if errors.Is(err, os.ErrNotExist) {
		return false, errNoKubelet
	}
	if err != nil {
		return false, fmt.Errorf("the kubelet's socket %s: %w", kubeletSocket, err)
	}

	if err := os.Remove(s.socketPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("removing stale socket %s: %w", s.socketPath, err)
	}
	ln, err := net.Listen("unix", s.socketPath)
	if err != nil {
		return false, fmt.Errorf("listening on %s: %w", s.socketPath, err)
	}
	own, err := os.Stat(s.socketPath)
	if err != nil {
		_ = ln.Close()
		return false, fmt.Errorf("listening on %s: %w", s.socketPath, err)
	}
	srv := grpc.NewServer()
	pluginapi.RegisterDevicePluginServer(srv, s)
	served := make(chan error, 1)
	stopped := make(chan struct{})
	s.mu.Lock()
	s.serving = stopped
	s.mu.Unlock()
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		close(stopped)
		srv.Stop()
	}()

	registerCtx, cancelRegister := context.WithCancel(ctx)
	defer cancelRegister()
	registeredErr := make(chan error, 1)
	go func() { registeredErr <- s.register(registerCtx) }()
	done := false
	for {
		select {
		case <-ctx.Done():
			return done, ctx.Err()
		case err := <-registeredErr:
			if err != nil {
				registrations.WithLabelValues(s.resource.Name, "error").Inc()
				return false, err
			}
			done = true
			// The kubelet registered with; a later creation of its socket is a restart.
			if kubelet, err = os.Stat(kubeletSocket); err != nil {
				return true, errKubeletRestarted
			}
			registrations.WithLabelValues(s.resource.Name, "ok").Inc()
			registered.WithLabelValues(s.resource.Name).Set(1)
			logger.Info("Registered with the kubelet", "socket", s.socketPath, "devices", s.resource.Devices.Len())
		case err := <-served:
			return done, fmt.Errorf("gRPC server stopped: %w", err)
		case err := <-watcher.Errors:
			return done, fmt.Errorf("watching %s: %w", s.cfg.SocketDir, err)
		case ev := <-watcher.Events:
			switch {
			case ev.Name == kubeletSocket && ev.Has(fsnotify.Create):
				if !sameFile(kubeletSocket, kubelet) {
					return done, errKubeletRestarted
				}
			case ev.Name == s.socketPath && (ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)):
				if !sameFile(s.socketPath, own) {
					return done, errSocketRemoved
				}
			}
		}
	}
}

// sameFile says whether path is still the file seen as fi.
func sameFile(path string, fi os.FileInfo) bool {
	now, err := os.Stat(path)
	return err == nil && os.SameFile(now, fi)
}

// register registers the resource, waiting up to 10 s for the kubelet to
// accept the connection: its socket exists a moment before it listens, and
// a kubelet killed and not yet restarted leaves a socket nobody answers.
func (s *PluginServer) register(ctx context.Context) error {
	conn, err := grpc.NewClient("unix://"+s.cfg.KubeletSocket(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second}}))
	if err != nil {
		return fmt.Errorf("connecting to the kubelet at %s: %w", s.cfg.KubeletSocket(), err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = pluginapi.NewRegistrationClient(conn).Register(ctx, &pluginapi.RegisterRequest{
		Version:      pluginapi.Version,
		Endpoint:     filepath.Base(s.socketPath),
		ResourceName: s.resource.Name,
		Options:      s.options(),
	}, grpc.WaitForReady(true))
	if err != nil {
		return fmt.Errorf("registering %s with the kubelet at %s: %w", s.resource.Name, s.cfg.KubeletSocket(), err)
	}
	return nil
}
