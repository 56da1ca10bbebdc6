# Sourced by scripts that run a throwaway Lookout server:
#   source scripts/lib/lookout-server.sh
#   lookout_start NAME [CONFIG] # builds bin/lookout, starts it on free loopback ports
#                              # with a temporary data dir, waits for /-/ready;
#                              # sets LOOKOUT_URL, LOOKOUT_LOG, LOOKOUT_WORKDIR
# CONFIG (or, without the argument, $LOOKOUT_CONFIG) is a lookout.yml to pass
# with --config; relative paths in it resolve against its own directory. The
# listen flags override any addresses it sets. Without one Lookout runs on
# its defaults.
# An EXIT trap stops the server (TERM, then KILL after 10s) and removes the
# workdir. Needs bash, go, python3 and curl.

lookout_pid=""
LOOKOUT_WORKDIR=""

lookout_stop() {
	if [[ -n "${lookout_pid}" ]] && kill -0 "${lookout_pid}" 2>/dev/null; then
		kill "${lookout_pid}" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "${lookout_pid}" 2>/dev/null || break
			sleep 0.2
		done
		kill -9 "${lookout_pid}" 2>/dev/null || true
		wait "${lookout_pid}" 2>/dev/null || true
	fi
	[[ -n "${LOOKOUT_WORKDIR}" ]] && rm -rf "${LOOKOUT_WORKDIR}"
	return 0
}

lookout_start() {
	local name="$1" config="${2:-${LOOKOUT_CONFIG:-}}" repo
	repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
	local config_args=()
	if [[ -n "${config}" ]]; then
		if [[ ! -f "${config}" ]]; then
			echo "${name}: config file ${config} not found" >&2
			return 1
		fi
		config_args=(--config "$(realpath "${config}")")
	fi
	echo "${name}: building bin/lookout" >&2
	(cd "${repo}" && go build -o bin/lookout ./cmd/lookout)
	LOOKOUT_WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/lookout-${name}.XXXXXX")"
	trap lookout_stop EXIT
	trap 'exit 130' INT TERM
	local port grpc_port http_port
	# Three distinct free ports, held open together while they are chosen.
	read -r port grpc_port http_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
for s in socks:
    s.close()
')
	LOOKOUT_URL="http://127.0.0.1:${port}"
	LOOKOUT_LOG="${LOOKOUT_WORKDIR}/lookout.log"
	echo "${name}: starting lookout on ${LOOKOUT_URL}${config:+ with ${config}} (log: ${LOOKOUT_LOG})" >&2
	"${repo}/bin/lookout" server ${config_args[@]+"${config_args[@]}"} --data-dir "${LOOKOUT_WORKDIR}/data" \
		--listen "127.0.0.1:${port}" \
		--otlp-grpc-listen "127.0.0.1:${grpc_port}" \
		--otlp-http-listen "127.0.0.1:${http_port}" \
		>"${LOOKOUT_LOG}" 2>&1 &
	lookout_pid=$!
	for _ in $(seq 1 600); do
		if ! kill -0 "${lookout_pid}" 2>/dev/null; then
			echo "${name}: lookout exited before it was ready; its log:" >&2
			cat "${LOOKOUT_LOG}" >&2
			return 1
		fi
		if curl -sf "${LOOKOUT_URL}/-/ready" >/dev/null; then
			echo "${name}: lookout is ready" >&2
			return 0
		fi
		sleep 0.2
	done
	echo "${name}: ${LOOKOUT_URL}/-/ready did not return 200 within 120s; lookout's log:" >&2
	tail -n 50 "${LOOKOUT_LOG}" >&2
	return 1
}
