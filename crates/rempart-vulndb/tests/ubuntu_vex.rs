//! Ubuntu images matched against Ubuntu's OSV records qualified by Ubuntu's OpenVEX CVE
//! documents (`tests/fixtures/ubuntu-vex`; its README says which documents are published ones,
//! trimmed, and which were written in their shape for the states no published copy showed).

mod common;

use common::{fixture, package, with_source};
use rempart_core::{Ecosystem, Finding, FindingDetails, FixState, OsInfo, Package, Severity};
use rempart_vulndb::{ImportStats, VulnMatcher, import_paths};

fn build(inputs: &[std::path::PathBuf]) -> (tempfile::TempDir, VulnMatcher, ImportStats) {
    let directory = tempfile::tempdir().unwrap();
    let db_path = directory.path().join("vuln.sqlite");
    let stats = import_paths(&db_path, inputs).unwrap();
    (directory, VulnMatcher::open(&db_path).unwrap(), stats)
}

/// Ubuntu's OSV records beside the VEX documents, in separate inputs given VEX first: the two
/// are combined whichever order they come in.
fn matcher() -> (tempfile::TempDir, VulnMatcher, ImportStats) {
    build(&[
        fixture("ubuntu-vex/published"),
        fixture("ubuntu-vex/written/CVE-2099-0001.json"),
        fixture("osv-distros/ubuntu"),
        fixture("ubuntu-vex/written/UBUNTU-CVE-2099-0001.json"),
    ])
}

fn ubuntu(version_id: &str, codename: &str) -> OsInfo {
    OsInfo {
        id: "ubuntu".to_owned(),
        version_id: version_id.to_owned(),
        codename: Some(codename.to_owned()),
        pretty_name: None,
    }
}

fn deb(binary: &str, source: &str, version: &str) -> Package {
    with_source(package(Ecosystem::Ubuntu, binary, version), source, version)
}

fn scan(matcher: &VulnMatcher, package: Package, os: &OsInfo) -> Vec<Finding> {
    matcher.match_packages(&[package], Some(os)).unwrap()
}

/// The one finding of a scan: its id, fix state and severity.
fn only(findings: &[Finding]) -> (&str, &FixState, Severity) {
    assert_eq!(
        findings.len(),
        1,
        "{:?}",
        findings.iter().map(|f| &f.id).collect::<Vec<_>>()
    );
    let FindingDetails::Vulnerability { fix, .. } = &findings[0].details else {
        panic!("not a vulnerability");
    };
    (findings[0].id.as_str(), fix, findings[0].severity)
}

fn binutils(
    matcher: &VulnMatcher,
    version_id: &str,
    codename: &str,
    version: &str,
) -> Vec<Finding> {
    scan(
        matcher,
        deb("binutils", "binutils", version),
        &ubuntu(version_id, codename),
    )
}

/// Each tracker state of one CVE across releases, with Ubuntu's OSV record of it giving every
/// release an open entry but 25.10's.
#[test]
fn each_tracker_state_becomes_the_finding_status() {
    let (_dir, matcher, _) = matcher();
    let states = [
        // ignored, with its note: the team decided not to fix it.
        ("20.04", "focal", "2.34-6ubuntu1.11", FixState::WillNotFix),
        // needs-triage.
        (
            "22.04",
            "jammy",
            "2.38-4ubuntu2.8",
            FixState::UnderInvestigation,
        ),
        // needed.
        ("24.04", "noble", "2.42-4ubuntu2.5", FixState::NotFixed),
        // No statement for 24.10: OSV's open entry stands as it is.
        ("24.10", "oracular", "2.43.1-4ubuntu1", FixState::NotFixed),
    ];
    for (version_id, codename, version, expected) in states {
        let found = binutils(&matcher, version_id, codename, version);
        let (id, fix, severity) = only(&found);
        assert_eq!(id, "CVE-2099-0001", "{codename}");
        assert_eq!(fix, &expected, "{codename}");
        assert_eq!(
            fix.status_name(),
            expected.status_name(),
            "--ignore-status sees the state: {codename}"
        );
        // Ubuntu's priority, from the OSV record, still rates it.
        assert_eq!(severity, Severity::Medium, "{codename}");
    }
}

