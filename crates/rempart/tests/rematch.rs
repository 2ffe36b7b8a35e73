//! Matching a stored result again (as a server does after a vulnerability database update)
//! gives the vulnerability findings a full scan gives, reading no layer, and keeps the others.

use std::path::Path;

use rempart::{AnalyzerConfig, MalwareConfig, ScanOptions, Scanner, build_analyzers};
use rempart_core::ScannerKind;
use rempart_image::{OciLayout, Platform};

fn scanner(database: &Path) -> Scanner {
    let scanners = vec![
        ScannerKind::Vuln,
        ScannerKind::Misconfig,
        ScannerKind::Secret,
    ];
    let analyzers = build_analyzers(&AnalyzerConfig {
        scanners: scanners.clone(),
        catalog: true,
        source_tree: false,
        tree_root: None,
        secret_config: None,
        secret_max_size: None,
        config_files: rempart_misconfig::ConfigOptions::default(),
        database: Some(database.to_owned()),
        policies: Vec::new(),
        malware: MalwareConfig::default(),
    })
    .unwrap();
    Scanner::new(
        analyzers.files,
        analyzers.images,
        scanners,
        ScanOptions::default(),
    )
}

#[test]
fn rematching_a_stored_result_gives_the_scans_vulnerabilities_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("vuln.sqlite");
    rempart::install_default_database(&database).unwrap();
    let scanner = scanner(&database);
    let layout = OciLayout::open(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample-image"),
        None,
        &Platform::host_linux(),
    )
    .unwrap();
    let outcome = scanner.scan_image(&layout).unwrap();
    let full = outcome.result.clone();
    let vulnerabilities = |findings: &[rempart_core::Finding]| {
        findings
            .iter()
            .filter(|f| f.scanner == ScannerKind::Vuln)
            .count()
    };
    assert!(vulnerabilities(&full.findings) > 10);
    let others = full.findings.len() - vulnerabilities(&full.findings);
    assert!(others > 0);

    // As stored before the database knew of any of them.
    let mut stored = full.clone();
    stored
        .findings
        .retain(|finding| finding.scanner != ScannerKind::Vuln);
    scanner
        .rematch(&mut stored, &outcome.inventory, &outcome.go_symbols)
        .unwrap();
    assert_eq!(stored.findings, full.findings);
}
