package replay

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/runtime"
	configv1 "k8s.io/kube-scheduler/config/v1"
	"k8s.io/utils/ptr"

	"github.com/gantry-gpu/gantry/test/framework"
)

// Scheduler is one scheduler under test: a kube-scheduler configuration
// with one profile and the out-of-tree plugins it needs, run in-process,
// or a scheduler binary of its own (Tool).
type Scheduler struct {
	// Name is the short name in reports ("gantry", "default", ...).
	Name string
	// Description says what it is, for the report.
	Description string
	// Config writes the configuration for a profile named schedulerName
	// into dir and returns its path.
	Config func(kubeconfig, dir, schedulerName string) (string, error)
	// Tool, when set, is a scheduler binary built by `make tools` that runs
	// the configuration as its own process instead.
	Tool string
	// GPUIDs: the scheduler chooses the GPUs (gantry.dev/gpu-ids).
	GPUIDs bool
	// Queues: create Queue objects for the workload's queues.
	Queues bool
	// ElasticQuotas: create an ElasticQuota for each queue's namespace
	// (CapacityScheduling), its min the queue's weighted share of the
	// cluster, its max the whole cluster.
	ElasticQuotas bool
}

// scheduler-plugins' plugin names, as its scheduler binary registers them.
const (
	coschedulingPlugin       = "Coscheduling"
	capacitySchedulingPlugin = "CapacityScheduling"
)

// EnvQueueArgs, when set, replaces GantryQueue's args in Gantry's profile
// (JSON, e.g. {"resourceName":"nvidia.com/gpu","fairShareReclaim":true}),
// to compare settings on the same workload.
const EnvQueueArgs = "GANTRY_BENCH_QUEUE_ARGS"

// GangTimeoutSeconds is every PodGroup's scheduleTimeoutSeconds (wall
// time): how long placed members wait in Permit for the rest.
const GangTimeoutSeconds = 30

// Schedulers are the schedulers the suite compares, Gantry first.
func Schedulers() []Scheduler {
	return []Scheduler{
		{
			Name:        "gantry",
			Description: "Gantry's shipped profile (GantryGPUTopology, GantryQueue, GantryGang, GantryPreemption)",
			Config:      gantryConfig,
			GPUIDs:      true,
			Queues:      true,
		},
		{
			Name:        "default",
			Description: "kube-scheduler's default profile (NodeResourcesFit LeastAllocated on cpu and memory)",
			Config: func(kubeconfig, dir, name string) (string, error) {
				return profileConfig(kubeconfig, dir, configv1.KubeSchedulerProfile{SchedulerName: ptr.To(name)})
			},
		},
		{
			Name:        "mostallocated",
			Description: "the default profile with NodeResourcesFit MostAllocated (cpu 1, memory 1, nvidia.com/gpu 3: the bin-packing recipe of the Kubernetes docs)",
			Config: func(kubeconfig, dir, name string) (string, error) {
				args, err := json.Marshal(map[string]any{"scoringStrategy": map[string]any{
					"type": "MostAllocated",
					"resources": []map[string]any{
						{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}, {"name": string(GPUResource), "weight": 3},
					},
				}})
				if err != nil {
					return "", err
				}
				return profileConfig(kubeconfig, dir, configv1.KubeSchedulerProfile{
					SchedulerName: ptr.To(name),
					PluginConfig:  []configv1.PluginConfig{{Name: "NodeResourcesFit", Args: runtime.RawExtension{Raw: args}}},
				})
			},
		},
		{
			Name:        "coscheduling",
			Description: "the default profile plus scheduler-plugins' Coscheduling (as its manifests configure it; permit wait 30 s, backoff 10 s) and CapacityScheduling (one ElasticQuota per queue: min = the queue's weighted share of the cluster, max = the cluster; it replaces DefaultPreemption, as its manifests configure it)",
			Config: func(kubeconfig, dir, name string) (string, error) {
				args, err := json.Marshal(map[string]any{"permitWaitingTimeSeconds": GangTimeoutSeconds, "podGroupBackoffSeconds": 10})
				if err != nil {
					return "", err
				}
				return profileConfig(kubeconfig, dir, configv1.KubeSchedulerProfile{
					SchedulerName: ptr.To(name),
					Plugins: &configv1.Plugins{
						MultiPoint: configv1.PluginSet{
							Enabled:  []configv1.Plugin{{Name: coschedulingPlugin}, {Name: capacitySchedulingPlugin}},
							Disabled: []configv1.Plugin{{Name: "DefaultPreemption"}},
						},
						QueueSort: configv1.PluginSet{
							Enabled:  []configv1.Plugin{{Name: coschedulingPlugin}},
							Disabled: []configv1.Plugin{{Name: "*"}},
						},
					},
					PluginConfig: []configv1.PluginConfig{{Name: coschedulingPlugin, Args: runtime.RawExtension{Raw: args}}},
				})
			},
			Tool:          framework.SchedulerPluginsTool,
			ElasticQuotas: true,
		},
		{
			Name:        "gantry-noqueues",
			Description: "Gantry's shipped profile with no Queue objects (GantryQueue inert): placement and gangs alone",
			Config:      gantryConfig,
			GPUIDs:      true,
		},
	}
}

