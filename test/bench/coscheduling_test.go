package bench

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
	configv1 "k8s.io/kube-scheduler/config/v1"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"
	"k8s.io/utils/ptr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	// Registers Coscheduling's args (CoschedulingArgs) with kube-scheduler's
	// configuration scheme, so the in-process scheduler decodes them.
	_ "sigs.k8s.io/scheduler-plugins/apis/config/scheme"
	"sigs.k8s.io/scheduler-plugins/pkg/coscheduling"
)

func init() {
	// Coscheduling reads PodGroups through a controller-runtime cache, whose
	// logs go nowhere (with a warning and a stack trace) unless set.
	ctrllog.SetLogger(klog.NewKlogr())
}

// coschedulingOptions registers scheduler-plugins' Coscheduling, the
// baseline of the gang benchmark, as an out-of-tree plugin.
func coschedulingOptions() []app.Option {
	return []app.Option{app.WithPlugin(coscheduling.Name, coscheduling.New)}
}

// coschedulingConfig is a scheduler with one profile, schedulerName: the
// default kube-scheduler profile plus Coscheduling as scheduler-plugins'
// manifests/coscheduling configures it (enabled at every extension point it
// implements — PreFilter, PostFilter, Permit, Reserve — and as the queue
// sort, PrioritySort disabled), with permitWaitingTimeSeconds and
// podGroupBackoffSeconds as given. Leader election is off and the client's
// rate limit lifted to 5000 QPS, as for Gantry's profile.
func coschedulingConfig(b *testing.B, kubeconfig, schedulerName string, permitWaitingTimeSeconds, podGroupBackoffSeconds int64) string {
	args, err := json.Marshal(map[string]any{
		"permitWaitingTimeSeconds": permitWaitingTimeSeconds,
		"podGroupBackoffSeconds":   podGroupBackoffSeconds,
	})
	if err != nil {
		b.Fatal(err)
	}
	profile := configv1.KubeSchedulerProfile{
		SchedulerName: ptr.To(schedulerName),
		Plugins: &configv1.Plugins{
			MultiPoint: configv1.PluginSet{Enabled: []configv1.Plugin{{Name: coscheduling.Name}}},
			QueueSort: configv1.PluginSet{
				Enabled:  []configv1.Plugin{{Name: coscheduling.Name}},
				Disabled: []configv1.Plugin{{Name: "*"}},
			},
		},
		PluginConfig: []configv1.PluginConfig{{Name: coscheduling.Name, Args: runtime.RawExtension{Raw: args}}},
	}
	c := configv1.KubeSchedulerConfiguration{Profiles: []configv1.KubeSchedulerProfile{profile}}
	c.APIVersion = configv1.SchemeGroupVersion.String()
	c.Kind = "KubeSchedulerConfiguration"
	c.LeaderElection.LeaderElect = ptr.To(false)
	c.ClientConnection.Kubeconfig = kubeconfig
	liftClientRateLimit(&c)
	return writeSchedulerConfig(b, filepath.Join(b.TempDir(), "coscheduling.yaml"), &c)
}
