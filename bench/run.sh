#!/usr/bin/env bash
# Remote write ingest and dashboard query benchmark: Lookout against Prometheus 3, one after the
# other on this machine, same load. Every listener and every request stays on 127.0.0.1; every
# process this script starts is stopped when it exits. See bench/README.md.
#
# Settings (environment):
#   SERVERS="lookout prometheus"  which servers to measure, in order
#   SERIES=100000 METRICS=100     active series and metric names
#   ROUNDS=200 INTERVAL=60s       samples per series and simulated scrape interval; with ALIGN=2h
#   ALIGN=2h                      the data spans > 3h, so each TSDB cuts one full 2h block
#   PROTOCOL=v1                   remote write v1 or v2 (v2 needs Prometheus 3)
#   BATCH=2000 CONCURRENCY=4      samples per request, parallel senders
#   QUERY_ITERATIONS=10           timed passes over the query set (each query instant + range)
#   LOAD_TIMEOUT=600s             cap on each load phase
#   SETTLE_TIMEOUT=300            seconds to wait for a server to go idle after the load
#   QUIET_WAIT=30                 seconds to wait for the machine to be idle before each phase
#   NICE=0                        run servers and tools at this nice level; on a shared machine
#                                 NICE=-10 (as root) keeps other work from skewing the figures
#   PROM_MODULE_VERSION=v0.313.5  Prometheus 3.13.5, built from the module proxy
#   LOOKOUT_BIN=                  use this Lookout binary instead of building bin/lookout
#   LOOKOUT_BENCH_CACHE=/tmp/lookout-bench-cache   where the Prometheus build is kept
#   KEEP=1                        keep the run directory (logs, data dirs)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${LOOKOUT_BENCH_CACHE:-/tmp/lookout-bench-cache}
PROM_MODULE_VERSION=${PROM_MODULE_VERSION:-v0.313.5}
SERVERS=${SERVERS:-"lookout prometheus"}
SERIES=${SERIES:-100000}
METRICS=${METRICS:-100}
ROUNDS=${ROUNDS:-200}
INTERVAL=${INTERVAL:-60s}
ALIGN=${ALIGN:-2h}
PROTOCOL=${PROTOCOL:-v1}
BATCH=${BATCH:-2000}
CONCURRENCY=${CONCURRENCY:-4}
QUERY_ITERATIONS=${QUERY_ITERATIONS:-10}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-600s}
SETTLE_TIMEOUT=${SETTLE_TIMEOUT:-300}
QUIET_WAIT=${QUIET_WAIT:-30}
NICE=${NICE:-0}
KEEP=${KEEP:-0}
LOOKOUT_BIN=${LOOKOUT_BIN:-}

RUN_DIR=$(mktemp -d /tmp/lookout-bench-run.XXXXXX)
RUN=""
[[ $NICE == 0 ]] || RUN="nice -n $NICE"
TOOLS=$RUN_DIR/tools
SERVER_PID=""
FAILED=0

# shellcheck source=lib/common.sh
source "$ROOT/bench/lib/common.sh"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $SERVER_PID ]]; then
    stop_pid "$SERVER_PID" 20
  fi
  if [[ $KEEP == 1 || $rc != 0 || $FAILED != 0 ]]; then
    log "run directory kept: $RUN_DIR"
  else
    rm -rf "$RUN_DIR"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build_tools() {
  log "building bench tools"
  (cd "$ROOT" && go build -o "$TOOLS/" ./bench/cmd/rwload ./bench/cmd/querybench ./bench/cmd/benchreport)
}

build_lookout() { build_lookout_into "$ROOT/bin/lookout"; }

# find_peer sets PROM_BIN and PROM_VERSION. Prometheus 2 (the fallback) has no remote write 2.0.
find_peer() {
  find_prometheus || return 1
  PROM_VERSION="$PROM_RELEASE (module $PROM_MODULE_VERSION)"
  if [[ $PROM_FALLBACK == 1 ]]; then
    PROM_VERSION="$PROM_RELEASE (Debian)"
    if [[ $PROTOCOL == v2 ]]; then
      log "Prometheus 2 has no remote write 2.0: using PROTOCOL=v1 for every server"
      PROTOCOL=v1
    fi
  fi
}

