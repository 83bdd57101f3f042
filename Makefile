# Gantry — build, test and check. `make help` lists the targets.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := build

GO        ?= go
TOOLS_DIR := $(CURDIR)/_output/tools
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X github.com/gantry-gpu/gantry/pkg/version.Version=$(VERSION) \
             -X github.com/gantry-gpu/gantry/pkg/version.GitCommit=$(COMMIT)
BINARIES  := gantry-scheduler gantry-device-plugin gantry-controller kubectl-gantry

export TOOLS_DIR

.PHONY: help
help: ## List the targets.
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: build
build: ## Build bin/gantry-scheduler and bin/gantry-device-plugin.
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/ $(addprefix ./cmd/,$(BINARIES))

.PHONY: tools
tools: ## Build etcd, kube-apiserver, kube-controller-manager, KWOK, controller-gen, staticcheck and helm into _output/tools (once).
	hack/build-tools.sh

.PHONY: test
test: tools ## Unit and integration tests against a real etcd + kube-apiserver.
	hack/test.sh

.PHONY: test-skew
test-skew: tools ## The integration tests against the API server release before Gantry's own (1.36).
	hack/build-tools.sh kube-apiserver-1.36
	GANTRY_KUBE_APISERVER=kube-apiserver-1.36 hack/test.sh ./test/integration/...

.PHONY: test-e2e
test-e2e: tools build ## End-to-end: the examples on the local cluster of `make demo` (test/e2e).
	GANTRY_E2E=1 KUBEBUILDER_ASSETS=$(TOOLS_DIR) $(GO) test -count=1 -v -timeout 10m ./test/e2e/

.PHONY: lint
lint: tools ## gofmt, go vet, staticcheck and helm lint.
	@bad=$$(gofmt -l cmd pkg test hack); if [ -n "$$bad" ]; then echo "not gofmt-formatted:"; echo "$$bad"; exit 1; fi
	$(GO) vet ./...
	@# The generated clients use what code-generator emits; not ours to fix.
	$(TOOLS_DIR)/staticcheck $$($(GO) list ./... | grep -v /pkg/generated/)
	$(TOOLS_DIR)/helm lint --strict deploy/helm/gantry
	$(TOOLS_DIR)/helm lint --strict deploy/helm/gantry --set serviceMonitor.enabled=true \
	  --set devicePlugin.metricsBindAddress=:9400 --set controller.bindAddress=:9402 \
	  --set grafanaDashboard.enabled=true --set prometheusRule.enabled=true

.PHONY: generate
generate: ## Regenerate deepcopy code, CRD manifests, and the chart's copies and renderings.
	hack/update-codegen.sh
	hack/update-manifests.sh

.PHONY: verify
verify: tools ## Fail if go.mod, vendor/, generated code, CRDs or rendered manifests are out of date.
	hack/verify.sh

.PHONY: vendor
vendor: ## Tidy go.mod and refresh vendor/.
	$(GO) mod tidy
	$(GO) mod vendor

.PHONY: demo
demo: tools build ## Start the local cluster (KWOK GPU nodes, Gantry) in the background and submit the examples.
	hack/demo.sh up

.PHONY: demo-down
demo-down: ## Stop everything `make demo` started and remove _output/demo.
	hack/demo.sh down

.PHONY: run
run: tools build ## `make demo` in the foreground; Ctrl-C stops it.
	hack/local-up.sh

.PHONY: clean
clean: ## Remove build outputs (keeps the built tools).
	rm -rf bin _output/test.log

# The replay benchmark (test/bench/replay, issue #8): the same GPU workload
# against Gantry, the default profile, MostAllocated and Coscheduling, one
# after the other on one simulated cluster. The report (Markdown, HTML with
# plots, JSON) goes to _output/bench/<mode>-<time>/; BENCH_DOCS=1 also
# rewrites docs/benchmarks.md. Scheduler logs go to scheduler.log there.
BENCH_DOCS ?= 0

.PHONY: bench
bench: ## Replay benchmark, full: 1,000 nodes, ~10,400 pods, 4 schedulers (about 15 min on 2 cores).
	GANTRY_BENCH_REPLAY=full GANTRY_BENCH_DOCS=$(BENCH_DOCS) GANTRY_BENCH_COMMAND='make bench BENCH_DOCS=1' \
	  KUBEBUILDER_ASSETS=$(TOOLS_DIR) $(GO) test -count=1 -run '^TestReplay$$' -v -timeout 45m ./test/bench/replay/

.PHONY: bench-quick
bench-quick: ## Replay benchmark, quick (CI): 40 nodes, ~440 pods, 4 schedulers (about 2 min).
	GANTRY_BENCH_REPLAY=quick GANTRY_BENCH_COMMAND='make bench-quick' \
	  KUBEBUILDER_ASSETS=$(TOOLS_DIR) $(GO) test -count=1 -run '^TestReplay$$' -v -timeout 10m ./test/bench/replay/
