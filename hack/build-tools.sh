#!/usr/bin/env bash
# Builds the tools pinned in go.mod (and KWOK and Helm, pinned in
# hack/tools/go.mod)
# into _output/tools, once: a tool is rebuilt only when the module files that
# pin it change. Usage: hack/build-tools.sh [TOOL...]; no argument builds what
# `make test`, `make lint`, `make generate`, `make verify`, `make demo` and
# `make test-e2e` need (all of them; kube-controller-manager takes about 3
# minutes cold on two cores, KWOK about 2.5, the kubelet, which the tests
# on real kubelets run, about 2.5 after kube-apiserver).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${TOOLS_DIR:-$root/_output/tools}
mkdir -p "$out"

# name -> package, and the module folder that pins it.
declare -A pkg=(
  [etcd]=go.etcd.io/etcd/server/v3
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
  [kubelet]=k8s.io/kubernetes/cmd/kubelet
  [controller-gen]=sigs.k8s.io/controller-tools/cmd/controller-gen
  [client-gen]=k8s.io/code-generator/cmd/client-gen
  [lister-gen]=k8s.io/code-generator/cmd/lister-gen
  [informer-gen]=k8s.io/code-generator/cmd/informer-gen
  [staticcheck]=honnef.co/go/tools/cmd/staticcheck
  [kwok]=sigs.k8s.io/kwok/cmd/kwok
  [helm]=helm.sh/helm/v3/cmd/helm
  [scheduler-plugins]=sigs.k8s.io/scheduler-plugins/cmd/scheduler
  [kube-apiserver-1.36]=k8s.io/kubernetes/cmd/kube-apiserver
)
declare -A moddir=([kwok]=$root/hack/tools [helm]=$root/hack/tools [scheduler-plugins]=$root/hack/tools/scheduler-plugins
  [kube-apiserver-1.36]=$root/hack/tools/kubernetes-1.36)

# Link-time settings a tool's own build sets. Helm's Makefile stamps its
# version and the Kubernetes version of its client-go (the version `helm
# template` renders for and `helm lint` checks deprecations against; without
# it both assume v1.20). Here that version is Gantry's own (the main
# module's client-go), the release the chart is made for.
ldflags() { # name moddir
  case $1 in
    helm)
      local helm_ver k8s_ver major minor
      helm_ver=$(cd "$2" && go list -m -f '{{.Version}}' helm.sh/helm/v3)
      k8s_ver=$(cd "$root" && go list -m -f '{{.Version}}' k8s.io/client-go)
      IFS=. read -r major minor _ <<<"${k8s_ver#v}"
      major=$((major + 1))
      echo "-X helm.sh/helm/v3/internal/version.version=$helm_ver" \
        "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$major" \
        "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor" \
        "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$major" \
        "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor"
      ;;
  esac
}

tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(etcd kube-apiserver kube-controller-manager kubelet kwok controller-gen client-gen lister-gen informer-gen staticcheck helm scheduler-plugins)

for name in "${tools[@]}"; do
  p=${pkg[$name]:-}
  [ -n "$p" ] || { echo "build-tools: unknown tool $name (known: ${!pkg[*]})" >&2; exit 2; }
  dir=${moddir[$name]:-$root}
  flags=$(ldflags "$name" "$dir")
  stamp=$( (cat "$dir/go.mod" "$dir/go.sum"; [ -z "$flags" ] || echo "$flags") | sha256sum | cut -c1-16)
  if [ -x "$out/$name" ] && [ "$(cat "$out/.$name.stamp" 2>/dev/null)" = "$stamp" ]; then
    continue
  fi
  echo "build-tools: building $name ($p)"
  start=$SECONDS
  (cd "$dir" && go build -ldflags "$flags" -o "$out/$name" "$p")
  echo "$stamp" > "$out/.$name.stamp"
  echo "build-tools: $name built in $((SECONDS - start))s"
done
