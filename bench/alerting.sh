#!/usr/bin/env bash
# Alerting benchmark: rule evaluation (Lookout against Prometheus 3), alert routing (Lookout
# against Alertmanager 0.34.2) and the end-to-end latency from a remote write to a webhook
# (Lookout). Servers run one at a time on this machine. Every listener and every request stays
# on 127.0.0.1, and every process this script starts is stopped when it exits. See
# bench/README.md, "Alerting".
#
# Settings (environment):
#   PEERS="prometheus alertmanager"  peers to measure beside Lookout ("" for Lookout alone)
#   PHASES="rules route"             rules: rule evaluation, then (Lookout) end-to-end latency;
#                                    route: alert routing throughput
#   RULES=1000 RULE_GROUPS=10        alerting rules and the groups they are dealt to
#   METRICS=100 SERIES_PER_METRIC=1000   series loaded by remote write before the rules run
#   EVAL_INTERVAL=5s                 global evaluation_interval (seconds, "Ns")
#   WARMUP_CYCLES=2 CYCLES=10        evaluation cycles skipped, then measured
#   ALERTS=5000                      firing alerts posted in the routing phase, one group each
#   POST_BATCH=250 POST_CONCURRENCY=4   alerts per POST, POSTs in flight
#   GROUP_WAIT=0s                    group_wait of the routing phase's route
#   E2E_REPEATS=10 E2E_GROUP_WAIT=1s E2E_TARGET=10s   end-to-end crossings, their route, the target
#   QUIET_WAIT=20                    seconds to wait for the machine to be idle before each phase
#   NICE=0                           nice level of servers and tools (NICE=-10 as root on a shared machine)
#   LOOKOUT_BIN=                     use this Lookout binary instead of building one
#   PROM_MODULE_VERSION=v0.313.5     Prometheus 3.13.5, built from the module proxy
#   AM_MODULE_VERSION=v0.34.2        Alertmanager 0.34.2, built from the module proxy
#   LOOKOUT_BENCH_CACHE=/tmp/lookout-bench-cache   where those builds are kept between runs
#   BUILD_TIMEOUT=900                seconds allowed for each build
#   RESULTS=bench/results            where alerting-<date>.json and .md go
#   KEEP=1                           keep the run directory (logs, configs, data dirs)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${LOOKOUT_BENCH_CACHE:-/tmp/lookout-bench-cache}
PEERS=${PEERS-"prometheus alertmanager"}
PHASES=${PHASES:-"rules route"}
RULES=${RULES:-1000}
RULE_GROUPS=${RULE_GROUPS:-10}
METRICS=${METRICS:-100}
SERIES_PER_METRIC=${SERIES_PER_METRIC:-1000}
EVAL_INTERVAL=${EVAL_INTERVAL:-5s}
WARMUP_CYCLES=${WARMUP_CYCLES:-2}
CYCLES=${CYCLES:-10}
ALERTS=${ALERTS:-5000}
POST_BATCH=${POST_BATCH:-250}
POST_CONCURRENCY=${POST_CONCURRENCY:-4}
GROUP_WAIT=${GROUP_WAIT:-0s}
E2E_REPEATS=${E2E_REPEATS:-10}
E2E_GROUP_WAIT=${E2E_GROUP_WAIT:-1s}
E2E_TARGET=${E2E_TARGET:-10s}
QUIET_WAIT=${QUIET_WAIT:-20}
NICE=${NICE:-0}
LOOKOUT_BIN=${LOOKOUT_BIN:-}
PROM_MODULE_VERSION=${PROM_MODULE_VERSION:-v0.313.5}
AM_MODULE_VERSION=${AM_MODULE_VERSION:-v0.34.2}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-900}
KEEP=${KEEP:-0}
RESULTS=${RESULTS:-$ROOT/bench/results}

RUN_DIR=$(mktemp -d /tmp/lookout-alertbench-run.XXXXXX)
RUN=""
[[ $NICE == 0 ]] || RUN="nice -n $NICE"
TOOLS=$RUN_DIR/tools
AB=$TOOLS/alertbench
SERVER_PID=""
FAILED=0

