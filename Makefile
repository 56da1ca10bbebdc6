GO        ?= go
BIN       ?= bin/lookout
PKGS      ?= ./...
FUZZTIME  ?= 30s
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/lookout-dev/lookout/internal/buildinfo.Version=$(VERSION)

.PHONY: all build demo test test-go test-short test-browser deps fuzz bench bench-compare bench-alerting ui fmt lint check-generated compare-prometheus

all: build

## build: compile bin/lookout (the UI assets in internal/ui/dist are committed; no Node needed)
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/lookout

## demo: run Lookout with a simulated service and live data on http://127.0.0.1:9900/
demo:
	$(GO) run ./cmd/lookout demo

## test: everything CI runs: dependencies, Go tests with the race detector, browser tests
test: deps test-go test-browser

deps:
	scripts/install-test-deps.sh

test-go:
	$(GO) vet $(PKGS)
	$(GO) test -race -timeout 60m $(PKGS)

## test-short: quick Go tests without the race detector or the crash test
test-short:
	$(GO) test -short $(PKGS)

test-browser:
	scripts/browser-test.sh

## fuzz: run every fuzz target in every package for FUZZTIME each
fuzz:
	@for p in $$($(GO) list ./internal/...); do \
		for t in $$($(GO) test -list '^Fuzz' $$p | grep ^Fuzz); do \
			echo "fuzz $$p $$t"; $(GO) test $$p -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s || exit 1; \
		done; \
	done

## bench: Go micro-benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 $(PKGS)

## bench-compare: remote-write ingest and query latency, Lookout vs Prometheus 3 (see bench/README.md)
bench-compare:
	bench/run.sh

## bench-alerting: rule evaluation, alert routing and end-to-end alert latency, Lookout vs Prometheus 3 and Alertmanager (see bench/README.md)
bench-alerting: bench/alerting.sh
	bench/alerting.sh

.PHONY: bench-logs
## bench-logs: logs ingest, disk and LogQL query latency, Lookout vs Loki 3.7.8, with grep/zstd as the baseline (LINES=200000 for a quick run; see BENCHMARKS.md, "Logs")
bench-logs:
	bench/logs.sh

## compare-prometheus: check the API golden files against a real Prometheus 3
compare-prometheus:
	scripts/compare-prometheus-api.sh

## ui: rebuild internal/ui/dist from web/ (needs Node)
ui:
	cd web && npm ci --no-audit --no-fund && ./build.sh

fmt:
	gofmt -w cmd internal bench

lint:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l cmd internal bench)" || (gofmt -l cmd internal bench; exit 1)

check-generated: ui
	git diff --exit-code internal/ui/dist
