#!/usr/bin/env bash
# Admission webhook latency, on 127.0.0.1 over TLS with the release build: an open-loop load
# (bench/admission-load: each request sent at its due time whatever the answers, latency counted
# from that time, so a server that falls behind shows its queue) of AdmissionReviews of one
# Deployment of 5 containers, POSTed to /admission/validate. The admission policy checks Pod
# Security (baseline) and each image's verdict under the `default` scan policy.
# Target: p99 under 10 ms at 1,000 requests/s for known images, on this 2-core machine (the
# load generator runs on the same 2 cores as the server).
#   - known images: the 5 containers pinned to digests the server has scanned (archives from
#     bench/make-archives.py --clean: nothing found, so they pass), at 200 and 1,000 requests/s;
#   - one container swapped for an image the server never scanned, under `unscanned: deny`, then
#     `warn` (allowed with a warning, a scan queued), at 200 and 1,000 requests/s;
#   - `unscanned: scan`: the first request (it waits for a scan attempt, 8 s at most) and the
#     steady state after, at 200 and 1,000 requests/s.
# The never-scanned image of deny and warn names a registry on 127.0.0.1 where nothing listens.
# So does scan mode's, unless Debian's docker-registry and skopeo are installed
# (scripts/install-test-deps.sh): then the sample image (examples/sample-image) is pushed to a
# local registry, and the first request waits for its real pull and scan.
# Each rate: BENCH_WARMUP (5) s of warm-up, then BENCH_DURATION (20) s measured. Latency p50 and
# p99 from the due time, and in brackets from the send; a request unanswered in 10 s (the API
# server's default webhook timeout) is an error. Run it on an otherwise idle machine: a generator
# kept waiting for a core is late, and that counts too (each line says when it was over 1 ms late).
# Exit 2 when the server has no admission endpoint.
#   bench/admission.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  cargo build --release --locked --quiet -p rempart-cli
  (cd bench/admission-load && cargo build --release --locked --quiet)
fi
rempart=$root/target/release/rempart
load=$root/bench/admission-load/target/release/admission-load
duration=${BENCH_DURATION:-20}
warmup=${BENCH_WARMUP:-5}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # PORT PID: false when the process ends first
  for _ in $(seq 600); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# A throwaway CA, and the server's certificate for 127.0.0.1 signed by it.
tls=$work/tls
mkdir "$tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=bench-ca \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
  -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
  -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' > "$tls/ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
  -days 1 -extfile "$tls/ext" -out "$tls/server.pem" 2>/dev/null

server_pid=
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}
start_server() { # UNSCANNED: deny, warn or scan
  stop_server
  printf 'version: 1\ndefault:\n  pod_security: {level: baseline}\n  images:\n    verdict: {policy: default, unscanned: %s}\n' \
    "$1" > "$work/admission-$1.yaml"
  local port
  port=$(free_port)
  "$rempart" server --data-dir "$work/data" --listen "127.0.0.1:$port" \
    --tls-cert "$tls/server.pem" --tls-key "$tls/server.key" --admission-policy "$work/admission-$1.yaml" \
    --rate-limit 1000000 --insecure-registry 2> "$work/server.log" &
  server_pid=$!
  pids+=("$server_pid")
  if ! wait_port "$port" "$server_pid"; then
    if grep -q -- "--admission-policy" "$work/server.log"; then
      echo "the server has no admission endpoint: this rempart server does not take --admission-policy" >&2
      exit 2
    fi
    echo "the server did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  base=https://127.0.0.1:$port
}
api() { curl -sf --cacert "$tls/ca.pem" -H "Authorization: Bearer $admin" "$base$1"; }