#[test]
fn not_affected_and_missing_packages_give_no_finding() {
    // Without the VEX document, OSV's record leaves 25.04 open.
    let (_osv_dir, osv_only, _) = build(&[fixture("ubuntu-vex/written/UBUNTU-CVE-2099-0001.json")]);
    assert_eq!(
        only(&binutils(&osv_only, "25.04", "plucky", "2.44-3ubuntu1")).1,
        &FixState::NotFixed
    );
    let (_dir, matcher, _) = matcher();
    // not-affected: OSV's open entry for 25.04 is dropped.
    assert!(binutils(&matcher, "25.04", "plucky", "2.44-3ubuntu1").is_empty());
    // DNE for 26.04, and no OSV entry either.
    assert!(binutils(&matcher, "26.04", "resolute", "2.46-1ubuntu1").is_empty());
    // Statements about Pro-only builds (esm-infra/xenial) say nothing of a plain 16.04 image.
    assert!(binutils(&matcher, "16.04", "xenial", "2.26.1-1ubuntu1~16.04.8").is_empty());
}

/// Fixed versions are OSV's: a VEX `fixed` statement names the build a release carries today,
/// never the first fixed one, and neither adds a fix nor moves one.
#[test]
fn fixed_versions_stay_osv_s() {
    let (_dir, matcher, _) = matcher();
    let fixed = |v: &str| FixState::Fixed {
        versions: vec![v.to_owned()],
    };
    // 25.10: OSV fixes it in 2.45-7ubuntu1; the VEX statement lists 2.45-7ubuntu3.
    let found = binutils(&matcher, "25.10", "questing", "2.45-7ubuntu0");
    assert_eq!(only(&found).1, &fixed("2.45-7ubuntu1"));
    assert!(binutils(&matcher, "25.10", "questing", "2.45-7ubuntu2").is_empty());
    // 18.04: VEX says released where OSV's entry is open; no version is made up.
    let found = binutils(&matcher, "18.04", "bionic", "2.30-21ubuntu1~18.04.9");
    assert_eq!(only(&found).1, &FixState::NotFixed);
    // The published documents change nothing of OSV's fixes for CVE-2024-0727.
    let libssl = |version: &str| deb("libssl3", "openssl", version);
    let jammy = ubuntu("22.04", "jammy");
    let found = scan(&matcher, libssl("3.0.2-0ubuntu1.13"), &jammy);
    let (id, fix, _) = only(&found);
    assert_eq!(id, "CVE-2024-0727");
    assert_eq!(fix, &fixed("3.0.2-0ubuntu1.14"));
    assert!(scan(&matcher, libssl("3.0.2-0ubuntu1.14"), &jammy).is_empty());
    // A `fixed` statement with no OSV entry behind it (25.10's openssl) adds nothing.
    let questing = ubuntu("25.10", "questing");
    assert!(scan(&matcher, libssl("3.5.0-1ubuntu1"), &questing).is_empty());
}

/// A published document alone: the releases past standard support are end of life, the deferred
/// one fix deferred, a release it does not name has no finding.
#[test]
fn published_states_without_an_osv_record() {
    let (_dir, matcher, _) = build(&[fixture("ubuntu-vex/published/CVE-2022-3219.json")]);
    let gpgv = |version: &str| deb("gpgv", "gnupg2", version);
    let found = scan(&matcher, gpgv("2.4.4-2ubuntu17"), &ubuntu("24.04", "noble"));
    let (id, fix, _) = only(&found);
    assert_eq!(id, "CVE-2022-3219");
    assert_eq!(fix, &FixState::FixDeferred);
    assert_eq!(
        found[0].primary_url.as_deref(),
        Some("https://ubuntu.com/security/CVE-2022-3219")
    );
    for (version_id, codename, version) in [
        ("18.04", "bionic", "2.2.4-1ubuntu1.6"),
        ("14.04", "trusty", "2.0.22-3ubuntu1.4"),
    ] {
        let found = scan(&matcher, gpgv(version), &ubuntu(version_id, codename));
        assert_eq!(only(&found).1, &FixState::EndOfLife, "{codename}");
    }
    assert!(
        scan(
            &matcher,
            gpgv("2.2.27-3ubuntu2.1"),
            &ubuntu("22.04", "jammy")
        )
        .is_empty()
    );
}

