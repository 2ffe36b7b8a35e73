#!/usr/bin/env bash
# What `rempart watch` costs the processes it watches (release build, root, a tmpfs watched in
# enforce mode with the built-in rules, opens and executions judged):
#   - added latency of one open: a file whose verdict is cached, and files never seen (each
#     read and scanned), as the mean of N opens in one process, minus the same without watch;
#   - added latency of one exec of a small program (cached verdict);
#   - throughput on a file-heavy workload: `tar x` of a 200 MB layer (real files from /usr)
#     into the watched filesystem, then reading every extracted file (uncached: each is
#     scanned once), and reading them again (cached).
# Each figure is the median of BENCH_RUNS (5) runs.
#   sudo bench/watch.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ "$(id -u)" -ne 0 ]; then echo "bench/watch.sh needs root (fanotify, mounts)" >&2; exit 2; fi
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  cargo build --release --locked --quiet -p rempart-cli
fi
rempart=$root/target/release/rempart
runs=${BENCH_RUNS:-5}
work=$(mktemp -d)
watch_pid=""
cleanup() {
  [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null && wait "$watch_pid" 2>/dev/null
  umount -l "$work/fs" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export REMPART_CACHE_DIR=$work/cache
mkdir -p "$work/fs"
mount -t tmpfs -o size=1200m tmpfs "$work/fs"

# The layer: regular files from /usr/lib and /usr/share, 200 MB of them.
python3 - "$work/files.txt" <<'PY'
import os, sys
total, limit, out = 0, 200 * 1024 * 1024, []
for top in ("/usr/lib", "/usr/share"):
    for dirpath, _, names in os.walk(top):
        for name in sorted(names):
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            size = os.path.getsize(path)
            if total + size > limit:
                continue
            out.append(path.lstrip("/"))
            total += size
open(sys.argv[1], "w").write("\n".join(out) + "\n")
print(f"layer: {len(out)} files, {total / 1e6:.0f} MB", file=sys.stderr)
PY
tar -C / -cf "$work/layer.tar" -T "$work/files.txt"
files=$(wc -l <"$work/files.txt")

for i in $(seq 0 999); do printf 'file %d\n' "$i" >"$work/fs/small-$i"; done
echo "a file read many times" >"$work/fs/cached"
cp "$(type -P true)" "$work/fs/true"

# Mean latency of one open, in µs: N opens of the same file, or of the 1,000 small files once.
open_latency() {
  python3 - "$1" "$2" <<'PY'
import os, sys, time
root, which = sys.argv[1], sys.argv[2]
names = [os.path.join(root, "cached")] * 20000 if which == "cached" else \
        [os.path.join(root, "small-%d" % i) for i in range(1000)]
start = time.perf_counter()
for name in names:
    os.close(os.open(name, os.O_RDONLY))
print(f"{(time.perf_counter() - start) / len(names) * 1e6:.1f}")
PY
}
# Mean latency of one exec, in µs: the same program 500 times (cached), or 200 fresh copies of
# it once each (each a new file: read and scanned before it runs).
exec_latency() {
  python3 - "$1" "$2" <<'PY'
import os, shutil, subprocess, sys, time
root, which = sys.argv[1], sys.argv[2]
if which == "cached":
    programs = [os.path.join(root, "true")] * 500
else:
    programs = []
    for i in range(200):
        copy = os.path.join(root, "true-%d-%d" % (os.getpid(), i))
        shutil.copy2(os.path.join(root, "true"), copy)
        programs.append(copy)
start = time.perf_counter()
for program in programs:
    subprocess.run([program], check=True)
print(f"{(time.perf_counter() - start) / len(programs) * 1e6:.0f}")
if which == "new":
    for program in programs:
        os.remove(program)
PY
}
seconds() { local start=$(date +%s.%N); "$@" >/dev/null; echo "$(date +%s.%N) - $start" | bc; }
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
untar() { rm -rf "$work/fs/layer"; mkdir "$work/fs/layer"; tar -C "$work/fs/layer" -xf "$work/layer.tar"; }
read_all() { find "$work/fs/layer" -type f -print0 | xargs -0 cat >/dev/null; }

measure() {
  local label=$1
  for _ in $(seq "$runs"); do open_latency "$work/fs" cached; done | median >"$work/$label.open-cached"
  exec_latency "$work/fs" cached >"$work/$label.exec"
  exec_latency "$work/fs" new >"$work/$label.exec-new"
  for _ in $(seq "$runs"); do
    untar
    seconds untar >>"$work/$label.untar"
    # Fresh copies of the small files: never seen by the watcher.
    for i in $(seq 0 999); do cp "$work/fs/small-$i" "$work/fs/small-$i.new" && mv "$work/fs/small-$i.new" "$work/fs/small-$i"; done
    open_latency "$work/fs" new >>"$work/$label.open-new"
    untar
    seconds read_all >>"$work/$label.read-first"
    seconds read_all >>"$work/$label.read-again"
  done
}

measure without
"$rempart" watch "$work/fs" -o "$work/events.jsonl" 2>"$work/watch.log" &
watch_pid=$!
until grep -q "watching" "$work/watch.log" 2>/dev/null; do sleep 0.1; done
measure with
kill -TERM "$watch_pid"; wait "$watch_pid" || true; watch_pid=""

row() {
  local what=$1 file=$2 unit=$3
  local a b
  a=$(median <"$work/without.$file"); b=$(median <"$work/with.$file")
  printf '%-44s %10s %10s %10s %s\n' "$what" "$a" "$b" "$(echo "$b - $a" | bc)" "$unit"
}
echo "layer: $files files, $(du -m "$work/layer.tar" | cut -f1) MB; $runs runs each, medians"
printf '%-44s %10s %10s %10s\n' "" "without" "with" "added"
row "open, cached verdict (mean)" open-cached µs
row "open, new file, scanned (mean)" open-new µs
row "exec of a small program, cached (mean)" exec µs
row "exec of a new program, scanned (mean)" exec-new µs
row "tar x of the layer" untar s
row "read every extracted file (first: scanned)" read-first s
row "read them again (cached)" read-again s
tail -1 "$work/watch.log"
if [ -s "$work/events.jsonl" ]; then echo "events (false positives on real files):"; cat "$work/events.jsonl"; fi
