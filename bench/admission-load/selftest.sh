#!/usr/bin/env bash
# Checks admission-load on its own, on 127.0.0.1, without the rempart server: against a stand-in
# webhook (mock-webhook.py, Python's HTTPS server) and against `openssl s_server -www`.
#   - the answer checks: uids, allowed / denied / warnings counted, a wrong uid counted as an error;
#   - pacing: the achieved rate within 3% of the asked one, at 200 and 1,000 requests/s;
#   - no coordinated omission: one connection and a server that holds one request in 200 for
#     200 ms; the requests due meanwhile wait, and their latency from the schedule shows it
#     (p99 over 100 ms) while their latency from the send does not;
#   - TLS trust: only --cacert (another CA is refused), and HTTP/1.0 answers that close the
#     connection (s_server) reconnected for the next request.
# The numbers are the stand-in's, not rempart's. Exit 0 when every check holds.
#   bench/admission-load/selftest.sh
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --quiet
load=$(pwd)/target/release/admission-load
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing listens on $1" >&2; exit 1; }
make_ca() { # DIR: a throwaway CA and a certificate for 127.0.0.1 signed by it
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=bench-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
    -keyout "$1/ca.key" -out "$1/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
    -keyout "$1/server.key" -out "$1/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' > "$1/ext"
  openssl x509 -req -in "$1/server.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" -CAcreateserial -days 1 \
    -extfile "$1/ext" -out "$1/server.pem" 2>/dev/null
}
mkdir "$work/tls" "$work/other"
make_ca "$work/tls"; make_ca "$work/other"
failed=0
fail() { echo "FAILED: $*"; failed=1; }

review() { # FILE NAME IMAGE
  python3 - "$@" <<'PY'
import json, sys
path, name, image = sys.argv[1:]
deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "shop"},
              "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
                  "metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": name, "image": image}]}}}}
review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
    "uid": "00000000-0000-0000-0000-000000000000", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
    "resource": {"group": "apps", "version": "v1", "resource": "deployments"}, "name": name, "namespace": "shop",
    "operation": "CREATE", "userInfo": {"username": "selftest"}, "object": deployment, "oldObject": None,
    "dryRun": False, "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}}}
json.dump(review, open(path, "w"))
PY
}
digest=sha256:$(printf known | sha256sum | cut -d' ' -f1)
review "$work/allowed.json" web "127.0.0.1:1/shop/web@$digest"
review "$work/denied.json" web "127.0.0.1:1/shop/unscanned@$digest"
review "$work/warned.json" web "127.0.0.1:1/shop/warn-me@$digest"
review "$work/wrong.json" wrong-uid "127.0.0.1:1/shop/web@$digest"

mock_port=$(free_port)
python3 mock-webhook.py "$mock_port" "$work/tls/server.pem" "$work/tls/server.key" &
pids+=("$!")
wait_port "$mock_port"
url=https://127.0.0.1:$mock_port/admission/validate

# run LABEL EXPECTATION(python, over the result `r`) ARGS...: one line per run, and the check.
run() {
  local label=$1 expect=$2; shift 2
  "$load" --json --cacert "$work/tls/ca.pem" "$@" > "$work/out.json"
  python3 - "$label" "$expect" "$work/out.json" <<'PY' || failed=1
import json, sys
label, expect, path = sys.argv[1], sys.argv[2], sys.argv[3]
r = json.load(open(path))
s, d = r["latency_ms"]["from_schedule"], r["latency_ms"]["from_send"]
print(f"{label}: {r['answered']}/{r['requests']} answered at {r['achieved_rate']}/s (asked {r['rate']:g}/s); "
      f"ok {r['ok']}, allowed {r['allowed']}, denied {r['denied']}, warned {r['warned']}, errors {r['errors']}; "
      f"from schedule p50 {s['p50']} p99 {s['p99']} p99.9 {s['p99.9']} max {s['max']} ms; "
      f"from send p50 {d['p50']} p99 {d['p99']} max {d['max']} ms; scheduler late by {r['latency_ms']['schedule_late_max']} ms at most")
if not eval(expect, {"r": r, "s": s, "d": d}):
    print(f"FAILED: {label}: expected {expect}; got {json.dumps(r)}")
    sys.exit(1)
PY
}
paced='r["achieved_rate"] >= 0.97 * r["rate"] and r["achieved_rate"] <= 1.03 * r["rate"]'

run "mock, 200/s, allowed+denied+warned" \
  "$paced and r['errors'] == 0 and r['allowed'] == 667 and r['denied'] == 333 and r['warned'] == 334" \
  --url "$url" --body "$work/allowed.json" --body "$work/denied.json" --body "$work/warned.json" \
  --rate 200 --duration 5 --warmup 1
run "mock, 1000/s, allowed+denied" \
  "$paced and r['errors'] == 0 and r['allowed'] == 5000 and r['denied'] == 5000" \
  --url "$url" --body "$work/allowed.json" --body "$work/denied.json" --rate 1000 --duration 10 --warmup 2
run "mock, wrong uid in every other answer" \
  "r['allowed'] == 500 and r['error_kinds'] == {\"response.uid is not the request's uid\": 500}" \
  --url "$url" --body "$work/allowed.json" --body "$work/wrong.json" --rate 200 --duration 5
run "mock, 404 counted" "r['errors'] == 100 and r['error_kinds'] == {'HTTP 404 Not Found': 100}" \
  --url "https://127.0.0.1:$mock_port/nothing" --body "$work/allowed.json" --rate 100 --duration 1

stall_port=$(free_port)
python3 mock-webhook.py "$stall_port" "$work/tls/server.pem" "$work/tls/server.key" \
  --stall-every 200 --stall-ms 200 &
pids+=("$!")
wait_port "$stall_port"
run "mock holding 1 request in 200 for 200 ms, 1 connection" \
  "r['errors'] == 0 and s['p99'] >= 100 and d['p99'] < 50 and d['max'] >= 200" \
  --url "https://127.0.0.1:$stall_port/admission/validate" --body "$work/allowed.json" \
  --rate 200 --duration 10 --connections 1

s_port=$(free_port)
openssl s_server -quiet -www -accept "127.0.0.1:$s_port" -cert "$work/tls/server.pem" \
  -key "$work/tls/server.key" < /dev/null > /dev/null 2>&1 &
pids+=("$!")
wait_port "$s_port"
run "openssl s_server -www, GET, a new connection per request" \
  "$paced and r['ok'] == 250 and r['errors'] == 0" \
  --url "https://127.0.0.1:$s_port/" --method GET --check status --rate 50 --duration 5 --connections 1

if "$load" --url "$url" --body "$work/allowed.json" --rate 10 --duration 1 --cacert "$work/other/ca.pem" \
    > /dev/null 2> "$work/err"; then
  fail "a server certificate from another CA was accepted"
elif [ $? = 2 ] && grep -q "cannot connect" "$work/err"; then
  echo "another CA: refused ($(cat "$work/err"))"
else
  fail "another CA: $(cat "$work/err")"
fi

[ "$failed" = 0 ] && echo "admission-load self-test: every check held" || { echo "admission-load self-test: FAILED"; exit 1; }
