//! Matching packages against databases built from the hand-written fixtures.

mod common;

use common::{fixture, package, with_source};
use rempart_core::{
    Ecosystem, Finding, FindingDetails, FixState, ImageAnalyzer, ImageContext, ImageMetadata,
    OsInfo, ScannerKind, Severity,
};
use rempart_vulndb::{Database, VulnMatcher, import_paths};

fn matcher(inputs: &[&str]) -> (tempfile::TempDir, VulnMatcher) {
    let directory = tempfile::tempdir().unwrap();
    let db_path = directory.path().join("vuln.sqlite");
    let inputs: Vec<_> = inputs.iter().map(|name| fixture(name)).collect();
    import_paths(&db_path, &inputs).unwrap();
    (directory, VulnMatcher::open(&db_path).unwrap())
}

fn os(id: &str, version_id: &str) -> OsInfo {
    OsInfo {
        id: id.to_owned(),
        version_id: version_id.to_owned(),
        ..OsInfo::default()
    }
}

fn fix_of(finding: &Finding) -> &FixState {
    match &finding.details {
        FindingDetails::Vulnerability { fix, .. } => fix,
        other => panic!("not a vulnerability: {other:?}"),
    }
}

fn ids(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.id.as_str()).collect()
}

#[test]
fn npm_semver_ranges_and_severity() {
    let (_dir, matcher) = matcher(&["osv-npm-maven"]);
    let vulnerable = matcher
        .match_packages(&[package(Ecosystem::Npm, "lodash", "4.17.15")], None)
        .unwrap();
    assert_eq!(ids(&vulnerable), ["GHSA-p6mc-m468-83gw"]);
    let finding = &vulnerable[0];
    assert_eq!(finding.scanner, ScannerKind::Vuln);
    assert_eq!(finding.title, "Prototype Pollution in lodash");
    // CVSS 3.1 AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H scores 7.4.
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(
        finding.primary_url.as_deref(),
        Some("https://github.com/advisories/GHSA-p6mc-m468-83gw")
    );
    let FindingDetails::Vulnerability {
        package: package_name,
        ecosystem,
        installed_version,
        purl,
        fix,
        aliases,
        cvss,
        cvss_score,
        references,
        reachable,
        severity_source,
        kev,
        epss,
    } = &finding.details
    else {
        panic!("vulnerability details");
    };
    // The record's own CVSS v3.1 vector rates it, and the database has no exploitation data.
    let source = severity_source.as_ref().expect("a severity source");
    assert_eq!(source.basis, rempart_core::SeverityBasis::Cvss);
    assert_eq!(source.record, "GHSA-p6mc-m468-83gw");
    assert_eq!(source.vector.as_ref(), cvss.first());
    assert!(kev.is_none() && epss.is_none());
    // npm packages have no function table: reachability is not told.
    assert_eq!(*reachable, None);
    assert_eq!(package_name, "lodash");
    assert_eq!(ecosystem, "npm");
    assert_eq!(installed_version, "4.17.15");
    assert_eq!(purl, "pkg:npm/lodash@4.17.15");
    assert_eq!(
        *fix,
        FixState::Fixed {
            versions: vec!["4.17.20".to_owned()]
        }
    );
    assert_eq!(aliases, &["CVE-2020-8203"]);
    assert_eq!(cvss.len(), 1);
    assert_eq!(*cvss_score, Some(7.4));
    assert_eq!(references.len(), 2);
    assert_eq!(finding.location.path, "var/lib/dpkg/status");
    assert_eq!(finding.location.layer.as_ref().map(|l| l.index), Some(1));

    // Boundaries: `introduced` is inclusive, `fixed` exclusive. The withdrawn record that
    // claims every lodash version never shows up.
    for (version, affected) in [
        ("3.6.9", false),
        ("3.7.0", true),
        ("4.17.19", true),
        ("4.17.20", false),
    ] {
        let found = matcher
            .match_packages(&[package(Ecosystem::Npm, "lodash", version)], None)
            .unwrap();
        assert_eq!(
            !found.is_empty(),
            affected,
            "lodash {version}: {:?}",
            ids(&found)
        );
        assert!(!ids(&found).contains(&"GHSA-fixture-withdrawn"));
    }
}

