#!/usr/bin/env bash
# Runs every test: installs the test dependencies, then the workspace tests, then the real-world
# image test (a Debian bookworm image built with mmdebstrap, scanned in every input form).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh
export INSTA_UPDATE=no
cargo test --workspace --locked
tests/realworld/run.sh
