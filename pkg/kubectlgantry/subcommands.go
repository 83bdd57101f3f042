package kubectlgantry

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func newQueuesCommand(o *Options) *cobra.Command {
	var output *outputFlags
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
pods. The sums and BORROWED are computed by the queue model the scheduler
decides with. Queues that workloads name but that do not exist are listed
too, with the problem "no Queue object". PROBLEM also shows, in short, what
the Queue's Valid condition reports (a missing parent, a parent cycle,
guarantees that do not fit in the parent's), or that the queue uses more
than its limit.`,
		Args: cobra.NoArgs,
		// Before connecting, so that a bad -o fails at once.
		PreRunE: func(*cobra.Command, []string) error { return output.complete() },
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
				if output.ownFormat() == OutputTable {
					return RenderQueuesTable(o.Out, v)
				}
				return output.printView(o.Out, &v)
			})
		},
	}
	output = addOutputFlags(cmd, OutputTable)
	return cmd
}

func newNodesCommand(o *Options) *cobra.Command {
	var output *outputFlags
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
		// Before connecting, so that a bad -o fails at once.
		PreRunE: func(*cobra.Command, []string) error { return output.complete() },
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
				switch output.ownFormat() {
				case OutputTable:
					return RenderNodesTable(o.Out, v)
				case OutputMap:
					return RenderNodesMap(o.Out, v)
				}
				return output.printView(o.Out, &v)
			})
		},
	}
	output = addOutputFlags(cmd, OutputTable, OutputMap)
	return cmd
}

func newGangsCommand(o *Options) *cobra.Command {
	var output *outputFlags
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
		// Before connecting, so that a bad -o fails at once.
		PreRunE: func(*cobra.Command, []string) error { return output.complete() },
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
				if output.ownFormat() == OutputTable {
					if len(v.Gangs) == 0 && ns != "" {
						_, err := fmt.Fprintf(o.Out, "No gangs found in namespace %s.\n", ns)
						return err
					}
					return RenderGangsTable(o.Out, v, s.Now, o.AllNamespaces)
				}
				return output.printView(o.Out, &v)
			})
		},
	}
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "list across all namespaces")
	output = addOutputFlags(cmd, OutputTable)
	return cmd
}

func newExplainCommand(o *Options) *cobra.Command {
	var output *outputFlags
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
		// Before connecting, so that a bad -o fails at once.
		PreRunE: func(*cobra.Command, []string) error { return output.complete() },
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), func(ctx context.Context, g gatherer, s *State, ns string) error {
				pod, err := g.kube.CoreV1().Pods(ns).Get(ctx, args[0], metav1.GetOptions{})
				if err != nil {
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
					ng, err := g.gantry.GantryV1alpha1().NodeGPUs().Get(ctx, pod.Spec.NodeName, metav1.GetOptions{})
					switch {
					case err == nil:
						s.NodeGPUs = append(s.NodeGPUs, *ng)
					case apierrors.IsNotFound(err):
					default:
						g.warn("getting the NodeGPU of %s: %v", pod.Spec.NodeName, err)
					}
				}
				x := BuildExplanation(s, pod)
				if output.ownFormat() == OutputTable {
					return RenderExplanation(o.Out, x, s.Now)
				}
				return output.printView(o.Out, &x)
			})
		},
	}
	output = addOutputFlags(cmd, OutputTable)
	return cmd
}
