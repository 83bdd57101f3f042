package scheduler

import (
	"k8s.io/kubernetes/cmd/kube-scheduler/app"

	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/gang"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/gputopology"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/preemption"
	"github.com/gantry-gpu/gantry/pkg/scheduler/plugins/queue"
)

// Options registers Gantry's out-of-tree plugins with the kube-scheduler
// framework. The scheduler configuration enables them per profile
// (deploy/config/scheduler-config.yaml); registering a plugin alone changes
// no profile. Tests that run the scheduler in-process pass these to
// app.Setup, so they run the same plugins as the binary.
func Options() []app.Option {
	return []app.Option{
		app.WithPlugin(gputopology.Name, gputopology.New),
		app.WithPlugin(gang.Name, gang.New),
		app.WithPlugin(preemption.Name, preemption.New),
		app.WithPlugin(queue.Name, queue.New),
	}
}
