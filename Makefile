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
BENCHCOUNT ?= 6

# BENCHCOUNT rounds of every benchmark once, rather than -count: on a shared
# machine the load drifts, and interleaving the impls spreads that drift over
# all of them instead of skewing whichever ran during a busy minute.
.PHONY: bench
bench: ## Run the client benchmarks BENCHCOUNT times into bench.out; benchstat compares the impls
	set -o pipefail; for i in $$(seq $(BENCHCOUNT)); do \
		$(GO) test -run '^$$' -bench . -benchmem -count 1 ./client || exit 1; \
	done | tee bench.out
	$(GO) run $(BENCHSTAT) -filter '.name:Get' -col /impl bench.out
	$(GO) run $(BENCHSTAT) -filter '.name:Decode' -col /impl bench.out
	$(GO) run $(BENCHSTAT) -filter '.name:WaitScale' bench.out

# The seeds are multi-KB fixtures: minimizing an input found from one takes
# up to go test's default 60s, during which nothing new is tried, so a 30s
# run would do little else. FUZZMINIMIZETIME bounds it.
FUZZMINIMIZETIME ?= 3s
FUZZFLAGS = -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME)

.PHONY: fuzz
fuzz: ## Run each client fuzz target for FUZZTIME (default 30s)
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzDecodeInvocation$$' ./client
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzStepDiscrimination$$' ./client
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzDecodersAgree$$' ./client

.PHONY: demo
demo: ## Build bin/bctrl, start its dev server and watch a demo invocation finish
	@GO=$(GO) scripts/demo.sh

.PHONY: drill
drill: ## Rehearse each spec bump in testdata/spec-bumps on a scratch copy
	@GO=$(GO) scripts/drill.sh

.PHONY: spec-bump
spec-bump: ## Replace openapi.yaml with SPEC=path: show breaking and Go API changes, regenerate, test
	@GO=$(GO) MAKE=$(MAKE) scripts/spec-bump.sh "$(SPEC)"

.PHONY: apidiff
apidiff: ## Show how the Go API of ./client and ./gen changed since BASE (default HEAD)
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
	git archive $(or $(BASE),HEAD) | tar -xf - -C $$tmp && \
	GO=$(GO) scripts/apidiff.sh $$tmp .
