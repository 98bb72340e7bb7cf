# Makefile for github.com/bctrlhq/sdk-go. Every tool is pinned in go.mod
# (tools.go) or run with an explicit version, so a fresh clone needs only Go.
SHELL := /bin/bash
GO ?= go
PKGS := ./...

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: generate
generate: ## Regenerate gen/ from openapi.yaml
	$(GO) generate ./gen

.PHONY: check-generated
check-generated: ## Regenerate and fail if gen/ differs from what is committed
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && cp -r gen $$tmp/before && \
	$(GO) generate ./gen && \
	if ! diff -ru $$tmp/before gen; then echo "gen/ is stale or hand-edited: run 'make generate' and commit" >&2; exit 1; fi
	@echo "gen/ is up to date"

.PHONY: vet
vet: ## go vet every package
	$(GO) vet $(PKGS)

.PHONY: test
test: vet check-generated ## Vet, check gen/, run all tests with the race detector
	$(GO) test -race -count=1 $(PKGS)

.PHONY: lint
lint: ## gofmt and staticcheck (pinned in go.mod)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) run honnef.co/go/tools/cmd/staticcheck $$($(GO) list ./... | grep -v '/gen$$')  # gen/ is generator output

BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
FUZZTIME ?= 30s

.PHONY: bench
bench: ## Run the client benchmarks (6 counts) into bench.out and summarise them with benchstat
	set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -count 6 ./client | tee bench.out
	$(GO) run $(BENCHSTAT) -filter '.name:(Get OR Decode)' -col /impl bench.out
	$(GO) run $(BENCHSTAT) -filter '.name:WaitScale' bench.out

.PHONY: fuzz
fuzz: ## Run each client fuzz target for FUZZTIME (default 30s)
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeInvocation$$' -fuzztime $(FUZZTIME) ./client
	$(GO) test -run '^$$' -fuzz '^FuzzStepDiscrimination$$' -fuzztime $(FUZZTIME) ./client

.PHONY: demo
demo: ## Build bin/bctrl, start its dev server and watch a demo invocation finish
	@GO=$(GO) scripts/demo.sh

.PHONY: drill
drill: ## Rehearse each spec bump in testdata/spec-bumps on a scratch copy
	@GO=$(GO) scripts/drill.sh

.PHONY: spec-bump
spec-bump: ## Replace openapi.yaml with SPEC=path: show breaking changes, regenerate, test
	@GO=$(GO) MAKE=$(MAKE) scripts/spec-bump.sh "$(SPEC)"
