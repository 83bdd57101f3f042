package scheduler

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	fwk "k8s.io/kube-scheduler/framework"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/gang"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/gputopology"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/preemption"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/queue"
	"github.com/gantry-gpu/gantry/pkg/scheduler/shared"
)

// pluginFactory is a Gantry plugin's constructor: the framework's, with
// the scheduler's shared state.
type pluginFactory func(ctx context.Context, obj runtime.Object, h fwk.Handle, st *shared.State) (fwk.Plugin, error)

// Registry is Gantry's out-of-tree plugins, each given st. The scheduler
// configuration enables them per profile (deploy/config/scheduler-config.yaml);
// registering a plugin alone changes no profile.
func Registry(st *shared.State) frameworkruntime.Registry {
	with := func(f pluginFactory) frameworkruntime.PluginFactory {
		return func(ctx context.Context, obj runtime.Object, h fwk.Handle) (fwk.Plugin, error) {
			return f(ctx, obj, h, st)
		}
	}
	return frameworkruntime.Registry{
		gputopology.Name: with(gputopology.New),
		gang.Name:        with(gang.New),
		preemption.Name:  preemption.New,
		queue.Name:       with(queue.New),
	}
}