# start_SERVER DIR DATA: starts the server in the background and sets SERVER_PID, API_URL,
# WRITE_URL, BIN and VERSION.
start_lookout() {
  local dir=$1 data=$2 p1 p2 p3
  p1=$(free_port)
  p2=$(free_port)
  while [[ $p2 == "$p1" ]]; do p2=$(free_port); done
  p3=$(free_port)
  while [[ $p3 == "$p1" || $p3 == "$p2" ]]; do p3=$(free_port); done
  BIN=$LOOKOUT_BIN
  VERSION=$("$BIN" version 2>/dev/null | head -1 || true)
  API_URL=http://127.0.0.1:$p1
  WRITE_URL=$API_URL/api/v1/write
  # Like the Prometheus below, Lookout scrapes nothing, not even itself. A self-scrape would put
  # samples stamped "now" in the head, and the TSDB would then refuse the load's older samples
  # as out of bounds.
  printf 'metrics:\n  self_scrape: false\n' >"$dir/lookout.yml"
  evict_page_cache "$BIN"
  $RUN "$BIN" server --config "$dir/lookout.yml" --data-dir "$data" --listen "127.0.0.1:$p1" \
    --otlp-grpc-listen "127.0.0.1:$p2" --otlp-http-listen "127.0.0.1:$p3" >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
}

start_prometheus() {
  local dir=$1 data=$2 p
  p=$(free_port)
  BIN=$PROM_BIN
  VERSION=$PROM_VERSION
  API_URL=http://127.0.0.1:$p
  WRITE_URL=$API_URL/api/v1/write
  printf 'global:\n  scrape_interval: 1h\n  evaluation_interval: 1h\n' >"$dir/prometheus.yml"
  evict_page_cache "$BIN"
  $RUN "$BIN" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$data" \
    --web.listen-address="127.0.0.1:$p" --web.enable-remote-write-receiver >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
}

