#!/usr/bin/env bash
# Server benchmarks, on 127.0.0.1 with a real registry (Debian's docker-registry) notifying the
# server, and the release build:
#   - push -> verdict: from the start of `skopeo copy` to a finished promotion, for the sample
#     image and for the ~190 MB benchmark image (bench/build-images.sh), cold (empty layer cache)
#     and warm (the same image pushed again under another tag);
#   - verdict lookups: 20,000 GETs of /v1/images/{digest}/verdict at 64 concurrent clients (ab);
#   - server memory: resident at idle, and the peak over two scans at once (two uploads);
#   - re-evaluation: 1,000 small stored images (bench/make-archives.py) matched again after a
#     database change (POST /v1/reevaluate), reading no layer.
#   bench/server.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release --quiet -p rempart-cli
bash bench/build-images.sh >/dev/null
rempart=$root/target/release/rempart
out=$root/target/bench
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing listens on $1" >&2; exit 1; }
now_ms() { date +%s%3N; }

server_port=$(free_port); registry_port=$(free_port)
registry=127.0.0.1:$registry_port
registry_token=$("$rempart" server token create --name registry --role registry --data-dir "$work/data")
printf 'registry: %s\nrules:\n  - {prefix: staging/, mode: promote, promote_to: release/}\n' "$registry" > "$work/gate.yaml"
"$rempart" server --data-dir "$work/data" --listen "127.0.0.1:$server_port" --gate "$work/gate.yaml" \
  --insecure-registry --rate-limit 1000000 --concurrent-scans 2 2> "$work/server.log" &
server_pid=$!; pids+=("$server_pid")
cat > "$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/storage}}
http: {addr: $registry}
notifications:
  endpoints:
    - name: rempart
      url: http://127.0.0.1:$server_port/v1/registry/events
      headers: {Authorization: ["Bearer $registry_token"]}
      timeout: 5s
      threshold: 3
      backoff: 1s
YAML
/usr/bin/docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
pids+=("$!")
wait_port "$server_port"; wait_port "$registry_port"
admin=$(cat "$work/data/admin-token")
api() { curl -sf -H "Authorization: Bearer $admin" "http://127.0.0.1:$server_port$1"; }
rss_kib() { awk -v key="$1:" '$1 == key {print $2}' "/proc/$server_pid/status"; }

sleep 2
echo "server idle: rss $(( $(rss_kib VmRSS) / 1024 )) MiB"

push_to_verdict() { # label layout tag
  local label=$1 layout=$2 tag=$3 start pushed finished state
  start=$(now_ms)
  skopeo copy -q --dest-tls-verify=false "oci:$layout" "docker://$registry/staging/app:$tag"
  pushed=$(now_ms)
  for _ in $(seq 6000); do
    state=$(api "/v1/promotions?limit=1000" | python3 -c "import json,sys; print(next((p['state'] for p in json.load(sys.stdin)['promotions'] if p['tag']=='$tag'), 'none'))")
    case $state in promoted|refused|failed) break ;; esac
    sleep 0.05
  done
  finished=$(now_ms)
  printf '%-28s push %6.2fs  push->verdict %6.2fs  (verdict %.2fs after the push; %s)\n' "$label" \
    "$(echo "($pushed - $start)/1000" | bc -l)" "$(echo "($finished - $start)/1000" | bc -l)" \
    "$(echo "($finished - $pushed)/1000" | bc -l)" "$state"
}

push_to_verdict "sample image, cold" "$root/examples/sample-image" sample-1
push_to_verdict "sample image, warm" "$root/examples/sample-image" sample-2
push_to_verdict "190 MB image, cold" "$out/bench.oci" big-1
push_to_verdict "190 MB image, warm" "$out/bench.oci" big-2

digest=$(api "/v1/images" | python3 -c "import json,sys; print(json.load(sys.stdin)['images'][0]['digest'])")
api "/v1/images/$digest/verdict" > /dev/null
ab -q -k -n 20000 -c 64 -H "Authorization: Bearer $admin" \
  "http://127.0.0.1:$server_port/v1/images/$digest/verdict" > "$work/ab.txt"
printf 'verdict lookups, 64 clients: %s requests/s, p50 %s ms, p99 %s ms, failed %s\n' \
  "$(awk '/Requests per second/ {print $4}' "$work/ab.txt")" \
  "$(awk '$1 == "50%" {print $2}' "$work/ab.txt")" "$(awk '$1 == "99%" {print $2}' "$work/ab.txt")" \
  "$(awk '/Failed requests/ {print $3}' "$work/ab.txt")"

# Two scans at once: two different archives uploaded together.
for archive in "$out/binaries.tar" "$out/copy2-binaries.tar"; do
  curl -sf -H "Authorization: Bearer $admin" --data-binary "@$archive" \
    "http://127.0.0.1:$server_port/v1/scans/upload?name=$(basename "$archive")" > /dev/null &
done
wait %3 %4 2>/dev/null || true
for _ in $(seq 6000); do
  [ "$(api "/v1/scans?limit=1000" | python3 -c "import json,sys; print(sum(s['state'] in ('queued','running') for s in json.load(sys.stdin)['scans']))")" = 0 ] && break
  sleep 0.1
done
echo "server peak rss over the run (ends with 2 concurrent scans): $(( $(rss_kib VmHWM) / 1024 )) MiB; rss now $(( $(rss_kib VmRSS) / 1024 )) MiB"

# Re-evaluation: 1,000 stored images (each with three Python distributions to match), then the
# whole store matched again.
count=${BENCH_REEVALUATE_IMAGES:-1000}
python3 bench/make-archives.py "$work/archives" "$count"
started=$(now_ms)
for archive in "$work"/archives/*.tar; do
  curl -sf -H "Authorization: Bearer $admin" --data-binary "@$archive" \
    "http://127.0.0.1:$server_port/v1/scans/upload?name=$(basename "$archive")" > /dev/null
done
for _ in $(seq 60000); do
  [ "$(api "/v1/scans?limit=1000" | python3 -c "import json,sys; print(sum(s['state'] in ('queued','running') for s in json.load(sys.stdin)['scans']))")" = 0 ] && break
  sleep 0.2
done
echo "$count small images uploaded and scanned in $(echo "($(now_ms) - $started)/1000" | bc -l | cut -c1-6) s"
curl -sf -X POST -H "Authorization: Bearer $admin" "http://127.0.0.1:$server_port/v1/reevaluate" | python3 -c "
import json, sys
done = json.load(sys.stdin)
print(f\"re-evaluation: {done['images']} images, {done['rematched']} matched again, {done['verdicts']} verdicts decided again in {done['seconds']:.2f} s\")"
echo "server peak rss at the end: $(( $(rss_kib VmHWM) / 1024 )) MiB"
