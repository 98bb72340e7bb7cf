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
generate: ## Regenerate gen/ and client/'s typed operations from openapi.yaml, printing each operation's rule
	$(GO) generate ./gen

.PHONY: check-generated
# GENERATED is every file `go generate ./gen` writes: gen/, and the typed
# operations internal/opsgen writes into client/ and client/bctrltest/.
GENERATED := gen client/zz_operations.gen.go client/bctrltest/zz_operations.gen.go

check-generated: ## Regenerate and fail if gen/ or client/'s zz_*.gen.go differ from what is committed
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
	for f in $(GENERATED); do mkdir -p $$tmp/before/$$(dirname $$f) && cp -r $$f $$tmp/before/$$f; done && \
	$(GO) generate ./gen >/dev/null && \
	for f in $(GENERATED); do if ! diff -ru $$tmp/before/$$f $$f; then echo "$$f is stale or hand-edited: run 'make generate' and commit" >&2; exit 1; fi; done; \
	extra=$$(git ls-files --others --exclude-standard -- 'client/**.gen.go' 'client/*.gen.go'); \
	if [ -n "$$extra" ]; then echo "generated but not committed: $$extra" >&2; exit 1; fi
	@echo "gen/ and client/'s generated operations are up to date"

.PHONY: vet
vet: ## go vet every package
	$(GO) vet $(PKGS)

.PHONY: test
test: vet check-generated ## Vet, check gen/, run all tests with the race detector, then bench-test
	$(GO) test -race -count=1 $(PKGS)
	@$(MAKE) --no-print-directory bench-test GO=$(GO)

# temporal/ and temporal/e2e are modules of their own, so ./... above never
# builds them: the e2e module links a whole Temporal server (about 10 min to
# build cold on 2 cores). The unit tests run with the race detector; the
# e2e tests without (a race build of the server would double that time).
.PHONY: test-temporal
test-temporal: ## The temporal/ module's tests, then its end-to-end tests against an in-process Temporal server (temporal/e2e)
	cd temporal && $(GO) vet ./... && $(GO) test -race -count=1 ./...
	cd temporal/e2e && $(GO) vet ./... && $(GO) test -count=1 -timeout 15m -v ./... 2>&1 | grep -E '^(=== RUN|--- |\s+e2e_test|ok|FAIL|PASS|panic)' ; exit $${PIPESTATUS[0]}

.PHONY: temporal-example
temporal-example: ## Run temporal/example against bctrl dev-server --simulate and a local Temporal (temporal server start-dev)
	@GO=$(GO) temporal/example/run.sh

.PHONY: lint
lint: ## gofmt and staticcheck (pinned in go.mod)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) run honnef.co/go/tools/cmd/staticcheck $$($(GO) list ./... | grep -v '/gen$$')  # gen/ is generator output

BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
FUZZTIME ?= 30s
BENCHCOUNT ?= 6
BENCHTIME ?= 1s

# BENCHCOUNT rounds of every benchmark once, rather than -count: on a shared
# machine the load drifts, and interleaving the impls spreads that drift over
# all of them instead of skewing whichever ran during a busy minute.
.PHONY: bench
bench: bench-compare bench-client ## Both below: the Get comparison, then the client's decode and Wait benchmarks

# benchmarks/ is a module of its own, so that ogen never enters the SDK's
# module graph. Its test binary is built once and run BENCHCOUNT times.
.PHONY: bench-compare
bench-compare: ## SDK vs ogen, raw oapi-codegen, encoding/json and a floor at 1-10,000 steps, into bench-compare.out
	@set -o pipefail; tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
	(cd benchmarks && $(GO) test -c -o $$tmp/compare.test .) && \
	for i in $$(seq $(BENCHCOUNT)); do \
		(cd benchmarks && $$tmp/compare.test -test.run '^$$' -test.bench . -test.benchmem -test.benchtime $(BENCHTIME)) || exit 1; \
	done | tee bench-compare.out
	$(GO) run $(BENCHSTAT) -col /impl bench-compare.out

.PHONY: bench-quick
bench-quick: ## bench-compare in under a minute (4 short rounds): for a quick look while developing
	@$(MAKE) --no-print-directory bench-compare BENCHCOUNT=4 BENCHTIME=300ms

.PHONY: bench-client
bench-client: ## The client's BenchmarkDecode (no HTTP) and BenchmarkWaitScale, into bench-client.out
	set -o pipefail; for i in $$(seq $(BENCHCOUNT)); do \
		$(GO) test -run '^$$' -bench 'Decode|WaitScale|Overhead' -benchmem -count 1 ./client || exit 1; \
	done | tee bench-client.out
	$(GO) run $(BENCHSTAT) -filter '.name:Decode' -col /impl bench-client.out
	$(GO) run $(BENCHSTAT) -filter '.name:WaitScale' bench-client.out
	$(GO) run $(BENCHSTAT) -filter '.name:Overhead' bench-client.out

.PHONY: bench-test
bench-test: ## Vet benchmarks/ and check that every impl it compares reads the same steps
	cd benchmarks && $(GO) vet ./... && $(GO) test -count=1 ./...

.PHONY: generate-ogen
generate-ogen: ## Regenerate benchmarks/ogenclient from openapi.yaml (ogen pinned in benchmarks/go.mod)
	cd benchmarks && GO=$(GO) bash gen-ogen.sh

.PHONY: check-ogen
check-ogen: ## Regenerate benchmarks/ogenclient and fail if it differs from what is committed
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && cp -r benchmarks/ogenclient $$tmp/before && \
	(cd benchmarks && GO=$(GO) bash gen-ogen.sh) && \
	if ! diff -ru $$tmp/before benchmarks/ogenclient; then echo "benchmarks/ogenclient is stale: run 'make generate-ogen' and commit" >&2; exit 1; fi
	@echo "benchmarks/ogenclient is up to date"

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
drill: ## Rehearse each spec bump in testdata/spec-bumps on a scratch copy, then make release on three bumps in a scratch clone
	@GO=$(GO) scripts/drill.sh
	@GO=$(GO) MAKE=$(MAKE) scripts/release-drill.sh

.PHONY: spec-bump
spec-bump: ## Replace openapi.yaml with SPEC=path: show breaking and Go API changes, regenerate, test
	@GO=$(GO) MAKE=$(MAKE) scripts/spec-bump.sh "$(SPEC)"

.PHONY: release
release: ## Tag the next version: from the Go API diff since the last v* tag; writes CHANGELOG.md, commits, tags (not pushed)
	@GO=$(GO) scripts/release.sh

.PHONY: check-release
check-release: ## Fail if the code's version, CHANGELOG.md and the tags disagree, or a breaking change is unannounced
	@GO=$(GO) scripts/release.sh -check

.PHONY: apidiff
apidiff: ## Show how the exported Go API (every non-internal package) changed since BASE (default HEAD)
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
	git archive $(or $(BASE),HEAD) | tar -xf - -C $$tmp && \
	GO=$(GO) scripts/apidiff.sh $$tmp .
