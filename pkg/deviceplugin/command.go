// Package deviceplugin is gantry-device-plugin: it serves the kubelet's
// device-plugin API for NVIDIA GPUs and publishes each node's NodeGPU.
package deviceplugin

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	logsapi "k8s.io/component-base/logs/api/v1"

	"github.com/gantry-gpu/gantry/pkg/nodelease"
	"github.com/gantry-gpu/gantry/pkg/version"
)

// BinaryName is the device plugin's binary name.
const BinaryName = "gantry-device-plugin"

// Options are the device plugin's command-line settings.
type Options struct {
	// NodeName is the node this daemon runs on (the NodeGPU object's name).
	NodeName string
	// Kubeconfig is used outside a cluster; in a pod the service account is.
	Kubeconfig string
	// KubeletSocketDir is where the kubelet's registration socket lives and
	// where the plugin creates its own sockets.
	KubeletSocketDir string
	// PodResourcesSocket is the kubelet's PodResources API socket.
	PodResourcesSocket string
	// NVML selects the GPU backend: "nvml" for the driver's library or
	// "fixture:NAME" for a built-in topology on machines without GPUs.
	NVML string
	// Resources are the extended resources served: "NAME" serves every GPU,
	// "NAME=TEXT" the GPUs whose model contains TEXT. A GPU goes to the first
	// resource that matches it.
	Resources []string

	// IgnoredXIDs are XIDs that do not make a GPU unhealthy.
	IgnoredXIDs []uint
	// HealthCheckInterval is the period of the liveness probe of every GPU.
	HealthCheckInterval time.Duration
	// RecoveryQuietPeriod is how long an unhealthy GPU must pass its checks,
	// with no new fault, before it is healthy again; 0 never recovers.
	RecoveryQuietPeriod time.Duration
	// PublishInterval is the allocation refresh period; the NodeGPU status
	// is written only when it changed.
	PublishInterval time.Duration
	// PublishNodeGPU turns the NodeGPU publisher, the node Lease and the
	// scheduler-choice lookup (all need the API server) on.
	PublishNodeGPU bool
	// LeaseNamespace holds the node's Lease (package nodelease); the
	// scheduler must read the same namespace.
	LeaseNamespace string
	// LeaseDuration is how long the node's Lease stays valid after each
	// renewal; it is renewed every quarter of that.
	LeaseDuration time.Duration

	// PassDeviceSpecs, DevRoot and CDI shape Allocate's answer.
	PassDeviceSpecs bool
	DevRoot         string
	CDI             bool
	// PreStartCheck asks the kubelet to call PreStartContainer, which probes
	// the container's GPUs before it starts.
	PreStartCheck bool

	// MetricsBindAddress serves /metrics and /healthz; empty turns it off.
	MetricsBindAddress string

	Logs *logsapi.LoggingConfiguration
}

// NewOptions returns the defaults, which match a stock kubelet.
func NewOptions() *Options {
	ignored := make([]uint, 0, len(DefaultIgnoredXIDs))
	for _, x := range DefaultIgnoredXIDs {
		ignored = append(ignored, uint(x))
	}
	return &Options{
		NodeName:            os.Getenv("NODE_NAME"),
		KubeletSocketDir:    "/var/lib/kubelet/device-plugins",
		PodResourcesSocket:  "/var/lib/kubelet/pod-resources/kubelet.sock",
		NVML:                "nvml",
		Resources:           []string{"nvidia.com/gpu"},
		IgnoredXIDs:         ignored,
		HealthCheckInterval: 10 * time.Second,
		RecoveryQuietPeriod: 5 * time.Minute,
		PublishInterval:     30 * time.Second,
		PublishNodeGPU:      true,
		LeaseNamespace:      defaultLeaseNamespace(),
		LeaseDuration:       nodelease.DefaultDuration,
		DevRoot:             "/dev",
		MetricsBindAddress:  "127.0.0.1:9400",
		Logs:                logsapi.NewLoggingConfiguration(),
	}
}

