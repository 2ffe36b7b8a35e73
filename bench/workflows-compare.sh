#!/usr/bin/env bash
# Side by side: rempart's workflow checks, zizmor (an independent GitHub Actions analyzer,
# `pip install zizmor==1.33.1`, run with --offline) and, when installed, checkov
# (`pip install checkov`, its github_actions checks, --skip-download) on the public-style workflows of
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
if command -v checkov >/dev/null; then
  checkov -d . --framework github_actions --skip-download -o json --quiet >"$work/checkov.json" 2>/dev/null || true
fi
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
def pair(ours, theirs, same, anywhere=()):
    """The most pairs possible (each finding in at most one; a maximum bipartite matching,
    trying the closest lines first). Codes in `anywhere` anchor on the trigger and pair
    anywhere in the file."""
    edges = {
        i: [j for _, j in sorted(
            (abs(t[1] - o[1]), j) for j, t in enumerate(theirs)
            if o[0] == t[0] and t[2] in same.get(o[2], ())
            and (near(o, t) or t[2] in anywhere))]
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
    return {i: j for j, i in owner.items()}

zizmor_of = pair(ours, theirs, same, anywhere=("dangerous-triggers",))
# checkov's GitHub Actions checks that overlap rempart's.
checkov_same = {
    "CI-GHA-TEMPLATE-INJECTION": {"CKV_GHA_2"},
    "CI-GHA-WRITE-ALL": {"CKV2_GHA_1"},
    "CI-GHA-DEFAULT-PERMISSIONS": {"CKV2_GHA_1"},
    "CI-GHA-UNSECURE-COMMANDS": {"CKV_GHA_1"},
}
checkov = []
checkov_path = os.path.join(work, "checkov.json")
if os.path.exists(checkov_path) and os.path.getsize(checkov_path) > 0:
    reports = json.load(open(checkov_path))
    for report in reports if isinstance(reports, list) else [reports]:
        for failed in report.get("results", {}).get("failed_checks", []):
            checkov.append((os.path.basename(failed["file_path"]), failed["file_line_range"][0], failed["check_id"]))
checkov_of = pair(ours, checkov, checkov_same)
rows = []
for i, item in enumerate(ours):
    z = theirs[zizmor_of[i]] if i in zizmor_of else None
    c = checkov[checkov_of[i]] if i in checkov_of else None
    rows.append((item[0], item[1], item[2], f"{z[2]}:{z[1]}" if z else "-", f"{c[2]}:{c[1]}" if c else "-"))
for j, item in enumerate(theirs):
    if j not in zizmor_of.values():
        rows.append((item[0], item[1], "-", f"{item[2]}:{item[1]}", "-"))
for j, item in enumerate(checkov):
    if j not in checkov_of.values():
        rows.append((item[0], item[1], "-", "-", f"{item[2]}:{item[1]}"))
rows.sort(key=lambda r: (r[0], r[1]))
print(f"{'file':<22} {'line':>4}  {'rempart':<28} {'zizmor':<28} checkov")
for row in rows:
    print(f"{row[0]:<22} {row[1]:>4}  {row[2]:<28} {row[3]:<28} {row[4]}")
print(f"\nrempart {len(ours)}, zizmor {len(theirs)} ({len(zizmor_of)} paired with rempart's), "
      f"checkov {len(checkov)} ({len(checkov_of)} paired with rempart's)")
PY
