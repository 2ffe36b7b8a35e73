#!/usr/bin/env bash
# Builds target/clean-corpus, a Debian bookworm root filesystem that holds only clean content
# that rules easily mistake for malware or secrets: apt's package lists and descriptions (kept,
# uncompressed), manuals and /usr/share/doc of a large install, Python packages (pip, Django,
# Werkzeug, requests), Node packages (npm and its ~500 Debian node-* dependencies), PHP, and
# security tools with their data and documentation (nmap, rkhunter, chkrootkit, lynis, yara,
# ClamAV, John the Ripper). The real-world check requires zero secret and malware findings on
# it. Built unless already there; needs network access to the Debian mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(pwd)/target
corpus=$target/clean-corpus
[ -f "$corpus.complete" ] && exit 0
rm -rf "$corpus" "$corpus.partial" "$corpus.complete"
mkdir -p "$target"
packages=man-db,manpages,python3-pip,python3-venv,python3-werkzeug,python3-django,python3-requests
packages=$packages,npm,php-cli,nmap,socat,netcat-openbsd,chkrootkit,rkhunter,lynis,yara,clamav
packages=$packages,john,curl,wget,git,openssh-client
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for attempt in 1 2 3; do
  # `--skip=cleanup/apt/lists` keeps the package lists; plain (not compressed) lists and the
  # English descriptions are what a `apt-get update` in a Dockerfile leaves behind.
  if mmdebstrap --quiet --variant=minbase --skip=cleanup/apt/lists \
    --aptopt='Acquire::GzipIndexes "false"' --aptopt='Acquire::Languages "en"' \
    --include="$packages" bookworm "$corpus.partial" >"$log" 2>&1; then
    break
  fi
  echo "clean-corpus: mmdebstrap failed (try $attempt of 3); its last lines:" >&2
  tail -n 15 "$log" | sed 's/^/  /' >&2
  rm -rf "$corpus.partial"
  if [ "$attempt" -eq 3 ]; then
    exit 1
  fi
  echo "clean-corpus: retrying in 20 s" >&2
  sleep 20
done
mv "$corpus.partial" "$corpus"
touch "$corpus.complete"