// AddFlags binds the options to a flag set.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.NodeName, "node-name", o.NodeName, "Name of this node (default $NODE_NAME).")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Kubeconfig file; in a pod, the service account is used.")
	fs.StringVar(&o.KubeletSocketDir, "kubelet-socket-dir", o.KubeletSocketDir, "Directory of the kubelet's device-plugin sockets.")
	fs.StringVar(&o.PodResourcesSocket, "pod-resources-socket", o.PodResourcesSocket, "Path of the kubelet's PodResources API socket; empty publishes no allocations.")
	fs.StringVar(&o.NVML, "nvml", o.NVML, `GPU backend: "nvml" (the driver's library) or "fixture:NAME" (a built-in topology, for clusters without GPUs).`)
	fs.StringSliceVar(&o.Resources, "resource", o.Resources, `Resource to serve: NAME for every GPU, or NAME=TEXT for the GPUs whose model contains TEXT (repeatable; a GPU goes to the first match).`)
	fs.UintSliceVar(&o.IgnoredXIDs, "ignored-xids", o.IgnoredXIDs, "XIDs that do not make a GPU unhealthy (application errors).")
	fs.DurationVar(&o.HealthCheckInterval, "health-check-interval", o.HealthCheckInterval, "Period of the liveness check of every GPU.")
	fs.DurationVar(&o.RecoveryQuietPeriod, "recovery-quiet-period", o.RecoveryQuietPeriod, "How long an unhealthy GPU must pass its checks with no new fault before it is healthy again; 0 disables recovery.")
	fs.DurationVar(&o.PublishInterval, "publish-interval", o.PublishInterval, "Allocation refresh period of the NodeGPU object, whose status is written only when it changed.")
	fs.BoolVar(&o.PublishNodeGPU, "publish-nodegpu", o.PublishNodeGPU, "Publish the node's NodeGPU and Lease, and honour the scheduler's GPU choices (needs the API server).")
	fs.StringVar(&o.LeaseNamespace, "lease-namespace", o.LeaseNamespace, "Namespace of the node's Lease, "+nodelease.NamePrefix+"NODE, which says the plugin is alive (default $POD_NAMESPACE, else "+nodelease.DefaultNamespace+"); gantry-scheduler must read the same.")
	fs.DurationVar(&o.LeaseDuration, "lease-duration", o.LeaseDuration, "How long the node's Lease stays valid after a renewal (whole seconds); it is renewed every quarter of that.")
	fs.BoolVar(&o.PassDeviceSpecs, "pass-device-specs", o.PassDeviceSpecs, "Also pass the GPUs' device nodes in Allocate (runtimes without the NVIDIA hook).")
	fs.StringVar(&o.DevRoot, "dev-root", o.DevRoot, "Where the GPUs' device nodes are on the host.")
	fs.BoolVar(&o.CDI, "cdi", o.CDI, "Also name the GPUs as CDI devices (nvidia.com/gpu=UUID) in Allocate.")
	fs.BoolVar(&o.PreStartCheck, "pre-start-check", o.PreStartCheck, "Probe a container's GPUs in PreStartContainer before it starts.")
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", o.MetricsBindAddress, "Address of /metrics and /healthz; empty disables them.")
}

// ResourceSpec is a parsed --resource value.
type ResourceSpec struct {
	Name        string
	ModelSubstr string
}

// ParseResources parses --resource values.
func ParseResources(values []string) ([]ResourceSpec, error) {
	var out []ResourceSpec
	seen := map[string]bool{}
	for _, v := range values {
		name, model, _ := strings.Cut(v, "=")
		if n, ok := strings.CutPrefix(name, "nvidia.com/"); !ok || n == "" || strings.Contains(n, "/") {
			return nil, fmt.Errorf("--resource: %q is not a resource name in the nvidia.com/ domain", v)
		}
		if seen[name] {
			return nil, fmt.Errorf("--resource: %q is given twice", name)
		}
		seen[name] = true
		out = append(out, ResourceSpec{Name: name, ModelSubstr: model})
	}
	if len(out) == 0 {
		return nil, errors.New("--resource: at least one resource is needed")
	}
	return out, nil
}

