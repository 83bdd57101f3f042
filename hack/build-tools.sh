#!/usr/bin/env bash
# Builds the tools pinned in go.mod (and KWOK and Helm, pinned in
# hack/tools/go.mod)
# into _output/tools, once: a tool is rebuilt only when the module files that
# pin it change. Usage: hack/build-tools.sh [TOOL...]; no argument builds what
# `make test`, `make lint`, `make generate` and `make verify` need.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${TOOLS_DIR:-$root/_output/tools}
mkdir -p "$out"

# name -> package, and the module folder that pins it.
declare -A pkg=(
  [etcd]=go.etcd.io/etcd/server/v3
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
  [controller-gen]=sigs.k8s.io/controller-tools/cmd/controller-gen
  [staticcheck]=honnef.co/go/tools/cmd/staticcheck
  [kwok]=sigs.k8s.io/kwok/cmd/kwok
  [helm]=helm.sh/helm/v3/cmd/helm
)
declare -A moddir=([kwok]=$root/hack/tools [helm]=$root/hack/tools)

tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(etcd kube-apiserver controller-gen staticcheck helm)

for name in "${tools[@]}"; do
  p=${pkg[$name]:-}
  [ -n "$p" ] || { echo "build-tools: unknown tool $name (known: ${!pkg[*]})" >&2; exit 2; }
  dir=${moddir[$name]:-$root}
  stamp=$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -c1-16)
  if [ -x "$out/$name" ] && [ "$(cat "$out/.$name.stamp" 2>/dev/null)" = "$stamp" ]; then
    continue
  fi
  echo "build-tools: building $name ($p)"
  start=$SECONDS
  (cd "$dir" && go build -o "$out/$name" "$p")
  echo "$stamp" > "$out/.$name.stamp"
  echo "build-tools: $name built in $((SECONDS - start))s"
done
