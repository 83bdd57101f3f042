package scheduler

import (
	"context"
	"fmt"

	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	schedulerserverconfig "k8s.io/kubernetes/cmd/kube-scheduler/app/config"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	kubescheduler "k8s.io/kubernetes/pkg/scheduler"
	kubeschedulerconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/latest"

	"github.com/gantry-gpu/gantry/pkg/scheduler/shared"
)

// Setup is kube-scheduler's app.Setup with Gantry's plugins registered and
// one shared.State built for them. The scheduler's informers for Gantry's
// resources (the custom resources of plugins' EventsToRegister) come from
// the state's typed factories instead of a dynamic factory of its own, so
// each resource is watched once and queueing hints receive typed objects;
// and the scheduler's own handlers of those and of pods run after the
// state has applied the event (shared.Informers.RefreshFirst).
func Setup(ctx context.Context, opts *options.Options) (*schedulerserverconfig.CompletedConfig, *kubescheduler.Scheduler, error) {
	cfg, err := latest.Default()
	if err != nil {
		return nil, nil, err
	}
	opts.ComponentConfig = cfg
	if errs := opts.Validate(); len(errs) > 0 {
		return nil, nil, utilerrors.NewAggregate(errs)
	}
	c, err := opts.Config(ctx)
	if err != nil {
		return nil, nil, err
	}
	// Before the scheduler builds its informers, which the gates decide.
	if err := adaptGatesToServer(ctx, c.Client.Discovery()); err != nil {
		return nil, nil, err
	}
	st, err := shared.New(c.KubeConfig)
	if err != nil {
		return nil, nil, fmt.Errorf("building the plugins' shared state: %w", err)
	}
	c.DynInformerFactory = st.Informers.Dynamic(c.DynInformerFactory)
	cc := c.Complete()

	registry := Registry(st)
	var profiles []kubeschedulerconfig.KubeSchedulerProfile
	sched, err := kubescheduler.New(ctx,
		cc.Client,
		st.Informers.Kube(cc.InformerFactory),
		cc.DynInformerFactory,
		func(name string) events.EventRecorderLogger { return cc.EventBroadcaster.NewRecorder(name) },
		kubescheduler.WithComponentConfigVersion(cc.ComponentConfig.TypeMeta.APIVersion),
		kubescheduler.WithKubeConfig(cc.KubeConfig),
		kubescheduler.WithProfiles(cc.ComponentConfig.Profiles...),
		kubescheduler.WithPercentageOfNodesToScore(cc.ComponentConfig.PercentageOfNodesToScore),
		kubescheduler.WithFrameworkOutOfTreeRegistry(registry),
		kubescheduler.WithPodMaxBackoffSeconds(cc.ComponentConfig.PodMaxBackoffSeconds),
		kubescheduler.WithPodInitialBackoffSeconds(cc.ComponentConfig.PodInitialBackoffSeconds),
		kubescheduler.WithPodMaxInUnschedulablePodsDuration(cc.PodMaxInUnschedulablePodsDuration),
		kubescheduler.WithExtenders(cc.ComponentConfig.Extenders...),
		kubescheduler.WithParallelism(cc.ComponentConfig.Parallelism),
		kubescheduler.WithBuildFrameworkCapturer(func(p kubeschedulerconfig.KubeSchedulerProfile) {
			profiles = append(profiles, p)
		}),
	)
	if err != nil {
		return nil, nil, err
	}
	if err := checkPluginOrder(sched.Profiles); err != nil {
		return nil, nil, err
	}
	if err := options.LogOrWriteConfig(klog.FromContext(ctx), opts.WriteConfigTo, &cc.ComponentConfig, profiles); err != nil {
		return nil, nil, err
	}
	return &cc, sched, nil
}
