package deviceplugin

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Config is the optional configuration file (--config): the same settings
// as the flags, in YAML. A flag given on the command line wins over the
// file; the file wins over the defaults. Unknown fields are errors, so a
// typo does not silently fall back to a default.
type Config struct {
	NodeName            *string          `json:"nodeName,omitempty"`
	Kubeconfig          *string          `json:"kubeconfig,omitempty"`
	KubeletSocketDir    *string          `json:"kubeletSocketDir,omitempty"`
	PodResourcesSocket  *string          `json:"podResourcesSocket,omitempty"`
	NVML                *string          `json:"nvml,omitempty"`
	Resources           []string         `json:"resources,omitempty"`
	IgnoredXIDs         []uint           `json:"ignoredXIDs,omitempty"`
	HealthCheckInterval *metav1.Duration `json:"healthCheckInterval,omitempty"`
	RecoveryQuietPeriod *metav1.Duration `json:"recoveryQuietPeriod,omitempty"`
	PublishInterval     *metav1.Duration `json:"publishInterval,omitempty"`
	PublishNodeGPU      *bool            `json:"publishNodeGPU,omitempty"`
	LeaseNamespace      *string          `json:"leaseNamespace,omitempty"`
	LeaseDuration       *metav1.Duration `json:"leaseDuration,omitempty"`
	PassDeviceSpecs     *bool            `json:"passDeviceSpecs,omitempty"`
	DevRoot             *string          `json:"devRoot,omitempty"`
	CDI                 *bool            `json:"cdi,omitempty"`
	PreStartCheck       *bool            `json:"preStartCheck,omitempty"`
	MetricsBindAddress  *string          `json:"metricsBindAddress,omitempty"`
}

// LoadConfig reads a configuration file strictly.
func LoadConfig(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	var c Config
	if err := yaml.UnmarshalStrict(raw, &c); err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	return &c, nil
}

// ApplyTo sets every option the file names whose flag was not given on the
// command line (fs is the parsed flag set; nil applies everything).
func (c *Config) ApplyTo(o *Options, fs *pflag.FlagSet) {
	changed := func(flag string) bool { return fs != nil && fs.Changed(flag) }
	setString := func(flag string, v *string, dst *string) {
		if v != nil && !changed(flag) {
			*dst = *v
		}
	}
	setBool := func(flag string, v *bool, dst *bool) {
		if v != nil && !changed(flag) {
			*dst = *v
		}
	}
	setDuration := func(flag string, v *metav1.Duration, dst *time.Duration) {
		if v != nil && !changed(flag) {
			*dst = v.Duration
		}
	}
	setString("node-name", c.NodeName, &o.NodeName)
	setString("kubeconfig", c.Kubeconfig, &o.Kubeconfig)
	setString("kubelet-socket-dir", c.KubeletSocketDir, &o.KubeletSocketDir)
	setString("pod-resources-socket", c.PodResourcesSocket, &o.PodResourcesSocket)
	setString("nvml", c.NVML, &o.NVML)
	if c.Resources != nil && !changed("resource") {
		o.Resources = c.Resources
	}
	if c.IgnoredXIDs != nil && !changed("ignored-xids") {
		o.IgnoredXIDs = c.IgnoredXIDs
	}
	setDuration("health-check-interval", c.HealthCheckInterval, &o.HealthCheckInterval)
	setDuration("recovery-quiet-period", c.RecoveryQuietPeriod, &o.RecoveryQuietPeriod)
	setDuration("publish-interval", c.PublishInterval, &o.PublishInterval)
	setBool("publish-nodegpu", c.PublishNodeGPU, &o.PublishNodeGPU)
	setString("lease-namespace", c.LeaseNamespace, &o.LeaseNamespace)
	setDuration("lease-duration", c.LeaseDuration, &o.LeaseDuration)
	setBool("pass-device-specs", c.PassDeviceSpecs, &o.PassDeviceSpecs)
	setString("dev-root", c.DevRoot, &o.DevRoot)
	setBool("cdi", c.CDI, &o.CDI)
	setBool("pre-start-check", c.PreStartCheck, &o.PreStartCheck)
	setString("metrics-bind-address", c.MetricsBindAddress, &o.MetricsBindAddress)
}
