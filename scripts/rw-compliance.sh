#!/usr/bin/env bash
# Runs the Prometheus Remote-Write 2.0 receiver compliance suite
# (github.com/prometheus/compliance/remotewrite/receiver) against a freshly
# built Lookout with a throwaway data directory, and prints how many of the
# suite's tests pass.
#
#   scripts/rw-compliance.sh [extra go test flags, e.g. -test.run TestHistograms]
#
# The suite is compiled once into $RW_COMPLIANCE_CACHE (default
# /tmp/lookout-rw-compliance), outside the repository. The suite only
# sends requests and checks the answers (status codes and the
# X-Prometheus-Remote-Write-*-Written headers); it learns where the receiver
# is from a Prometheus config file with a remote_write list, named by
# PROMETHEUS_RW2_COMPLIANCE_CONFIG_FILE.
#
# RW_COMPLIANCE_JSON=FILE keeps the suite's full test2json output.
# Exit status: 0 when every test passes, 1 otherwise.
set -euo pipefail

suite_mod="github.com/prometheus/compliance/remotewrite/receiver"
suite_ver="v0.0.0-20260806071727-67b8327a2e93"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${RW_COMPLIANCE_CACHE:-/tmp/lookout-rw-compliance}"
suite_bin="${cache}/receiver-${suite_ver}.test"

say() { echo "rw-compliance: $*" >&2; }

for tool in go python3 curl; do
	command -v "${tool}" >/dev/null || { say "${tool} is required but not installed"; exit 1; }
done

# 1. The compliance suite, built once.
if [[ ! -x "${suite_bin}" ]]; then
	mkdir -p "${cache}"
	say "downloading ${suite_mod}@${suite_ver}"
	# Outside the repository, so that Lookout's go.mod and go.sum stay untouched.
	mod_dir="$(cd "${cache}" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "${suite_mod}@${suite_ver}" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')"
	src="${cache}/src-${suite_ver}"
	rm -rf "${src}"
	cp -r "${mod_dir}" "${src}"
	chmod -R u+w "${src}"
	say "compiling the suite (first run only; this takes a few minutes)"
	(cd "${src}" && GOWORK=off GOFLAGS=-mod=mod go test -c -o "${suite_bin}" .)
fi

# 2. Lookout, on free loopback ports with a temporary data directory.
# shellcheck source=lib/lookout-server.sh
source "${repo}/scripts/lib/lookout-server.sh"
lookout_start rw-compliance
workdir="${LOOKOUT_WORKDIR}"
port="${LOOKOUT_URL##*:}"

# 3. The suite, pointed at Lookout's remote-write endpoint.
cat >"${workdir}/compliance.yml" <<EOF
remote_write:
  - name: lookout
    url: http://127.0.0.1:${port}/api/v1/write
EOF

say "running the suite against http://127.0.0.1:${port}/api/v1/write"
status=0
(cd "${workdir}" && PROMETHEUS_RW2_COMPLIANCE_CONFIG_FILE="${workdir}/compliance.yml" \
	"${suite_bin}" -test.v=test2json -test.count=1 "$@" 2>&1 | go tool test2json -t) \
	>"${workdir}/suite.json" || status=$?
if [[ -n "${RW_COMPLIANCE_JSON:-}" ]]; then
	cp "${workdir}/suite.json" "${RW_COMPLIANCE_JSON}"
fi

# Summarise: counts of top-level tests, then each failing leaf test with
# the lines of its output that say what was sent back and what was wanted.
python3 - "${workdir}/suite.json" <<'PY' || status=1
import collections, json, sys

result, output = {}, collections.defaultdict(list)
for line in open(sys.argv[1]):
    try:
        ev = json.loads(line)
    except ValueError:
        continue
    test = ev.get("Test")
    if not test:
        continue
    if ev["Action"] in ("pass", "fail", "skip"):
        result[test] = ev["Action"]
    elif ev["Action"] == "output":
        output[test].append(ev["Output"].rstrip("\n"))

top = {t: r for t, r in result.items() if "/" not in t}
count = collections.Counter(top.values())
failed = sorted(t for t, r in result.items() if r == "fail")
leaves = [t for t in failed if not any(o.startswith(t + "/") for o in failed)]
if leaves:
    print("failing tests:")
    for t in leaves:
        print("  " + t)
        keep = ("Error:", "Messages:", "expected", "actual", "Response code", "Response body")
        for out in output[t]:
            if any(k in out for k in keep):
                print("      " + out.strip())
print("rw-compliance: %d passed, %d failed, %d skipped (of %d tests)"
      % (count["pass"], count["fail"], count["skip"], len(top)))
if count["fail"] or not top:
    sys.exit(1)
PY
exit "${status}"
