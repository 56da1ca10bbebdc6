#!/usr/bin/env bash
# Runs the API golden requests against a real Prometheus 3 loaded with the
# same dataset, to show that Lookout's golden files are Prometheus' answers.
#   scripts/compare-prometheus-api.sh [PROMETHEUS_BINARY] [--update]
# With --update the golden files are rewritten from Prometheus' responses.
# PROMETHEUS_BINARY defaults to $PROMETHEUS or a build of
# github.com/prometheus/prometheus@v0.313.5 (Prometheus 3.13.5) in
# /tmp/lookout-bench-cache (bench/run.sh builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
prom=${1:-${PROMETHEUS:-/tmp/lookout-bench-cache/prometheus-v0.313.5}}
update=${2:-}
[ -x "$prom" ] || { echo "no Prometheus binary at $prom (run bench/run.sh once to build one, or pass a path)" >&2; exit 1; }
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'global:\n  scrape_interval: 1h\n' > "$dir/prometheus.yml"
"$prom" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
  --web.listen-address="127.0.0.1:$port" --web.enable-remote-write-receiver >"$dir/prom.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.2; done
"$prom" --version 2>&1 | head -1
args=(-run TestAPIGolden -count=1 -v)
[ "$update" = "--update" ] && args+=(-update)
LOOKOUT_COMPARE_PROMETHEUS="http://127.0.0.1:$port" go test ./internal/app "${args[@]}" | grep -E '^(=== RUN|--- (PASS|FAIL)|ok|FAIL|PASS)' | grep -v '=== RUN'
