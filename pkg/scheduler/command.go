// Package scheduler assembles gantry-scheduler: the kube-scheduler framework
// with Gantry's plugins registered beside the in-tree ones.
package scheduler

import (
	"fmt"

	"github.com/spf13/cobra"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"
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
// command line (flags, --config, leader election, secure serving) with
// Gantry's plugins (Options) and any further opts registered.
func NewCommand(opts ...app.Option) *cobra.Command {
	// Before the flags are parsed, so that --feature-gates still wins.
	gateErr := SetFeatureGateDefaults()
	cmd := app.NewSchedulerCommand(append(Options(), opts...)...)
	cmd.Use = BinaryName
	cmd.Short = "Gantry's GPU-aware secondary scheduler"
	cmd.Long = `gantry-scheduler is a secondary scheduler built on the kube-scheduler framework.
Pods opt in with spec.schedulerName; Gantry's plugins add gang scheduling,
GPU-topology placement and queue-based fairness to the default profile.`
	// kube-scheduler's --version names the program "Kubernetes"; answer with
	// Gantry's build instead. PreRunE runs after flag parsing and before the
	// scheduler's own RunE looks at the flag.
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if gateErr != nil {
			return fmt.Errorf("setting Gantry's feature gate defaults: %w", gateErr)
		}
		if f := cmd.Flags().Lookup("version"); f != nil && f.Value.String() != "false" {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), version.Get(BinaryName))
			if err != nil {
				return err
			}
			exit(0)
		}
		return nil
	}
	return cmd
}
