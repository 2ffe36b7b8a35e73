#!/usr/bin/env python3
"""Helpers of bench/vulndata.sh (python3 standard library, plus `packaging` for `compare` and `sample`).

  vulndata_compare.py packages ADVISORIES OUT [--pypi N --crates N --total N]
      Writes OUT/tree/{requirements.txt,go.mod,Cargo.lock}: real (name, version) pairs taken
      from the OSV exports in ADVISORIES (the introduced / fixed / last_affected versions of
      every ECOSYSTEM or SEMVER range, then, for PyPI, the `versions` lists), chosen by a
      fixed hash so every run picks the same ones; and OUT/pypi-pairs.txt ("name version"
      lines, the input of tests/oracle/osv_check.py).
  vulndata_compare.py timing LOG...
      Median wall time and peak RSS of `/usr/bin/time -v` logs.
  vulndata_compare.py inventory REPORT
      Packages per ecosystem and vulnerability findings per ecosystem of a JSON report.
  vulndata_compare.py sample REPORT DB ZIP ORACLE
      Vulnerability findings of REPORT, how many records they merge (aliases that are records
      of DB, told from plain CVE ids; of those, the ones whose record in ZIP matches the
      installed version by itself, under ORACLE's rules), the share with a known severity,
      the count per severity_source basis.
  vulndata_compare.py compare ADVISORIES REPORT PAIRS ORACLE [--show N] [--verify N]
      For every PyPI pair of PAIRS: rempart's ids (finding id plus the PYSEC ids among its
      aliases) against those of the independent evaluator ORACLE (osv_check.py, its own
      functions, called only for the advisories that name the package; the script run as is
      on the first --verify pairs must give the same answers); agreement counts and the first
      disagreements, with the reason when it can be told.
  vulndata_compare.py semver ADVISORIES REPORT [--show N]
      The Go and crates.io findings of REPORT against a plain SemVer 2.0 reading of the
      exports' SEMVER ranges (written here, standard library only): packages that agree.
"""

import argparse
import collections
import hashlib
import importlib.util
import json
import re
import sqlite3
import statistics
import subprocess
import sys
import zipfile

CRATES_INDEX = "registry+https://github.com/rust-lang/crates.io-index"