#[test]
fn last_affected_and_limit_events() {
    let (_dir, matcher) = matcher(&["osv-npm-maven"]);
    let check = |version: &str| {
        matcher
            .match_packages(
                &[package(Ecosystem::Npm, "fixture-last-affected", version)],
                None,
            )
            .unwrap()
    };
    assert_eq!(check("0.9.0").len(), 0);
    let at_last = check("1.4.2");
    assert_eq!(ids(&at_last), ["GHSA-fixture-last-affected"]);
    assert_eq!(*fix_of(&at_last[0]), FixState::NotFixed);
    assert_eq!(
        at_last[0].severity,
        Severity::Medium,
        "database_specific MODERATE"
    );
    assert_eq!(check("1.4.3").len(), 0);
    // The second range covers everything below its limit 0.5.0.
    assert_eq!(check("0.4.9").len(), 1);
    assert_eq!(check("0.5.0").len(), 0);
}

#[test]
fn maven_coordinates_and_multiple_branches() {
    let (_dir, matcher) = matcher(&["osv-npm-maven"]);
    let log4j = |version: &str| {
        let mut package = package(
            Ecosystem::Maven,
            "org.apache.logging.log4j:log4j-core",
            version,
        );
        package.purl = format!("pkg:maven/org.apache.logging.log4j/log4j-core@{version}");
        package
    };
    let found = matcher.match_packages(&[log4j("2.14.1")], None).unwrap();
    assert_eq!(ids(&found), ["GHSA-jfh8-c2jp-5v3q"]);
    assert_eq!(found[0].severity, Severity::Critical);
    assert_eq!(
        *fix_of(&found[0]),
        FixState::Fixed {
            versions: vec!["2.15.0".to_owned()]
        }
    );
    // 2.0-beta9 < 2.0 in Maven order: the oldest branch starts at a pre-release.
    assert_eq!(
        matcher
            .match_packages(&[log4j("2.0-beta9")], None)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        matcher
            .match_packages(&[log4j("2.0-beta8")], None)
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        matcher
            .match_packages(&[log4j("2.12.2")], None)
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        matcher
            .match_packages(&[log4j("2.15.0")], None)
            .unwrap()
            .len(),
        0
    );
    // A name without the group is found through the purl.
    let mut by_purl = log4j("2.14.1");
    by_purl.name = "log4j-core".to_owned();
    assert_eq!(matcher.match_packages(&[by_purl], None).unwrap().len(), 1);
}

#[test]
fn git_ranges_match_only_through_listed_versions() {
    let (_dir, matcher) = matcher(&["osv-npm-maven"]);
    let check = |name: &str, version: &str| {
        matcher
            .match_packages(&[package(Ecosystem::PyPI, name, version)], None)
            .unwrap()
    };
    // PEP 503: `fixture-git-only`, however spelled.
    let found = check("fixture_git_only", "1.1");
    assert_eq!(ids(&found), ["PYSEC-fixture-git-only"]);
    assert_eq!(
        found[0].title,
        "Fixture: a GIT range only matches through the versions list."
    );
    assert_eq!(found[0].severity, Severity::Unknown);
    assert_eq!(check("FIXTURE.GIT--ONLY", "1.0").len(), 1);
    // Not listed: the GIT range alone (introduced 0) must not match.
    assert_eq!(check("fixture-git-only", "1.2").len(), 0);
    assert_eq!(check("fixture-git-only", "0.1").len(), 0);
}

