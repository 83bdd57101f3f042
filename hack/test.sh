#!/usr/bin/env bash
# Runs every unit and integration test (the integration tests start a real
# etcd and kube-apiserver from _output/tools) and ends with one summary line.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$root/_output/tools}
mkdir -p _output
log=_output/test.log

go test -count=1 -v -timeout 20m "${@:-./...}" 2>&1 | tee "$log" | grep -E '^(=== RUN|\s*--- (PASS|FAIL|SKIP)|(ok|FAIL|PASS|panic:)\s|.*_test\.go:[0-9]+:)' | grep -v '^=== RUN'
status=${PIPESTATUS[0]}

passed=$(grep -cE '^\s*--- PASS' "$log")
failed=$(grep -cE '^\s*--- FAIL' "$log")
skipped=$(grep -cE '^\s*--- SKIP' "$log")
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then
  # A build failure or a panic fails no single test: show it and count it.
  grep -E '^(FAIL|panic:|#)|\.go:[0-9]+:[0-9]+:' "$log" | head -50
  failed=1
fi
echo "full log: $log"
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
