#!/usr/bin/env bash
# Fails when go.mod/go.sum are untidy, vendor/ does not match them, the
# generated deepcopy code, typed clients and CRD manifests do not match
# pkg/apis, or the chart's copies (CRDs, scheduler configuration) and what is
# rendered from it (deploy/rbac, deploy/manifests) do not match their sources.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

echo "verify: go.mod and go.sum are tidy"
if ! go mod tidy -diff; then
  echo "verify: go.mod/go.sum are not tidy: run 'make vendor'" >&2
  failed=1
fi
for m in hack/tools hack/tools/scheduler-plugins hack/tools/kubernetes-1.36; do
  if ! (cd "$m" && go mod tidy -diff); then
    echo "verify: $m/go.mod is not tidy: run 'cd $m && go mod tidy'" >&2
    failed=1
  fi
done

echo "verify: vendor/ matches go.mod"
go mod vendor -o "$tmp/vendor"
if ! diff -r -q vendor "$tmp/vendor"; then
  echo "verify: vendor/ is out of date: run 'make vendor'" >&2
  failed=1
fi

echo "verify: generated code, CRD manifests, the chart's copies and rendered manifests are current"
generated=(pkg/apis pkg/generated pkg/kubectlgantry deploy/crds deploy/helm deploy/rbac deploy/manifests)
mkdir -p "$tmp/before"
cp -a "${generated[@]}" "$tmp/before/"
hack/update-codegen.sh
hack/update-manifests.sh
for d in "${generated[@]}"; do
  if ! diff -r -u "$tmp/before/$(basename "$d")" "$d"; then
    echo "verify: $d is out of date: run 'make generate'" >&2
    failed=1
  fi
  # Leave the tree as it was found.
  rm -rf "$d" && cp -a "$tmp/before/$(basename "$d")" "$d"
done

[ "$failed" = 0 ] && echo "verify: ok"
exit "$failed"