#[test]
fn debian_osv_records_are_release_aware_and_use_source_packages() {
    let (_dir, matcher) = matcher(&["osv-debian"]);
    let libc = with_source(
        package(Ecosystem::Debian, "libc6", "2.36-9+deb12u1"),
        "glibc",
        "2.36-9+deb12u1",
    );
    let bookworm = os("debian", "12");
    let found = matcher
        .match_packages(std::slice::from_ref(&libc), Some(&bookworm))
        .unwrap();
    // The DEBIAN-CVE record is reported as its CVE; the DSA covering two CVEs keeps its id.
    assert_eq!(ids(&found), ["CVE-2023-4911", "DSA-5514-1"]);
    let cve = &found[0];
    assert_eq!(cve.severity, Severity::High, "urgency high");
    assert_eq!(
        cve.primary_url.as_deref(),
        Some("https://security-tracker.debian.org/tracker/CVE-2023-4911")
    );
    let FindingDetails::Vulnerability {
        aliases,
        ecosystem,
        package: package_name,
        installed_version,
        fix,
        ..
    } = &cve.details
    else {
        panic!()
    };
    assert_eq!(aliases, &["DEBIAN-CVE-2023-4911"]);
    assert_eq!(ecosystem, "Debian:12");
    assert_eq!(package_name, "libc6");
    assert_eq!(installed_version, "2.36-9+deb12u1");
    assert_eq!(
        *fix,
        FixState::Fixed {
            versions: vec!["2.36-9+deb12u3".to_owned()]
        }
    );

    // Fixed version installed: nothing. The binary name alone finds nothing (feeds are per
    // source package).
    let fixed = with_source(
        package(Ecosystem::Debian, "libc6", "2.36-9+deb12u3"),
        "glibc",
        "2.36-9+deb12u3",
    );
    assert!(
        matcher
            .match_packages(&[fixed], Some(&bookworm))
            .unwrap()
            .is_empty()
    );
    let no_source = package(Ecosystem::Debian, "libc6", "2.36-9+deb12u1");
    assert!(
        matcher
            .match_packages(&[no_source], Some(&bookworm))
            .unwrap()
            .is_empty()
    );

    // Debian 11 has its own entry: unfixed there.
    let bullseye = matcher
        .match_packages(std::slice::from_ref(&libc), Some(&os("debian", "11")))
        .unwrap();
    assert_eq!(ids(&bullseye), ["CVE-2023-4911"]);
    assert_eq!(*fix_of(&bullseye[0]), FixState::NotFixed);
    assert_eq!(bullseye[0].severity, Severity::Unknown);
    // No OS, another release, another distribution: no distro matches.
    assert!(
        matcher
            .match_packages(std::slice::from_ref(&libc), None)
            .unwrap()
            .is_empty()
    );
    assert!(
        matcher
            .match_packages(std::slice::from_ref(&libc), Some(&os("debian", "10")))
            .unwrap()
            .is_empty()
    );
    assert!(
        matcher
            .match_packages(std::slice::from_ref(&libc), Some(&os("ubuntu", "22.04")))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn debian_tracker_states() {
    let (_dir, matcher) = matcher(&["debian-tracker/tracker.json"]);
    let bookworm = os("debian", "12");
    let source_package = |binary: &str, source: &str, version: &str| {
        with_source(package(Ecosystem::Debian, binary, version), source, version)
    };
    let packages = [
        source_package("libssl3", "openssl", "3.0.11-1~deb12u2"),
        source_package("libcurl4", "curl", "7.88.1-10+deb12u4"),
        source_package("zlib1g", "zlib", "1:1.2.13.dfsg-1"),
        source_package("libtiff6", "tiff", "4.5.0-6"),
    ];
    let found = matcher.match_packages(&packages, Some(&bookworm)).unwrap();
    let summary: Vec<(&str, &FixState, Severity)> = found
        .iter()
        .map(|f| (f.id.as_str(), fix_of(f), f.severity))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "CVE-2023-5678",
                &FixState::Fixed {
                    versions: vec!["3.0.13-1~deb12u1".to_owned()]
                },
                Severity::Low
            ),
            ("CVE-2023-38546", &FixState::WillNotFix, Severity::Low),
            ("CVE-2024-2398", &FixState::FixDeferred, Severity::Medium),
            (
                "CVE-2023-6277",
                &FixState::UnderInvestigation,
                Severity::Unknown
            ),
        ]
    );
    assert!(
        found[0]
            .title
            .starts_with("Generating excessively long X9.42 DH keys")
    );
    // Codename without VERSION_ID (a testing image) still maps to its release.
    let mut by_codename = os("debian", "");
    by_codename.codename = Some("bookworm".to_owned());
    assert_eq!(
        matcher
            .match_packages(&packages, Some(&by_codename))
            .unwrap()
            .len(),
        4
    );
    // Bullseye's openssl entry is separate.
    let bullseye = matcher
        .match_packages(
            &[source_package("libssl1.1", "openssl", "1.1.1w-0+deb11u1")],
            Some(&os("debian", "11")),
        )
        .unwrap();
    assert_eq!(ids(&bullseye), ["CVE-2023-5678"]);
}

