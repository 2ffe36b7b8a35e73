//! Version comparators against the real tools (oracles) and against the orderings documented
//! by the tools that cannot run here.
//!
//! Oracles needed on the test machine: `dpkg` (Debian), `python3` with `packaging`, `rpm`, and
//! `node` with npm (its bundled `semver` package).

#![allow(clippy::format_collect, clippy::format_push_string)]

use std::cmp::Ordering;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rempart_vulndb::VersionScheme;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/versions")
        .join(name)
}

fn read_lines(name: &str) -> Vec<String> {
    std::fs::read_to_string(fixture(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn read_pairs(name: &str) -> Vec<(String, String)> {
    read_lines(name)
        .iter()
        .map(|line| {
            let mut parts = line.split_whitespace();
            let a = parts.next().expect("first version").to_owned();
            let b = parts.next().expect("second version").to_owned();
            (a, b)
        })
        .collect()
}

fn ordering_of(sign: i64) -> Ordering {
    sign.cmp(&0)
}

/// Compares our answers with the oracle's; `None` from the oracle means it rejected the input.
fn check_against_oracle(
    scheme: VersionScheme,
    pairs: &[(String, String)],
    oracle: &[Option<Ordering>],
    oracle_rejections_must_be_errors: bool,
) {
    assert_eq!(pairs.len(), oracle.len(), "oracle answered every pair");
    let mut disagreements = Vec::new();
    let mut compared = 0;
    for ((a, b), expected) in pairs.iter().zip(oracle) {
        let ours = scheme.compare(a, b);
        match (expected, ours) {
            (Some(expected), Ok(ours)) => {
                compared += 1;
                if *expected != ours {
                    disagreements.push(format!("{a} vs {b}: oracle {expected:?}, ours {ours:?}"));
                }
            }
            (Some(expected), Err(e)) => {
                disagreements.push(format!("{a} vs {b}: oracle {expected:?}, ours error {e}"));
            }
            (None, Ok(ours)) if oracle_rejections_must_be_errors => {
                disagreements.push(format!("{a} vs {b}: oracle rejects, ours {ours:?}"));
            }
            (None, _) => {}
        }
    }
    assert!(
        disagreements.is_empty(),
        "{scheme}: {} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    assert!(
        compared * 10 >= pairs.len() * 9,
        "{scheme}: too few comparable pairs ({compared})"
    );
}

fn run_with_stdin(command: &mut Command, input: &str) -> String {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run oracle {command:?}: {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write to oracle");
    let output = child.wait_with_output().expect("oracle output");
    assert!(
        output.status.success(),
        "oracle {command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 oracle output")
}

fn parse_oracle_lines(output: &str) -> Vec<Option<Ordering>> {
    output
        .lines()
        .map(|l| match l.trim() {
            "invalid" => None,
            n => Some(ordering_of(
                n.parse().expect("oracle prints -1, 0, 1 or invalid"),
            )),
        })
        .collect()
}

#[test]
fn dpkg_agrees_with_dpkg_compare_versions() {
    let pairs = read_pairs("dpkg_pairs.txt");
    let oracle: Vec<Option<Ordering>> = pairs
        .iter()
        .map(|(a, b)| {
            let relation = |op: &str| {
                let output = Command::new("dpkg")
                    .args(["--compare-versions", a, op, b])
                    .output()
                    .expect("dpkg runs");
                (output.status.success(), !output.stderr.is_empty())
            };
            let (less, warned) = relation("lt");
            if warned {
                return None;
            }
            if less {
                return Some(Ordering::Less);
            }
            let (equal, _) = relation("eq");
            Some(if equal {
                Ordering::Equal
            } else {
                Ordering::Greater
            })
        })
        .collect();
    check_against_oracle(VersionScheme::Dpkg, &pairs, &oracle, false);
}

#[test]
fn pep440_agrees_with_python_packaging() {
    let pairs = read_pairs("pep440_pairs.txt");
    let script = r"
import sys
from packaging.version import Version, InvalidVersion
for line in sys.stdin:
    a, b = line.split()
    try:
        va, vb = Version(a), Version(b)
    except InvalidVersion:
        print('invalid'); continue
    print((va > vb) - (va < vb))
";
    let input: String = pairs.iter().map(|(a, b)| format!("{a} {b}\n")).collect();
    let output = run_with_stdin(Command::new("python3").args(["-c", script]), &input);
    check_against_oracle(
        VersionScheme::Pep440,
        &pairs,
        &parse_oracle_lines(&output),
        true,
    );
}

#[test]
fn rpm_agrees_with_rpm_vercmp() {
    let pairs = read_pairs("rpm_pairs.txt");
    let directory = tempfile::tempdir().expect("temp dir");
    let script = directory.path().join("pairs.lua");
    let mut lua = String::from("local pairs = {\n");
    for (a, b) in &pairs {
        lua.push_str(&format!("  {{ [[{a}]], [[{b}]] }},\n"));
    }
    lua.push_str("}\nfor _, p in ipairs(pairs) do print(rpm.vercmp(p[1], p[2]) .. \"\\n\") end\n");
    std::fs::write(&script, lua).expect("write lua");
    let output = Command::new("rpm")
        .arg("--eval")
        .arg(format!("%{{lua: dofile([[{}]])}}", script.display()))
        .output()
        .expect("rpm runs (apt-get install rpm)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let oracle: Vec<Option<Ordering>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Some(ordering_of(l.trim().parse().expect("rpm.vercmp result"))))
        .collect();
    check_against_oracle(VersionScheme::Rpm, &pairs, &oracle, false);
}

#[test]
fn npm_agrees_with_node_semver() {
    let pairs = read_pairs("npm_pairs.txt");
    let npm_root = Command::new("npm")
        .args(["root", "-g"])
        .output()
        .expect("npm runs (apt-get install npm)");
    let root = String::from_utf8(npm_root.stdout).expect("utf-8");
    let node_path = Path::new(root.trim()).join("npm/node_modules");
    let script = r"
const semver = require('semver');
const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter(Boolean);
for (const line of lines) {
  const [a, b] = line.split(' ');
  if (!semver.valid(a) || !semver.valid(b)) { console.log('invalid'); continue; }
  console.log(semver.compare(a, b));
}
";
    let input: String = pairs.iter().map(|(a, b)| format!("{a} {b}\n")).collect();
    let output = run_with_stdin(
        Command::new("node")
            .args(["-e", script])
            .env("NODE_PATH", node_path),
        &input,
    );
    check_against_oracle(
        VersionScheme::Npm,
        &pairs,
        &parse_oracle_lines(&output),
        false,
    );
}

/// Checks `a OP b` lines and, for `<`, that the reverse is `>`.
fn check_expected(scheme: VersionScheme, name: &str) {
    let mut failures = Vec::new();
    let lines = read_lines(name);
    for line in &lines {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [a, op, b] = parts[..] else {
            panic!("{name}: bad line `{line}`");
        };
        let expected = match op {
            "<" => Ordering::Less,
            "=" => Ordering::Equal,
            ">" => Ordering::Greater,
            _ => panic!("{name}: bad operator in `{line}`"),
        };
        match (scheme.compare(a, b), scheme.compare(b, a)) {
            (Ok(forward), Ok(backward)) => {
                if forward != expected || backward != expected.reverse() {
                    failures.push(format!("{line}: got {forward:?} / reverse {backward:?}"));
                }
            }
            (Err(e), _) | (_, Err(e)) => failures.push(format!("{line}: {e}")),
        }
    }
    assert!(lines.len() >= 8, "{name}: fixture too small");
    assert!(failures.is_empty(), "{scheme}:\n{}", failures.join("\n"));
}

#[test]
fn apk_follows_apk_tools_rules() {
    check_expected(VersionScheme::Apk, "apk_expected.txt");
}

#[test]
fn maven_follows_comparable_version() {
    check_expected(VersionScheme::Maven, "maven_expected.txt");
}

#[test]
fn rubygems_follows_gem_version() {
    check_expected(VersionScheme::RubyGems, "rubygems_expected.txt");
}

#[test]
fn nuget_follows_nuget_version() {
    check_expected(VersionScheme::NuGet, "nuget_expected.txt");
}

#[test]
fn packagist_follows_composer() {
    check_expected(VersionScheme::Packagist, "packagist_expected.txt");
}

#[test]
fn go_follows_go_module_rules() {
    check_expected(VersionScheme::Go, "go_expected.txt");
}

#[test]
fn cargo_follows_semver_precedence() {
    check_expected(VersionScheme::Cargo, "cargo_expected.txt");
}

#[test]
fn pub_follows_pub_semver() {
    check_expected(VersionScheme::Pub, "pub_expected.txt");
}

#[test]
fn hex_and_swift_url_follow_semver_precedence() {
    use rempart_vulndb::compare;
    for ecosystem in ["Hex", "SwiftURL"] {
        assert_eq!(
            VersionScheme::for_osv_ecosystem(ecosystem),
            Some(VersionScheme::SemVer)
        );
        assert_eq!(
            compare(ecosystem, "1.0.0-rc.1", "1.0.0"),
            Ok(Ordering::Less)
        );
        assert_eq!(
            compare(ecosystem, "1.0.0+build.2", "1.0.0"),
            Ok(Ordering::Equal)
        );
        // Elixir's `Version` and SwiftPM both require all three numbers.
        assert!(compare(ecosystem, "1.0", "1.0.0").is_err());
    }
    assert_eq!(compare("Pub", "1.0.0+1", "1.0.0"), Ok(Ordering::Greater));
}

#[test]
fn ecosystem_names_pick_schemes() {
    use rempart_vulndb::compare;
    assert_eq!(
        compare("Debian:12", "1.0-1", "1.0-1+deb12u1"),
        Ok(Ordering::Less)
    );
    assert_eq!(
        compare("Alpine:v3.19", "1.0-r1", "1.0-r0"),
        Ok(Ordering::Greater)
    );
    assert_eq!(compare("PyPI", "1.0", "1.0.0"), Ok(Ordering::Equal));
    assert!(compare("Hackage", "1", "2").is_err());
}

#[test]
fn hostile_versions_are_errors_not_panics() {
    let long = "1.".repeat(10_000);
    for scheme in [
        VersionScheme::Dpkg,
        VersionScheme::Rpm,
        VersionScheme::Apk,
        VersionScheme::Pep440,
        VersionScheme::Npm,
        VersionScheme::Go,
        VersionScheme::Cargo,
        VersionScheme::Maven,
        VersionScheme::RubyGems,
        VersionScheme::NuGet,
        VersionScheme::Packagist,
        VersionScheme::SemVer,
        VersionScheme::Pub,
    ] {
        assert!(
            scheme.compare(&long, "1.0").is_err(),
            "{scheme}: long input"
        );
        assert!(scheme.compare("", "1.0").is_err(), "{scheme}: empty input");
        let error = scheme.compare("1.0", "\u{0}\u{fffd}x").err();
        if let Some(error) = error {
            assert!(error.to_string().contains(scheme.name()), "{error}");
        }
        // Found by the version_compare fuzz target: a multi-byte character across byte 4.
        let _ = scheme.compare("a\u{3c9}\u{39e}", "1.0");
    }
}