LOG_TAG=alertbench
# shellcheck source=lib/common.sh
source "$ROOT/bench/lib/common.sh"

stop_server() {
  if [[ -n $SERVER_PID ]]; then
    stop_pid "$SERVER_PID" 30
    SERVER_PID=""
  fi
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_server
  if [[ $KEEP == 1 || $rc != 0 || $FAILED != 0 ]]; then
    log "run directory kept: $RUN_DIR"
  else
    rm -rf "$RUN_DIR"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# seconds_of 5s|2m → 5|120
seconds_of() {
  case $1 in
  *ms) echo 1 ;;
  *s) echo "${1%s}" ;;
  *m) echo $((${1%m} * 60)) ;;
  *) echo "$1" ;;
  esac
}

rss_bytes() { awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$1/status" 2>/dev/null || echo 0; }

# ---- builds -------------------------------------------------------------------------------

build_tools() {
  log "building bench/cmd/alertbench"
  (cd "$ROOT" && timeout "$BUILD_TIMEOUT" go build -o "$TOOLS/" ./bench/cmd/alertbench)
}

build_lookout() { build_lookout_into "$TOOLS/lookout"; }

find_peer_prometheus() {
  find_prometheus || return 1
  PROM_NAME="Prometheus $PROM_RELEASE"
}

# build_alertmanager builds cmd/alertmanager from the module proxy into $CACHE, outside the repo.
# The module's web UI is embedded from ui/app/dist, which the module zip lacks; a placeholder
# page stands in for it.
build_alertmanager() {
  local bin=$1 release=${AM_MODULE_VERSION#v} dir src
  mkdir -p "$CACHE"
  log "building Alertmanager $release from github.com/prometheus/alertmanager@$AM_MODULE_VERSION (log in $CACHE/build-alertmanager-$AM_MODULE_VERSION.log)"
  dir=$(module_dir "github.com/prometheus/alertmanager@$AM_MODULE_VERSION")
  [[ -n $dir && -d $dir ]] || return 1
  src=$CACHE/src-alertmanager-$AM_MODULE_VERSION
  rm -rf "$src"
  cp -r "$dir" "$src"
  chmod -R u+w "$src"
  mkdir -p "$src/ui/app/dist"
  printf '<!doctype html><title>Alertmanager</title><p>UI not built (benchmark build).\n' >"$src/ui/app/dist/index.html"
  (cd "$src" && GOWORK=off GOFLAGS=-mod=mod timeout "$BUILD_TIMEOUT" go build \
    -ldflags "-X github.com/prometheus/common/version.Version=$release -X github.com/prometheus/common/version.Revision=module-$AM_MODULE_VERSION" \
    -o "$bin.tmp" ./cmd/alertmanager) >"$CACHE/build-alertmanager-$AM_MODULE_VERSION.log" 2>&1 || return 1
  mv "$bin.tmp" "$bin"
}

find_alertmanager() {
  local bin=$CACHE/alertmanager-$AM_MODULE_VERSION
  if [[ -x $bin ]] || build_alertmanager "$bin"; then
    AM_BIN=$bin
    AM_NAME="Alertmanager ${AM_MODULE_VERSION#v}"
    return
  fi
  log "Alertmanager build failed; see $CACHE/build-alertmanager-$AM_MODULE_VERSION.log"
  return 1
}

# ---- servers ------------------------------------------------------------------------------

# start_lookout DIR CONFIG; start_prometheus DIR CONFIG; start_alertmanager DIR CONFIG:
# start the server in the background and set SERVER_PID and API_URL.
start_lookout() {
  local dir=$1 cfg=$2 p
  p=$(free_port)
  API_URL=http://127.0.0.1:$p
  evict_page_cache "$LOOKOUT_BIN"
  $RUN "$LOOKOUT_BIN" server --config "$cfg" --data-dir "$dir/data" --listen "127.0.0.1:$p" \
    --otlp-grpc-listen off --otlp-http-listen off >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
}

start_prometheus() {
  local dir=$1 cfg=$2 p
  p=$(free_port)
  API_URL=http://127.0.0.1:$p
  evict_page_cache "$PROM_BIN"
  $RUN "$PROM_BIN" --config.file="$cfg" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$p" --web.enable-remote-write-receiver >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
}

start_alertmanager() {
  local dir=$1 cfg=$2 p
  p=$(free_port)
  API_URL=http://127.0.0.1:$p
  evict_page_cache "$AM_BIN"
  # An empty cluster.listen-address turns the gossip listener (0.0.0.0:9094 by default) off.
  $RUN "$AM_BIN" --config.file="$cfg" --storage.path="$dir/data" \
    --web.listen-address="127.0.0.1:$p" --cluster.listen-address= >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
}

wait_ready() {
  local dir=$1 i
  for ((i = 0; i < 1200; i++)); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log "server exited during startup; last lines of its log:"
      tail -20 "$dir/server.log" >&2 || true
      SERVER_PID=""
      return 1
    fi
    curl -sf -o /dev/null --max-time 2 "$API_URL/-/ready" && return 0
    sleep 0.1
  done
  log "server not ready after 120s"
  return 1
}

alive() {
  kill -0 "$SERVER_PID" 2>/dev/null && return 0
  log "$1: the server exited; last lines of its log:"
  tail -20 "$2/server.log" >&2 || true
  SERVER_PID=""
  return 1
}

# ---- configs ------------------------------------------------------------------------------

# The routing phase's alertmanager.yml: Lookout and Alertmanager load the same file.
write_route_config() {
  cat >"$1" <<EOF
# Generated by bench/alerting.sh: every alert is its own group; one webhook receiver.
route:
  receiver: sink
  group_by: [alertname, instance]
  group_wait: $GROUP_WAIT
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: sink
    webhook_configs:
      - url: http://127.0.0.1:$2/hook
        send_resolved: false
EOF
}

# The rule phase's alertmanager.yml for Lookout: the 1,000 benchmark rules' alerts go to a
# receiver without integrations, the end-to-end alert to the webhook sink.
write_e2e_config() {
  cat >"$1" <<EOF
# Generated by bench/alerting.sh.
route:
  receiver: blackhole
  group_by: [alertname]
  routes:
    - matchers: ['alertname="BenchE2E"']
      receiver: e2e-sink
      group_by: [alertname, probe]
      group_wait: $E2E_GROUP_WAIT
      group_interval: 5m
      repeat_interval: 4h
receivers:
  - name: blackhole
  - name: e2e-sink
    webhook_configs:
      - url: http://127.0.0.1:$2/hook
        send_resolved: false
EOF
}

# ---- phases -------------------------------------------------------------------------------

# rule_phase NAME: load the series, measure rule evaluation and, for Lookout, the end-to-end
# latency while the rules keep running.
rule_phase() {
  local name=$1 dir cfg e2e_port interval rc=0 limit idle_rss
  dir=$RUN_DIR/rules-$name
  mkdir -p "$dir"
  interval=$(seconds_of "$EVAL_INTERVAL")
  case $name in
  lookout)
    e2e_port=$(free_port)
    write_e2e_config "$dir/alertmanager.yml" "$e2e_port"
    cat >"$dir/lookout.yml" <<EOF
global:
  evaluation_interval: $EVAL_INTERVAL
rule_files:
  - $RUN_DIR/bench-rules.yml
  - $RUN_DIR/e2e-rules.yml
metrics:
  self_scrape: false
alertmanager:
  config_file: alertmanager.yml
EOF
    cfg=$dir/lookout.yml
    ;;
  prometheus)
    cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 1h
  evaluation_interval: $EVAL_INTERVAL
rule_files:
  - $RUN_DIR/bench-rules.yml
EOF
    cfg=$dir/prometheus.yml
    ;;
  esac
  log "rules/$name: starting"
  "start_$name" "$dir" "$cfg"
  wait_ready "$dir" || return 1
  wait_quiet
  idle_rss=$(rss_bytes "$SERVER_PID")
  log "rules/$name: ready (pid $SERVER_PID, RSS $((idle_rss / 1048576)) MiB); writing $((METRICS * SERIES_PER_METRIC)) series"
  $RUN "$AB" write -url "$API_URL/api/v1/write" -metrics "$METRICS" -series-per-metric "$SERIES_PER_METRIC" \
    >"$dir/write.json" 2>"$dir/write.log" || { log "rules/$name: write failed: $(cat "$dir/write.log")"; return 1; }
  log "rules/$name: series written in $(jq -r '.wall_seconds | . * 100 | round / 100' "$dir/write.json")s; measuring $WARMUP_CYCLES+$CYCLES cycles of ${interval}s"
  limit=$(((WARMUP_CYCLES + CYCLES + 4) * interval + 60))
  $RUN "$AB" ruleeval -server "$name" -url "$API_URL" -pid "$SERVER_PID" -groups "$RULE_GROUPS" \
    -warmup "$WARMUP_CYCLES" -cycles "$CYCLES" -expect-firing "$EXPECTED_FIRING" -timeout "${limit}s" -idle-rss "$idle_rss" \
    >"$RUN_DIR/rules-$name.json" 2>"$dir/ruleeval.log" || rc=$?
  ((rc == 0)) || log "rules/$name: ruleeval: $(cat "$dir/ruleeval.log")"
  [[ -s $RUN_DIR/rules-$name.json ]] &&
    log "rules/$name: $(jq -c '{eval_ms_median: (.eval_seconds_median * 1000), cpu_ms_per_cycle: (.server_cpu_seconds_per_cycle * 1000), firing_alerts, peak_rss_mib: (.peak_rss_bytes / 1048576 | floor), background_cores}' "$RUN_DIR/rules-$name.json")"
  alive "rules/$name" "$dir" || return 1

  if [[ $name == lookout ]]; then
    log "e2e/lookout: $E2E_REPEATS threshold crossings"
    $RUN "$AB" e2e -server lookout -write-url "$API_URL/api/v1/write" -sink "127.0.0.1:$e2e_port" \
      -n "$E2E_REPEATS" -spread "$EVAL_INTERVAL" -target "$E2E_TARGET" -timeout 30s \
      -evaluation-interval "$EVAL_INTERVAL" -group-wait "$E2E_GROUP_WAIT" \
      >"$RUN_DIR/e2e-lookout.json" 2>"$dir/e2e.log" || { rc=1; log "e2e/lookout: $(cat "$dir/e2e.log")"; }
    [[ -s $RUN_DIR/e2e-lookout.json ]] &&
      log "e2e/lookout: $(jq -c '{latency_seconds, latency_p50_seconds, latency_max_seconds, target_met}' "$RUN_DIR/e2e-lookout.json")"
    alive "e2e/lookout" "$dir" || rc=1
  fi
  stop_server
  return "$rc"
}

