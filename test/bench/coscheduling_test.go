package bench

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	configv1 "k8s.io/kube-scheduler/config/v1"
	"k8s.io/utils/ptr"
)

// coscheduling is scheduler-plugins' Coscheduling, the baseline of the gang
// benchmark, run by scheduler-plugins' own scheduler binary
// (framework.SchedulerPluginsTool).
const coscheduling = "Coscheduling"

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
			MultiPoint: configv1.PluginSet{Enabled: []configv1.Plugin{{Name: coscheduling}}},
			QueueSort: configv1.PluginSet{
				Enabled:  []configv1.Plugin{{Name: coscheduling}},
				Disabled: []configv1.Plugin{{Name: "*"}},
			},
		},
		PluginConfig: []configv1.PluginConfig{{Name: coscheduling, Args: runtime.RawExtension{Raw: args}}},
	}
	c := configv1.KubeSchedulerConfiguration{Profiles: []configv1.KubeSchedulerProfile{profile}}
	c.APIVersion = configv1.SchemeGroupVersion.String()
	c.Kind = "KubeSchedulerConfiguration"
	c.LeaderElection.LeaderElect = ptr.To(false)
	c.ClientConnection.Kubeconfig = kubeconfig
	liftClientRateLimit(&c)
	return writeSchedulerConfig(b, filepath.Join(b.TempDir(), "coscheduling.yaml"), &c)
}