#[test]
fn alpine_secdb_by_release_and_origin() {
    let (_dir, matcher) = matcher(&["alpine-secdb"]);
    let alpine = os("alpine", "3.19.1");
    let openssl = |version: &str| {
        with_source(
            package(Ecosystem::Alpine, "libcrypto3", version),
            "openssl",
            version,
        )
    };
    let found = matcher
        .match_packages(&[openssl("3.1.2-r0")], Some(&alpine))
        .unwrap();
    assert_eq!(ids(&found), ["CVE-2023-5678"]);
    assert_eq!(
        found[0].primary_url.as_deref(),
        Some("https://security.alpinelinux.org/vuln/CVE-2023-5678")
    );
    let found = matcher
        .match_packages(&[openssl("3.1.1-r3")], Some(&alpine))
        .unwrap();
    assert_eq!(ids(&found), ["CVE-2023-3817", "CVE-2023-5678"]);
    // The `0` key means "never affected": CVE-2022-1234 never matches.
    assert!(
        matcher
            .match_packages(&[openssl("1.0.0-r0")], Some(&alpine))
            .unwrap()
            .iter()
            .all(|f| f.id != "CVE-2022-1234")
    );
    assert!(
        matcher
            .match_packages(&[openssl("3.1.4-r1")], Some(&alpine))
            .unwrap()
            .is_empty()
    );
    // Another Alpine release has no data in this database.
    assert!(
        matcher
            .match_packages(&[openssl("3.1.2-r0")], Some(&os("alpine", "3.18.4")))
            .unwrap()
            .is_empty()
    );
    // One secfixes line may carry several ids.
    let busybox = package(Ecosystem::Alpine, "busybox", "1.36.1-r5");
    assert_eq!(
        ids(&matcher.match_packages(&[busybox], Some(&alpine)).unwrap()),
        ["CVE-2023-42363", "CVE-2023-42364"]
    );
}

#[test]
fn image_analyzer_reports_what_match_packages_reports() {
    let (_dir, matcher) = matcher(&["osv-npm-maven", "osv-debian", "alpine-secdb"]);
    let packages = vec![
        package(Ecosystem::Npm, "lodash", "4.17.15"),
        with_source(
            package(Ecosystem::Debian, "libc6", "2.36-9+deb12u1"),
            "glibc",
            "2.36-9+deb12u1",
        ),
        // Wrong distribution for this image: not matched.
        package(Ecosystem::Alpine, "busybox", "1.36.1-r5"),
        // Unreadable version: skipped, not an error.
        package(Ecosystem::Npm, "lodash", "not a version"),
    ];
    let bookworm = os("debian", "12");
    let metadata = ImageMetadata::default();
    let context = ImageContext {
        metadata: &metadata,
        inventory: &[],
        os: Some(&bookworm),
        packages: &packages,
        go_symbols: &[],
    };
    let mut findings = Vec::new();
    matcher.analyze_image(&context, &mut findings).unwrap();
    assert_eq!(matcher.name(), "vuln");
    assert_eq!(
        findings,
        matcher.match_packages(&packages, Some(&bookworm)).unwrap()
    );
    assert_eq!(
        ids(&findings),
        ["GHSA-p6mc-m468-83gw", "CVE-2023-4911", "DSA-5514-1"]
    );
}

