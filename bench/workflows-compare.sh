#!/usr/bin/env bash
# Side by side: rempart's workflow checks and zizmor (an independent GitHub Actions analyzer,
# `pip install zizmor==1.33.1`, run with --offline) on the public-style workflows of
# crates/rempart-misconfig/tests/fixtures/workflows. Prints one line per (file, line, finding)
# of either tool, with the other tool's matching finding, if any: same file, one of the codes
# mapped below, and a line within 3 (the tools anchor findings on different lines of a block);
# each finding pairs with at most one of the other tool's, the closest first.
#   bench/workflows-compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v zizmor >/dev/null || { echo "zizmor is not installed: pip install zizmor==1.33.1" >&2; exit 2; }
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  cargo build --release --locked --quiet -p rempart-cli
fi
rempart=$(pwd)/target/release/rempart
cd crates/rempart-misconfig/tests/fixtures/workflows
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for file in .github/workflows/*.yml; do
  "$rempart" config "$file" --format json --exit-code 0 >"$work/$(basename "$file").rempart.json"
done
zizmor --offline --format json .github/workflows/ >"$work/zizmor.json" 2>/dev/null || true
python3 - "$work" <<'PY'
import glob, json, os, sys
work = sys.argv[1]
# rempart code -> the zizmor audits that report the same weakness.
same = {
    "CI-GHA-TEMPLATE-INJECTION": {"template-injection"},
    "CI-GHA-UNPINNED": {"unpinned-uses", "unpinned-images"},
    "CI-GHA-WRITE-ALL": {"excessive-permissions"},
    "CI-GHA-DEFAULT-PERMISSIONS": {"excessive-permissions"},
    "CI-GHA-UNUSED-WRITE": {"excessive-permissions"},
    "CI-GHA-UNSECURE-COMMANDS": {"insecure-commands"},
    "CI-GHA-SECRETS-INHERIT": {"secrets-inherit"},
    "CI-GHA-PERSIST-CREDENTIALS": {"artipacked"},
    "CI-GHA-UNTRUSTED-CHECKOUT": {"dangerous-triggers"},
    "CI-GHA-SELF-HOSTED-PR": {"self-hosted-runner"},
    "CI-GHA-KNOWN-BAD-ACTION": {"known-vulnerable-actions", "archived-uses", "impostor-commit"},
    "CI-GHA-CACHE-POISONING": {"cache-poisoning"},
}
ours = []
for path in sorted(glob.glob(os.path.join(work, "*.rempart.json"))):
    name = os.path.basename(path)[: -len(".rempart.json")]
    for finding in json.load(open(path))["findings"]:
        ours.append((name, finding["location"].get("line") or 0, finding["id"]))
theirs = []
for finding in json.load(open(os.path.join(work, "zizmor.json"))):
    location = finding["locations"][0]
    key = location["symbolic"]["key"]["Local"]
    name = os.path.basename(key.get("given_path") or key.get("verbatim_path") or "")
    theirs.append((name, location["concrete"]["location"]["start_point"]["row"] + 1, finding["ident"]))
def near(a, b):
    return a[0] == b[0] and abs(a[1] - b[1]) <= 3
# The most pairs possible (each finding in at most one; a maximum bipartite matching, trying
# the closest lines first). zizmor anchors `dangerous-triggers` on the trigger, so that one
# pairs anywhere in the file.
edges = {
    i: [j for _, j in sorted(
        (abs(t[1] - o[1]), j) for j, t in enumerate(theirs)
        if o[0] == t[0] and t[2] in same.get(o[2], ())
        and (near(o, t) or t[2] == "dangerous-triggers"))]
    for i, o in enumerate(ours)
}
owner = {}
def augment(i, seen):
    for j in edges[i]:
        if j in seen:
            continue
        seen.add(j)
        if j not in owner or augment(owner[j], seen):
            owner[j] = i
            return True
    return False
for i in edges:
    augment(i, set())
partner_of = {i: j for j, i in owner.items()}
matched = set(owner)
rows = []
for i, item in enumerate(ours):
    partner = theirs[partner_of[i]] if i in partner_of else None
    rows.append((item[0], item[1], item[2], f"{partner[2]}:{partner[1]}" if partner else "-"))
for i, item in enumerate(theirs):
    if i not in matched:
        rows.append((item[0], item[1], "-", f"{item[2]}:{item[1]}"))
rows.sort(key=lambda r: (r[0], r[1]))
print(f"{'file':<22} {'line':>4}  {'rempart':<28} zizmor")
for row in rows:
    print(f"{row[0]:<22} {row[1]:>4}  {row[2]:<28} {row[3]}")
both = sum(1 for r in rows if r[2] != "-" and r[3] != "-")
print(f"\n{len(ours)} rempart findings, {len(theirs)} zizmor findings, {both} reported by both")
PY
