#!/usr/bin/env bash
# Logs benchmark: the same generated logs pushed to Lookout and to Grafana Loki 3.7.8 through
# the Loki push API, one server after the other in the same run, then the same LogQL queries
# against both; grep and zstd on the raw files are the physical baseline. Every listener and every
# request stays on 127.0.0.1; every process this script starts is stopped when it exits. See
# BENCHMARKS.md, "Logs".
#
# Settings (environment):
#   SYSTEMS="lookout loki"        which servers to measure, in order (the first is the ratios' numerator)
#   LINES=10000000                lines in total: JSON app logs and nginx access logs
#   NGINX_SHARE=0.3 SEED=1        share of nginx lines; generator seed
#   MODEL=requests                generator model: requests (a request logs several lines with one
#                                 request_id) or lines (each line its own request; earlier runs)
#   STREAM_BY=request             which stream a line goes to: request (the lines of one request_id go
#                                 to one host's stream; other lines round robin) or line (round robin;
#                                 earlier runs)
#   WINDOW=2h                     the lines' timestamps spread over this window ending at the start of the run
#   FORMAT=proto                  push encoding: proto (snappy protobuf, as Promtail/Alloy) or json
#   BATCH=1000 STREAMS=4 CONCURRENCY=4   lines per push, streams per file, pushes in flight
#   QUERY_RUNS=5                  timed runs per query after one warm-up; the median is reported
#                                 (a query slower than 30 s is timed once)
#   QUERY_TIMEOUT=5m              client timeout per query (Loki's query_timeout is 5m too)
#   MAX_DATA_POINTS=1000          the query step is the interval Grafana picks for the window at this width
#   ZSTD_LEVEL=3                  zstd level of the raw-file baseline
#   READY_TIMEOUT=900             seconds to wait after the push for every line to be queryable
#   QUIET_WAIT=30                 seconds to wait for the machine to be idle before each phase
#   NICE=0                        nice level of servers and tools (NICE=-10 as root on a shared machine)
#   LOOKOUT_BIN=                  use this Lookout binary instead of building $CACHE/lookout
#   LOKI_MODULE_VERSION=v3.7.8    Loki, built from the module proxy (bench/lib/loki.sh)
#   LOKI_CHUNK_ENCODING=gzip      Loki's chunk compression (its default); bench/loki.yml
#   LOOKOUT_BENCH_CACHE=/tmp/lookout-bench-cache   where the Lookout and Loki builds are kept
#   BUILD_TIMEOUT=900             seconds allowed for each build
#   RESULTS=bench/results         where logs-<timestamp>.json and .md go
#   KEEP=1                        keep the run directory (generated logs, server logs, data dirs)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${LOOKOUT_BENCH_CACHE:-/tmp/lookout-bench-cache}
SYSTEMS=${SYSTEMS:-"lookout loki"}
LINES=${LINES:-10000000}
NGINX_SHARE=${NGINX_SHARE:-0.3}
SEED=${SEED:-1}
MODEL=${MODEL:-requests}
STREAM_BY=${STREAM_BY:-request}
WINDOW=${WINDOW:-2h}
FORMAT=${FORMAT:-proto}
BATCH=${BATCH:-1000}
STREAMS=${STREAMS:-4}
CONCURRENCY=${CONCURRENCY:-4}
QUERY_RUNS=${QUERY_RUNS:-5}
QUERY_TIMEOUT=${QUERY_TIMEOUT:-5m}
MAX_DATA_POINTS=${MAX_DATA_POINTS:-1000}
ZSTD_LEVEL=${ZSTD_LEVEL:-3}
READY_TIMEOUT=${READY_TIMEOUT:-900}
QUIET_WAIT=${QUIET_WAIT:-30}
NICE=${NICE:-0}
LOOKOUT_BIN=${LOOKOUT_BIN:-}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-900}
KEEP=${KEEP:-0}
RESULTS=${RESULTS:-$ROOT/bench/results}
export LOKI_CHUNK_ENCODING=${LOKI_CHUNK_ENCODING:-gzip}

