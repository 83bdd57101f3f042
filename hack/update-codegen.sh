#!/usr/bin/env bash
# Regenerates deepcopy code and CRD manifests from pkg/apis with controller-gen,
# the typed clientset, listers and informers for gantry.dev (pkg/generated)
# with code-generator, and copies scheduler-plugins' PodGroup CRD at the version go.mod pins.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=${TOOLS_DIR:-$root/_output/tools}
cd "$root"

"$root/hack/build-tools.sh" controller-gen client-gen lister-gen informer-gen >&2

"$tools/controller-gen" \
  object:headerFile=hack/boilerplate.go.txt \
  crd:crdVersions=v1 \
  paths=./pkg/apis/... \
  output:crd:dir=deploy/crds
# kubectl-gantry's views, printed through cli-runtime's printers.
"$tools/controller-gen" object:headerFile=hack/boilerplate.go.txt paths=./pkg/kubectlgantry/...

# Typed clients for gantry.dev. Generated into a scratch folder and swapped
# in whole, so types removed from the API leave no stale files behind.
module=github.com/gantry-gpu/gantry
apis=$module/pkg/apis
gen=$module/pkg/generated
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
header=hack/boilerplate.go.txt
"$tools/client-gen" --go-header-file "$header" --clientset-name versioned --fake-clientset=false \
  --input-base "$apis" --input gantry/v1alpha1 \
  --output-pkg "$gen/clientset" --output-dir "$scratch/clientset"
"$tools/lister-gen" --go-header-file "$header" \
  --output-pkg "$gen/listers" --output-dir "$scratch/listers" "$apis/gantry/v1alpha1"
"$tools/informer-gen" --go-header-file "$header" \
  --versioned-clientset-package "$gen/clientset/versioned" \
  --listers-package "$gen/listers" \
  --output-pkg "$gen/informers" --output-dir "$scratch/informers" "$apis/gantry/v1alpha1"
rm -rf pkg/generated
mkdir -p pkg/generated
mv "$scratch"/* pkg/generated/

# PodGroup is scheduler-plugins' API, reused as is: take its manifest from the
# module go.mod pins, so upgrading the module upgrades the CRD.
sp=$(go list -mod=mod -m -f '{{.Dir}}' sigs.k8s.io/scheduler-plugins)
cp "$sp/manifests/coscheduling/crd.yaml" deploy/crds/scheduling.x-k8s.io_podgroups.yaml
chmod 0644 deploy/crds/scheduling.x-k8s.io_podgroups.yaml