# Known images: 5 small archives, uploaded and scanned.
start_server deny
admin=$(cat "$work/data/admin-token")
python3 bench/make-archives.py "$work/archives" 5 --clean
for archive in "$work"/archives/*.tar; do
  curl -sf --cacert "$tls/ca.pem" -H "Authorization: Bearer $admin" --data-binary "@$archive" \
    "$base/v1/scans/upload?name=$(basename "$archive")" > /dev/null
done
for _ in $(seq 600); do
  [ "$(api "/v1/scans?limit=1000" | python3 -c "import json,sys; print(sum(s['state'] in ('queued','running') for s in json.load(sys.stdin)['scans']))")" = 0 ] && break
  sleep 0.1
done
mapfile -t digests < <(api "/v1/images?limit=1000" | python3 -c "import json,sys; [print(i['digest']) for i in json.load(sys.stdin)['images']]")
if [ "${#digests[@]}" != 5 ]; then
  echo "expected 5 scanned images, the server has ${#digests[@]}" >&2
  exit 1
fi
for digest in "${digests[@]}"; do
  api "/v1/images/$digest/verdict" | python3 -c "import json,sys; v=json.load(sys.stdin); v['passed'] or print('note: $digest fails the default policy:', v.get('reasons'))"
done

# Where nothing listens: images there cannot be pulled, and no traffic leaves the machine.
nowhere=127.0.0.1:$(free_port)
unscanned=$nowhere/bench/unscanned@sha256:$(printf unscanned | sha256sum | cut -d' ' -f1)
scan_image=$unscanned
scan_note="no local registry (docker-registry and skopeo are not installed): the unscanned image is on 127.0.0.1 where nothing listens, so the scan attempt fails at once"
if [ -x /usr/bin/docker-registry ] && command -v skopeo > /dev/null; then
  registry=127.0.0.1:$(free_port)
  printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: %s}\n' \
    "$work/storage" "$registry" > "$work/registry.yml"
  /usr/bin/docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
  pids+=("$!")
  wait_port "${registry##*:}" "$!" || { echo "the registry did not start" >&2; cat "$work/registry.log" >&2; exit 1; }
  skopeo copy -q --dest-tls-verify=false "oci:$root/examples/sample-image" "docker://$registry/bench/unscanned:1"
  scan_image=$registry/bench/unscanned@$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$registry/bench/unscanned:1")
  scan_note="the unscanned image is the sample image on a local registry (docker-registry): the first request waits for its pull and scan"
fi

# The Deployment: 5 containers, one per known image, as `kubectl create` writes it.
images=()
for i in "${!digests[@]}"; do images+=("$nowhere/bench/known-$i@${digests[$i]}"); done
if command -v kubectl > /dev/null; then
  kubectl create deployment web --namespace shop "${images[@]/#/--image=}" --dry-run=client -o json > "$work/deployment.json"
else
  python3 - "$work/deployment.json" "${images[@]}" <<'PY'
import json, sys
path, images = sys.argv[1], sys.argv[2:]
containers = [{"name": image.split("/")[-1].split("@")[0], "image": image, "resources": {}} for image in images]
json.dump({"kind": "Deployment", "apiVersion": "apps/v1",
           "metadata": {"name": "web", "namespace": "shop", "creationTimestamp": None, "labels": {"app": "web"}},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"creationTimestamp": None, "labels": {"app": "web"}},
                                 "spec": {"containers": containers}},
                    "strategy": {}},
           "status": {}}, open(path, "w"), indent=4)
PY
fi
review() { # OUT [IMAGE: replaces the last container's]
  python3 - "$work/deployment.json" "$@" <<'PY'
import json, sys
deployment = json.load(open(sys.argv[1]))
if len(sys.argv) > 3:
    deployment["spec"]["template"]["spec"]["containers"][-1]["image"] = sys.argv[3]
kind = {"group": "apps", "version": "v1", "kind": "Deployment"}
resource = {"group": "apps", "version": "v1", "resource": "deployments"}
json.dump({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
    "uid": "00000000-0000-0000-0000-000000000000", "kind": kind, "resource": resource,
    "requestKind": kind, "requestResource": resource, "name": "web", "namespace": "shop",
    "operation": "CREATE",
    "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
    "object": deployment, "oldObject": None, "dryRun": False,
    "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1", "fieldManager": "kubectl-create"}}},
    open(sys.argv[2], "w"))
PY
}
review "$work/known.json"
review "$work/unscanned.json" "$unscanned"
review "$work/scan.json" "$scan_image"

code=$(curl -s -o "$work/probe.json" -w '%{http_code}' --cacert "$tls/ca.pem" -H 'Content-Type: application/json' \
  --data-binary "@$work/known.json" "$base/admission/validate" || true)
case $code in
  200) ;;
  404) echo "the server has no admission endpoint: POST /admission/validate answered 404" >&2; exit 2 ;;
  *) echo "POST /admission/validate answered HTTP $code: $(head -c 500 "$work/probe.json")" >&2; exit 1 ;;
esac

measure() { # LABEL REVIEW RATE DURATION WARMUP [admission-load options]
  local label=$1 body=$2 rate=$3 seconds=$4 warm=$5
  shift 5
  "$load" --json --url "$base/admission/validate" --cacert "$tls/ca.pem" --body "$body" \
    --rate "$rate" --duration "$seconds" --warmup "$warm" --timeout 10 "$@" > "$work/result.json"
  python3 - "$label" "$work/result.json" <<'PY'
import json, sys
label, path = sys.argv[1:]
r = json.load(open(path))
due, sent = r["latency_ms"]["from_schedule"], r["latency_ms"]["from_send"]
ms = lambda v: "-" if v is None else f"{v:.2f}"
errors = "".join(f"; {kind} ({count}x)" for kind, count in r["error_kinds"].items())
print(f"{label:<34} p50 {ms(due['p50']):>6} ms  p99 {ms(due['p99']):>7} ms  max {ms(due['max']):>7} ms  "
      f"(from send {ms(sent['p50'])} / {ms(sent['p99'])})  {r['achieved_rate']:g} req/s; "
      f"{r['allowed']} allowed ({r['warned']} with warnings), {r['denied']} denied, {r['errors']} errors{errors}"
      + (f"; the generator was up to {late:.1f} ms late (a busy machine?)" if (late := r["latency_ms"]["schedule_late_max"]) >= 1 else ""))
PY
}

echo "admission webhook, 5 containers per Deployment, $duration s per rate after $warmup s of warm-up"
measure "known images, 200 req/s" "$work/known.json" 200 "$duration" "$warmup"
measure "known images, 1000 req/s" "$work/known.json" 1000 "$duration" "$warmup"
measure "1 unscanned, deny, 200 req/s" "$work/unscanned.json" 200 "$duration" "$warmup"
measure "1 unscanned, deny, 1000 req/s" "$work/unscanned.json" 1000 "$duration" "$warmup"
start_server warn
measure "1 unscanned, warn, 200 req/s" "$work/unscanned.json" 200 "$duration" "$warmup"
measure "1 unscanned, warn, 1000 req/s" "$work/unscanned.json" 1000 "$duration" "$warmup"
start_server scan
echo "scan mode: $scan_note"
measure "1 unscanned, scan, first request" "$work/scan.json" 1 1 0 --connections 1
measure "1 unscanned, scan, 200 req/s" "$work/scan.json" 200 "$duration" "$warmup"
measure "1 unscanned, scan, 1000 req/s" "$work/scan.json" 1000 "$duration" "$warmup"