// DefaultSchedulers are the schedulers a run compares unless told
// otherwise; Schedulers() has more (gantry-noqueues).
var DefaultSchedulers = []string{"gantry", "default", "mostallocated", "coscheduling"}

// SelectSchedulers returns the named schedulers, in the order given
// (DefaultSchedulers for none).
func SelectSchedulers(names []string) ([]Scheduler, error) {
	all := Schedulers()
	if len(names) == 0 {
		names = DefaultSchedulers
	}
	var out []Scheduler
	for _, n := range names {
		found := false
		for _, s := range all {
			if s.Name == n {
				out, found = append(out, s), true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown scheduler %q", n)
		}
	}
	return out, nil
}

// profileConfig is a scheduler with one profile.
func profileConfig(kubeconfig, dir string, profile configv1.KubeSchedulerProfile) (string, error) {
	cfg := configv1.KubeSchedulerConfiguration{Profiles: []configv1.KubeSchedulerProfile{profile}}
	cfg.APIVersion = configv1.SchemeGroupVersion.String()
	cfg.Kind = "KubeSchedulerConfiguration"
	cfg.LeaderElection.LeaderElect = ptr.To(false)
	cfg.ClientConnection.Kubeconfig = kubeconfig
	return writeConfig(&cfg, filepath.Join(dir, "scheduler-config.yaml"))
}

// gantryConfig is Gantry's shipped configuration for one in-process
// scheduler of the replay, the client's rate limit lifted.
func gantryConfig(kubeconfig, dir, name string) (string, error) {
	return framework.InProcessSchedulerConfig(kubeconfig, dir, name, func(cfg *configv1.KubeSchedulerConfiguration) error {
		liftClientRateLimit(cfg)
		if v := os.Getenv(EnvQueueArgs); v != "" {
			for i := range cfg.Profiles {
				for j := range cfg.Profiles[i].PluginConfig {
					pc := &cfg.Profiles[i].PluginConfig[j]
					if pc.Name == "GantryQueue" {
						pc.Args = runtime.RawExtension{Raw: []byte(v)}
					}
				}
			}
		}
		return nil
	})
}

// liftClientRateLimit lifts the client's rate limit (50 QPS by default,
// which would decide every figure; upstream's scheduler_perf lifts it too).
func liftClientRateLimit(cfg *configv1.KubeSchedulerConfiguration) {
	cfg.ClientConnection.QPS = 5000
	cfg.ClientConnection.Burst = 5000
}

// writeConfig lifts the client's rate limit and writes the configuration.
func writeConfig(cfg *configv1.KubeSchedulerConfiguration, path string) (string, error) {
	liftClientRateLimit(cfg)
	out, err := framework.MarshalSchedulerConfig(cfg)
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, out, 0o600)
}