wait_ready() {
  local i
  for ((i = 0; i < 1200; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null || { log "server exited during startup; see its log"; return 1; }
    if curl -sf -o /dev/null --max-time 2 "$API_URL/-/ready"; then
      return 0
    fi
    sleep 0.1
  done
  log "server not ready after 120s"
  return 1
}

# has_block DIR: a persisted TSDB block (a meta.json) exists under DIR.
has_block() { [[ -n $(find "$1" -name meta.json -print -quit 2>/dev/null) ]]; }

# settle waits until the server has used under 5% of a core for 3 seconds in a row (and, when the
# load spanned enough simulated time to cut a block, until a block exists or 75s have passed,
# covering the TSDB's one-minute compaction tick). Sets SETTLE_CPU and SETTLE_WALL.
settle() {
  local data=$1 want_block=$2 t0 c0 prev cur quiet=0 i
  t0=$(now)
  c0=$(cpu_seconds "$SERVER_PID")
  prev=$c0
  for ((i = 0; i < SETTLE_TIMEOUT; i++)); do
    sleep 1
    cur=$(cpu_seconds "$SERVER_PID")
    if awk -v a="$prev" -v b="$cur" 'BEGIN {exit !(b - a < 0.05)}'; then
      quiet=$((quiet + 1))
    else
      quiet=0
    fi
    prev=$cur
    if ((quiet >= 3)); then
      if [[ $want_block == 0 ]] || has_block "$data" || ((i >= 75)); then
        break
      fi
    fi
  done
  SETTLE_CPU=$(elapsed "$c0" "$cur")
  SETTLE_WALL=$(elapsed "$t0" "$(now)")
}

measure() {
  local name=$1 dir data t0 startup last_ts want_block rss_ingest cpu_total rss t1 stop_s rc=0
  dir=$RUN_DIR/$name
  data=$dir/data
  mkdir -p "$dir"
  log "$name: starting"
  t0=$(now)
  "start_$name" "$dir" "$data"
  if ! wait_ready; then
    tail -20 "$dir/server.log" >&2 || true
    stop_pid "$SERVER_PID" 10
    SERVER_PID=""
    return 1
  fi
  startup=$(elapsed "$t0" "$(now)")
  wait_quiet
  log "$name: ready after ${startup}s (pid $SERVER_PID, $VERSION); sending $SERIES series x $ROUNDS rounds"

  $RUN "$TOOLS/rwload" -url "$WRITE_URL" -protocol "$PROTOCOL" -series "$SERIES" -metrics "$METRICS" \
    -samples-per-series "$ROUNDS" -interval "$INTERVAL" -align "$ALIGN" -batch "$BATCH" \
    -concurrency "$CONCURRENCY" -duration "$LOAD_TIMEOUT" -server-pid "$SERVER_PID" \
    >"$dir/rwload.json" 2>"$dir/rwload.log" || rc=$?
  ((rc == 0)) || log "$name: rwload exit $rc: $(head -c 400 "$dir/rwload.json" 2>/dev/null)"
  last_ts=$(jq -r '.last_timestamp_ms // empty' "$dir/rwload.json" 2>/dev/null || true)
  log "$name: load done: $(jq -c '{samples_sent, samples_per_second, server_cpu_seconds, errors_by_status}' "$dir/rwload.json" 2>/dev/null || true)"

  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    log "$name: the server exited during the load; last lines of its log:"
    tail -20 "$dir/server.log" >&2 || true
    rc=1
  fi
  want_block=$(jq -r '(.last_timestamp_ms - .first_timestamp_ms) > 3 * 3600 * 1000' "$dir/rwload.json" 2>/dev/null || echo false)
  [[ $want_block == true ]] && want_block=1 || want_block=0
  settle "$data" "$want_block"
  rss_ingest=$(vmhwm_bytes "$SERVER_PID")
  log "$name: settled after ${SETTLE_WALL}s (${SETTLE_CPU} CPU s); blocks: $(find "$data" -name meta.json | wc -l)"

  if [[ -n $last_ts ]]; then
    wait_quiet
    $RUN "$TOOLS/querybench" -url "$API_URL" -end "$last_ts" -n "$QUERY_ITERATIONS" -server-pid "$SERVER_PID" \
      >"$dir/querybench.json" 2>"$dir/querybench.log" || log "$name: querybench reported errors"
    log "$name: queries: $(jq -c '.overall | {p50_ms, p99_ms, count}' "$dir/querybench.json" 2>/dev/null || true)"
  fi

  cpu_total=$(cpu_seconds "$SERVER_PID")
  rss=$(vmhwm_bytes "$SERVER_PID")
  t1=$(now)
  stop_pid "$SERVER_PID" 120
  stop_s=$(elapsed "$t1" "$(now)")
  SERVER_PID=""
  log "$name: stopped in ${stop_s}s (exit $STOP_RC)"

  jq -n --arg name "$name" --arg bin "$BIN" --arg version "$VERSION" --arg data "$data" \
    --argjson startup "$startup" --argjson scpu "$SETTLE_CPU" --argjson swall "$SETTLE_WALL" \
    --argjson cpu "$cpu_total" --argjson rss "$rss" --argjson rssi "$rss_ingest" \
    --argjson stop "$stop_s" --argjson rc "$STOP_RC" \
    '{name: $name, binary: $bin, version: $version, data_dir: $data, startup_seconds: $startup,
      settle_cpu_seconds: $scpu, settle_wall_seconds: $swall, cpu_total_seconds: $cpu,
      peak_rss_bytes: $rss, peak_rss_ingest_bytes: $rssi, stop_seconds: $stop, exit_code: $rc}' \
    >"$dir/server.json"
  return "$rc"
}

main() {
  command -v jq >/dev/null || { log "jq is required (apt-get install -y jq)"; exit 1; }
  local started name args=() measured=() out stamp
  started=$(now)
  build_tools
  for name in $SERVERS; do
    case $name in
    lookout)
      if ! build_lookout; then
        log "Lookout does not build; skipping it: $(tail -3 "$RUN_DIR/lookout-build.log")"
        FAILED=1
        continue
      fi
      ;;
    prometheus)
      find_peer || { FAILED=1; continue; }
      ;;
    *)
      log "unknown server $name"
      exit 2
      ;;
    esac
    measured+=("$name")
  done

  for name in "${measured[@]}"; do
    if measure "$name"; then :; else
      log "$name: measurement incomplete"
      FAILED=1
    fi
    [[ -f $RUN_DIR/$name/server.json ]] && args+=(-server "$name=$RUN_DIR/$name")
  done
  ((${#args[@]} > 0)) || { log "nothing measured"; exit 1; }

  mkdir -p "$ROOT/bench/results"
  stamp=$(date -u +%Y-%m-%d)
  out=$ROOT/bench/results/$stamp.json
  [[ -e $out ]] && out=$ROOT/bench/results/$stamp-$(date -u +%H%M%S).json
  "$TOOLS/benchreport" "${args[@]}" -out "$out" \
    -note "series=$SERIES metrics=$METRICS rounds=$ROUNDS interval=$INTERVAL align=$ALIGN protocol=$PROTOCOL batch=$BATCH concurrency=$CONCURRENCY query_iterations=$QUERY_ITERATIONS" \
    -note "nice level of servers and tools: $NICE" \
    -note "servers ran one at a time on the same machine, each with a fresh data dir; bytes/sample in blocks comes from the blocks' meta.json after a graceful stop" \
    | tee "${out%.json}.md"
  log "results: $out (total $(elapsed "$started" "$(now)")s)"
  return "$FAILED"
}

main "$@"
