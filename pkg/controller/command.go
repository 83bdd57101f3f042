package controller

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	logsapi "k8s.io/component-base/logs/api/v1"
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go's REST, work-queue and leader-election metrics
	"k8s.io/klog/v2"

	"github.com/gantry-gpu/gantry/pkg/clients"
	"github.com/gantry-gpu/gantry/pkg/controller/podgroup"
	"github.com/gantry-gpu/gantry/pkg/controller/queue"
	"github.com/gantry-gpu/gantry/pkg/version"
)

// BinaryName is the controller manager's binary name.
const BinaryName = "gantry-controller"

// Options are gantry-controller's command-line settings.
type Options struct {
	// Kubeconfig is used outside a cluster; in a pod the service account is.
	Kubeconfig string
	// LeaderElect, LeaseName and LeaseNamespace configure leader election.
	LeaderElect    bool
	LeaseName      string
	LeaseNamespace string
	// BindAddress serves /healthz, /readyz and /metrics.
	BindAddress string
	// Workers is each controller's number of workers.
	Workers int

	Logs *logsapi.LoggingConfiguration
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	ns := os.Getenv("POD_NAMESPACE")
	if ns == "" {
		ns = "kube-system"
	}
	return &Options{
		LeaderElect:    true,
		LeaseName:      BinaryName,
		LeaseNamespace: ns,
		BindAddress:    "127.0.0.1:9402",
		Workers:        2,
		Logs:           logsapi.NewLoggingConfiguration(),
	}
}

// AddFlags binds the options to a flag set.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Kubeconfig file; in a pod, the service account is used.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Run the controllers only in the replica that holds the leader Lease.")
	fs.StringVar(&o.LeaseName, "leader-elect-lease-name", o.LeaseName, "Name of the leader-election Lease.")
	fs.StringVar(&o.LeaseNamespace, "leader-elect-namespace", o.LeaseNamespace, "Namespace of the leader-election Lease; the default is $POD_NAMESPACE where it is set.")
	fs.StringVar(&o.BindAddress, "bind-address", o.BindAddress, "Address of /healthz, /readyz and /metrics; loopback unless set otherwise (e.g. 0.0.0.0:9402 behind a NetworkPolicy).")
	fs.IntVar(&o.Workers, "workers", o.Workers, "Workers per controller.")
}

// Validate reports every invalid option, each naming its flag.
func (o *Options) Validate() error {
	var errs []error
	if o.LeaderElect {
		if o.LeaseName == "" {
			errs = append(errs, errors.New("--leader-elect-lease-name must not be empty"))
		}
		if o.LeaseNamespace == "" {
			errs = append(errs, errors.New("--leader-elect-namespace must not be empty"))
		}
	}
	if o.Workers < 1 {
		errs = append(errs, fmt.Errorf("--workers: %d is less than 1", o.Workers))
	}
	if _, _, err := net.SplitHostPort(o.BindAddress); err != nil {
		errs = append(errs, fmt.Errorf("--bind-address: %w", err))
	}
	if err := logsapi.Validate(o.Logs, nil, field.NewPath("logging")).ToAggregate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// NewCommand returns the gantry-controller command.
func NewCommand() *cobra.Command {
	o := NewOptions()
	var showVersion bool
	cmd := &cobra.Command{
		Use:   BinaryName,
		Short: "Gantry's controller manager",
		Long: `gantry-controller runs Gantry's controllers in the replica that holds the
leader Lease: the PodGroup status controller, which keeps each
scheduler-plugins PodGroup's phase, member counts and schedule times in step
with its member pods, and the Queue status controller, which validates the
queue tree, keeps deleted queues while bound pods run in them, and writes
each queue's allocated, pending, borrowed and fair-share resources.`,
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
			cfg, err := clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
			if err != nil {
				return fmt.Errorf("loading the client configuration (--kubeconfig %q): %w", o.Kubeconfig, err)
			}
			m, err := o.NewManager(cfg)
			if err != nil {
				return err
			}
			// SIGTERM ends Run cleanly: the controllers stop and the
			// Lease is released, so another replica takes over at once.
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			klog.FromContext(ctx).Info("Starting", "version", version.Get(BinaryName).String())
			return m.Run(ctx)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&showVersion, "version", false, "Print the version and exit.")
	o.AddFlags(fs)
	logsapi.AddFlags(o.Logs, fs)
	return cmd
}

// NewManager builds the manager the options describe, with every Gantry
// controller registered, talking to the API server through cfg.
func (o *Options) NewManager(cfg *rest.Config) (*Manager, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = BinaryName + "/" + version.Version
	// client-go's defaults (5 QPS) are sized for a command-line tool; one
	// status write per gang transition across a busy cluster needs more.
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := clients.New(cfg)
	if err != nil {
		return nil, err
	}
	m := NewManager(cs.Kube, ManagerOptions{
		BindAddress: o.BindAddress,
		Workers:     o.Workers,
		LeaderElection: LeaderElection{
			Enabled:   o.LeaderElect,
			Namespace: o.LeaseNamespace,
			Name:      o.LeaseName,
		},
	})
	informers := NewInformers(cs)
	m.AddInformers(informers)
	podGroupController, err := podgroup.New(cs.PodGroups, informers.Kube, informers.PodGroups, m.EventRecorder(podgroup.Name), podgroup.DefaultOptions())
	if err != nil {
		return nil, fmt.Errorf("building the %s controller: %w", podgroup.Name, err)
	}
	m.Register(podGroupController)
	queueController, err := queue.New(cs.Gantry, informers.Kube, informers.Gantry, informers.PodGroups, m.EventRecorder(queue.Name), queue.DefaultOptions())
	if err != nil {
		return nil, fmt.Errorf("building the %s controller: %w", queue.Name, err)
	}
	m.Register(queueController)
	return m, nil
}
