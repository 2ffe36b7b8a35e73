//! Red Hat CSAF VEX documents (`tests/fixtures/redhat-csaf`, see its README) matched against the
//! packages of RHEL and UBI images.

mod common;

use common::{fixture, package, with_source};
use rempart_core::{Ecosystem, Finding, FindingDetails, FixState, OsInfo, Package, Severity};
use rempart_vulndb::{Database, VulnMatcher, import_paths};

fn matcher() -> (tempfile::TempDir, VulnMatcher) {
    let directory = tempfile::tempdir().unwrap();
    let db_path = directory.path().join("vuln.sqlite");
    let stats = import_paths(&db_path, &[fixture("redhat-csaf")]).unwrap();
    assert_eq!(stats.rejected, 0, "{:?}", stats.problems);
    (directory, VulnMatcher::open(&db_path).unwrap())
}

/// os-release of a UBI 9 image: `ID="rhel"`, `VERSION_ID="9.4"`.
fn rhel(version_id: &str) -> OsInfo {
    OsInfo {
        id: "rhel".to_owned(),
        version_id: version_id.to_owned(),
        ..OsInfo::default()
    }
}

/// A binary rpm as the rpm cataloger reports it: looked up by its source rpm, whose version
/// carries the binary's epoch.
fn rpm(name: &str, version: &str, source: &str, source_version: &str) -> Package {
    let mut package = with_source(
        package(Ecosystem::Rpm, name, version),
        source,
        source_version,
    );
    package.purl = format!("pkg:rpm/redhat/{name}@{version}?arch=x86_64");
    "var/lib/rpm/rpmdb.sqlite".clone_into(&mut package.locations[0].path);
    package
}

/// A package installed from an `AppStream` module stream: the label is in the purl.
fn modular(name: &str, version: &str, label: &str) -> Package {
    let mut package = rpm(name, version, name, version);
    package.purl = format!("pkg:rpm/redhat/{name}@{version}?arch=x86_64&rpmmod={label}");
    package
}

fn only<'a>(findings: &'a [Finding], id: &str) -> &'a Finding {
    assert_eq!(
        findings.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        [id],
        "{findings:#?}"
    );
    &findings[0]
}

fn fix_of(finding: &Finding) -> &FixState {
    match &finding.details {
        FindingDetails::Vulnerability { fix, .. } => fix,
        other => panic!("not a vulnerability: {other:?}"),
    }
}

fn fixed(version: &str) -> FixState {
    FixState::Fixed {
        versions: vec![version.to_owned()],
    }
}

#[test]
fn imported_under_their_own_source() {
    let (_dir, matcher) = matcher();
    let status = matcher.database().status().unwrap();
    let names: Vec<&str> = status.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["redhat-csaf-vex"]);
    // Firefox, openssl (with edk2), libtiff and postgresql; wireshark is not affected anywhere
    // and yields no advisory.
    assert_eq!(status.advisories, 4);
    assert_eq!(
        status.sources[0].snapshot.as_deref(),
        Some("2024-09-16T20:59:13Z")
    );
    assert!(Database::open(matcher.database().path()).is_ok());
}

