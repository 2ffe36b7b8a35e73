#!/usr/bin/env bash
# `rempart verify` of an image with 1 signature and 3 attestations in a local registry
# (Debian's docker-registry on 127.0.0.1, which has no referrers API: the referrers tag is read),
# release build, the built-in trusted root:
#   - the signature: cosign's `.sig` tag format, made with openssl (ECDSA P-256);
#   - the attestations: rempart's verdict (`rempart attest`), a CycloneDX and an SPDX SBOM
#     (`rempart sbom --attest`), each a DSSE envelope attached as a referrer.
# Cold: the first verification after the registry started (its caches empty) in a new process.
# Warm: the median and the slowest of BENCH_RUNS (20) runs after it, each a new process (trusted
# root parsed, policy read, tag and referrers looked up, 5 blobs read and checked).
# Target: under 50 ms warm on this machine.
#   bench/trust.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  cargo build --release --locked --quiet -p rempart-cli
fi
rempart=$root/target/release/rempart
runs=${BENCH_RUNS:-20}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export REMPART_CACHE_DIR=$work/cache

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
registry=127.0.0.1:$port
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: $registry
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

image=$registry/bench/app
skopeo copy -q --dest-tls-verify=false oci:examples/sample-image "docker://$image:1"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/key.pem" 2>/dev/null
openssl pkey -in "$work/key.pem" -pubout -out "$work/key.pub"
digest=$(skopeo inspect --tls-verify=false --raw "docker://$image:1" | sha256sum | cut -d' ' -f1)

# The signature, in cosign's tag format: the simple-signing payload as the layer, its signature
# in the layer's annotation.
payload='{"critical":{"identity":{"docker-reference":"'$image'"},"image":{"docker-manifest-digest":"sha256:'$digest'"},"type":"cosign container image signature"},"optional":null}'
printf '%s' "$payload" >"$work/payload.json"
signature=$(openssl dgst -sha256 -sign "$work/key.pem" "$work/payload.json" | base64 -w0)
layout=$work/sig
mkdir -p "$layout/blobs/sha256"
put() { local d; d=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" "$layout/blobs/sha256/$d"; echo "$d"; }
payload_digest=$(put "$work/payload.json")
printf '{}' >"$work/config.json"
config_digest=$(put "$work/config.json")
cat >"$work/manifest.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$config_digest","size":2},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","digest":"sha256:$payload_digest","size":$(stat -c %s "$work/payload.json"),"annotations":{"dev.cosignproject.cosign/signature":"$signature"}}]}
EOF
manifest_digest=$(put "$work/manifest.json")
printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s}]}' \
  "$manifest_digest" "$(stat -c %s "$work/manifest.json")" >"$layout/index.json"
skopeo copy -q --dest-tls-verify=false "oci:$layout" "docker://$image:sha256-$digest.sig"

"$rempart" attest "$image:1" --key "$work/key.pem" --insecure -o /dev/null 2>/dev/null || true
"$rempart" sbom "$image:1" --attest --key "$work/key.pem" --insecure -o /dev/null 2>/dev/null
"$rempart" sbom "$image:1" --format spdx-json --attest --key "$work/key.pem" --insecure -o /dev/null 2>/dev/null

cat >"$work/trust.yaml" <<EOF
rules:
  - name: bench
    images: ["$registry/bench/*"]
    signers:
      keys: [key.pub]
    attestations:
      - type: rempart-verdict
        passed: false
      - type: cyclonedx
      - type: spdx
EOF

# Restart the registry: the cold run meets empty caches.
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids=($!)
for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

verify() { "$rempart" verify "$image:1" --policy "$work/trust.yaml" --insecure --format json; }
ms() { local start end; start=$(date +%s%N); verify >"$work/out.json"; end=$(date +%s%N); echo $(((end - start) / 1000000)); }
cold=$(ms)
python3 - "$work/out.json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
found = [(e["kind"], e.get("predicate_type", ""), e["verified"]) for e in report["evidence"]]
assert report["verdict"] == "trusted", report
assert sum(1 for f in found if f[0] == "signature" and f[2]) == 1, found
assert sum(1 for f in found if f[0] == "attestation" and f[2]) == 3, found
EOF
times=()
for _ in $(seq "$runs"); do times+=("$(ms)"); done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | sed -n "$(((runs + 1) / 2))p")
slowest=$(echo "$sorted" | tail -1)
echo "verify, 1 signature + 3 attestations, local registry: cold ${cold} ms; warm median ${median} ms, slowest ${slowest} ms over $runs runs"