def pep503(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def stable_order(items):
    return sorted(items, key=lambda item: hashlib.sha256("\0".join(item).encode()).hexdigest())


def read_export(path, ecosystem):
    """(event pairs, `versions` pairs) of one OSV all.zip export; withdrawn records skipped."""
    events, listed = set(), set()
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if not member.endswith(".json"):
                continue
            record = json.loads(archive.read(member))
            if "withdrawn" in record:
                continue
            for affected in record.get("affected", []):
                package = affected.get("package", {})
                name = package.get("name", "")
                if package.get("ecosystem") != ecosystem or not name:
                    continue
                for rng in affected.get("ranges", []):
                    if rng.get("type") not in ("ECOSYSTEM", "SEMVER"):
                        continue
                    for event in rng.get("events", []):
                        for kind, value in event.items():
                            if kind in ("introduced", "fixed", "last_affected") and value != "0":
                                events.add((name, value))
                for value in affected.get("versions", []):
                    listed.add((name, value))
    return events, listed - events


def pick(candidates, count, key, usable, taken):
    """Up to `count` usable candidates in stable order, one per key."""
    chosen = []
    for name, version in stable_order(candidates):
        if len(chosen) >= count:
            break
        k = key(name, version)
        if k in taken or not usable(name, version):
            continue
        taken.add(k)
        chosen.append((name, version))
    return chosen


SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
SAFE_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$")


def cmd_packages(args):
    from pathlib import Path

    advisories, out = Path(args.advisories), Path(args.out)
    tree = out / "tree"
    tree.mkdir(parents=True, exist_ok=True)

    def usable(name, version):
        return bool(SAFE_NAME.match(name) and SAFE_VERSION.match(version))

    # PyPI: range events first, then exact `versions` entries to reach the count.
    events, listed = read_export(advisories / "PyPI-all.zip", "PyPI")
    taken = set()
    pypi_key = lambda n, v: (pep503(n), v)  # noqa: E731
    pypi = pick(events, args.pypi, pypi_key, usable, taken)
    pypi += pick(listed, args.pypi - len(pypi), pypi_key, usable, taken)
    pypi_from_events = sum(1 for pair in pypi if pair in events)

    # crates.io: RustSec writes "0.0.0-0" for "from the first release": not a version anyone has.
    events, _ = read_export(advisories / "crates.io-all.zip", "crates.io")
    crates = pick(
        events,
        args.crates,
        lambda n, v: (n.lower().replace("_", "-"), v),
        lambda n, v: usable(n, v) and v != "0.0.0-0",
        set(),
    )

    # Go makes up the total: modules only (the standard library and toolchain are not go.mod
    # requirements).
    events, _ = read_export(advisories / "Go-all.zip", "Go")
    go = pick(
        events,
        args.total - len(pypi) - len(crates),
        lambda n, v: (n, v),
        lambda n, v: n not in ("stdlib", "toolchain") and " " not in n and SAFE_VERSION.match(v),
        set(),
    )

    with open(tree / "requirements.txt", "w") as f:
        for name, version in pypi:
            f.write(f"{name}=={version}\n")
    with open(tree / "go.mod", "w") as f:
        f.write("module example.com/vulndata-bench\n\ngo 1.22\n\nrequire (\n")
        for name, version in go:
            f.write(f"\t{name} v{version.removeprefix('v')}\n")
        f.write(")\n")
    with open(tree / "Cargo.lock", "w") as f:
        f.write("version = 3\n")
        for name, version in crates:
            f.write(
                f'\n[[package]]\nname = {json.dumps(name)}\nversion = {json.dumps(version)}\n'
                f"source = {json.dumps(CRATES_INDEX)}\n"
            )
    with open(out / "pypi-pairs.txt", "w") as f:
        for name, version in pypi:
            f.write(f"{name} {version}\n")
    total = len(pypi) + len(go) + len(crates)
    print(
        f"  package list: {total} packages = {len(pypi)} PyPI (requirements.txt; {pypi_from_events} "
        f"from range events, {len(pypi) - pypi_from_events} from `versions` lists) + {len(go)} Go "
        f"(go.mod) + {len(crates)} crates.io (Cargo.lock), both from range events"
    )


def cmd_timing(args):
    walls, rss = [], []
    for path in args.logs:
        text = open(path).read()
        wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text).group(1)
        seconds = 0.0
        for part in wall.split(":"):
            seconds = seconds * 60 + float(part)
        walls.append(seconds)
        rss.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)))
    runs = ", ".join(f"{w:.2f}" for w in walls)
    print(
        f"median {statistics.median(walls):.2f} s wall (runs: {runs}); "
        f"peak RSS median {statistics.median(rss) / 1024:.1f} MiB (max {max(rss) / 1024:.1f} MiB)"
    )


def vuln_findings(report):
    return [f for f in report.get("findings", []) if f.get("scanner") == "vuln"]


def cmd_inventory(args):
    report = json.load(open(args.report))
    packages = collections.Counter(p["ecosystem"] for p in report.get("packages", []))
    findings = collections.Counter(f["details"]["ecosystem"] for f in vuln_findings(report))
    print(
        "  cataloged: "
        + ", ".join(f"{eco} {n}" for eco, n in sorted(packages.items()))
        + f" (total {sum(packages.values())})"
    )
    print(
        "  vulnerability findings: "
        + ", ".join(f"{eco} {n}" for eco, n in sorted(findings.items()))
        + f" (total {sum(findings.values())})"
    )


def severity_summary(findings):
    known = sum(1 for f in findings if f.get("severity") != "UNKNOWN")
    share = 100.0 * known / len(findings) if findings else 0.0
    bases = collections.Counter(
        (f["details"].get("severity_source") or {}).get("basis", "(none: UNKNOWN)") for f in findings
    )
    by_severity = collections.Counter(f.get("severity") for f in findings)
    return known, share, bases, by_severity