# route_phase NAME: post the alerts and wait for the sink to have every one.
route_phase() {
  local name=$1 dir cfg rc=0
  dir=$RUN_DIR/route-$name
  mkdir -p "$dir"
  case $name in
  lookout)
    printf 'metrics:\n  self_scrape: false\nalertmanager:\n  config_file: %s\n' "$RUN_DIR/alertmanager-route.yml" >"$dir/lookout.yml"
    cfg=$dir/lookout.yml
    ;;
  alertmanager)
    cfg=$RUN_DIR/alertmanager-route.yml
    ;;
  esac
  log "route/$name: starting"
  "start_$name" "$dir" "$cfg"
  wait_ready "$dir" || return 1
  wait_quiet
  log "route/$name: ready (pid $SERVER_PID); posting $ALERTS alerts"
  $RUN "$AB" route -server "$name" -url "$API_URL" -sink "127.0.0.1:$ROUTE_SINK_PORT" -pid "$SERVER_PID" \
    -alerts "$ALERTS" -batch "$POST_BATCH" -concurrency "$POST_CONCURRENCY" -timeout 180s \
    >"$RUN_DIR/route-$name.json" 2>"$dir/route.log" || { rc=1; log "route/$name: $(cat "$dir/route.log")"; }
  [[ -s $RUN_DIR/route-$name.json ]] &&
    log "route/$name: $(jq -c '{alerts_received, deliver_seconds, notifications_per_second, peak_rss_mib: (.peak_rss_bytes / 1048576 | floor), background_cores}' "$RUN_DIR/route-$name.json")"
  alive "route/$name" "$dir" || rc=1
  stop_server
  return "$rc"
}

