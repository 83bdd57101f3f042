package kubectlgantry

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gantryv1alpha1 "github.com/gantry-gpu/gantry/pkg/apis/gantry/v1alpha1"
	"github.com/gantry-gpu/gantry/pkg/version"
)

// Options are the flags every command shares, and where output goes.
type Options struct {
	Kubeconfig    string
	Context       string
	Namespace     string
	AllNamespaces bool
	Output        string
	GPUResource   string

	Out, ErrOut io.Writer
	// Now is the clock ages are measured against; tests fix it.
	Now func() time.Time
}

// NewCommand returns the kubectl-gantry command with its subcommands.
func NewCommand(out, errOut io.Writer) *cobra.Command {
	o := &Options{Out: out, ErrOut: errOut, Now: time.Now}
	root := &cobra.Command{
		Use:   "kubectl-gantry",
		Short: "Observe Gantry: queues, GPU maps of nodes, gangs, and why a pod waits",
		Long: `kubectl gantry shows what Gantry's scheduler and device plugin see. It only
reads from the cluster, and needs get/list on pods, events, namespaces, nodes,
PodGroups (scheduling.x-k8s.io), Queues and NodeGPUs (gantry.dev).

Every command prints a table by default; -o json and -o yaml print the same
data with the field names documented in the package
github.com/gantry-gpu/gantry/pkg/kubectlgantry, which stay stable.`,
		Version:       version.Get("kubectl-gantry").String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.SetErr(errOut)
	pf := root.PersistentFlags()
	pf.StringVar(&o.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
	pf.StringVar(&o.Context, "context", "", "the kubeconfig context to use")
	pf.StringVar(&o.GPUResource, "gpu-resource", string(DefaultGPUResource), "the extended resource that counts whole GPUs")
	root.AddCommand(newQueuesCommand(o), newNodesCommand(o), newGangsCommand(o), newExplainCommand(o))
	return root
}

func addOutputFlag(cmd *cobra.Command, o *Options, formats ...string) {
	cmd.Flags().StringVarP(&o.Output, "output", "o", formats[0], "output format: "+strings.Join(formats, "|"))
	cmd.PreRunE = func(*cobra.Command, []string) error {
		if !slices.Contains(formats, o.Output) {
			return fmt.Errorf("--output %q: must be one of %s", o.Output, strings.Join(formats, ", "))
		}
		return nil
	}
}

func addNamespaceFlags(cmd *cobra.Command, o *Options, allNamespaces bool) {
	cmd.Flags().StringVarP(&o.Namespace, "namespace", "n", "", "the namespace (default: the kubeconfig context's)")
	if allNamespaces {
		cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "list across all namespaces")
	}
}

func newQueuesCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "queues",
		Short: "The queue tree with guaranteed, limit, used and borrowed GPUs",
		Long: `Prints the Queue tree (children indented under their parent) with each
queue's weight, guaranteed and limit GPUs, and the GPUs it uses, borrows and
waits for.

How the queue of a workload is chosen: the pod's gantry.dev/queue label, else
the label gantry.dev/queue of its PodGroup (the one its
scheduling.x-k8s.io/pod-group label names), else its namespace's
gantry.dev/queue label, else the queue "default".

USED is computed from the pods, not read from the Queue's status: the GPUs
(limits, else requests, of the GPU resource) of bound pods that have not
succeeded or failed, in the queue and every queue below it. BORROWED is
max(0, USED - GUARANTEED); a queue that names no guaranteed GPUs is
guaranteed none. PENDING is what unbound pods ask for. PODS is bound/all GPU
pods. Queues that workloads name but that do not exist are listed too, with
the problem "no Queue object".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), func(ctx context.Context, g gatherer, s *State, _ string) error {
				for _, f := range []func(context.Context, *State) error{
					func(ctx context.Context, s *State) error { return g.pods(ctx, s, "") },
					func(ctx context.Context, s *State) error { return g.podGroups(ctx, s, "") },
					g.namespaces, g.queues,
				} {
					if err := f(ctx, s); err != nil {
						return err
					}
				}
				v := BuildQueues(s)
				if o.Output == OutputTable {
					return RenderQueuesTable(o.Out, v)
				}
				return writeStructured(o.Out, o.Output, v)
			})
		},
	}
	addOutputFlag(cmd, o, OutputTable, OutputJSON, OutputYAML)
	return cmd
}

func newNodesCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "nodes [NODE...]",
		Short: "The GPU map of nodes: each GPU free, used by which pod, or unhealthy",
		Long: `Prints each GPU of the named nodes (default: every node with a NodeGPU or
GPUs in its allocatable): model, memory, NVLink island, and whether it is
free, used (by namespace/pod) or unhealthy (with the reason).

Who holds a GPU comes from the gantry.dev/gpu-ids annotations of the pods
bound to the node (the scheduler's choice) and the NodeGPU's allocations (the
kubelet's); a GPU for which the two name different pods is flagged MISMATCH.
Health comes from the NodeGPU's status.

-o map prints one line per node instead: "[A A B . | . X . .]", one
character per GPU by index: "." free, a letter for each pod (see the
legend), "X" unhealthy, "!" a mismatch, "|" between NVLink islands.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), func(ctx context.Context, g gatherer, s *State, _ string) error {
				if err := g.nodes(ctx, s); err != nil {
					return err
				}
				if err := g.nodeGPUs(ctx, s); err != nil {
					return err
				}
				if err := g.pods(ctx, s, ""); err != nil {
					return err
				}
				v := BuildNodes(s, args)
				switch o.Output {
				case OutputTable:
					return RenderNodesTable(o.Out, v)
				case OutputMap:
					return RenderNodesMap(o.Out, v)
				}
				return writeStructured(o.Out, o.Output, v)
			})
		},
	}
	addOutputFlag(cmd, o, OutputTable, OutputMap, OutputJSON, OutputYAML)
	return cmd
}

func newGangsCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gangs",
		Short: "Gangs (PodGroups and label-only gangs) with their pods and why they wait",
		Long: `Lists the gangs of a namespace (-n) or of all (-A): PodGroups, and gangs
that exist only as pod labels (scheduling.x-k8s.io/pod-group with
gantry.dev/gang-min-member), with minMember, member pods, how many are bound
and running, the phase, the queue and the age.

For a gang that waits (fewer than minMember members bound), WAITING BECAUSE
is the latest scheduler event on its PodGroup (GangUnschedulable,
GangReleased, GangPreempting), else the latest FailedScheduling event of an
unbound member, else that member's PodScheduled condition. A phase marked *
was computed from the pods because the PodGroup has no status phase.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), func(ctx context.Context, g gatherer, s *State, ns string) error {
				if o.AllNamespaces {
					ns = ""
				}
				if err := g.pods(ctx, s, ns); err != nil {
					return err
				}
				if err := g.podGroups(ctx, s, ns); err != nil {
					return err
				}
				if err := g.events(ctx, s, ns); err != nil {
					return err
				}
				if err := g.namespaces(ctx, s); err != nil {
					return err
				}
				v := BuildGangs(s)
				if o.Output == OutputTable {
					if len(v.Gangs) == 0 && ns != "" {
						_, err := fmt.Fprintf(o.Out, "No gangs found in namespace %s.\n", ns)
						return err
					}
					return RenderGangsTable(o.Out, v, s.Now, o.AllNamespaces)
				}
				return writeStructured(o.Out, o.Output, v)
			})
		},
	}
	addNamespaceFlags(cmd, o, true)
	addOutputFlag(cmd, o, OutputTable, OutputJSON, OutputYAML)
	return cmd
}

func newExplainCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "explain POD",
		Short: "Where a pod's GPUs are, or why it waits",
		Long: `For a bound pod: its node, its GPUs (index, UUID, model, health) from its
gantry.dev/gpu-ids annotation (else the NodeGPU's allocations), and the link
between every pair of them from the NodeGPU, with the worst one.

For a waiting pod: its PodScheduled condition, its gang's state and the
scheduler's reason, and the latest events of the pod and its gang.

Both name the pod's queue, where that came from, and the queue's usage.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), func(ctx context.Context, g gatherer, s *State, ns string) error {
				var pod corev1.Pod
				if err := g.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: args[0]}, &pod); err != nil {
					if apierrors.IsNotFound(err) {
						return fmt.Errorf("pod %s not found in namespace %s", args[0], ns)
					}
					return fmt.Errorf("getting pod %s/%s: %w", ns, args[0], err)
				}
				// All pods and PodGroups, for the usage of the pod's queue.
				for _, f := range []func(context.Context, *State) error{
					func(ctx context.Context, s *State) error { return g.pods(ctx, s, "") },
					func(ctx context.Context, s *State) error { return g.podGroups(ctx, s, "") },
					func(ctx context.Context, s *State) error { return g.events(ctx, s, ns) },
					g.namespaces, g.queues,
				} {
					if err := f(ctx, s); err != nil {
						return err
					}
				}
				if pod.Spec.NodeName != "" {
					var ng gantryv1alpha1.NodeGPU
					err := g.client.Get(ctx, client.ObjectKey{Name: pod.Spec.NodeName}, &ng)
					switch {
					case err == nil:
						s.NodeGPUs = append(s.NodeGPUs, ng)
					case apierrors.IsNotFound(err):
					default:
						g.warn("getting the NodeGPU of %s: %v", pod.Spec.NodeName, err)
					}
				}
				x := BuildExplanation(s, &pod)
				if o.Output == OutputTable {
					return RenderExplanation(o.Out, x, s.Now)
				}
				return writeStructured(o.Out, o.Output, x)
			})
		},
	}
	addNamespaceFlags(cmd, o, false)
	addOutputFlag(cmd, o, OutputTable, OutputJSON, OutputYAML)
	return cmd
}

// run connects to the cluster and calls gather with a fresh State and the
// namespace to work in (-n, else the context's, else "default").
func (o *Options) run(ctx context.Context, gather func(context.Context, gatherer, *State, string) error) error {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, ns, err := o.restConfig()
	if err != nil {
		return err
	}
	scheme, err := Scheme()
	if err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", cfg.Host, err)
	}
	g := gatherer{client: c, warn: func(format string, args ...any) {
		fmt.Fprintf(o.ErrOut, "warning: "+format+"\n", args...)
	}}
	s := &State{Now: o.Now(), GPUResource: corev1.ResourceName(o.GPUResource)}
	return gather(ctx, g, s, ns)
}

// restConfig loads the kubeconfig as kubectl does (--kubeconfig, else
// $KUBECONFIG, else ~/.kube/config; --context) and returns the namespace to
// use.
func (o *Options) restConfig() (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("loading kubeconfig: %w", err)
	}
	cfg.UserAgent = "kubectl-gantry/" + version.Version
	ns := o.Namespace
	if ns == "" {
		if ns, _, err = cc.Namespace(); err != nil {
			return nil, "", fmt.Errorf("reading the context's namespace: %w", err)
		}
	}
	return cfg, ns, nil
}