#[test]
fn fixed_in_rhel_9_and_8_with_the_fix_and_red_hat_severity() {
    let (_dir, matcher) = matcher();
    let ubi9 = rhel("9.3");
    let findings = matcher
        .match_packages(
            &[rpm(
                "firefox",
                "115.4.0-1.el9_2",
                "firefox",
                "115.4.0-1.el9_2",
            )],
            Some(&ubi9),
        )
        .unwrap();
    let finding = only(&findings, "CVE-2023-6212");
    assert_eq!(*fix_of(finding), fixed("115.5.0-1.el9_3"));
    // Red Hat rates it Important; the CVSS 8.8 vector is kept as published.
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(
        finding.title,
        "Mozilla: Memory safety bugs fixed in Firefox 120, Firefox ESR 115.5, and Thunderbird 115.5"
    );
    let FindingDetails::Vulnerability {
        ecosystem,
        aliases,
        cvss,
        cvss_score,
        references,
        ..
    } = &finding.details
    else {
        panic!("vulnerability details");
    };
    assert_eq!(ecosystem, "Red Hat:9");
    // The errata of the main streams; the extended-support ones are not for this image.
    assert_eq!(aliases, &["RHSA-2023:7508", "RHSA-2023:7507"]);
    assert_eq!(cvss, &["CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"]);
    assert_eq!(*cvss_score, Some(8.8));
    assert!(references.contains(&"https://access.redhat.com/errata/RHSA-2023:7507".to_owned()));

    // The fixed version, and anything later, is clean.
    for version in ["115.5.0-1.el9_3", "115.6.0-1.el9_3"] {
        let findings = matcher
            .match_packages(&[rpm("firefox", version, "firefox", version)], Some(&ubi9))
            .unwrap();
        assert!(findings.is_empty(), "{version}: {findings:#?}");
    }

    // RHEL 8 has its own fix.
    let rhel8 = rhel("8.9");
    let findings = matcher
        .match_packages(
            &[rpm(
                "firefox",
                "115.4.0-1.el8_8",
                "firefox",
                "115.4.0-1.el8_8",
            )],
            Some(&rhel8),
        )
        .unwrap();
    assert_eq!(
        *fix_of(only(&findings, "CVE-2023-6212")),
        fixed("115.5.0-1.el8_9")
    );
    let findings = matcher
        .match_packages(
            &[rpm(
                "firefox",
                "115.5.0-1.el8_9",
                "firefox",
                "115.5.0-1.el8_9",
            )],
            Some(&rhel8),
        )
        .unwrap();
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn an_extended_support_fix_is_not_used() {
    let (_dir, matcher) = matcher();
    // 115.5.0-1.el9_2 is the fix of the 9.2 EUS stream only (`rhel_eus:9.2`): an image of the
    // main stream holding it still lacks the main stream's fix.
    let findings = matcher
        .match_packages(
            &[rpm(
                "firefox",
                "115.5.0-1.el9_2",
                "firefox",
                "115.5.0-1.el9_2",
            )],
            Some(&rhel("9.2")),
        )
        .unwrap();
    assert_eq!(
        *fix_of(only(&findings, "CVE-2023-6212")),
        fixed("115.5.0-1.el9_3")
    );
}

#[test]
fn fixed_version_keeps_its_epoch() {
    let (_dir, matcher) = matcher();
    let ubi9 = rhel("9.4");
    let check = |source_version: &str| {
        matcher
            .match_packages(
                &[rpm(
                    "openssl-libs",
                    source_version,
                    "openssl",
                    source_version,
                )],
                Some(&ubi9),
            )
            .unwrap()
    };
    let findings = check("1:3.0.7-25.el9_3");
    let finding = only(&findings, "CVE-2023-6237");
    assert_eq!(*fix_of(finding), fixed("1:3.0.7-27.el9"));
    assert_eq!(finding.severity, Severity::Low);
    let FindingDetails::Vulnerability { aliases, .. } = &finding.details else {
        panic!("vulnerability details");
    };
    assert_eq!(aliases, &["RHSA-2024:2447"]);
    assert!(check("1:3.0.7-27.el9").is_empty());
    // Without its epoch 1 the same version-release is older than the fix.
    assert_eq!(check("3.0.7-27.el9").len(), 1);
    // openssl-fips-provider is listed, versioned, as not affected.
    let findings = matcher
        .match_packages(
            &[rpm(
                "openssl-fips-provider",
                "3.0.7-2.el9",
                "openssl-fips-provider",
                "3.0.7-2.el9",
            )],
            Some(&ubi9),
        )
        .unwrap();
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn will_not_fix_and_the_other_unfixed_states() {
    let (_dir, matcher) = matcher();
    let findings = matcher
        .match_packages(
            &[rpm("edk2-ovmf", "20231122-6.el9", "edk2", "20231122-6.el9")],
            Some(&rhel("9.4")),
        )
        .unwrap();
    let finding = only(&findings, "CVE-2023-6237");
    assert_eq!(*fix_of(finding), FixState::WillNotFix);
    assert_eq!(finding.severity, Severity::Low);

    // libtiff: affected with no fix yet in RHEL 9 and 8, out of support scope in RHEL 7.
    let libtiff = |version: &str| rpm("libtiff", version, "libtiff", version);
    let findings = matcher
        .match_packages(&[libtiff("4.4.0-10.el9")], Some(&rhel("9.4")))
        .unwrap();
    let finding = only(&findings, "CVE-2023-6228");
    assert_eq!(*fix_of(finding), FixState::NotFixed);
    assert_eq!(finding.severity, Severity::Low);
    let findings = matcher
        .match_packages(&[libtiff("4.0.9-29.el8")], Some(&rhel("8.9")))
        .unwrap();
    assert_eq!(
        *fix_of(only(&findings, "CVE-2023-6228")),
        FixState::NotFixed
    );
    let findings = matcher
        .match_packages(&[libtiff("4.0.3-35.el7")], Some(&rhel("7.9")))
        .unwrap();
    assert_eq!(
        *fix_of(only(&findings, "CVE-2023-6228")),
        FixState::EndOfLife
    );
}

#[test]
fn not_affected_packages_have_no_finding() {
    let (_dir, matcher) = matcher();
    for (os, package) in [
        (
            rhel("9.4"),
            rpm(
                "wireshark-cli",
                "3.4.10-6.el9",
                "wireshark",
                "1:3.4.10-6.el9",
            ),
        ),
        (
            rhel("8.9"),
            rpm("wireshark", "2.6.2-17.el8", "wireshark", "1:2.6.2-17.el8"),
        ),
        // openssl in RHEL 8 is 1.1.1, without the flaw.
        (
            rhel("8.9"),
            rpm(
                "openssl-libs",
                "1:1.1.1k-9.el8_7",
                "openssl",
                "1:1.1.1k-9.el8_7",
            ),
        ),
    ] {
        let findings = matcher.match_packages(&[package], Some(&os)).unwrap();
        assert!(findings.is_empty(), "{findings:#?}");
    }
}

#[test]
fn module_packages_match_only_their_stream() {
    let (_dir, matcher) = matcher();
    let ubi9 = rhel("9.4");
    let vulnerable = "15.7-1.module+el9.4.0+21777+a0a5f4c5";
    let findings = matcher
        .match_packages(
            &[modular(
                "postgresql",
                vulnerable,
                "postgresql:15:9040020240531090125:rhel9",
            )],
            Some(&ubi9),
        )
        .unwrap();
    let finding = only(&findings, "CVE-2024-7348");
    assert_eq!(
        *fix_of(finding),
        fixed("15.8-1.module+el9.4.0+22208+cd6b92ff")
    );
    assert_eq!(finding.severity, Severity::High);

    // The same version from another stream, or outside any module, is not what this fix is for.
    for package in [
        modular(
            "postgresql",
            vulnerable,
            "postgresql:16:9040020240531090125:rhel9",
        ),
        rpm("postgresql", vulnerable, "postgresql", vulnerable),
    ] {
        let findings = matcher.match_packages(&[package], Some(&ubi9)).unwrap();
        assert!(findings.is_empty(), "{findings:#?}");
    }
    let findings = matcher
        .match_packages(
            &[modular(
                "postgresql",
                "15.8-1.module+el9.4.0+22208+cd6b92ff",
                "postgresql:15:9040020240812115436:rhel9",
            )],
            Some(&ubi9),
        )
        .unwrap();
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn other_distributions_do_not_use_red_hat_data() {
    let (_dir, matcher) = matcher();
    let rocky = OsInfo {
        id: "rocky".to_owned(),
        version_id: "9.3".to_owned(),
        ..OsInfo::default()
    };
    let findings = matcher
        .match_packages(
            &[rpm(
                "firefox",
                "115.4.0-1.el9_2",
                "firefox",
                "115.4.0-1.el9_2",
            )],
            Some(&rocky),
        )
        .unwrap();
    assert!(findings.is_empty(), "{findings:#?}");
}

/// A directory mixing CSAF VEX documents, an OSV record and a broken CSAF document: the broken
/// one is a rejected record naming its file, the rest is imported.
#[test]
fn malformed_document_is_a_rejected_record() {
    let directory = tempfile::tempdir().unwrap();
    let inputs = directory.path().join("inputs");
    std::fs::create_dir_all(inputs.join("2023")).unwrap();
    std::fs::copy(
        fixture("redhat-csaf/cve-2023-6212.json"),
        inputs.join("2023/cve-2023-6212.json"),
    )
    .unwrap();
    let osv = std::fs::read_dir(fixture("osv-npm-maven"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    std::fs::copy(&osv, inputs.join("osv-record.json")).unwrap();
    std::fs::write(
        inputs.join("2023/cve-2023-0000.json"),
        r#"{"document": {"category": "csaf_vex", "tracking": {"status": "final"}}}"#,
    )
    .unwrap();

    let db_path = directory.path().join("vuln.sqlite");
    let stats = import_paths(&db_path, &[inputs]).unwrap();
    assert_eq!(stats.rejected, 1, "{:?}", stats.problems);
    assert!(
        stats.problems[0].contains("cve-2023-0000.json") && stats.problems[0].contains("CSAF VEX"),
        "{:?}",
        stats.problems
    );
    let status = Database::open(&db_path).unwrap().status().unwrap();
    let names: Vec<&str> = status.sources.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"redhat-csaf-vex"), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("osv:")), "{names:?}");
}

#[test]
fn rejected_cve_counts_as_withdrawn() {
    let directory = tempfile::tempdir().unwrap();
    let mut document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("redhat-csaf/cve-2023-6237.json")).unwrap())
            .unwrap();
    document["vulnerabilities"][0]["notes"][0]["text"] =
        "** REJECT ** DO NOT USE THIS CANDIDATE NUMBER.".into();
    let rejected = directory.path().join("cve-2023-6237.json");
    std::fs::write(&rejected, document.to_string()).unwrap();

    let db_path = directory.path().join("vuln.sqlite");
    let stats = import_paths(
        &db_path,
        &[rejected, fixture("redhat-csaf/cve-2023-6212.json")],
    )
    .unwrap();
    assert_eq!((stats.withdrawn, stats.rejected), (1, 0));
    assert_eq!(stats.advisories, 1);
    let matcher = VulnMatcher::open(&db_path).unwrap();
    let findings = matcher
        .match_packages(
            &[rpm(
                "openssl-libs",
                "1:3.0.7-25.el9_3",
                "openssl",
                "1:3.0.7-25.el9_3",
            )],
            Some(&rhel("9.4")),
        )
        .unwrap();
    assert!(findings.is_empty(), "{findings:#?}");
}

