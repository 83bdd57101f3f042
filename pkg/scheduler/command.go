// Package scheduler assembles gantry-scheduler: the kube-scheduler framework
// with Gantry's plugins registered beside the in-tree ones.
package scheduler

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"

	"github.com/gantry-gpu/gantry/pkg/version"
)

// BinaryName is the scheduler's binary and default profile name.
const BinaryName = "gantry-scheduler"

// NewCommand returns the gantry-scheduler command: kube-scheduler's own
// command line (flags, --config, leader election, secure serving) with
// Gantry's plugins (Options) and any further opts registered.
func NewCommand(opts ...app.Option) *cobra.Command {
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