#[test]
fn alias_twins_are_reported_once() {
    let directory = tempfile::tempdir().unwrap();
    let feed = directory.path().join("feed");
    std::fs::create_dir(&feed).unwrap();
    std::fs::copy(
        fixture("osv-npm-maven/GHSA-p6mc-m468-83gw.json"),
        feed.join("GHSA-p6mc-m468-83gw.json"),
    )
    .unwrap();
    // A second database's record for the same flaw, naming the GHSA as an alias.
    std::fs::write(
        feed.join("OTHER-2020-1.json"),
        r#"{"id": "OTHER-2020-1", "modified": "2024-01-01T00:00:00Z", "aliases": ["GHSA-p6mc-m468-83gw"],
            "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
                          "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.20"}]}]}]}"#,
    )
    .unwrap();
    let db_path = directory.path().join("vuln.sqlite");
    import_paths(&db_path, std::slice::from_ref(&feed)).unwrap();
    let matcher = VulnMatcher::new(Database::open(&db_path).unwrap());
    let found = matcher
        .match_packages(&[package(Ecosystem::Npm, "lodash", "4.17.15")], None)
        .unwrap();
    assert_eq!(ids(&found), ["GHSA-p6mc-m468-83gw"]);
    // The merged record's id stays on the finding, among its aliases.
    let FindingDetails::Vulnerability { aliases, .. } = &found[0].details else {
        panic!("{:?}", found[0])
    };
    assert!(aliases.contains(&"OTHER-2020-1".to_owned()), "{aliases:?}");
    // A record that only shares the GHSA's CVE is the same flaw: one finding, all ids. One that
    // also covers another CVE is a different advisory.
    std::fs::write(
        feed.join("THIRD-2020-3.json"),
        r#"{"id": "THIRD-2020-3", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2020-8203"],
            "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
                          "ranges": [{"type": "SEMVER", "events": [{"introduced": "4.0.0"}, {"fixed": "4.17.19"}]}]}]}"#,
    )
    .unwrap();
    std::fs::write(
        feed.join("WIDE-2020-4.json"),
        r#"{"id": "WIDE-2020-4", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2020-8203", "CVE-2020-28500"],
            "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
                          "ranges": [{"type": "SEMVER", "events": [{"introduced": "4.0.0"}, {"fixed": "4.17.21"}]}]}]}"#,
    )
    .unwrap();
    let db_path = directory.path().join("vuln-more.sqlite");
    import_paths(&db_path, &[feed]).unwrap();
    let matcher = VulnMatcher::new(Database::open(&db_path).unwrap());
    let found = matcher
        .match_packages(&[package(Ecosystem::Npm, "lodash", "4.17.15")], None)
        .unwrap();
    assert_eq!(ids(&found), ["GHSA-p6mc-m468-83gw", "WIDE-2020-4"]);
    let FindingDetails::Vulnerability { aliases, .. } = &found[0].details else {
        panic!("{:?}", found[0])
    };
    for id in ["CVE-2020-8203", "OTHER-2020-1", "THIRD-2020-3"] {
        assert!(aliases.contains(&id.to_owned()), "{id} in {aliases:?}");
    }
    // Below the GHSA's range only the other record applies.
    let found = matcher
        .match_packages(&[package(Ecosystem::Npm, "lodash", "3.0.0")], None)
        .unwrap();
    assert_eq!(ids(&found), ["OTHER-2020-1"]);
}

#[test]
fn secdb_version_keys_keep_their_spelling() {
    // `2.10:` is a float to a YAML parser that guesses types; read as 2.1 it would hide the fix.
    let directory = tempfile::tempdir().unwrap();
    let release_dir = directory.path().join("v3.20");
    std::fs::create_dir(&release_dir).unwrap();
    std::fs::write(
        release_dir.join("community.yaml"),
        "packages:\n  - pkg:\n      name: fixture\n      secfixes:\n        2.10:\n          - CVE-2024-0001\n",
    )
    .unwrap();
    let db_path = directory.path().join("vuln.sqlite");
    import_paths(&db_path, &[release_dir.join("community.yaml")]).unwrap();
    let matcher = VulnMatcher::new(Database::open(&db_path).unwrap());
    let alpine = os("alpine", "3.20.3");
    let check = |version: &str| {
        matcher
            .match_packages(
                &[package(Ecosystem::Alpine, "fixture", version)],
                Some(&alpine),
            )
            .unwrap()
    };
    assert_eq!(ids(&check("2.9-r0")), ["CVE-2024-0001"]);
    assert!(check("2.10-r0").is_empty());
    let status = matcher.database().status().unwrap();
    assert_eq!(status.sources[0].name, "alpine-secdb:3.20");
}

