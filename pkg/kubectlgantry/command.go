package kubectlgantry

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	"github.com/gantry-gpu/gantry/pkg/clients"
	"github.com/gantry-gpu/gantry/pkg/version"
)

// Options are what every command shares: kubectl's connection flags, the
// GPU resource, and where output goes.
type Options struct {
	// ConfigFlags are kubectl's --kubeconfig, --context, --cluster, --user,
	// --namespace, --as, --as-group, --token, --server, --request-timeout...
	ConfigFlags *genericclioptions.ConfigFlags
	// GPUResource is the extended resource that counts whole GPUs.
	GPUResource string
	// AllNamespaces is the gangs command's -A.
	AllNamespaces bool

	genericiooptions.IOStreams
	// Now is the clock ages are measured against; tests fix it.
	Now func() time.Time
}

// NewCommand returns the kubectl-gantry command with its subcommands,
// writing to out and errOut.
func NewCommand(out, errOut io.Writer) *cobra.Command {
	return NewCommandWithStreams(genericiooptions.IOStreams{In: os.Stdin, Out: out, ErrOut: errOut})
}

// NewCommandWithStreams is NewCommand with cli-runtime's IOStreams.
func NewCommandWithStreams(streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{
		// Persistent, so that the kubeconfig is loaded once per command.
		ConfigFlags: genericclioptions.NewConfigFlags(true).WithWarningPrinter(streams),
		IOStreams:   streams,
		Now:         time.Now,
	}
	root := &cobra.Command{
		Use:   "kubectl-gantry",
		Short: "Observe Gantry: queues, GPU maps of nodes, gangs, and why a pod waits",
		Long: `kubectl gantry shows what Gantry's scheduler and device plugin see. It only
reads from the cluster, and needs get/list on pods, events, namespaces, nodes,
PodGroups (scheduling.x-k8s.io), Queues and NodeGPUs (gantry.dev).

It connects as kubectl does, with kubectl's flags: --kubeconfig, --context,
--cluster, --user, --namespace (-n), --as, --as-group, --token, --server,
--request-timeout and the rest (listed under "Global Flags" in each
command's help).

Every command prints a table by default. -o json and -o yaml print the view
the table shows as one object of apiVersion kubectl.gantry.dev/v1alpha1
(kind QueuesView, NodesView, GangsView or Explanation), with the field names
documented in the package github.com/gantry-gpu/gantry/pkg/kubectlgantry,
which stay stable; -o jsonpath=... and -o go-template=... (and the -file
forms) see the same fields. -o name prints the API objects the rows are
about: queue.gantry.dev/NAME, node/NAME, podgroup.scheduling.x-k8s.io/NAME
or pod/NAME.`,
		Example: `  kubectl gantry queues --context prod
  kubectl gantry gangs -A --as jane --as-group ml-team
  kubectl gantry nodes -o jsonpath='{range .nodes[*]}{.name}{" "}{.freeGPUs}{"\n"}{end}'
  kubectl gantry gangs -n ml -o go-template='{{range .gangs}}{{if .waiting}}{{.name}}: {{.reason}}{{"\n"}}{{end}}{{end}}'`,
		Version:       version.Get("kubectl-gantry").String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	pf := root.PersistentFlags()
	o.ConfigFlags.AddFlags(pf)
	pf.StringVar(&o.GPUResource, "gpu-resource", string(DefaultGPUResource), "the extended resource that counts whole GPUs")
	root.AddCommand(newQueuesCommand(o), newNodesCommand(o), newGangsCommand(o), newExplainCommand(o))
	return root
}

// gatherFunc reads what a command needs into a fresh State; ns is the
// namespace to work in: -n, else the kubeconfig context's, else "default".
type gatherFunc func(ctx context.Context, g gatherer, s *State, ns string) error

// run connects to the cluster and calls gather.
func (o *Options) run(ctx context.Context, gather gatherFunc) error {
	if ctx == nil {
		ctx = context.Background()
	}
	g, err := o.gatherer()
	if err != nil {
		return err
	}
	ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return fmt.Errorf("reading the namespace of the kubeconfig context: %w", err)
	}
	s := &State{Now: o.Now(), GPUResource: corev1.ResourceName(o.GPUResource)}
	return gather(ctx, g, s, ns)
}

// gatherer builds the typed clients for the cluster the flags name.
func (o *Options) gatherer() (gatherer, error) {
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		return gatherer{}, fmt.Errorf("loading kubeconfig: %w", err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "kubectl-gantry/" + version.Version
	cs, err := clients.New(cfg)
	if err != nil {
		return gatherer{}, err
	}
	return gatherer{kube: cs.Kube, gantry: cs.Gantry, scheduling: cs.PodGroups, warn: func(format string, args ...any) {
		fmt.Fprintf(o.ErrOut, "warning: "+format+"\n", args...)
	}}, nil
}
