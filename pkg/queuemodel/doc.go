// Package queuemodel is Gantry's one model of the Queue tree
// (gantry.dev/v1alpha1), as plain Go over plain data:
//
//   - the tree built from Queue objects and each queue's parent chain
//     (tree.go);
//   - validation across objects, which the API server cannot do: parents
//     that do not exist, parent cycles, guarantees that do not fit in the
//     parent's (validate.go);
//   - usage rolled up the tree, and borrowed, what a queue holds beyond its
//     guarantee (usage.go);
//   - shares: a queue's weighted dominant share of the cluster now, and the
//     weighted fair share it is entitled to (share.go).
//
// Three parts of Gantry read queues, and they must agree on these numbers:
// the GantryQueue scheduler plugin decides with them (its decisions, in
// pkg/scheduler/queues/core, are built on this package),
// gantry-controller writes them into Queue status and metrics
// (pkg/controller/queue), and kubectl-gantry shows them
// (pkg/kubectlgantry). What a pod requests, and which queue it names, is
// each caller's to say: the model takes per-queue amounts.
//
// It is a leaf: it imports only the API types and apimachinery.
package queuemodel
