# Sourced by bench/run.sh and bench/alerting.sh: logging, process and port helpers, and the
# Prometheus build from the module proxy, kept outside the repo in $CACHE.
# Needs: ROOT, CACHE, PROM_MODULE_VERSION, QUIET_WAIT; optional LOG_TAG, BUILD_TIMEOUT.

BUILD_TIMEOUT=${BUILD_TIMEOUT:-900}

# cpu_seconds PID: utime+stime of PID in seconds (USER_HZ is 100); 0 once it has exited.
cpu_seconds() {
  local rest
  rest=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  awk '{printf "%.2f\n", ($12 + $13) / 100}' <<<"$rest"
}

# vmhwm_bytes PID: the process's peak resident set size in bytes.
vmhwm_bytes() { awk '/^VmHWM:/ {printf "%.0f\n", $2 * 1024}' "/proc/$1/status" 2>/dev/null || echo 0; }

now() { date +%s.%N; }

# elapsed START END: seconds between two `now` values.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f\n", b - a}'; }

# build_lookout_into OUT builds ./cmd/lookout into OUT, stamped with `git describe` so that results
# name the build they measured, and sets LOOKOUT_BIN. A LOOKOUT_BIN set beforehand is used as is.
# The build log goes to $RUN_DIR/lookout-build.log.
build_lookout_into() {
  if [[ -n ${LOOKOUT_BIN:-} ]]; then
    return 0
  fi
  local out=$1 version
  version=$(cd "$ROOT" && git describe --tags --always --dirty 2>/dev/null || echo dev)
  log "building Lookout ($version) into $out"
  mkdir -p "$(dirname "$out")"
  (cd "$ROOT" && timeout "${BUILD_TIMEOUT:-900}" go build \
    -ldflags "-X github.com/lookout-dev/lookout/internal/buildinfo.Version=$version" \
    -o "$out" ./cmd/lookout) >"$RUN_DIR/lookout-build.log" 2>&1 || return 1
  LOOKOUT_BIN=$out
}

# evict_page_cache FILE drops FILE's pages from the page cache, after writing them out, so that
# every server starts from its binary read cold from disk. The pages of a file written moments
# ago (a Lookout just built) sit in the cache in large folios, and the kernel then maps more of
# them into the process at each fault: its RSS came out up to 30 MiB higher than the same binary's
# read cold. Uses GNU dd's nocache flag; where that is missing it does nothing.
evict_page_cache() {
  sync "$1" 2>/dev/null || true
  dd if="$1" iflag=nocache count=0 status=none 2>/dev/null || true
}

log() { printf '[%s %s] %s\n' "${LOG_TAG:-bench}" "$(date -u +%H:%M:%S)" "$*" >&2; }

# stop_pid PID [SECONDS]: SIGTERM, wait, then SIGKILL. Sets STOP_RC to the exit status.
stop_pid() {
  local pid=$1 limit=${2:-60} i
  STOP_RC=0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || STOP_RC=$?; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < limit * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not stop in ${limit}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || STOP_RC=$?
}

# free_port prints a TCP port on 127.0.0.1 that nothing listens on and that this run has not
# handed out yet.
USED_PORTS=" "
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    [[ $USED_PORTS == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      USED_PORTS+="$p "
      echo "$p"
      return
    fi
  done
}

# wait_quiet waits up to QUIET_WAIT seconds for the machine to be nearly idle (under 0.3 of a
# core busy over 2 seconds), so that other work on a shared machine disturbs the figures less.
wait_quiet() {
  local i a b
  for ((i = 0; i < QUIET_WAIT; i += 2)); do
    a=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat)
    sleep 2
    b=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat)
    if (((b - a) < 60)); then # ticks of 1/100 s over 2 s: < 0.3 cores
      return 0
    fi
  done
  log "machine still busy after ${QUIET_WAIT}s (load average $(cut -d' ' -f1-3 /proc/loadavg)); measuring anyway"
}

# module_dir MODULE@VERSION prints the module's directory in the module cache, downloading it.
module_dir() {
  mkdir -p "$CACHE"
  (cd "$CACHE" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "$1" | awk -F'"' '$2 == "Dir" {print $4}')
}

# prometheus_release maps the module version to the release: v0.313.5 is Prometheus 3.13.5.
prometheus_release() {
  local v=${PROM_MODULE_VERSION#v0.} minor
  minor=${v%%.*}
  echo "$((minor / 100)).$((minor % 100)).${v#*.}"
}

# build_prometheus BIN builds cmd/prometheus from the module proxy. Without the builtinassets tag
# the binary serves no web UI, which the benchmarks do not need.
build_prometheus() {
  local bin=$1 release dir src
  release=$(prometheus_release)
  log "building Prometheus $release from github.com/prometheus/prometheus@$PROM_MODULE_VERSION (several minutes; log in $CACHE/build-$PROM_MODULE_VERSION.log)"
  dir=$(module_dir "github.com/prometheus/prometheus@$PROM_MODULE_VERSION")
  [[ -n $dir && -d $dir ]] || return 1
  src=$CACHE/src-$PROM_MODULE_VERSION
  rm -rf "$src"
  cp -r "$dir" "$src"
  chmod -R u+w "$src"
  (cd "$src" && GOWORK=off timeout "$BUILD_TIMEOUT" go build \
    -ldflags "-X github.com/prometheus/common/version.Version=$release -X github.com/prometheus/common/version.Revision=module-$PROM_MODULE_VERSION" \
    -o "$bin.tmp" ./cmd/prometheus) >"$CACHE/build-$PROM_MODULE_VERSION.log" 2>&1 || return 1
  mv "$bin.tmp" "$bin"
}

# find_prometheus sets PROM_BIN and PROM_RELEASE: the cached or freshly built Prometheus 3, else
# Debian's prometheus 2.x, in which case PROM_FALLBACK=1.
find_prometheus() {
  local bin=$CACHE/prometheus-$PROM_MODULE_VERSION
  PROM_FALLBACK=0
  if [[ -x $bin ]] || build_prometheus "$bin"; then
    PROM_BIN=$bin
    PROM_RELEASE=$(prometheus_release)
    return
  fi
  log "Prometheus 3 build failed; falling back to /usr/bin/prometheus"
  if [[ ! -x /usr/bin/prometheus ]]; then
    log "no /usr/bin/prometheus: apt-get install -y --no-install-recommends prometheus"
    return 1
  fi
  PROM_BIN=/usr/bin/prometheus
  PROM_RELEASE=$(/usr/bin/prometheus --version 2>&1 | awk 'NR == 1 {print $3}')
  PROM_FALLBACK=1
}
