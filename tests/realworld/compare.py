#!/usr/bin/env python3
"""Compares the scans of one image read in different forms: same OS, same packages, same final
file inventory. Hard links show as links in images and as plain files in a directory, and a
directory scan skips dev/, so both are normalized before comparing."""
import json
import sys


def load(name):
    with open(f"{name}.json") as f:
        report = json.load(f)
    with open(f"{name}.inventory.json") as f:
        inventory = json.load(f)
    packages = sorted((p["ecosystem"], p["name"], p["version"]) for p in report["packages"])
    sizes = {e["path"]: e["size"] for e in inventory if e["type"] == "file"}
    files = set()
    for e in inventory:
        path = e["path"]
        if path == "dev" or path.startswith("dev/"):
            continue
        kind = e["type"]
        size = e["size"] if kind == "file" else 0
        if kind == "hard_link":
            kind, size = "file", sizes.get(e["target"], -1)
        if kind == "symlink":
            kind = "symlink:" + e["target"]
        files.add((path, kind, size))
    return report.get("os"), packages, files


def main(names):
    reference_name = names[0]
    os_info, packages, files = load(reference_name)
    assert os_info and os_info["id"] == "debian" and os_info["version_id"] == "12", os_info
    assert len(packages) > 50, f"only {len(packages)} packages in a bookworm minbase image"
    assert any(p[1] == "python3-minimal" for p in packages)
    assert not any(f[0] == "etc/motd" for f in files), "the whiteout deletes etc/motd"
    assert any(f[0] == "opt/app/main.py" for f in files)
    failed = False
    for name in names[1:]:
        other_os, other_packages, other_files = load(name)
        if other_os != os_info:
            print(f"{name}: OS differs: {other_os} vs {os_info}")
            failed = True
        if other_packages != packages:
            print(f"{name}: packages differ: {sorted(set(other_packages) ^ set(packages))[:10]}")
            failed = True
        if other_files != files:
            print(f"{name}: inventory differs: only in {name}: {sorted(other_files - files)[:10]}; "
                  f"only in {reference_name}: {sorted(files - other_files)[:10]}")
            failed = True
    print(f"realworld: {len(names)} forms agree: {len(packages)} packages, {len(files)} entries" if not failed else "realworld: FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