RUN_DIR=$(mktemp -d /tmp/lookout-logbench-run.XXXXXX)
RUN=""
[[ $NICE == 0 ]] || RUN="nice -n $NICE"
TOOLS=$RUN_DIR/tools
LG=$TOOLS/loggen
LOGS=$RUN_DIR/logs
SERVER_PID=""
FAILED=0

LOG_TAG=logbench
# shellcheck source=lib/common.sh
source "$ROOT/bench/lib/common.sh"
# shellcheck source=lib/loki.sh
source "$ROOT/bench/lib/loki.sh"

stop_server() {
  if [[ -n $SERVER_PID ]]; then
    stop_pid "$SERVER_PID" 60
    SERVER_PID=""
  fi
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_server
  if [[ $KEEP == 1 || $rc != 0 || $FAILED != 0 ]]; then
    # The generated logs are large and can be regenerated from the seed: keep only the rest.
    [[ $KEEP == 1 ]] || rm -f "$LOGS"/*.log "$LOGS"/*.zst
    log "run directory kept: $RUN_DIR"
  else
    rm -rf "$RUN_DIR"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# file_bytes DIR [find tests...]: the apparent size of the regular files under DIR.
file_bytes() {
  local dir=$1
  shift
  [[ -d $dir ]] || { echo 0; return; }
  find "$dir" -type f "$@" -printf '%s\n' 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'
}

# ---- builds -------------------------------------------------------------------------------

build_tools() {
  log "building bench/cmd/loggen"
  (cd "$ROOT" && timeout "$BUILD_TIMEOUT" go build -o "$TOOLS/" ./bench/cmd/loggen)
}

build_lookout() { build_lookout_into "$CACHE/lookout"; }

# ---- servers ------------------------------------------------------------------------------

# start_NAME DIR DATA starts the server in the background and sets SERVER_PID, API_URL,
# READY_PATH, BIN and VERSION.
start_lookout() {
  local dir=$1 data=$2 p
  p=$(free_port)
  BIN=$LOOKOUT_BIN
  VERSION=$("$BIN" version 2>/dev/null | head -1 || true)
  API_URL=http://127.0.0.1:$p
  READY_PATH=/-/ready
  # No self-scrape: the server's own metrics would share the disk and the CPU being measured.
  printf 'metrics:\n  self_scrape: false\n' >"$dir/lookout.yml"
  evict_page_cache "$BIN"
  $RUN "$BIN" server --config "$dir/lookout.yml" --data-dir "$data" --listen "127.0.0.1:$p" \
    --otlp-grpc-listen off --otlp-http-listen off >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
}

start_loki() {
  local dir=$1 data=$2 p1 p2
  p1=$(free_port)
  p2=$(free_port)
  BIN=$LOKI_BIN
  VERSION="Loki $LOKI_RELEASE (module $LOKI_MODULE_VERSION, chunk_encoding $LOKI_CHUNK_ENCODING)"
  API_URL=http://127.0.0.1:$p1
  READY_PATH=/ready
  evict_page_cache "$BIN"
  LOKI_DATA=$data LOKI_HTTP_PORT=$p1 LOKI_GRPC_PORT=$p2 $RUN "$BIN" -config.file="$ROOT/bench/loki.yml" \
    -config.expand-env=true >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
}

# after_push_NAME: what a server needs once the push is over for its data to be on disk.
after_push_lookout() { :; }

after_push_loki() {
  # Loki keeps chunks in the ingester's memory (and its WAL) until they fill, age or idle out;
  # /flush writes them all to the chunk store now.
  curl -sf -o /dev/null -X POST --max-time 60 "$API_URL/flush" || log "loki: POST /flush failed"
  local i
  for ((i = 0; i < 300; i++)); do
    if [[ $(curl -sf --max-time 5 "$API_URL/metrics" | awk '$1 == "loki_ingester_flush_queue_length" {print $2}') == 0 ]]; then
      return 0
    fi
    sleep 1
  done
  log "loki: flush queue not empty after 300s"
}

# store_bytes_NAME DATA: bytes of what the server keeps, without its write-ahead logs, which it
# truncates once the data is in the store (Loki: after a checkpoint, every 5 minutes). Lookout's
# metrics TSDB keeps a wal/ dir, and an embedded database may keep a *.wal file.
store_bytes_lookout() { file_bytes "$1" -not -path '*/wal/*' -not -name '*.wal'; }
store_bytes_loki() { file_bytes "$1" -not -path "$1/wal/*"; }

wait_ready() {
  local i
  for ((i = 0; i < 1200; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null || { log "server exited during startup; see its log"; return 1; }
    if curl -sf -o /dev/null --max-time 2 "$API_URL$READY_PATH"; then
      return 0
    fi
    sleep 0.1
  done
  log "server not ready after 120s"
  return 1
}

# settle [SECONDS] waits until the server has used under 5% of a core for 3 seconds in a row, at
# most SECONDS (READY_TIMEOUT).
settle() {
  local prev cur quiet=0 i limit=${1:-$READY_TIMEOUT}
  prev=$(cpu_seconds "$SERVER_PID")
  for ((i = 0; i < limit; i++)); do
    sleep 1
    cur=$(cpu_seconds "$SERVER_PID")
    if awk -v a="$prev" -v b="$cur" 'BEGIN {exit !(b - a < 0.05)}'; then
      quiet=$((quiet + 1))
    else
      quiet=0
    fi
    prev=$cur
    ((quiet >= 3)) && return 0
  done
  return 0
}

# count_lines prints how many lines of the load a query counts now.
count_lines() {
  local out
  out=$("$LG" query -url "$API_URL" -name count_check -instant -runs 1 -warmup 0 \
    -query "sum(count_over_time({app=\"bench\"}[${COUNT_RANGE}]))" -end "$Q_END" 2>/dev/null) || true
  [[ -n $out ]] || out='{}'
  jq -r '.value // 0' <<<"$out" 2>/dev/null || echo 0
}

query() { # query NAME LOGQL [loggen query flags...]
  local name=$1 q=$2
  shift 2
  # A query that timed out on the client may still be running in the server.
  settle 300
  $RUN "$LG" query -url "$API_URL" -name "$name" -query "$q" -start "$Q_START" -end "$Q_END" -save "$DIR/answer-$name.json" \
    -max-data-points "$MAX_DATA_POINTS" -runs "$QUERY_RUNS" -warmup 1 -timeout "$QUERY_TIMEOUT" -server-pid "$SERVER_PID" "$@" \
    >>"$DIR/queries.jsonl" 2>>"$DIR/query.log" || log "$NAME: query $name failed: $(tail -1 "$DIR/query.log")"
  log "$NAME: $name: $(tail -1 "$DIR/queries.jsonl" | jq -c '{median_ms, min_ms, max_ms, series, entries, values_sum, error, cut}')"
}

measure() {
  NAME=$1
  DIR=$RUN_DIR/$NAME
  local data t0 startup t_push counted=0 ready_s settle_cpu c0 rss_ingest disk disk_all cpu_total rss
  local t1 stop_s disk_stopped rc=0 i files=()
  data=$DIR/data
  mkdir -p "$DIR"
  log "$NAME: starting"
  t0=$(now)
  "start_$NAME" "$DIR" "$data"
  if ! wait_ready; then
    tail -20 "$DIR/server.log" >&2 || true
    stop_server
    return 1
  fi
  startup=$(elapsed "$t0" "$(now)")
  wait_quiet
  for f in $(jq -r '.files[].path' "$LOGS/gen.json"); do files+=(-file "$f"); done
  log "$NAME: ready after ${startup}s (pid $SERVER_PID, $VERSION); pushing $LINES lines"

  $RUN "$LG" push -url "$API_URL/loki/api/v1/push" "${files[@]}" -batch "$BATCH" -streams "$STREAMS" -stream-by "$STREAM_BY" \
    -concurrency "$CONCURRENCY" -format "$FORMAT" -server-pid "$SERVER_PID" \
    >"$DIR/push.json" 2>"$DIR/push.log" || rc=$?
  t_push=$(now)
  c0=$(cpu_seconds "$SERVER_PID")
  if ((rc != 0)); then
    log "$NAME: push exit $rc: $(tail -2 "$DIR/push.log")"
  fi
  log "$NAME: push done: $(jq -c '{lines_sent, lines_failed, wall_seconds, mb_per_second, server_cpu_seconds, retries, errors_by_status, first_error}' "$DIR/push.json" 2>/dev/null || true)"
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    log "$NAME: the server exited during the push; last lines of its log:"
    tail -20 "$DIR/server.log" >&2 || true
    SERVER_PID=""
    return 1
  fi

  # Ready: flushed (Loki), idle, and every accepted line counted by a query.
  "after_push_$NAME"
  settle
  settle_cpu=$(elapsed "$c0" "$(cpu_seconds "$SERVER_PID")")
  local sent
  sent=$(jq -r '.lines_sent // 0' "$DIR/push.json" 2>/dev/null || echo 0)
  # Poll until the count is right, or stops moving (a count query over 10M lines takes tens of
  # seconds on Loki), or READY_TIMEOUT has passed since the push.
  local prev=-1 deadline
  deadline=$(awk -v t="$t_push" -v r="$READY_TIMEOUT" 'BEGIN {printf "%d\n", t + r}')
  while :; do
    counted=$(count_lines)
    [[ $counted == "$sent" || ($counted == "$prev" && $counted != 0) ]] && break
    (($(date +%s) < deadline)) || break
    prev=$counted
    sleep 2
  done
  ready_s=$(elapsed "$t_push" "$(now)")
  [[ $counted == "$sent" ]] || { log "$NAME: a query counts $counted lines of $sent sent"; rc=1; }
  rss_ingest=$(vmhwm_bytes "$SERVER_PID")
  disk=$("store_bytes_$NAME" "$data")
  disk_all=$(file_bytes "$data")
  (cd "$data" && du -sb -- * 2>/dev/null) | awk '{printf "{\"%s\": %s}\n", $2, $1}' | jq -s 'add // {}' >"$DIR/disk.json"
  log "$NAME: queryable ${ready_s}s after the push (settle CPU ${settle_cpu}s); $counted lines counted; store $disk bytes, with WAL $disk_all"

  wait_quiet
  : >"$DIR/queries.jsonl"
  query needle "{app=\"bench\"} |= \"$NEEDLE\""
  query level_json 'sum by (level) (count_over_time({app="bench", source="json"} | json [5m]))'
  query detected_level 'sum by (detected_level) (count_over_time({app="bench"}[5m]))'
  query count_all "sum(count_over_time({app=\"bench\"}[${COUNT_RANGE}]))" -instant

  cpu_total=$(cpu_seconds "$SERVER_PID")
  rss=$(vmhwm_bytes "$SERVER_PID")
  t1=$(now)
  stop_server
  stop_s=$(elapsed "$t1" "$(now)")
  disk_stopped=$("store_bytes_$NAME" "$data")
  log "$NAME: stopped in ${stop_s}s (exit $STOP_RC); store after stop $disk_stopped bytes"

  jq -n --arg name "$NAME" --arg bin "$BIN" --arg version "$VERSION" \
    --argjson startup "$startup" --argjson ready "$ready_s" --argjson scpu "$settle_cpu" \
    --argjson counted "${counted:-0}" --argjson disk "$disk" --argjson diskall "$disk_all" \
    --slurpfile detail "$DIR/disk.json" --argjson diskstop "$disk_stopped" \
    --argjson rssi "$rss_ingest" --argjson rss "$rss" --argjson cpu "$cpu_total" --argjson rc "$STOP_RC" \
    '{name: $name, binary: $bin, version: $version, startup_seconds: $startup, ready_seconds: $ready,
      settle_cpu_seconds: $scpu, count_check: $counted, disk_bytes: $disk, disk_bytes_with_wal: $diskall,
      disk_detail: $detail[0], disk_bytes_after_stop: $diskstop, peak_rss_ingest_bytes: $rssi,
      peak_rss_bytes: $rss, cpu_total_seconds: $cpu, exit_code: $rc}' >"$DIR/system.json"
  # The next server starts from an empty disk.
  [[ $KEEP == 1 ]] || rm -rf "$data"
  return "$rc"
}

main() {
  local tool
  for tool in jq curl zstd grep; do
    command -v "$tool" >/dev/null || { log "$tool is required (apt-get install -y $tool)"; exit 1; }
  done
  local started name measured=() args=() out stamp
  started=$(now)
  mkdir -p "$LOGS"
  build_tools
  for name in $SYSTEMS; do
    case $name in
    lookout)
      if ! build_lookout; then
        log "Lookout does not build; skipping it: $(tail -3 "$RUN_DIR/lookout-build.log")"
        FAILED=1
        continue
      fi
      ;;
    loki)
      find_loki || { FAILED=1; continue; }
      ;;
    *)
      log "unknown system $name"
      exit 2
      ;;
    esac
    measured+=("$name")
  done
  ((${#measured[@]} > 0)) || { log "nothing to measure"; exit 1; }

  log "generating $LINES lines (seed $SEED, model $MODEL) in $LOGS"
  "$LG" gen -dir "$LOGS" -lines "$LINES" -nginx-share "$NGINX_SHARE" -seed "$SEED" -window "$WINDOW" -model "$MODEL" >"$LOGS/gen.json"
  NEEDLE=$(jq -r .needle "$LOGS/gen.json")
  local start_ns end_ns
  start_ns=$(jq -r .start_ns "$LOGS/gen.json")
  end_ns=$(jq -r .end_ns "$LOGS/gen.json")
  # Queries cover the window with a minute either side; the count spans all of it.
  Q_START=$((start_ns - 60000000000))
  Q_END=$((end_ns + 60000000000))
  COUNT_RANGE="$(((Q_END - Q_START) / 1000000000))s"
  log "generated $(jq -c '{lines, bytes, model, needle, needle_lines, seconds}' "$LOGS/gen.json")"

  wait_quiet
  log "raw-file baseline: grep -F and zstd -$ZSTD_LEVEL"
  local base=()
  for f in $(jq -r '.files[].path' "$LOGS/gen.json"); do base+=(-file "$f"); done
  if $RUN "$LG" baseline "${base[@]}" -needle "$NEEDLE" -lines "$LINES" -zstd-level "$ZSTD_LEVEL" \
    -runs "$QUERY_RUNS" >"$LOGS/baseline.json" 2>"$LOGS/baseline.log"; then
    log "baseline: $(jq -c '{grep_count, grep_ms: .grep.median_ms, zstd_ratio, zstd_mb_per_cpu_second: .zstd.mb_per_cpu_second}' "$LOGS/baseline.json")"
    [[ $(jq -r .grep_count "$LOGS/baseline.json") == $(jq -r .needle_lines "$LOGS/gen.json") ]] ||
      log "grep finds the needle on $(jq -r .grep_count "$LOGS/baseline.json") lines, the generator wrote it on $(jq -r .needle_lines "$LOGS/gen.json")"
  else
    log "baseline failed: $(tail -2 "$LOGS/baseline.log")"
  fi

  for name in "${measured[@]}"; do
    if measure "$name"; then :; else
      log "$name: measurement incomplete"
      FAILED=1
    fi
    [[ -f $RUN_DIR/$name/system.json ]] && args+=(-system "$name=$RUN_DIR/$name")
  done
  ((${#args[@]} > 0)) || { log "nothing measured"; exit 1; }

  mkdir -p "$RESULTS"
  stamp=$(date -u +%Y-%m-%d-%H%M%S)
  out=$RESULTS/logs-$stamp.json
  "$LG" report -gen "$LOGS/gen.json" -baseline "$LOGS/baseline.json" "${args[@]}" -out "$out" \
    -note "lines=$LINES model=$MODEL nginx_share=$NGINX_SHARE seed=$SEED window=$WINDOW format=$FORMAT batch=$BATCH streams_per_file=$STREAMS stream_by=$STREAM_BY concurrency=$CONCURRENCY query_runs=$QUERY_RUNS max_data_points=$MAX_DATA_POINTS" \
    -note "nice level of servers and tools: $NICE; servers ran one at a time on the same machine, each with a fresh data dir; the pusher ran on the same cores" \
    -note "disk = the server's files after the push, the flush (Loki: POST /flush) and a quiet period, without write-ahead logs (wal/ dirs)" \
    | tee "${out%.json}.md"
  log "results: $out (total $(elapsed "$started" "$(now)")s)"
  return "$FAILED"
}

main "$@"
