#!/usr/bin/env bash
# `rempart host` wall time on this machine, release build: every check, and the patch level
# (the host's dpkg/apk/rpm databases matched against the vulnerability database, the built-in
# one unless --db is given in REMPART_HOST_ARGS). Median and slowest of BENCH_RUNS (10) runs,
# each a new process, after one warm-up run. Target: under 2 s.
#   bench/host.sh            (as root for a complete audit)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  cargo build --release --locked --quiet -p rempart-cli
fi
rempart=$root/target/release/rempart
runs=${BENCH_RUNS:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export REMPART_CACHE_DIR=$work/cache
# shellcheck disable=SC2086
"$rempart" host --format json ${REMPART_HOST_ARGS:-} >"$work/report.json" || true
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  # shellcheck disable=SC2086
  "$rempart" host --format json ${REMPART_HOST_ARGS:-} >/dev/null || true
  echo $(( ($(date +%s%N) - start) / 1000000 ))
done | sort -n >"$work/times"
python3 - "$work/report.json" "$work/times" "$runs" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
times = [int(t) for t in open(sys.argv[2])]
statuses = {}
for check in report["checks"]:
    statuses[check["status"]] = statuses.get(check["status"], 0) + 1
scan = report.get("packages") or {}
packages = len(scan.get("packages", []))
vulnerabilities = sum(1 for f in scan.get("findings", []) if f.get("scanner") == "vuln")
print(f"checks: {len(report['checks'])} {statuses}; containers: {len(report.get('containers', []))}")
print(f"host packages: {packages}, vulnerability findings: {vulnerabilities}")
print(f"runs: {sys.argv[3]}; median {times[len(times) // 2]} ms, slowest {times[-1]} ms")
PY
