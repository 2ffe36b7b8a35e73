//! CVSS scores of real advisories against the Python `cvss` package (pip install cvss), which
//! implements the FIRST v3.x and v4.0 scoring independently of the Rust `cvss` crate.

#![allow(clippy::format_collect)]

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

use common::{advisory_snapshot, package};
use rempart_core::{Ecosystem, FindingDetails, Severity};
use rempart_vulndb::{Database, VulnMatcher, import_paths};

/// For each crates.io advisory with a CVSS vector: its package and a version it affects.
fn affected_packages(zip: &std::path::Path) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        if value["severity"].as_array().is_none_or(Vec::is_empty)
            || value.get("withdrawn").is_some()
        {
            continue;
        }
        let affected = &value["affected"][0];
        let introduced = affected["ranges"][0]["events"]
            .as_array()
            .and_then(|events| events.iter().find_map(|e| e["introduced"].as_str()))
            .unwrap_or("0.0.0");
        let version = if introduced == "0" || introduced == "0.0.0-0" {
            "0.0.0"
        } else {
            introduced
        };
        let name = affected["package"]["name"].as_str().unwrap().to_owned();
        out.push((name, version.to_owned()));
    }
    out
}

fn python_scores(vectors: &[String]) -> Vec<f64> {
    let script = r"
import sys
from cvss import CVSS3, CVSS4
for line in sys.stdin:
    vector = line.strip()
    score = CVSS4(vector).base_score if vector.startswith('CVSS:4.0/') else CVSS3(vector).scores()[0]
    print(float(score))
";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let input: String = vectors.iter().map(|v| format!("{v}\n")).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "python cvss failed (pip install cvss): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
}

#[test]
fn scores_agree_with_python_cvss() {
    let zip = advisory_snapshot().join("crates.io-all.zip");
    let directory = tempfile::tempdir().unwrap();
    let db_path = directory.path().join("vuln.sqlite");
    import_paths(&db_path, std::slice::from_ref(&zip)).unwrap();
    let matcher = VulnMatcher::new(Database::open(&db_path).unwrap());
    let packages: Vec<_> = affected_packages(&zip)
        .iter()
        .map(|(name, version)| package(Ecosystem::CratesIo, name, version))
        .collect();
    let findings = matcher.match_packages(&packages, None).unwrap();

    // The score we report comes from the newest CVSS version an advisory publishes.
    let mut scored: BTreeMap<String, (String, f64, Severity)> = BTreeMap::new();
    for finding in &findings {
        let FindingDetails::Vulnerability {
            cvss, cvss_score, ..
        } = &finding.details
        else {
            continue;
        };
        let Some(score) = cvss_score else { continue };
        let newest = cvss
            .iter()
            .find(|v| v.starts_with("CVSS:4.0/"))
            .or_else(|| cvss.first())
            .unwrap()
            .clone();
        scored.insert(finding.id.clone(), (newest, *score, finding.severity));
    }
    // Every record with a vector names a version it affects, so nearly all must be scored; an
    // empty or tiny set would let the comparison below pass on nothing.
    assert!(
        scored.len() * 10 >= packages.len() * 7 && scored.len() > 100,
        "only {} scored findings for {} records with a vector",
        scored.len(),
        packages.len()
    );
    let v4 = scored
        .values()
        .filter(|(v, ..)| v.starts_with("CVSS:4.0/"))
        .count();
    assert!(v4 > 30, "only {v4} CVSS v4 scores");

    let vectors: Vec<String> = scored.values().map(|(v, ..)| v.clone()).collect();
    let expected = python_scores(&vectors);
    let mut disagreements = Vec::new();
    for ((id, (vector, ours, severity)), theirs) in scored.iter().zip(&expected) {
        if (ours - theirs).abs() > 1e-9 {
            disagreements.push(format!("{id} {vector}: ours {ours}, python {theirs}"));
        }
        if *severity != Severity::from_cvss_score(*theirs) {
            disagreements.push(format!("{id}: severity {severity} for score {theirs}"));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
