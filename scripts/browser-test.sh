#!/usr/bin/env bash
# Runs the web UI's browser tests (web/e2e) against a freshly built Lookout
# server with a throwaway data directory, using the system Chromium. The
# server loads web/e2e/fixtures/lookout.yml: rules evaluated every second,
# an always-firing alert and an Alertmanager route with a webhook receiver.
#
#   scripts/browser-test.sh
#
# Screenshots go to $TEST_OUTPUT_DIR (default web/e2e/output).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
TEST_OUTPUT_DIR="$(realpath -m "${TEST_OUTPUT_DIR:-web/e2e/output}")"
export TEST_OUTPUT_DIR
if [[ ! -x "${chromium}" ]]; then
	echo "browser-test: ${chromium} not found; install it with: apt-get install -y chromium" >&2
	exit 1
fi
for tool in go node npm curl python3; do
	if ! command -v "${tool}" >/dev/null; then
		echo "browser-test: ${tool} is required but not installed" >&2
		exit 1
	fi
done

# shellcheck source=lib/lookout-server.sh
source scripts/lib/lookout-server.sh
lookout_start browser-test web/e2e/fixtures/lookout.yml
base_url="${LOOKOUT_URL}"
log="${LOOKOUT_LOG}"

status=0
(
	cd web
	npm ci --no-audit --no-fund
	# The shell expands the file list: Node 20 treats "e2e/" as a directory of
	# tests, but Node 21+ reads arguments as globs and would fail on it.
	LOOKOUT_URL="${base_url}" CHROMIUM_PATH="${chromium}" node --test e2e/*.test.mjs
) || status=$?

if [[ "${status}" -ne 0 ]]; then
	echo "browser-test: tests failed; last lines of lookout's log:" >&2
	tail -n 30 "${log}" >&2
fi
exit "${status}"
