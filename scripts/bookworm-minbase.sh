#!/usr/bin/env bash
# Builds target/bookworm-minbase.tar, the Debian bookworm root filesystem that the real-world
# check and the benchmark images start from (mmdebstrap, minbase, with ca-certificates and
# python3-minimal), unless it is already there. Needs network access to the Debian mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(pwd)/target
[ -f "$target/bookworm-minbase.tar" ] && exit 0
mkdir -p "$target"
# The mirror is the one thing here outside our control: a failed `apt-get update` is retried
# (three tries, 20 s apart) before giving up.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for attempt in 1 2 3; do
  if mmdebstrap --quiet --variant=minbase --include=ca-certificates,python3-minimal bookworm \
    "$target/bookworm-minbase.partial.tar" >"$log" 2>&1; then
    break
  fi
  # What mmdebstrap (and apt under it) said: the cause, not a guess at it.
  echo "bookworm-minbase: mmdebstrap failed (try $attempt of 3); its last lines:" >&2
  tail -n 15 "$log" | sed 's/^/  /' >&2
  if [ "$attempt" -eq 3 ]; then
    exit 1
  fi
  echo "bookworm-minbase: retrying in 20 s" >&2
  sleep 20
done
mv "$target/bookworm-minbase.partial.tar" "$target/bookworm-minbase.tar"