def cmd_sample(args):
    findings = vuln_findings(json.load(open(args.report)))
    db = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    records = {row[0] for row in db.execute("SELECT id FROM advisories")}
    indexed = {row[0] for row in db.execute("SELECT alias FROM alias_index")}
    # The records as shipped, to tell whether an alias record also matches the installed
    # version by itself (the osv_check.py rules; PyPI records only).
    oracle = load_oracle(args.oracle)
    shipped = {}
    with zipfile.ZipFile(args.zip) as archive:
        for member in archive.namelist():
            if member.endswith(".json"):
                record = json.loads(archive.read(member))
                shipped[record["id"]] = record
    merged_records = 0
    alone = collections.Counter()
    plain_aliases = collections.Counter()
    per_finding = collections.Counter()
    distinct = set()
    for f in findings:
        details = f["details"]
        aliases = details.get("aliases", [])
        own = [a for a in aliases if a in records]
        merged_records += len(own)
        per_finding[1 + len(own)] += 1
        where = (details["package"], details["installed_version"], f["location"].get("path", ""))
        distinct.add(where + (f["id"],))
        distinct.update(where + (a,) for a in own)
        for alias in own:
            record = shipped.get(alias)
            if details["ecosystem"] != "PyPI" or record is None:
                alone["not checked"] += 1
            elif oracle.affects(record, oracle.normalize(details["package"]), details["installed_version"]):
                alone["matches"] += 1
            else:
                alone["does not match"] += 1
                print(f"    alias record {alias} of {f['id']} does not match {details['package']} "
                      f"{details['installed_version']} by itself (its ranges differ)")
        for alias in aliases:
            if alias not in records:
                kind = "CVE" if alias.startswith("CVE-") else alias.split("-")[0]
                plain_aliases[kind] += 1
    known, share, bases, by_severity = severity_summary(findings)
    print(f"  vulnerability findings: {len(findings)}  ({dict(sorted(by_severity.items()))})")
    print(
        f"  without alias merging: {len(findings) + merged_records} "
        f"({len(findings)} findings + {merged_records} aliases that are records of the database; "
        f"distinct (package, location, record): {len(distinct)})"
    )
    print(
        f"  of those {merged_records} alias records, matching the installed version by themselves "
        f"(osv_check.py rules): {alone['matches']}; not matching: {alone['does not match']}"
        + (f"; not checked (not PyPI): {alone['not checked']}" if alone["not checked"] else "")
        + f" -> {len(findings) + alone['matches'] + alone['not checked']} findings without merging, "
        f"counting only records that match"
    )
    print(
        "  records per finding: "
        + ", ".join(f"{k} record(s): {v} findings" for k, v in sorted(per_finding.items()))
    )
    print(
        "  aliases that are not records (plain ids): "
        + (", ".join(f"{k} {v}" for k, v in sorted(plain_aliases.items())) or "none")
        + f"; database: {len(records)} records, {len(indexed)} ids in alias_index"
    )
    print(f"  known severity: {known}/{len(findings)} = {share:.1f}%")
    print(
        "  severity_source.basis: "
        + ", ".join(f"{k} {v}" for k, v in sorted(bases.items()))
    )
    rated_by = collections.Counter(
        (f["details"].get("severity_source") or {}).get("record", "none").split("-")[0] for f in findings
    )
    print("  severity_source.record kinds: " + ", ".join(f"{k} {v}" for k, v in sorted(rated_by.items())))


def semver_key(text):
    """SemVer 2.0 precedence (a leading `v` allowed, build metadata ignored); None if not SemVer."""
    m = re.match(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]*)?$", text)
    if not m:
        return None
    pre = m.group(4)
    ident = () if pre is None else tuple(
        (0, int(x), "") if x.isdigit() else (1, 0, x) for x in pre.split(".")
    )
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), 0 if pre is not None else 1, ident)


