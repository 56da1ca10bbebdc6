# Sourced by bench/logs.sh after lib/common.sh: the Grafana Loki build from the module proxy,
# kept outside the repo in $CACHE and reused across runs.
# Needs: CACHE; optional LOKI_MODULE_VERSION, LOKI_PUSH_VERSION, BUILD_TIMEOUT.

LOKI_MODULE_VERSION=${LOKI_MODULE_VERSION:-v3.7.8}
# The module zip of github.com/grafana/loki/v3 lacks the nested pkg/push module that its go.mod
# replaces with ./pkg/push; this is the version v3.7.8 pins.
LOKI_PUSH_VERSION=${LOKI_PUSH_VERSION:-v0.0.0-20250630054201-94c0ba7b0952}

# build_loki DIR builds cmd/loki and cmd/logcli into DIR/loki and DIR/logcli. Concurrent callers
# (two runs started at once) serialise on a lock file; the second finds the binaries built.
build_loki() {
  local out=$1 release=${LOKI_MODULE_VERSION#v} dir push src rc=0
  mkdir -p "$out"
  exec 9>"$CACHE/loki-$LOKI_MODULE_VERSION.lock"
  flock 9
  if [[ -x $out/loki && -x $out/logcli ]]; then
    exec 9>&-
    return 0
  fi
  log "building Loki $release and logcli from github.com/grafana/loki/v3@$LOKI_MODULE_VERSION (8+ minutes; log in $CACHE/build-loki-$LOKI_MODULE_VERSION.log)"
  dir=$(module_dir "github.com/grafana/loki/v3@$LOKI_MODULE_VERSION")
  push=$(module_dir "github.com/grafana/loki/pkg/push@$LOKI_PUSH_VERSION")
  if [[ -z $dir || ! -d $dir || -z $push || ! -d $push ]]; then
    exec 9>&-
    return 1
  fi
  src=$CACHE/src-loki-$LOKI_MODULE_VERSION
  rm -rf "$src"
  cp -r "$dir" "$src"
  mkdir -p "$src/pkg"
  rm -rf "$src/pkg/push"
  cp -r "$push" "$src/pkg/push"
  chmod -R u+w "$src"
  (cd "$src" && GOWORK=off GOFLAGS=-mod=mod timeout "$BUILD_TIMEOUT" go build \
    -ldflags "-X github.com/grafana/loki/v3/pkg/util/build.Version=$release -X github.com/grafana/loki/v3/pkg/util/build.Revision=module-$LOKI_MODULE_VERSION -X github.com/grafana/loki/v3/pkg/util/build.Branch=module" \
    -o "$out/tmp/" ./cmd/loki ./cmd/logcli) >"$CACHE/build-loki-$LOKI_MODULE_VERSION.log" 2>&1 || rc=$?
  if ((rc == 0)); then
    mv "$out/tmp/loki" "$out/loki"
    mv "$out/tmp/logcli" "$out/logcli"
    rmdir "$out/tmp"
    log "Loki built: $out/loki, $out/logcli"
  else
    log "Loki build failed (exit $rc): $(tail -3 "$CACHE/build-loki-$LOKI_MODULE_VERSION.log")"
  fi
  exec 9>&-
  return "$rc"
}

# find_loki sets LOKI_BIN, LOGCLI_BIN and LOKI_RELEASE, building them on first use.
find_loki() {
  local out=$CACHE/loki-$LOKI_MODULE_VERSION
  if [[ ! -x $out/loki || ! -x $out/logcli ]]; then
    build_loki "$out" || return 1
  fi
  LOKI_BIN=$out/loki
  LOGCLI_BIN=$out/logcli
  LOKI_RELEASE=${LOKI_MODULE_VERSION#v}
}