#[test]
fn package_names_are_normalized_per_ecosystem() {
    use rempart_vulndb::normalize_package_name;
    assert_eq!(
        normalize_package_name("PyPI", "Flask__Caching.ext"),
        "flask-caching-ext"
    );
    assert_eq!(normalize_package_name("PyPI", "PyYAML"), "pyyaml");
    assert_eq!(
        normalize_package_name("crates.io", "Serde_JSON"),
        "serde-json"
    );
    assert_eq!(
        normalize_package_name("NuGet", "Newtonsoft.Json"),
        "newtonsoft.json"
    );
    assert_eq!(
        normalize_package_name("Packagist", "Symfony/HTTP-Kernel"),
        "symfony/http-kernel"
    );
    // Case-sensitive registries keep the name.
    assert_eq!(normalize_package_name("npm", "JSONStream"), "JSONStream");
    assert_eq!(
        normalize_package_name("Go", "github.com/BurntSushi/toml"),
        "github.com/BurntSushi/toml"
    );
    assert_eq!(
        normalize_package_name("Maven", "org.apache.logging.log4j:log4j-core"),
        "org.apache.logging.log4j:log4j-core"
    );
}

#[test]
fn ubuntu_records_by_release_with_ubuntu_priority() {
    let (_dir, matcher) = matcher(&["osv-ubuntu"]);
    let sshd = |version: &str| {
        with_source(
            package(Ecosystem::Ubuntu, "openssh-server", version),
            "openssh",
            version,
        )
    };
    let jammy = os("ubuntu", "22.04");
    let found = matcher
        .match_packages(&[sshd("1:8.9p1-3ubuntu0.6")], Some(&jammy))
        .unwrap();
    assert_eq!(ids(&found), ["CVE-2024-6387"]);
    assert_eq!(found[0].severity, Severity::High);
    assert_eq!(
        found[0].primary_url.as_deref(),
        Some("https://ubuntu.com/security/CVE-2024-6387")
    );
    assert!(
        matcher
            .match_packages(&[sshd("1:8.9p1-3ubuntu0.10")], Some(&jammy))
            .unwrap()
            .is_empty()
    );
    // The Pro stream is not the public 18.04 release.
    assert!(
        matcher
            .match_packages(&[sshd("1:7.6p1-4ubuntu0.7")], Some(&os("ubuntu", "18.04")))
            .unwrap()
            .is_empty()
    );
}

/// A matcher over Go standard-library records (fixed in 1.22.5), each `(id, ecosystem_specific)`.
fn go_stdlib_matcher(records: &[(&str, &str)]) -> (tempfile::TempDir, VulnMatcher) {
    let directory = tempfile::tempdir().unwrap();
    let feed = directory.path().join("feed");
    std::fs::create_dir(&feed).unwrap();
    for (id, specific) in records {
        let record = format!(
            r#"{{"id": "{id}", "modified": "2024-01-01T00:00:00Z",
                "affected": [{{"package": {{"ecosystem": "Go", "name": "stdlib"}},
                              "ranges": [{{"type": "SEMVER", "events": [{{"introduced": "0"}}, {{"fixed": "1.22.5"}}]}}],
                              "ecosystem_specific": {specific}}}]}}"#
        );
        std::fs::write(feed.join(format!("{id}.json")), record).unwrap();
    }
    let db_path = directory.path().join("vuln.sqlite");
    import_paths(&db_path, &[feed]).unwrap();
    let matcher = VulnMatcher::new(Database::open(&db_path).unwrap());
    (directory, matcher)
}

/// A Go advisory limited to other systems or architectures (`ecosystem_specific.imports`)
/// does not apply to a binary built for linux/amd64; modules of unknown target (from `go.mod`)
/// keep every advisory.
#[test]
fn go_advisories_for_other_platforms_do_not_apply() {
    let records = [
        (
            "GO-2024-0001",
            r#"{"imports": [{"path": "os", "goos": ["windows"], "symbols": ["Stat"]}]}"#,
        ),
        (
            "GO-2024-0002",
            r#"{"imports": [{"path": "crypto/x", "goarch": ["arm64", "ppc64le"]}]}"#,
        ),
        (
            "GO-2024-0003",
            r#"{"imports": [{"path": "net/http", "symbols": ["Serve"]}]}"#,
        ),
        (
            "GO-2024-0004",
            r#"{"imports": [{"path": "os", "goos": ["windows"]}, {"path": "syscall", "goos": ["linux"], "goarch": ["amd64"]}]}"#,
        ),
        ("GO-2024-0005", "{}"),
    ];
    let (_directory, matcher) = go_stdlib_matcher(&records);
    let stdlib = |arch: Option<&str>| {
        let mut package = package(Ecosystem::Go, "stdlib", "1.22.1");
        package.arch = arch.map(str::to_owned);
        let found = matcher.match_packages(&[package], None).unwrap();
        found.into_iter().map(|f| f.id).collect::<Vec<String>>()
    };
    assert_eq!(
        stdlib(Some("linux/amd64")),
        ["GO-2024-0003", "GO-2024-0004", "GO-2024-0005"]
    );
    assert_eq!(
        stdlib(Some("windows/arm64")),
        [
            "GO-2024-0001",
            "GO-2024-0002",
            "GO-2024-0003",
            "GO-2024-0004",
            "GO-2024-0005"
        ]
    );
    assert_eq!(
        stdlib(Some("linux/arm64")),
        ["GO-2024-0002", "GO-2024-0003", "GO-2024-0005"]
    );
    assert_eq!(stdlib(None).len(), 5);
}

