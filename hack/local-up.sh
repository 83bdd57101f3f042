#!/usr/bin/env bash
# Runs a local Gantry: control plane, GPU nodes, gantry-scheduler and a demo
# pod. Needs `make tools build` first (`make run` does both).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$root/_output/tools}
# Built and exec'd rather than `go run`, so Ctrl-C reaches the process that
# owns etcd and kube-apiserver and it can stop them.
go build -o _output/bin/local-up ./hack/local-up
exec _output/bin/local-up "$@"
