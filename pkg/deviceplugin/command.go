// Package deviceplugin is gantry-device-plugin: it serves the kubelet's
// device-plugin API for NVIDIA GPUs and publishes each node's NodeGPU.
package deviceplugin

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation/field"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/klog/v2"

	"github.com/gantry-gpu/gantry/pkg/version"
)

// BinaryName is the device plugin's binary name.
const BinaryName = "gantry-device-plugin"

// Options are the device plugin's command-line settings.
type Options struct {
	// NodeName is the node this daemon runs on (the NodeGPU object's name).
	NodeName string
	// KubeletSocketDir is where the kubelet's registration socket lives and
	// where the plugin creates its own sockets.
	KubeletSocketDir string
	// PodResourcesSocket is the kubelet's PodResources API socket.
	PodResourcesSocket string
	// NVML selects the GPU backend: "nvml" for the driver's library or
	// "fixture:NAME" for a built-in topology on machines without GPUs.
	NVML string
	// ResourceName is the extended resource advertised to the kubelet.
	ResourceName string

	Logs *logsapi.LoggingConfiguration
}

// NewOptions returns the defaults, which match a stock kubelet.
func NewOptions() *Options {
	return &Options{
		KubeletSocketDir:   "/var/lib/kubelet/device-plugins",
		PodResourcesSocket: "/var/lib/kubelet/pod-resources/kubelet.sock",
		NVML:               "nvml",
		ResourceName:       "nvidia.com/gpu",
		Logs:               logsapi.NewLoggingConfiguration(),
	}
}

// AddFlags binds the options to a flag set.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.NodeName, "node-name", o.NodeName, "Name of this node; defaults to $NODE_NAME.")
	fs.StringVar(&o.KubeletSocketDir, "kubelet-socket-dir", o.KubeletSocketDir, "Directory of the kubelet's device-plugin sockets.")
	fs.StringVar(&o.PodResourcesSocket, "pod-resources-socket", o.PodResourcesSocket, "Path of the kubelet's PodResources API socket.")
	fs.StringVar(&o.NVML, "nvml", o.NVML, `GPU backend: "nvml" (the driver's library) or "fixture:NAME" (a built-in topology, for clusters without GPUs).`)
	fs.StringVar(&o.ResourceName, "resource-name", o.ResourceName, "Extended resource name advertised to the kubelet.")
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
	if name, ok := strings.CutPrefix(o.ResourceName, "nvidia.com/"); !ok || name == "" {
		errs = append(errs, fmt.Errorf("--resource-name: %q is not in the nvidia.com/ domain", o.ResourceName))
	}
	if err := logsapi.Validate(o.Logs, nil, field.NewPath("logging")).ToAggregate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// NewCommand returns the gantry-device-plugin command.
func NewCommand() *cobra.Command {
	o := NewOptions()
	var showVersion bool
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
			if err := o.Validate(); err != nil {
				return err
			}
			if err := logsapi.ValidateAndApply(o.Logs, nil); err != nil {
				return err
			}
			logger := klog.FromContext(cmd.Context())
			logger.Info("Starting", "version", version.Get(BinaryName).Version, "nvml", o.NVML, "resource", o.ResourceName)
			return errors.New("the device-plugin server is not part of this build yet")
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&showVersion, "version", false, "Print the version and exit.")
	o.AddFlags(fs)
	logsapi.AddFlags(o.Logs, fs)
	return cmd
}