main() {
  command -v jq >/dev/null || { log "jq is required (apt-get install -y jq)"; exit 1; }
  command -v curl >/dev/null || { log "curl is required"; exit 1; }
  local started stamp out peer rules_peers=() route_peers=() notes=() lookout_name
  started=$(date +%s)
  mkdir -p "$TOOLS"
  build_tools
  build_lookout || { log "Lookout does not build: $(tail -5 "$RUN_DIR/lookout-build.log")"; exit 1; }
  lookout_name="Lookout $("$LOOKOUT_BIN" version 2>/dev/null | sed -n '1s/.*version \([^ ]*\).*/\1/p')"
  PROM_NAME="Prometheus" AM_NAME="Alertmanager"
  for peer in $PEERS; do
    case $peer in
    prometheus) if find_peer_prometheus; then rules_peers+=(prometheus); else FAILED=1; fi ;;
    alertmanager) if find_alertmanager; then route_peers+=(alertmanager); else FAILED=1; fi ;;
    *) log "unknown peer $peer (prometheus, alertmanager)"; exit 2 ;;
    esac
  done

  "$AB" rules -rules "$RULES" -metrics "$METRICS" -series-per-metric "$SERIES_PER_METRIC" -groups "$RULE_GROUPS" \
    -out "$RUN_DIR/bench-rules.yml" -e2e-out "$RUN_DIR/e2e-rules.yml" >"$RUN_DIR/expected.json"
  EXPECTED_FIRING=$(jq -r .firing_alerts "$RUN_DIR/expected.json")
  ROUTE_SINK_PORT=$(free_port)
  write_route_config "$RUN_DIR/alertmanager-route.yml" "$ROUTE_SINK_PORT"

  if [[ " $PHASES " == *" rules "* ]]; then
    for name in lookout "${rules_peers[@]}"; do
      rule_phase "$name" || { log "rules/$name: incomplete"; FAILED=1; stop_server; }
    done
  fi
  if [[ " $PHASES " == *" route "* ]]; then
    for name in lookout "${route_peers[@]}"; do
      route_phase "$name" || { log "route/$name: incomplete"; FAILED=1; stop_server; }
    done
  fi

  notes+=(-note "machine: $(nproc) cores, $(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); servers ran one at a time, each with a fresh data dir; nice level $NICE")
  notes+=(-note "settings: rules=$RULES groups=$RULE_GROUPS series=$((METRICS * SERIES_PER_METRIC)) eval_interval=$EVAL_INTERVAL warmup=$WARMUP_CYCLES cycles=$CYCLES alerts=$ALERTS post_batch=$POST_BATCH post_concurrency=$POST_CONCURRENCY group_wait=$GROUP_WAIT e2e_repeats=$E2E_REPEATS e2e_group_wait=$E2E_GROUP_WAIT")
  mkdir -p "$RESULTS"
  stamp=$(date -u +%Y-%m-%d-%H%M%S)
  out=$RESULTS/alerting-$stamp.json
  "$AB" report -dir "$RUN_DIR" -out "$out" -lookout "$lookout_name" -rules-peer "$PROM_NAME" \
    -route-peer "$AM_NAME" -evaluation-interval "$EVAL_INTERVAL" "${notes[@]}" | tee "${out%.json}.md"
  log "results: $out and ${out%.json}.md (total $(($(date +%s) - started))s)"
  return "$FAILED"
}

main "$@"
