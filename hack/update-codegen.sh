#!/usr/bin/env bash
# Regenerates deepcopy code and CRD manifests from pkg/apis with controller-gen,
# and copies scheduler-plugins' PodGroup CRD at the version go.mod pins.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=${TOOLS_DIR:-$root/_output/tools}
cd "$root"

"$root/hack/build-tools.sh" controller-gen >&2

"$tools/controller-gen" \
  object:headerFile=hack/boilerplate.go.txt \
  crd:crdVersions=v1 \
  paths=./pkg/apis/... \
  output:crd:dir=deploy/crds

# PodGroup is scheduler-plugins' API, reused as is: take its manifest from the
# module go.mod pins, so upgrading the module upgrades the CRD.
sp=$(go list -mod=mod -m -f '{{.Dir}}' sigs.k8s.io/scheduler-plugins)
cp "$sp/manifests/coscheduling/crd.yaml" deploy/crds/scheduling.x-k8s.io_podgroups.yaml
chmod 0644 deploy/crds/scheduling.x-k8s.io_podgroups.yaml
