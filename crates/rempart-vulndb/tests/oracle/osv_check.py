#!/usr/bin/env python3
"""Independent check of PyPI advisory matching.

Reads an osv.dev PyPI all.zip and (name, version) pairs, and prints, for each pair, the ids of the
advisories that affect it, using only the `packaging` library for versions. It follows the OSV
schema's evaluation rules directly:

- names compare after PEP 503 normalization;
- a version is affected when it is listed in `versions` (exact spelling, as osv.dev matches), or
  when an ECOSYSTEM or SEMVER range puts it between an `introduced` and the next `fixed` /
  `last_affected` (events sorted by version, "0" first);
- GIT ranges are ignored (commits cannot be compared with installed versions);
- withdrawn advisories are skipped;
- a range containing a version `packaging` cannot read is skipped.

Usage: osv_check.py PyPI-all.zip < pairs   (one "name version" per line)
Output: one line per pair: "name version id id id ..." (ids sorted).
"""

import json
import re
import sys
import zipfile

from packaging.version import InvalidVersion, Version


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(text):
    if text == "0":
        return None
    return Version(text)


def key(parsed):
    # None stands for "0": before every version.
    return (0, Version("0")) if parsed is None else (1, parsed)


def range_affects(events, version):
    try:
        parsed = [(kind, parse(value)) for event in events for kind, value in event.items()
                  if kind in ("introduced", "fixed", "last_affected")]
        limits = [Version(value) for event in events for kind, value in event.items()
                  if kind == "limit" and value != "*"]
    except InvalidVersion:
        return False
    parsed.sort(key=lambda item: key(item[1]))
    affected = False
    for kind, value in parsed:
        if kind == "introduced" and (value is None or version >= value):
            affected = True
        elif kind == "fixed" and value is not None and version >= value:
            affected = False
        elif kind == "last_affected" and value is not None and version > value:
            affected = False
    if limits and not any(version < limit for limit in limits):
        affected = False
    return affected


def affects(advisory, name, version_text):
    try:
        version = Version(version_text)
    except InvalidVersion:
        return False
    for affected in advisory.get("affected", []):
        package = affected.get("package", {})
        if package.get("ecosystem") != "PyPI" or normalize(package.get("name", "")) != name:
            continue
        if version_text in affected.get("versions", []):
            return True
        for rng in affected.get("ranges", []):
            if rng.get("type") in ("ECOSYSTEM", "SEMVER") and range_affects(rng.get("events", []), version):
                return True
    return False


def main():
    advisories = []
    with zipfile.ZipFile(sys.argv[1]) as archive:
        for member in archive.namelist():
            if member.endswith(".json"):
                record = json.loads(archive.read(member))
                if "withdrawn" not in record:
                    advisories.append(record)
    for line in sys.stdin:
        if not line.strip():
            continue
        name, version = line.split()
        ids = sorted(a["id"] for a in advisories if affects(a, normalize(name), version))
        print(" ".join([name, version] + ids))


if __name__ == "__main__":
    main()
