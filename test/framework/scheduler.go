package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	configv1 "k8s.io/kube-scheduler/config/v1"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/gantry-gpu/gantry/pkg/scheduler"
)

// shippedProfile is the profile of deploy/config/scheduler-config.yaml that
// in-process schedulers run under another name.
const shippedProfile = "gantry"

// InProcessSchedulerConfig writes the shipped scheduler configuration for a
// scheduler run inside a test: only its "gantry" profile, renamed to
// schedulerName (so the test's pods reach this scheduler and no other, and
// the test reaches no other test's pods), leader election off (so it never
// competes for the shipped lease with a gantry-scheduler binary another test
// runs), and its client pointed at kubeconfig. edits, if any, change the
// configuration before it is written (say, a plugin's args). It returns
// the file's path.
func InProcessSchedulerConfig(kubeconfig, dir, schedulerName string, edits ...func(*configv1.KubeSchedulerConfiguration) error) (string, error) {
	shipped, err := os.ReadFile(filepath.Join(RepoRoot(), "deploy", "config", "scheduler-config.yaml"))
	if err != nil {
		return "", fmt.Errorf("reading the shipped scheduler configuration: %w", err)
	}
	var cfg configv1.KubeSchedulerConfiguration
	if err := yaml.UnmarshalStrict(shipped, &cfg); err != nil {
		return "", fmt.Errorf("parsing the shipped scheduler configuration: %w", err)
	}
	var profile *configv1.KubeSchedulerProfile
	for i := range cfg.Profiles {
		if cfg.Profiles[i].SchedulerName != nil && *cfg.Profiles[i].SchedulerName == shippedProfile {
			profile = &cfg.Profiles[i]
		}
	}
	if profile == nil {
		return "", fmt.Errorf("the shipped scheduler configuration has no profile %q", shippedProfile)
	}
	profile.SchedulerName = ptr.To(schedulerName)
	cfg.Profiles = []configv1.KubeSchedulerProfile{*profile}
	cfg.LeaderElection.LeaderElect = ptr.To(false)
	cfg.ClientConnection.Kubeconfig = kubeconfig
	for _, edit := range edits {
		if err := edit(&cfg); err != nil {
			return "", err
		}
	}
	out, err := yaml.Marshal(&cfg)
	if err != nil {
		return "", fmt.Errorf("writing scheduler configuration: %w", err)
	}
	path := filepath.Join(dir, "scheduler-config.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return "", fmt.Errorf("writing scheduler configuration: %w", err)
	}
	return path, nil
}

// StartScheduler runs gantry-scheduler's setup (kube-scheduler's app with
// Gantry's plugins) inside the test process with configFile, without a
// serving endpoint. It returns once the scheduler's informers have synced
// and it is scheduling, and a function that stops it and waits until it
// has stopped; the test's cleanup stops it too.
func StartScheduler(ctx context.Context, t testing.TB, configFile string) (stop func()) {
	t.Helper()
	// As gantry-scheduler's command does; the gates are the process's.
	if err := scheduler.SetFeatureGateDefaults(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	opts := options.NewOptions()
	opts.ConfigFile = configFile
	// No secure serving: nothing to serve in a test, no port to collide on.
	opts.SecureServing.BindPort = 0
	cc, sched, err := scheduler.Setup(ctx, opts)
	if err != nil {
		cancel()
		t.Fatalf("setting up the in-process scheduler: %v", err)
	}
	cc.EventBroadcaster.StartRecordingToSink(ctx.Done())
	cc.InformerFactory.Start(ctx.Done())
	cc.DynInformerFactory.Start(ctx.Done())
	syncCtx, syncCancel := context.WithTimeout(ctx, time.Minute)
	defer syncCancel()
	for typ, ok := range cc.InformerFactory.WaitForCacheSync(syncCtx.Done()) {
		if !ok {
			cancel()
			t.Fatalf("in-process scheduler: informer for %v did not sync", typ)
		}
	}
	for gvr, ok := range cc.DynInformerFactory.WaitForCacheSync(syncCtx.Done()) {
		if !ok {
			cancel()
			t.Fatalf("in-process scheduler: informer for %v did not sync", gvr)
		}
	}
	if err := sched.WaitForHandlersSync(syncCtx); err != nil {
		cancel()
		t.Fatalf("in-process scheduler: handlers did not sync: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sched.Run(ctx)
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		cc.EventBroadcaster.Shutdown()
	}
	t.Cleanup(stop)
	return stop
}
