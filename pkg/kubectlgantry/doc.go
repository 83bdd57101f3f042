// Package kubectlgantry is the kubectl plugin `kubectl gantry`
// (cmd/kubectl-gantry): read-only views of Gantry's queues, the GPU map of
// nodes, gangs, and why a pod waits or where its GPUs are.
//
// Each command gathers a State from the cluster (state.go), builds a plain
// view model from it (BuildQueues, BuildNodes, BuildGangs,
// BuildExplanation), and renders the model as a table or as JSON/YAML. The
// views depend on the State alone, so they are tested without a cluster.
//
// # Output fields
//
// -o json and -o yaml encode the view models with the json names of their
// fields; these names are the plugin's stable interface, and change only
// by adding fields:
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
