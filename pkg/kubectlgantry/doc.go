// Package kubectlgantry is the kubectl plugin `kubectl gantry`
// (cmd/kubectl-gantry): read-only views of Gantry's queues, the GPU map of
// nodes, gangs, and why a pod waits or where its GPUs are.
//
// Each command reads a State from the cluster through the typed clientsets
// (client-go's, gantry.dev's in pkg/generated, scheduler-plugins' for
// PodGroups; state.go), builds a view from it (BuildQueues, BuildNodes,
// BuildGangs, BuildExplanation), and renders the view as a table, or
// prints it through cli-runtime's printers as kubectl does (output.go). The
// views depend on the State alone, so they are tested without a cluster.
// Connection flags are cli-runtime's ConfigFlags, as in kubectl.
//
// # Output fields
//
// The views are runtime.Objects of apiVersion kubectl.gantry.dev/v1alpha1
// (ViewGroupVersion; computed here, served by no API server) and kind
// QueuesView, NodesView, GangsView or Explanation. -o json, -o yaml,
// -o jsonpath and -o go-template see them with the json names of their
// fields; these names are the plugin's stable interface, and change only
// by adding fields. -o name prints instead the API objects the rows are
// about: queue.gantry.dev/NAME, node/NAME, podgroup.scheduling.x-k8s.io/NAME
// (label-only gangs too), pod/NAME.
//
//   - queues: {"queues": [QueueRow]}; QueueRow: name, parent, depth, weight,
//     guaranteedGPUs, limitGPUs (absent when the queue names none), usedGPUs,
//     borrowedGPUs, pendingGPUs, boundPods, pendingPods, problem.
//   - nodes: {"nodes": [NodeMap]}; NodeMap: name, hasNodeGPU, capacityGPUs,
//     freeGPUs, usedGPUs, unhealthyGPUs, nvlinkIslands (lists of GPU
//     indexes), gpus, pods, problems; GPUSlot: index, uuid, model,
//     memoryMiB, nvlinkIsland, state (Free, Used, Unhealthy), healthReason,
//     pods ("namespace/name"), mismatch.
//   - gangs: {"gangs": [GangRow]}; GangRow: namespace, name, kind (PodGroup,
//     LabelOnly, MissingPodGroup), minMember, pods, bound, running, phase,
//     phaseComputed, queue, creationTimestamp, waiting, reason, message.
//   - explain: Explanation: namespace, name, phase, schedulerName,
//     requestedGPUs, queue, queueSource (pod, podGroup, namespace, default),
//     queueUsage (a QueueRow), node, gpus (index, uuid, model, health,
//     healthReason), gpuSource (annotation, allocations), links (a, b, type,
//     nvlinkLanes, as in NodeGPU), worstLink, waiting, scheduled (status,
//     reason, message, lastTransitionTime), gang (a GangRow), events (time,
//     type, object, reason, message, reporter, count), notes.
package kubectlgantry
