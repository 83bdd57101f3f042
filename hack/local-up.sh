#!/usr/bin/env bash
# Runs the local cluster and the examples in the foreground (`make run`);
# Ctrl-C stops everything. `make demo` runs the same in the background.
# Needs `make tools build` first (both targets do it).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$root/_output/tools}
# Built and exec'd rather than `go run`, so Ctrl-C reaches the process that
# owns the cluster and it can stop it.
go build -o _output/bin/local-up ./hack/local-up
exec _output/bin/local-up "$@"
