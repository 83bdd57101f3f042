// Package scheduler assembles gantry-scheduler: the kube-scheduler framework
// with Gantry's plugins registered beside the in-tree ones.
package scheduler

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apiserver/pkg/server"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/tools/cache"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/component-base/cli/globalflag"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/component-base/featuregate"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/component-base/term"
	"k8s.io/component-base/version/verflag"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	"k8s.io/kubernetes/pkg/features"

	"github.com/gantry-gpu/gantry/pkg/version"
)

// BinaryName is the scheduler's binary and default profile name.
const BinaryName = "gantry-scheduler"

// SetFeatureGateDefaults turns off, unless --feature-gates says otherwise,
// the kube-scheduler features Gantry's plugins do not work with:
// NominatedNodeNameForExpectation (on by default since 1.35) nominates
// every pod sent to Permit or binding. Gang members wait in Permit for
// their siblings, and the in-tree filters count nominated pods as taking
// room: nominations left by a scheduler stopped mid-gang make the gang's
// own planned nodes look full to the next one, and the gang never fits
// again. GantryGang keeps its plans' room from other pods itself.
func SetFeatureGateDefaults() error {
	return utilfeature.DefaultMutableFeatureGate.SetFromMap(map[string]bool{
		string(features.NominatedNodeNameForExpectation): false,
	})
}

// NewCommand returns the gantry-scheduler command: kube-scheduler's own
// command line (flags, --config, leader election, secure serving), run
// through Setup. It is
// app.NewSchedulerCommand's, which cannot be given Setup.
func NewCommand() *cobra.Command {
	// Before the flags are parsed, so that --feature-gates still wins.
	gateErr := SetFeatureGateDefaults()
	opts := options.NewOptions()
	cmd := &cobra.Command{
		Use:   BinaryName,
		Short: "Gantry's GPU-aware secondary scheduler",
		Long: `gantry-scheduler is a secondary scheduler built on the kube-scheduler framework.
Pods opt in with spec.schedulerName; Gantry's plugins add gang scheduling,
GPU-topology placement and queue-based fairness to the default profile.`,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return opts.ComponentGlobalsRegistry.Set()
		},
		// kube-scheduler's --version names the program "Kubernetes";
		// answer with Gantry's build instead.
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			if gateErr != nil {
				return fmt.Errorf("setting Gantry's feature gate defaults: %w", gateErr)
			}
			if f := cmd.Flags().Lookup("version"); f != nil && f.Value.String() != "false" {
				if _, err := fmt.Fprintln(cmd.OutOrStdout(), version.Get(BinaryName)); err != nil {
					return err
				}
				exit(0)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, opts)
		},
		Args: func(cmd *cobra.Command, args []string) error {
			for _, arg := range args {
				if len(arg) > 0 {
					return fmt.Errorf("%q does not take any arguments, got %q", cmd.CommandPath(), args)
				}
			}
			return nil
		},
	}
	nfs := opts.Flags
	verflag.AddFlags(nfs.FlagSet("global"))
	globalflag.AddGlobalFlags(nfs.FlagSet("global"), cmd.Name(), logs.SkipLoggingConfigurationFlags())
	for _, f := range nfs.FlagSets {
		cmd.Flags().AddFlagSet(f)
	}
	cols, _, _ := term.TerminalSize(cmd.OutOrStdout())
	cliflag.SetUsageAndHelpFunc(cmd, *nfs, cols)
	if err := cmd.MarkFlagFilename("config", "yaml", "yml", "json"); err != nil {
		klog.Background().Error(err, "Failed to mark flag filename")
	}
	return cmd
}

// run is kube-scheduler's runCommand with Setup.
func run(cmd *cobra.Command, opts *options.Options) error {
	fg := opts.ComponentGlobalsRegistry.FeatureGateFor(basecompatibility.DefaultKubeComponent)
	if err := logsapi.ValidateAndApply(opts.Logs, fg); err != nil {
		return fmt.Errorf("logging configuration: %w", err)
	}
	cliflag.PrintFlags(cmd.Flags())
	if opts.InformerName == nil {
		name, err := cache.NewInformerName("kube-scheduler")
		if err != nil {
			return err
		}
		opts.InformerName = name
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-server.SetupSignalHandler()
		cancel()
	}()
	cc, sched, err := Setup(ctx, opts)
	if err != nil {
		return err
	}
	if mfg, ok := fg.(featuregate.MutableFeatureGate); ok {
		mfg.AddMetrics()
	}
	opts.ComponentGlobalsRegistry.AddMetrics()
	return app.Run(ctx, cc, sched)
}
