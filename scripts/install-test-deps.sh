#!/usr/bin/env bash
# Installs what the test suite needs beyond Go: Debian's chromium (browser
# tests), prometheus + promtool (a real remote-write sender and rule checker),
# prometheus-alertmanager's amtool (config checks and API client), logger and
# rsyslog (real syslog senders), and the
# web test packages from npm. Installs only what is missing; needs root for apt.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/prometheus ] || need+=(prometheus)
[ -x /usr/bin/amtool ] || need+=(prometheus-alertmanager)
[ -x /usr/bin/logger ] || need+=(bsdutils)
[ -x /usr/sbin/rsyslogd ] || need+=(rsyslog)
command -v node >/dev/null || need+=(nodejs npm)
command -v curl >/dev/null || need+=(curl)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: please install: ${need[*]} (apt-get install -y --no-install-recommends ${need[*]})" >&2
    exit 1
  fi
  echo "install-test-deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian's prometheus package starts a service on :9090; the tests use their own.
# So does prometheus-alertmanager, on :9093.
for svc in prometheus prometheus-alertmanager; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "${svc}" 2>/dev/null; then
    systemctl stop "${svc}" || true
  fi
done
(cd web && npm ci --no-audit --no-fund --loglevel=error)