/// A package only a VEX statement names gets an advisory of its own, and a Pro-only statement
/// (esm-apps/jammy nodejs, FIPS builds) none for a plain image.
#[test]
fn statements_without_osv_entries() {
    let (_dir, matcher, _) = matcher();
    let found = scan(
        &matcher,
        deb("binutils-avr", "binutils-avr", "2.26.20160125+Atmel3.6.2-4"),
        &ubuntu("24.04", "noble"),
    );
    let (id, fix, _) = only(&found);
    assert_eq!(id, "CVE-2099-0001");
    assert_eq!(fix, &FixState::FixDeferred);
    let node = deb("nodejs", "nodejs", "12.22.9~dfsg-1ubuntu3.6");
    assert!(scan(&matcher, node, &ubuntu("22.04", "jammy")).is_empty());
    let fips = deb("libssl1.1", "openssl", "1.1.1f-1ubuntu2.fips.7.1");
    let found = scan(&matcher, fips, &ubuntu("20.04", "focal"));
    // OSV's focal entry fixes it in the archive's build; the FIPS statement adds no state.
    assert!(
        found.iter().all(|f| !matches!(
            &f.details,
            FindingDetails::Vulnerability {
                fix: FixState::NotFixed,
                ..
            }
        )),
        "{found:?}"
    );
}

#[test]
fn the_documents_are_a_source_of_their_own() {
    let (_dir, matcher, _) = matcher();
    let status = matcher.database().status().unwrap();
    let source = status
        .sources
        .iter()
        .find(|s| s.name == "ubuntu-vex")
        .expect("ubuntu-vex source");
    assert_eq!(source.advisories, 3, "one per document read");
    assert_eq!(source.snapshot.as_deref(), Some("2099-01-02T00:00:00Z"));
}

#[test]
fn a_malformed_document_is_rejected_by_name() {
    let (_dir, _matcher, stats) = build(&[
        fixture("ubuntu-vex/bad"),
        fixture("ubuntu-vex/published/CVE-2022-3219.json"),
    ]);
    assert_eq!(stats.rejected, 1, "{:?}", stats.problems);
    let problem = &stats.problems[0];
    assert!(
        problem.contains("ubuntu-vex/bad/CVE-2024-0727.json")
            && problem.contains("not an Ubuntu OpenVEX document"),
        "{problem}"
    );
    // The readable document beside it was imported.
    assert_eq!(stats.advisories, 1);
}

/// Canonical publishes the documents as one `vex-all.tar.xz` (`cve/YYYY/CVE-….json` inside):
/// read as it is, it gives the same database as the documents themselves.
#[test]
fn the_published_xz_archive_is_read_as_its_documents() {
    let directory = tempfile::tempdir().unwrap();
    let archive = directory.path().join("vex-all.tar.xz");
    let encoder = liblzma::write::XzEncoder::new(std::fs::File::create(&archive).unwrap(), 6);
    let mut builder = tar::Builder::new(encoder);
    builder
        .append_dir_all("vex/cve/2024", fixture("ubuntu-vex/published"))
        .unwrap();
    builder
        .append_path_with_name(
            fixture("ubuntu-vex/written/CVE-2099-0001.json"),
            "vex/cve/2099/CVE-2099-0001.json",
        )
        .unwrap();
    builder.into_inner().unwrap().finish().unwrap();

    let osv = [
        fixture("osv-distros/ubuntu"),
        fixture("ubuntu-vex/written/UBUNTU-CVE-2099-0001.json"),
    ];
    let (_archive_dir, from_archive, stats) =
        build(&[vec![archive.clone()], osv.to_vec()].concat());
    let (_dir, from_documents, expected) = matcher();
    assert_eq!(stats.rejected, 0, "{:?}", stats.problems);
    assert_eq!(
        (stats.advisories, stats.affected_packages),
        (expected.advisories, expected.affected_packages)
    );
    let noble = ubuntu("24.04", "noble");
    let avr = || deb("binutils-avr", "binutils-avr", "2.26.20160125+Atmel3.6.2-4");
    assert_eq!(
        only(&scan(&from_archive, avr(), &noble)),
        only(&scan(&from_documents, avr(), &noble))
    );
    assert_eq!(
        only(&scan(&from_archive, avr(), &noble)).1,
        &FixState::FixDeferred
    );

    // A truncated archive is an error naming it, and nothing is written.
    let bytes = std::fs::read(&archive).unwrap();
    let truncated = directory.path().join("truncated.tar.xz");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let target = directory.path().join("truncated.sqlite");
    let error = import_paths(&target, &[truncated]).unwrap_err().to_string();
    assert!(error.contains("truncated.tar.xz"), "{error}");
    assert!(!target.exists());
}
