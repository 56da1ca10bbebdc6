#!/usr/bin/env bash
# Runs the web UI's browser tests (web/e2e) against a freshly built Lookout
# server with a throwaway data directory, using the system Chromium.
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
for tool in go node npm; do
	if ! command -v "${tool}" >/dev/null; then
		echo "browser-test: ${tool} is required but not installed" >&2
		exit 1
	fi
done

echo "browser-test: building ./bin/lookout"
go build -o ./bin/lookout ./cmd/lookout

workdir="$(mktemp -d "${TMPDIR:-/tmp}/lookout-browser-test.XXXXXX")"
server_pid=""
cleanup() {
	if [[ -n "${server_pid}" ]] && kill -0 "${server_pid}" 2>/dev/null; then
		kill "${server_pid}" 2>/dev/null || true
		# Give the server time to flush and stop; then insist.
		for _ in $(seq 1 50); do
			kill -0 "${server_pid}" 2>/dev/null || break
			sleep 0.2
		done
		kill -9 "${server_pid}" 2>/dev/null || true
		wait "${server_pid}" 2>/dev/null || true
	fi
	rm -rf "${workdir}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Three distinct free loopback ports, held open together while they are chosen.
read -r http_port grpc_port otlp_http_port < <(node -e '
	const net = require("net");
	const servers = [0, 1, 2].map(() => net.createServer());
	Promise.all(servers.map((s) => new Promise((ok) => s.listen(0, "127.0.0.1", ok)))).then(() => {
		console.log(servers.map((s) => s.address().port).join(" "));
		servers.forEach((s) => s.close());
	});
')

base_url="http://127.0.0.1:${http_port}"
log="${workdir}/lookout.log"
echo "browser-test: starting lookout on ${base_url} (log: ${log})"
./bin/lookout server \
	--data-dir "${workdir}/data" \
	--listen "127.0.0.1:${http_port}" \
	--otlp-grpc-listen "127.0.0.1:${grpc_port}" \
	--otlp-http-listen "127.0.0.1:${otlp_http_port}" \
	>"${log}" 2>&1 &
server_pid=$!

http_status() {
	node -e 'fetch(process.argv[1]).then((r) => console.log(r.status), () => console.log(0))' "$1"
}

ready=""
for _ in $(seq 1 240); do
	if ! kill -0 "${server_pid}" 2>/dev/null; then
		echo "browser-test: lookout exited before it was ready; its log:" >&2
		cat "${log}" >&2
		exit 1
	fi
	if [[ "$(http_status "${base_url}/-/ready")" == "200" ]]; then
		ready=1
		break
	fi
	sleep 0.5
done
if [[ -z "${ready}" ]]; then
	echo "browser-test: ${base_url}/-/ready did not return 200 within 120s; lookout's log:" >&2
	tail -n 50 "${log}" >&2
	exit 1
fi
echo "browser-test: lookout is ready"

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
