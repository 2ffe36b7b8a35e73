#!/usr/bin/env bash
# The vulnerability-data side of rempart, measured on the shared advisory exports:
#   1. `db import` of the full set (PyPI, Go, crates.io OSV exports and Alpine secdb v3.10 and
#      v3.11 together): wall time, peak RSS (/usr/bin/time -v), database size; median of 3 runs.
#   2. matching 10,000 real (name, version) packages taken from the same advisories (PyPI in a
#      requirements.txt, Go in a go.mod, crates.io in a Cargo.lock, read by `rempart fs`):
#      median of 3 runs of the whole command.
#   3. the sample image with the built-in sample database (a fresh cache, no --db): findings,
#      what they would be without alias merging, known severities, severity_source bases.
#   4. rempart against the independent evaluator crates/rempart-vulndb/tests/oracle/osv_check.py
#      on the PyPI packages of the list (bench/vulndata_compare.py); 5. the Go and crates.io
#      packages of the list against a plain SemVer reading of their ranges.
#   bench/vulndata.sh [ADVISORIES_DIR]     # default: ../shared/advisories beside the repository
# Builds the release binary first unless BENCH_NO_BUILD is set; REMPART=/path/to/rempart uses
# that binary instead. BENCH_RUNS changes the number of timed runs (3). Needs GNU time and
# python3 with `packaging` (pip install packaging). Every file it writes is under a temporary
# directory (the cache included: the user's ~/.cache/rempart is never read or written).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
advisories=${1:-$root/../shared/advisories}
for input in PyPI-all.zip Go-all.zip crates.io-all.zip alpine-secdb/v3.10 alpine-secdb/v3.11; do
  if [ ! -e "$advisories/$input" ]; then
    echo "vulndata: skipped: $advisories/$input not found (give the advisory directory: bench/vulndata.sh DIR)"
    exit 0
  fi