// Validate reports every invalid option, each naming its flag.
func (o *Options) Validate() error {
	var errs []error
	if o.KubeletSocketDir == "" {
		errs = append(errs, errors.New("--kubelet-socket-dir must not be empty"))
	}
	if o.NVML != "nvml" && !(strings.HasPrefix(o.NVML, "fixture:") && len(o.NVML) > len("fixture:")) {
		errs = append(errs, fmt.Errorf(`--nvml: %q is neither "nvml" nor "fixture:NAME"`, o.NVML))
	}
	if _, err := ParseResources(o.Resources); err != nil {
		errs = append(errs, err)
	}
	if o.PublishNodeGPU {
		errs = append(errs, o.validatePublishing()...)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
		min  time.Duration
	}{
		{"--health-check-interval", o.HealthCheckInterval, 10 * time.Millisecond},
		{"--publish-interval", o.PublishInterval, 100 * time.Millisecond},
		{"--recovery-quiet-period", o.RecoveryQuietPeriod, 0},
	} {
		if d.v < d.min {
			errs = append(errs, fmt.Errorf("%s: %s is less than %s", d.flag, d.v, d.min))
		}
	}
	if o.MetricsBindAddress != "" {
		if _, _, err := net.SplitHostPort(o.MetricsBindAddress); err != nil {
			errs = append(errs, fmt.Errorf("--metrics-bind-address: %w", err))
		}
	}
	if err := logsapi.Validate(o.Logs, nil, field.NewPath("logging")).ToAggregate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validatePublishing checks what publishing the NodeGPU and the node's
// Lease needs.
func (o *Options) validatePublishing() []error {
	var errs []error
	switch {
	case o.NodeName == "":
		errs = append(errs, errors.New("--node-name (or $NODE_NAME) is required to publish the NodeGPU"))
	case len(o.NodeName) > nodelease.MaxNodeNameLength:
		errs = append(errs, fmt.Errorf("--node-name: %q is longer than %d characters, too long for its Lease name %s%s",
			o.NodeName, nodelease.MaxNodeNameLength, nodelease.NamePrefix, o.NodeName))
	}
	if o.LeaseNamespace == "" {
		errs = append(errs, errors.New("--lease-namespace must not be empty"))
	} else if msgs := validation.IsDNS1123Label(o.LeaseNamespace); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--lease-namespace: %q is not a namespace name: %s", o.LeaseNamespace, strings.Join(msgs, "; ")))
	}
	if err := nodelease.ValidateDuration(o.LeaseDuration); err != nil {
		errs = append(errs, fmt.Errorf("--lease-duration: %w", err))
	}
	return errs
}

// defaultLeaseNamespace is the pod's own namespace (from the downward API),
// else the namespace Gantry installs into.
func defaultLeaseNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	return nodelease.DefaultNamespace
}

// NewCommand returns the gantry-device-plugin command.
func NewCommand() *cobra.Command {
	o := NewOptions()
	var showVersion bool
	var configFile string
	cmd := &cobra.Command{
		Use:   BinaryName,
		Short: "Gantry's NVIDIA GPU device plugin",
		Long: `gantry-device-plugin advertises a node's NVIDIA GPUs to the kubelet, keeps
their health current (and brings devices back once they recover), prefers
NVLink-optimal sets, and publishes the node's GPU topology for gantry-scheduler.`,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if showVersion {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), version.Get(BinaryName))
				return err
			}
			if configFile != "" {
				cfg, err := LoadConfig(configFile)
				if err != nil {
					return err
				}
				cfg.ApplyTo(o, cmd.Flags())
			}
			if err := o.Validate(); err != nil {
				return err
			}
			if err := logsapi.ValidateAndApply(o.Logs, nil); err != nil {
				return err
			}
			return Run(cmd.Context(), o)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&showVersion, "version", false, "Print the version and exit.")
	fs.StringVar(&configFile, "config", "", "YAML file with the same settings as the flags (camelCase names, e.g. recoveryQuietPeriod: 10m); flags given on the command line win.")
	o.AddFlags(fs)
	logsapi.AddFlags(o.Logs, fs)
	return cmd
}
