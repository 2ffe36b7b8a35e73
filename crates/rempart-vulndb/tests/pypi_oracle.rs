//! Our matcher against an independent Python implementation of OSV matching
//! (`tests/oracle/osv_check.py`, using only `packaging`) over the real `PyPI` advisory export.
//! Needs `python3` with `packaging` installed.

#![allow(clippy::format_collect, clippy::format_push_string)]

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use common::{advisory_snapshot, package};
use rempart_core::{Ecosystem, Finding};
use rempart_vulndb::{Database, VulnMatcher, import_paths};

const PACKAGES: &[(&str, &str)] = &[
    ("requests", "2.19.1"),
    ("urllib3", "1.23"),
    ("PyYAML", "5.3"),
    ("Django", "2.2.0"),
    ("Jinja2", "2.10"),
    // Spelled with `_` and mixed case: found only through PEP 503 normalization.
    ("Apache_Airflow", "2.0.0"),
    ("Flask.AppBuilder", "3.0.0"),
    ("tensorflow_GPU", "2.4.0"),
    ("Pillow", "6.2.0"),
    ("cryptography", "2.3"),
    ("Twisted", "18.9.0"),
    ("lxml", "4.6.2"),
    ("Werkzeug", "0.15.0"),
    ("ansible", "2.9.0"),
    ("setuptools", "65.5.0"),
    ("urllib3", "1.26.5"),
    ("numpy", "1.16.0"),
    ("pip", "19.0"),
    ("tensorflow", "2.4.0"),
    ("mlflow", "2.9.2"),
];

fn python_answer(zip: &std::path::Path) -> BTreeMap<(String, String), Vec<String>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracle/osv_check.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(zip)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let input: String = PACKAGES
        .iter()
        .map(|(name, version)| format!("{name} {version}\n"))
        .collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "osv_check.py failed (is `packaging` installed?): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let mut parts = line.split_whitespace().map(str::to_owned);
            let name = parts.next().unwrap();
            let version = parts.next().unwrap();
            ((name, version), parts.collect())
        })
        .collect()
}

#[test]
fn matcher_agrees_with_independent_python_check() {
    let zip = advisory_snapshot().join("PyPI-all.zip");
    let directory = tempfile::tempdir().unwrap();
    let db_path = directory.path().join("vuln.sqlite");
    import_paths(&db_path, std::slice::from_ref(&zip)).unwrap();
    let matcher = VulnMatcher::new(Database::open(&db_path).unwrap());

    let expected = python_answer(&zip);
    assert_eq!(expected.len(), PACKAGES.len());
    let mut total = 0;
    for (name, version) in PACKAGES {
        let findings: Vec<Finding> = matcher
            .match_packages(&[package(Ecosystem::PyPI, name, version)], None)
            .unwrap();
        let mut ours: Vec<String> = findings.iter().map(|f| f.id.clone()).collect();
        ours.sort();
        let theirs = &expected[&((*name).to_owned(), (*version).to_owned())];
        assert_eq!(&ours, theirs, "{name} {version}");
        total += ours.len();
    }
    // The chosen packages are known-vulnerable versions: an empty answer means a broken setup.
    assert!(total > 50, "only {total} matches");
    for (name, version) in [
        ("requests", "2.19.1"),
        ("PyYAML", "5.3"),
        ("Apache_Airflow", "2.0.0"),
        ("tensorflow_GPU", "2.4.0"),
    ] {
        let theirs = &expected[&(name.to_owned(), version.to_owned())];
        assert!(!theirs.is_empty(), "{name} {version} has known advisories");
    }
}
