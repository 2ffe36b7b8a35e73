#!/usr/bin/env bash
# Real-world check: builds a real Debian bookworm image (mmdebstrap, umoci), turns it into every
# input form rempart reads (OCI layout, docker-save archive plain and gzipped, a registry pull,
# an unpacked root filesystem), scans each, and requires the same packages, OS and final file
# inventory from all of them. Needs the packages of scripts/install-test-deps.sh and network
# access to the Debian mirror. Work files live under target/realworld (or $REALWORLD_DIR).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
work=${REALWORLD_DIR:-$root/target/realworld}
rm -rf "$work"
mkdir -p "$work"
cd "$work"

# The same feature set as `cargo test --workspace`, so after the tests this builds nothing (a
# `-p rempart-cli` build would resolve features differently and rebuild yara-x).
cargo build --quiet --workspace --all-targets --locked
# Wherever cargo puts its build (CARGO_TARGET_DIR, a config file), ask it.
target_dir=$(cd "$root" && cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
rempart="$target_dir/debug/rempart"
export REMPART_CACHE_DIR="$work/cache"

echo "realworld: building a Debian bookworm root filesystem with mmdebstrap"
bash "$root/scripts/bookworm-minbase.sh"

echo "realworld: assembling an OCI layout with umoci (base layer + an application layer)"
umoci init --layout layout
umoci new --image layout:bookworm
umoci raw add-layer --image layout:bookworm "$root/target/bookworm-minbase.tar"
# Second layer: an application file, and a deletion (whiteout) of a file from the base.
mkdir -p app-layer/opt/app
printf 'print("hello")\n' > app-layer/opt/app/main.py
touch app-layer/etc/.wh.motd 2>/dev/null || { mkdir -p app-layer/etc; touch app-layer/etc/.wh.motd; }
tar --numeric-owner --owner=0 --group=0 -C app-layer -cf app-layer.tar .
umoci raw add-layer --image layout:bookworm app-layer.tar
umoci config --image layout:bookworm --config.cmd /usr/bin/python3 --config.cmd /opt/app/main.py

echo "realworld: docker-save archives and an unpacked root filesystem"
skopeo copy --quiet oci:layout:bookworm docker-archive:image.tar:rempart/bookworm:test
gzip -c image.tar > image.tar.gz
umoci unpack --image layout:bookworm bundle >/dev/null

echo "realworld: pushing to a local registry on 127.0.0.1"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > registry.yml <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
YAML
/usr/bin/docker-registry serve registry.yml >registry.log 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break
  sleep 0.1
done
skopeo copy --quiet --dest-tls-verify=false oci:layout:bookworm "docker://127.0.0.1:$port/rempart/bookworm:test"

scan() {
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  "$rempart" "$@" --scanners none --format json --output "$name.json" --inventory-output "$name.inventory.json" --no-cache
  end=$(date +%s.%N)
  printf 'realworld: %-14s scanned in %.2fs\n' "$name" "$(echo "$end - $start" | bc)"
}
scan layout image --input layout:bookworm
scan archive image --input image.tar
scan archive-gz image --input image.tar.gz
scan registry image "127.0.0.1:$port/rempart/bookworm:test" --insecure
scan rootfs rootfs bundle/rootfs

python3 "$root/tests/realworld/compare.py" layout archive archive-gz registry rootfs

# Requires a JSON report ($1) without findings; $2 names what was scanned.
require_clean() {
  python3 - "$1" "$2" <<'PY'
import json, sys
report, what = json.load(open(sys.argv[1])), sys.argv[2]
findings = report["findings"]
for f in findings:
    print(f"  {f['id']} {f['location']['path']} {f['details']}")
if findings:
    sys.exit(f"realworld: {len(findings)} secret/malware findings on {what}")
skipped = report.get("skipped", [])
print(f"realworld: {what} has no secret or malware finding ({len(skipped)} entries skipped)")
PY
}

# A clean Debian system holds no secrets and no malware: any finding here is noise.
echo "realworld: secrets and malware on the clean image"
"$rempart" image --input layout:bookworm --scanners secret,malware --format json --output clean.json --no-cache --exit-code 0
require_clean clean.json "the clean image"

# The same on a large install whose content names what the rules look for: package
# descriptions, manuals, Python and Node packages, security tools and their data.
echo "realworld: building the clean corpus (a large Debian install) with mmdebstrap"
bash "$root/scripts/clean-corpus.sh"
start=$(date +%s.%N)
"$rempart" rootfs "$root/target/clean-corpus" --scanners secret,malware --format json --output corpus.json --no-cache --exit-code 0
end=$(date +%s.%N)
printf 'realworld: clean corpus scanned in %.2fs\n' "$(echo "$end - $start" | bc)"
require_clean corpus.json "the clean corpus"
