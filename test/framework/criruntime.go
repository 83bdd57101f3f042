package framework

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-client/pkg/fake"
)

// fakeImageSize is the size every image of a FakeRuntime reports: the
// kubelet refuses an image whose size is 0.
const fakeImageSize = 1 << 20

// FakeRuntime is a container runtime for a real kubelet: the kubelet's own
// test CRI server (k8s.io/cri-client/pkg/fake) on a unix socket. It runs
// nothing; it keeps the sandboxes and containers the kubelet asks for
// (they stay running until the kubelet stops them) and records the config
// of every container created, so a test can read what the container was
// given (its environment, devices, mounts). It outlives kubelet restarts
// as a real runtime does.
type FakeRuntime struct {
	// Endpoint is the kubelet's containerRuntimeEndpoint (unix://...).
	Endpoint string
	// Fake is the kubelet's fake runtime underneath, for faults (e.g.
	// Fake.RuntimeService.InjectError).
	Fake *fake.RemoteRuntime

	server *grpc.Server
	logDir string

	mu       sync.Mutex
	created  []CreatedContainer
	changed  chan struct{} // closed and replaced on every creation
	stopOnce sync.Once
}

// CreatedContainer is a container the kubelet created in a FakeRuntime.
type CreatedContainer struct {
	ID           string
	PodNamespace string
	PodName      string
	PodUID       string
	// Name is the container's name in the pod; Attempt counts its restarts.
	Name    string
	Attempt uint32
	// Env is the container's environment as the runtime received it.
	Env map[string]string
	// Config is the whole CreateContainer request's config.
	Config *runtimeapi.ContainerConfig
}

// recordingRuntime is the fake's gRPC service with CreateContainer
// recording the config and giving the container a log path.
type recordingRuntime struct {
	*fake.RemoteRuntime
	r *FakeRuntime
}

// StartFakeRuntime serves a FakeRuntime on the unix socket at socket (its
// folder is created; an old socket there is removed). Containers whose
// pod has no absolute log directory get log paths in logDir. No log file is
// written: the kubelet rotates only logs that exist.
func StartFakeRuntime(socket, logDir string) (*FakeRuntime, error) {
	if err := os.MkdirAll(filepath.Dir(socket), 0o755); err != nil {
		return nil, fmt.Errorf("making the fake runtime's socket folder: %w", err)
	}
	if err := os.Remove(socket); err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("removing the old fake runtime socket: %w", err)
	}
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return nil, fmt.Errorf("listening for the fake runtime on %s: %w", socket, err)
	}
	f := fake.NewFakeRemoteRuntime()
	f.ImageService.SetFakeImageSize(fakeImageSize)
	f.RuntimeService.FakeStatus = &runtimeapi.RuntimeStatus{Conditions: []*runtimeapi.RuntimeCondition{
		{Type: runtimeapi.RuntimeReady, Status: true},
		{Type: runtimeapi.NetworkReady, Status: true},
	}}
	r := &FakeRuntime{Endpoint: "unix://" + socket, Fake: f, logDir: logDir, changed: make(chan struct{})}
	srv := grpc.NewServer()
	svc := &recordingRuntime{RemoteRuntime: f, r: r}
	runtimeapi.RegisterRuntimeServiceServer(srv, svc)
	runtimeapi.RegisterImageServiceServer(srv, svc)
	r.server = srv
	go func() { _ = srv.Serve(ln) }()
	return r, nil
}

// Stop stops serving; the socket is removed. Stop may be called more than
// once.
func (r *FakeRuntime) Stop() { r.stopOnce.Do(r.server.Stop) }

func (s *recordingRuntime) CreateContainer(ctx context.Context, req *runtimeapi.CreateContainerRequest) (*runtimeapi.CreateContainerResponse, error) {
	resp, err := s.RemoteRuntime.CreateContainer(ctx, req)
	if err != nil {
		return nil, err
	}
	cfg, sandbox := req.GetConfig(), req.GetSandboxConfig()
	// The fake leaves the log path empty, and the kubelet, removing a
	// container, deletes every file that matches the log path followed by
	// "*": all of its working directory. The path is where a real runtime
	// writes the log; no file is written there.
	logPath := filepath.Join(sandbox.GetLogDirectory(), cfg.GetLogPath())
	if !filepath.IsAbs(sandbox.GetLogDirectory()) || cfg.GetLogPath() == "" {
		logPath = filepath.Join(s.r.logDir, resp.ContainerId+".log")
	}
	fs := s.RuntimeService
	fs.Lock()
	if c, ok := fs.Containers[resp.ContainerId]; ok {
		c.LogPath = logPath
	}
	fs.Unlock()

	env := make(map[string]string, len(cfg.GetEnvs()))
	for _, kv := range cfg.GetEnvs() {
		env[kv.Key] = string(kv.Value)
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.created = append(s.r.created, CreatedContainer{
		ID:           resp.ContainerId,
		PodNamespace: sandbox.GetMetadata().GetNamespace(),
		PodName:      sandbox.GetMetadata().GetName(),
		PodUID:       sandbox.GetMetadata().GetUid(),
		Name:         cfg.GetMetadata().GetName(),
		Attempt:      cfg.GetMetadata().GetAttempt(),
		Env:          env,
		Config:       cfg,
	})
	close(s.r.changed)
	s.r.changed = make(chan struct{})
	return resp, nil
}

// Created returns every container created so far, oldest first.
func (r *FakeRuntime) Created() []CreatedContainer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]CreatedContainer(nil), r.created...)
}

// WaitCreated waits until the kubelet has created the named container of
// the named pod and returns its latest creation.
func (r *FakeRuntime) WaitCreated(ctx context.Context, namespace, pod, container string) (CreatedContainer, error) {
	for {
		r.mu.Lock()
		var found []CreatedContainer
		for _, c := range r.created {
			if c.PodNamespace == namespace && c.PodName == pod && c.Name == container {
				found = append(found, c)
			}
		}
		changed := r.changed
		r.mu.Unlock()
		if len(found) > 0 {
			sort.SliceStable(found, func(i, j int) bool { return found[i].Attempt < found[j].Attempt })
			return found[len(found)-1], nil
		}
		select {
		case <-ctx.Done():
			return CreatedContainer{}, fmt.Errorf("container %s of pod %s/%s was never created: %w", container, namespace, pod, ctx.Err())
		case <-changed:
		}
	}
}