def semver_affects(events, installed):
    parsed = []
    for event in events:
        for kind, value in event.items():
            if kind in ("introduced", "fixed", "last_affected"):
                key = None if value == "0" else semver_key(value)
                if key is None and value != "0":
                    return None
                parsed.append((kind, key))
    parsed.sort(key=lambda item: (0,) if item[1] is None else (1, item[1]))
    affected = False
    for kind, key in parsed:
        if kind == "introduced" and (key is None or installed >= key):
            affected = True
        elif kind == "fixed" and key is not None and installed >= key:
            affected = False
        elif kind == "last_affected" and key is not None and installed > key:
            affected = False
    return affected


def cmd_semver(args):
    """Go and crates.io findings of REPORT against a plain SemVer reading of the exports."""
    norm = {"Go": lambda n: n, "crates.io": lambda n: n.lower().replace("_", "-")}
    prefix = {"Go": "GO-", "crates.io": "RUSTSEC-"}
    index = collections.defaultdict(list)
    for ecosystem in norm:
        with zipfile.ZipFile(f"{args.advisories}/{ecosystem}-all.zip") as archive:
            for member in archive.namelist():
                if not member.endswith(".json"):
                    continue
                record = json.loads(archive.read(member))
                if "withdrawn" in record:
                    continue
                for affected in record.get("affected", []):
                    package = affected.get("package", {})
                    if package.get("ecosystem") == ecosystem:
                        index[(ecosystem, norm[ecosystem](package.get("name", "")))].append((record["id"], affected))
    report = json.load(open(args.report))
    ours = collections.defaultdict(set)
    for f in vuln_findings(report):
        d = f["details"]
        if d["ecosystem"] in norm:
            ours[(d["ecosystem"], d["package"], d["installed_version"])] |= {f["id"]} | {
                a for a in d.get("aliases", []) if a.startswith(prefix[d["ecosystem"]])
            }
    counts = collections.Counter()
    shown = 0
    for p in report.get("packages", []):
        ecosystem, name, version = p["ecosystem"], p["name"], p["version"]
        if ecosystem not in norm:
            continue
        installed = semver_key(version)
        if installed is None:
            counts["not SemVer"] += 1
            continue
        expected, unreadable = set(), False
        for advisory_id, affected in index[(ecosystem, norm[ecosystem](name))]:
            if version.removeprefix("v") in affected.get("versions", []):
                expected.add(advisory_id)
                continue
            for rng in affected.get("ranges", []):
                if rng.get("type") == "SEMVER":
                    verdict = semver_affects(rng.get("events", []), installed)
                    unreadable |= verdict is None
                    if verdict:
                        expected.add(advisory_id)
        got = ours.get((ecosystem, name, version), set())
        counts[(ecosystem, got == expected)] += 1
        counts[(ecosystem, "ids")] += len(expected)
        if got != expected and shown < args.show:
            shown += 1
            print(f"    {ecosystem} {name} {version}: rempart only {sorted(got - expected)}, "
                  f"SemVer only {sorted(expected - got)}" + (" (a range is not SemVer)" if unreadable else ""))
    for ecosystem in norm:
        print(f"  {ecosystem}: {counts[(ecosystem, True)]} packages agree, {counts[(ecosystem, False)]} differ "
              f"({counts[(ecosystem, 'ids')]} (package, id) expected)")
    if counts["not SemVer"]:
        print(f"  versions that are not SemVer (not compared): {counts['not SemVer']}")


