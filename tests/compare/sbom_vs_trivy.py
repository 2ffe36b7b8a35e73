#!/usr/bin/env python3
"""Side-by-side package inventory of rempart and Trivy on the same image.

    tests/compare/sbom_vs_trivy.py IMAGE.tar [OCI-LAYOUT-DIR]

Runs `rempart sbom` and Trivy (offline, CycloneDX; jars skipped, since Trivy needs its Java DB
download for them) on the image, normalizes each component to
(type, name, version) from its purl, and prints per ecosystem what both found, what only one
found. Exit status 0 always: differences are for a person to explain, not a test verdict.
"""
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from urllib.parse import unquote

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def purl_key(purl):
    # pkg:type/namespace/name@version?qualifiers#subpath
    body = purl[4:].split("#")[0].split("?")[0]
    kind, _, rest = body.partition("/")
    name, _, version = rest.rpartition("@")
    name = unquote(name).lower()
    if kind == "pypi":
        name = name.replace("_", "-").replace(".", "-")
    if kind == "deb":
        name = name.split("/")[-1]
    # Debian epochs: Trivy writes them as an `epoch` qualifier, rempart (like Syft) in the version.
    version = unquote(version)
    if kind in ("deb", "rpm") and ":" in version:
        version = version.split(":", 1)[1]
    return kind, name, version


def components(bom):
    keys = set()
    for component in bom.get("components", []):
        purl = component.get("purl")
        if purl:
            keys.add(purl_key(purl))
    return keys


def main():
    archive = sys.argv[1]
    layout = sys.argv[2] if len(sys.argv) > 2 else archive
    rempart = os.path.join(ROOT, "target", "release", "rempart")
    if not os.path.exists(rempart):
        rempart = os.path.join(ROOT, "target", "debug", "rempart")
    with tempfile.TemporaryDirectory() as tmp:
        ours = json.loads(subprocess.run([rempart, "sbom", layout, "--format", "cyclonedx", "--cache-dir", tmp],
                                         check=True, capture_output=True).stdout)
        trivy = json.loads(subprocess.run(
            ["trivy", "image", "--input", archive, "--format", "cyclonedx", "--cache-dir", tmp + "/trivy",
             "--skip-db-update", "--skip-java-db-update", "--offline-scan", "--skip-version-check", "--quiet",
             # Offline, Trivy cannot catalog jars (its Java DB is a download): leave them out.
             "--skip-files", "**/*.jar"],
            check=True, capture_output=True).stdout)
    ours_keys, trivy_keys = components(ours), components(trivy)
    by_kind = defaultdict(lambda: [set(), set()])
    for key in ours_keys:
        by_kind[key[0]][0].add(key)
    for key in trivy_keys:
        by_kind[key[0]][1].add(key)
    print(f"{'type':<10} {'both':>6} {'rempart only':>13} {'trivy only':>11}")
    for kind in sorted(by_kind):
        mine, theirs = by_kind[kind]
        print(f"{kind:<10} {len(mine & theirs):>6} {len(mine - theirs):>13} {len(theirs - mine):>11}")
    for kind in sorted(by_kind):
        mine, theirs = by_kind[kind]
        for label, diff in (("rempart only", mine - theirs), ("trivy only", theirs - mine)):
            if diff:
                shown = ", ".join(f"{n}@{v}" for _, n, v in sorted(diff)[:12])
                more = f" (+{len(diff) - 12} more)" if len(diff) > 12 else ""
                print(f"  {kind} {label}: {shown}{more}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