/// Go findings say whether the binary holds the advisory's vulnerable code: a listed function,
/// or any function of a listed package; unknown when the binary has no function table or the
/// advisory names no package.
#[test]
fn go_findings_say_whether_the_vulnerable_code_is_in_the_binary() {
    use rempart_core::GoSymbols;
    let records = [
        (
            "GO-2024-0101",
            r#"{"imports": [{"path": "net/http", "symbols": ["Server.Serve", "ListenAndServe"]}]}"#,
        ),
        (
            "GO-2024-0102",
            r#"{"imports": [{"path": "html/template", "symbols": ["Template.Execute"]}]}"#,
        ),
        ("GO-2024-0103", r#"{"imports": [{"path": "archive/tar"}]}"#),
        ("GO-2024-0104", r#"{"imports": [{"path": "net/mail"}]}"#),
        ("GO-2024-0105", "{}"),
        // Only on Windows is the code reached; on linux/amd64 the record does not apply at all.
        (
            "GO-2024-0106",
            r#"{"imports": [{"path": "os", "goos": ["windows"], "symbols": ["Stat"]}]}"#,
        ),
    ];
    let (_directory, matcher) = go_stdlib_matcher(&records);
    let mut stdlib = package(Ecosystem::Go, "stdlib", "1.22.1");
    stdlib.arch = Some("linux/amd64".to_owned());
    stdlib.locations[0].path = "usr/bin/app".to_owned();
    let mut keys = vec![
        GoSymbols::symbol_key("net/http", "Server.Serve"),
        GoSymbols::package_key("net/http"),
        GoSymbols::symbol_key("archive/tar", "Reader.Next"),
        GoSymbols::package_key("archive/tar"),
        GoSymbols::symbol_key("os", "Stat"),
        GoSymbols::package_key("os"),
    ];
    keys.sort_unstable();
    let tables = [GoSymbols {
        path: "usr/bin/app".to_owned(),
        keys,
    }];
    let reach = |tables: &[GoSymbols]| -> Vec<(String, Option<bool>)> {
        matcher
            .match_packages_with_symbols(std::slice::from_ref(&stdlib), None, tables)
            .unwrap()
            .into_iter()
            .map(|f| {
                let FindingDetails::Vulnerability { reachable, .. } = f.details else {
                    panic!("{f:?}")
                };
                (f.id, reachable)
            })
            .collect()
    };
    assert_eq!(
        reach(&tables),
        [
            ("GO-2024-0101".to_owned(), Some(true)),
            ("GO-2024-0102".to_owned(), Some(false)),
            ("GO-2024-0103".to_owned(), Some(true)),
            ("GO-2024-0104".to_owned(), Some(false)),
            ("GO-2024-0105".to_owned(), None),
        ]
    );
    // Without a function table (Go before 1.16, big-endian binaries), reachability is unknown.
    assert!(reach(&[]).iter().all(|(_, reachable)| reachable.is_none()));

    // A binary an OS package installed is that package's code: matched through the OS package
    // only, so the same flaw is not reported twice (the Go entry stays listed, with its owner).
    let mut owned = stdlib.clone();
    owned.owned_by = Some("docker-registry".to_owned());
    assert!(
        matcher
            .match_packages_with_symbols(&[owned], None, &tables)
            .unwrap()
            .is_empty()
    );
}