/// Red Hat publishes the documents as one `csaf_vex_YYYY-MM-DD.tar.zst`: read as it is, it gives
/// the same database as the unpacked directory.
#[test]
fn the_published_archive_is_read_as_its_directory() {
    let directory = tempfile::tempdir().unwrap();
    let archive = directory.path().join("csaf_vex_2024-11-03.tar.zst");
    let encoder = zstd::Encoder::new(std::fs::File::create(&archive).unwrap(), 3).unwrap();
    let mut builder = tar::Builder::new(encoder);
    builder
        .append_dir_all("2023", fixture("redhat-csaf"))
        .unwrap();
    builder.into_inner().unwrap().finish().unwrap();

    let from_archive = directory.path().join("archive.sqlite");
    let stats = import_paths(&from_archive, &[archive]).unwrap();
    assert_eq!(stats.rejected, 0, "{:?}", stats.problems);
    let from_directory = directory.path().join("directory.sqlite");
    let expected = import_paths(&from_directory, &[fixture("redhat-csaf")]).unwrap();
    assert!(expected.advisories > 0);
    assert_eq!(
        (stats.advisories, stats.affected_packages, stats.withdrawn),
        (
            expected.advisories,
            expected.affected_packages,
            expected.withdrawn
        )
    );
    let status = Database::open(&from_archive).unwrap().status().unwrap();
    assert!(
        status.sources.iter().any(|s| s.name == "redhat-csaf-vex"),
        "{:?}",
        status.sources
    );

    // A truncated archive is an error naming it, and nothing is written.
    let bytes = std::fs::read(directory.path().join("csaf_vex_2024-11-03.tar.zst")).unwrap();
    let truncated = directory.path().join("truncated.tar.zst");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let target = directory.path().join("truncated.sqlite");
    let error = import_paths(&target, &[truncated]).unwrap_err().to_string();
    assert!(error.contains("truncated.tar.zst"), "{error}");
    assert!(!target.exists());
}
