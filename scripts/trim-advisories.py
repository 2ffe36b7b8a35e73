#!/usr/bin/env python3
"""Builds the trimmed advisory snapshot the tests read, from a full snapshot of the public exports.

Usage: scripts/trim-advisories.py SOURCE_DIR [DEST_DIR]

SOURCE_DIR holds `PyPI-all.zip`, `Go-all.zip`, `crates.io-all.zip` (osv.dev per-ecosystem exports)
and `alpine-secdb/`. DEST_DIR defaults to crates/rempart-vulndb/tests/fixtures/snapshot. The output
is deterministic (sorted entries, fixed timestamps), so a rebuild from the same source is
byte-identical and `git diff` shows only real changes.

What is kept, and why:
- PyPI: every record of the packages the tests match (the oracle list in `pypi_oracle.rs` and the
  sample image's Python packages; of TensorFlow's 500-odd records every 4th), plus every 25th
  other record, so that the matcher also meets records that must not match.
- Go: every standard-library record and every 40th other one.
- crates.io: every record with a CVSS v4.0 vector, every 3rd one with a v3.x vector (the CVSS
  oracle test), and every 20th without a severity.
- alpine-secdb: copied whole (it is small).
Withdrawn records are kept wherever they fall in the selection: the importer must skip them.
"""

import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

PYPI_PACKAGES = """requests urllib3 PyYAML Django Jinja2 Apache_Airflow Flask.AppBuilder tensorflow_GPU
Pillow cryptography Twisted lxml Werkzeug ansible setuptools numpy pip tensorflow mlflow""".split()

FIXED_TIME = (2024, 1, 1, 0, 0, 0)


def pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def package_names(record: dict) -> set:
    return {a.get("package", {}).get("name", "") for a in record.get("affected", [])}


def keep_pypi(index: int, record: dict) -> bool:
    names = {pep503(n) for n in package_names(record)}
    if names & {"tensorflow", "tensorflow-gpu"}:
        # Over 500 records, most of the export's size: every 4th is enough for the oracle.
        return index % 4 == 0
    return bool(names & {pep503(n) for n in PYPI_PACKAGES}) or index % 25 == 0


def keep_go(index: int, record: dict) -> bool:
    return "stdlib" in package_names(record) or index % 40 == 0


def keep_crates(index: int, record: dict) -> bool:
    kinds = {s.get("type") for s in record.get("severity", [])}
    if "CVSS_V4" in kinds:
        return True
    if kinds:
        return index % 3 == 0
    return index % 20 == 0


def trim_zip(source: Path, dest: Path, keep) -> int:
    kept = 0
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(
        dest, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9
    ) as out:
        for index, name in enumerate(sorted(archive.namelist())):
            data = archive.read(name)
            if not keep(index, json.loads(data)):
                continue
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, data, compresslevel=9)
            kept += 1
    return kept


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    source = Path(sys.argv[1])
    root = Path(__file__).resolve().parent.parent
    dest = Path(sys.argv[2]) if len(sys.argv) == 3 else root / "crates/rempart-vulndb/tests/fixtures/snapshot"
    dest.mkdir(parents=True, exist_ok=True)
    for name, keep in (
        ("PyPI-all.zip", keep_pypi),
        ("Go-all.zip", keep_go),
        ("crates.io-all.zip", keep_crates),
    ):
        kept = trim_zip(source / name, dest / name, keep)
        print(f"{name}: {kept} records")
    shutil.rmtree(dest / "alpine-secdb", ignore_errors=True)
    shutil.copytree(source / "alpine-secdb", dest / "alpine-secdb")
    for path in [dest / "alpine-secdb", *(dest / "alpine-secdb").rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


if __name__ == "__main__":
    main()