done
advisories=$(cd "$advisories" && pwd)
[ -x /usr/bin/time ] || { echo "vulndata: needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }
python3 -c 'import packaging' 2>/dev/null || { echo "vulndata: needs python3 with packaging (pip install packaging)" >&2; exit 2; }
if [ -n "${REMPART:-}" ]; then
  rempart=$REMPART
else
  [ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release --locked --quiet -p rempart-cli
  rempart=$root/target/release/rempart
fi
runs=${BENCH_RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/rempart-vulndata.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Never the user's cache: every rempart run below gets its own.
export XDG_CACHE_HOME=$work/xdg REMPART_CACHE_DIR=$work/cache NO_COLOR=1
helper=(python3 "$root/bench/vulndata_compare.py")
inputs=("$advisories/PyPI-all.zip" "$advisories/Go-all.zip" "$advisories/crates.io-all.zip"
  "$advisories/alpine-secdb/v3.10" "$advisories/alpine-secdb/v3.11")
# Paths in the printed command lines are shortened to these names.
short() { sed -e "s|$work|\$WORK|g" -e "s|$advisories|\$ADV|g" -e "s|$root/||g"; }
say() { echo "  \$ $*" | short; }

echo "rempart vulnerability data: $("$rempart" --version) ($rempart), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
echo "advisories: $advisories"
echo

echo "1. db import of the full set, $runs runs"
db=$work/full.sqlite
say /usr/bin/time -v "$rempart" db import --db "$db" "${inputs[@]}"
sizes=()
for i in $(seq "$runs"); do
  rm -f "$db"
  /usr/bin/time -v -o "$work/import.$i.time" "$rempart" db import --db "$db" "${inputs[@]}" >"$work/import.$i.out" 2>&1 \
    || { cat "$work/import.$i.out" "$work/import.$i.time" >&2; exit 1; }
  sizes+=("$(stat -c %s "$db")")
done
echo "  $("${helper[@]}" timing "$work"/import.*.time)"
echo "  database: $(stat -c %s "$db") bytes ($(du -h --apparent-size "$db" | cut -f1); sizes of the runs: ${sizes[*]}); import said:"
sed 's/^/    /' "$work/import.$runs.out" | short
"$rempart" db status --db "$db" 2>&1 | sed 's/^/    /' | short
echo

echo "2. matching 10,000 packages, $runs runs"
"${helper[@]}" packages "$advisories" "$work/list"
tree=$work/list/tree
say /usr/bin/time -v "$rempart" fs "$tree" --scanners vuln --format json --db "$db" --no-cache --exit-code 0 -o "$work/match.N.json"
for i in $(seq "$runs"); do
  /usr/bin/time -v -o "$work/match.$i.time" "$rempart" fs "$tree" --scanners vuln --format json --db "$db" \
    --no-cache --exit-code 0 -o "$work/match.$i.json" >"$work/match.$i.out" 2>&1 \
    || { cat "$work/match.$i.out" "$work/match.$i.time" >&2; exit 1; }
done
echo "  $("${helper[@]}" timing "$work"/match.*.time)"
echo "  the time is the whole command: start, opening the database, walking the tree, reading the three"
echo "  lock files, matching, rating every finding, writing the JSON report; nothing subtracted."
"${helper[@]}" inventory "$work/match.1.json"
echo "  report: $(stat -c %s "$work/match.1.json") bytes of JSON"
# One more run with -v for the matcher's own share (its log line), not timed from outside.
"$rempart" -v fs "$tree" --scanners vuln --format json --db "$db" --no-cache --exit-code 0 \
  -o "$work/match.v.json" >"$work/match.v.out" 2>&1 || { cat "$work/match.v.out" >&2; exit 1; }
echo "  of which the vulnerability scanner's own log says: $(grep -o 'vuln: .*' "$work/match.v.out" || echo 'no timing line')"
for i in $(seq 2 "$runs"); do
  cmp -s "$work/match.1.json" "$work/match.$i.json" || echo "  NOTE: run $i wrote a different report than run 1"
done
# For scale only (not subtracted): the same command without the vulnerability scanner.
/usr/bin/time -v -o "$work/catalog.time" "$rempart" fs "$tree" --scanners none --format json --db "$db" \
  --no-cache --exit-code 0 -o "$work/catalog.json" >"$work/catalog.out" 2>&1 \
  || { cat "$work/catalog.out" >&2; exit 1; }
echo "  for scale, the same with --scanners none (catalog only, one run): $("${helper[@]}" timing "$work/catalog.time")"
echo

echo "3. the sample image with the built-in sample database (fresh cache, no --db)"
sample_cache=$work/sample-xdg
say env -u REMPART_CACHE_DIR XDG_CACHE_HOME="$sample_cache" "$rempart" image --input examples/sample-image --scanners vuln --format json --exit-code 0 -o "$work/sample.json"
env -u REMPART_CACHE_DIR XDG_CACHE_HOME="$sample_cache" "$rempart" image --input examples/sample-image \
  --scanners vuln --format json --exit-code 0 -o "$work/sample.json" >"$work/sample.out" 2>&1 \
  || { cat "$work/sample.out" >&2; exit 1; }
installed=$sample_cache/rempart/db/vuln.sqlite
[ -f "$installed" ] || { echo "  the sample database was not installed at $installed" >&2; exit 1; }
# The records the aliases are told apart with: the sample zip imported as it ships.
say "$rempart" db import --db "$work/sample.sqlite" crates/rempart/data/default-advisories.zip
"$rempart" db import --db "$work/sample.sqlite" "$root/crates/rempart/data/default-advisories.zip" >/dev/null 2>&1
same=$(python3 - "$installed" "$work/sample.sqlite" <<'PY'
import sqlite3, sys
ids = [sorted(r[0] for r in sqlite3.connect(f"file:{p}?mode=ro", uri=True).execute("SELECT id FROM advisories")) for p in sys.argv[1:]]
print(f"{len(ids[0])} advisories, " + ("the same ids as the scan's installed database" if ids[0] == ids[1] else f"NOT the ids of the installed database ({len(ids[1])})"))
PY
)
echo "  imported sample zip: $same"
"${helper[@]}" sample "$work/sample.json" "$work/sample.sqlite" "$root/crates/rempart/data/default-advisories.zip" \
  "$root/crates/rempart-vulndb/tests/oracle/osv_check.py"
echo

echo "4. rempart against osv_check.py on the PyPI packages of the list (data: $advisories/PyPI-all.zip)"
say python3 bench/vulndata_compare.py compare "$advisories" "$work/match.1.json" "$work/list/pypi-pairs.txt" crates/rempart-vulndb/tests/oracle/osv_check.py
"${helper[@]}" compare "$advisories" "$work/match.1.json" "$work/list/pypi-pairs.txt" \
  "$root/crates/rempart-vulndb/tests/oracle/osv_check.py"
echo

echo "5. the Go and crates.io findings of the list against a plain SemVer reading of the same exports"
say python3 bench/vulndata_compare.py semver "$advisories" "$work/match.1.json"
"${helper[@]}" semver "$advisories" "$work/match.1.json"