def load_oracle(path):
    spec = importlib.util.spec_from_file_location("osv_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cmd_compare(args):
    from packaging.version import InvalidVersion, Version

    oracle = load_oracle(args.oracle)
    pairs = []
    for line in open(args.pairs):
        if line.strip():
            name, version = line.split()
            pairs.append((name, version))

    # The evaluator's own reading of the export (withdrawn records skipped, as its main() does),
    # indexed by the normalized names each record affects: an advisory that does not name a
    # package cannot affect it under the evaluator's rules, so only the others are asked.
    advisories, by_name, withdrawn = {}, collections.defaultdict(list), set()
    with zipfile.ZipFile(f"{args.advisories}/PyPI-all.zip") as archive:
        for member in archive.namelist():
            if member.endswith(".json"):
                record = json.loads(archive.read(member))
                if "withdrawn" in record:
                    withdrawn.add(record["id"])
                    continue
                advisories[record["id"]] = record
                for name in {
                    oracle.normalize(a.get("package", {}).get("name", ""))
                    for a in record.get("affected", [])
                    if a.get("package", {}).get("ecosystem") == "PyPI"
                }:
                    by_name[name].append(record)
    theirs = {}
    for name, version in pairs:
        norm = oracle.normalize(name)
        theirs[(norm, version)] = sorted(
            a["id"] for a in by_name.get(norm, []) if oracle.affects(a, norm, version)
        )

    # The index only saves time: the script itself, run as is on the first pairs, must agree.
    if args.verify:
        sample = pairs[: args.verify]
        run = subprocess.run(
            [sys.executable, args.oracle, f"{args.advisories}/PyPI-all.zip"],
            input="".join(f"{n} {v}\n" for n, v in sample),
            capture_output=True, text=True, check=True,
        )
        verbatim = {(oracle.normalize(w[0]), w[1]): w[2:] for w in (l.split() for l in run.stdout.splitlines())}
        mismatched = [k for k in verbatim if verbatim[k] != theirs[k]]
        print(f"  osv_check.py run as is on the first {len(sample)} pairs: "
              + ("same answers as the indexed calls" if not mismatched and len(verbatim) == len(sample)
                 else f"DIFFERENT answers for {len(mismatched)} pairs: {mismatched[:5]}"))
        if mismatched:
            return 1

    report = json.load(open(args.report))
    cataloged = {
        (pep503(p["name"]), p["version"]) for p in report.get("packages", []) if p["ecosystem"] == "PyPI"
    }
    ours = collections.defaultdict(set)
    pypi_findings = []
    for f in vuln_findings(report):
        d = f["details"]
        if d["ecosystem"] != "PyPI":
            continue
        pypi_findings.append(f)
        ids = {f["id"]} | {a for a in d.get("aliases", []) if a.startswith("PYSEC-")}
        ours[(pep503(d["package"]), d["installed_version"])] |= ids

    def parses(text):
        try:
            Version(text)
            return True
        except InvalidVersion:
            return False

    def reason(name, version, advisory_id, side):
        if (name, version) not in cataloged:
            return "rempart did not catalog this requirements.txt line"
        if not parses(version):
            return "packaging cannot read the installed version (osv_check reports nothing for it)"
        if advisory_id in withdrawn:
            return "withdrawn record"
        record = advisories.get(advisory_id)
        if record is None:
            return "not a PyPI record of the export"
        ranges = []
        listed = False
        for affected in record.get("affected", []):
            if oracle.normalize(affected.get("package", {}).get("name", "")) != name:
                continue
            listed |= version in affected.get("versions", [])
            for rng in affected.get("ranges", []):
                if rng.get("type") not in ("ECOSYSTEM", "SEMVER"):
                    continue
                events = [f"{k}={v}" for e in rng.get("events", []) for k, v in e.items()]
                bad = [v for e in rng.get("events", []) for k, v in e.items()
                       if k in ("introduced", "fixed", "last_affected", "limit") and v not in ("0", "*")
                       and not parses(v)]
                ranges.append((" ".join(events), bad))
        detail = "; ".join(r for r, _ in ranges) or "no ECOSYSTEM range"
        unreadable = sorted({v for _, bad in ranges for v in bad})
        if unreadable:
            return (f"a range holds versions packaging cannot read ({', '.join(unreadable)}): osv_check "
                    f"skips that range, rempart reads it [{detail}]")
        if side == "rempart" and listed:
            return f"listed in `versions` [{detail}]"
        return f"not told apart here [{detail}; listed in versions: {listed}]"

    agree = differ = 0
    agree_with_findings = 0
    only_ours = only_theirs = 0
    problems = []
    for name, version in pairs:
        key = (pep503(name), version)
        a, b = ours.get(key, set()), set(theirs[key])
        if a == b:
            agree += 1
            agree_with_findings += bool(a)
            continue
        differ += 1
        for advisory_id in sorted(a - b):
            only_ours += 1
            problems.append((name, version, advisory_id, "rempart only", reason(key[0], version, advisory_id, "rempart")))
        for advisory_id in sorted(b - a):
            only_theirs += 1
            problems.append((name, version, advisory_id, "osv_check only", reason(key[0], version, advisory_id, "oracle")))
    total_ours = sum(len(ours.get((pep503(n), v), ())) for n, v in pairs)
    total_theirs = sum(len(theirs[(pep503(n), v)]) for n, v in pairs)
    print(f"  PyPI pairs compared: {len(pairs)} (rempart cataloged {len(cataloged)} distinct PyPI pairs)")
    print(f"  rempart: {len(pypi_findings)} findings, {total_ours} (pair, PYSEC id) after expanding aliases; "
          f"osv_check: {total_theirs} (pair, id)")
    print(f"  pairs with the same set of ids: {agree} ({agree_with_findings} of them with at least one id); "
          f"pairs that differ: {differ}")
    print(f"  ids only rempart reports: {only_ours}; ids only osv_check reports: {only_theirs}")
    if problems:
        causes = collections.Counter(p[4].split(" [")[0].split(" (")[0] for p in problems)
        print("  disagreements by cause: " + "; ".join(f"{c}: {n}" for c, n in causes.most_common()))
        print(f"  first {min(args.show, len(problems))} of {len(problems)}:")
        for name, version, advisory_id, side, why in problems[: args.show]:
            print(f"    {name} {version}  {advisory_id}  {side}: {why}")
    known, share, bases, by_severity = severity_summary(pypi_findings)
    print(f"  PyPI findings with a known severity: {known}/{len(pypi_findings)} = {share:.1f}% "
          f"(basis: {', '.join(f'{k} {v}' for k, v in sorted(bases.items()))})")
    rated = sum(1 for a in advisories.values() if a.get("severity") or
                any(x.get("severity") or x.get("database_specific", {}).get("severity")
                    for x in a.get("affected", []))
                or a.get("database_specific", {}).get("severity"))
    ghsa = sum(1 for i in list(advisories) + list(withdrawn) if i.startswith("GHSA-"))
    print(f"  expected low: in PyPI-all.zip {rated} of {len(advisories)} PYSEC records carry a severity "
          f"(PyPA records mostly carry none) and {ghsa} are GHSA records, whose ratings rempart would "
          f"borrow through aliases; a rated one here rests on a PYSEC vector or on another export's "
          f"record of the same CVE")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("packages")
    p.add_argument("advisories")
    p.add_argument("out")
    p.add_argument("--pypi", type=int, default=5000)
    p.add_argument("--crates", type=int, default=2000)
    p.add_argument("--total", type=int, default=10000)
    p = sub.add_parser("timing")
    p.add_argument("logs", nargs="+")
    p = sub.add_parser("inventory")
    p.add_argument("report")
    p = sub.add_parser("sample")
    p.add_argument("report")
    p.add_argument("db")
    p.add_argument("zip")
    p.add_argument("oracle")
    p = sub.add_parser("semver")
    p.add_argument("advisories")
    p.add_argument("report")
    p.add_argument("--show", type=int, default=20)
    p = sub.add_parser("compare")
    p.add_argument("advisories")
    p.add_argument("report")
    p.add_argument("pairs")
    p.add_argument("oracle")
    p.add_argument("--show", type=int, default=20)
    p.add_argument("--verify", type=int, default=200, help="pairs to run osv_check.py on as is (0: none)")
    args = parser.parse_args()
    handler = {"packages": cmd_packages, "timing": cmd_timing, "inventory": cmd_inventory,
               "sample": cmd_sample, "semver": cmd_semver, "compare": cmd_compare}[args.command]
    sys.exit(handler(args) or 0)


if __name__ == "__main__":
    main()
