#!/usr/bin/env bash
# Runs every test: installs the test dependencies, builds the workspace once (one profile: the
# debug build every later phase reuses), runs the workspace tests without stopping at the first
# failing test binary, then the real-world image test (a Debian bookworm image built with
# mmdebstrap, scanned in every input form). Last, and only when a full advisory snapshot is at
# hand (`REMPART_TEST_ADVISORIES`, or `../shared/advisories` beside the repository), the advisory
# tests run again over it; without one that step is skipped with a message. Every phase is timed,
# and the run ends with one line counting the results of every test binary.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT
failed_phases=()
phase_times=()

# Runs one phase, records its wall time and whether it failed, and goes on either way.
phase() {
  local name=$1; shift
  local start=$SECONDS
  echo "==> $name"
  "$@"
  local status=$?
  local outcome=ok
  if [ $status -ne 0 ]; then
    outcome="FAILED (exit $status)"
    failed_phases+=("$name")
  fi
  phase_times+=("$(printf '%-32s %5d s  %s' "$name" $((SECONDS - start)) "$outcome")")
  return 0
}

# `cargo test` over its arguments; the output is kept for the final count.
cargo_tests() {
  local log
  log=$(mktemp "$log_dir/cargo-XXXXXX")
  cargo test --locked --no-fail-fast "$@" 2>&1 | tee "$log"
  return "${PIPESTATUS[0]}"
}

full_snapshot_tests() {
  local snapshot=${REMPART_TEST_ADVISORIES:-}
  if [ -z "$snapshot" ] && [ -f "$root/../shared/advisories/PyPI-all.zip" ]; then
    snapshot=$(cd "$root/../shared/advisories" && pwd)
  fi
  if [ -z "$snapshot" ]; then
    echo "skipped: no full advisory snapshot (set REMPART_TEST_ADVISORIES to a directory of the"
    echo "         exports); the same tests already ran over the trimmed snapshot in the repository"
    return 0
  fi
  echo "full advisory snapshot: $snapshot"
  export REMPART_TEST_ADVISORIES=$snapshot
  # `--workspace`, as in the build phase: selecting packages with `-p` would resolve features
  # differently and rebuild much of the dependency graph.
  cargo_tests --workspace --test database --test pypi_oracle --test cvss_oracle --test db_update \
    --test cli
}

export INSTA_UPDATE=no
phase "install test dependencies" scripts/install-test-deps.sh
if [ "${#failed_phases[@]}" -gt 0 ]; then
  echo "test.sh: the test dependencies could not be installed" >&2
  exit 1
fi
phase "build" cargo test --workspace --locked --no-run
phase "workspace tests" cargo_tests --workspace
phase "real-world image" tests/realworld/run.sh
phase "full advisory snapshot" full_snapshot_tests

echo
echo "==> time per phase"
printf '  %s\n' "${phase_times[@]}"
# cargo prints one `test result:` line per test binary; add them up into one line.
cat "$log_dir"/cargo-* | awk '
  /^test result:/ {
    for (i = 2; i <= NF; i++) {
      if ($(i) ~ /^passed;?$/) passed += $(i - 1)
      if ($(i) ~ /^failed;?$/) failed += $(i - 1)
      if ($(i) ~ /^ignored;?$/) ignored += $(i - 1)
    }
    binaries++
  }
  END {
    printf "test binaries run: %d\n", binaries
    printf "tests: %d passed, %d failed, %d skipped\n", passed, failed, ignored
  }'
if [ "${#failed_phases[@]}" -gt 0 ]; then
  echo "test.sh: failed: ${failed_phases[*]}" >&2
  exit 1
fi
