//! Hex, Pub and `SwiftURL` packages matched against real GitHub advisories
//! (`tests/fixtures/osv-hex-pub-swift`, with their origin in its README).

mod common;

use common::{fixture, package};
use rempart_core::{Ecosystem, Finding, FindingDetails, FixState, Severity};
use rempart_vulndb::{VulnMatcher, import_paths, normalize_package_name};

fn matcher() -> (tempfile::TempDir, VulnMatcher) {
    let directory = tempfile::tempdir().unwrap();
    let db_path = directory.path().join("vuln.sqlite");
    import_paths(&db_path, &[fixture("osv-hex-pub-swift")]).unwrap();
    (directory, VulnMatcher::open(&db_path).unwrap())
}

/// The id and fixed versions of each finding for one package.
fn matches(
    matcher: &VulnMatcher,
    ecosystem: Ecosystem,
    name: &str,
    version: &str,
) -> Vec<(String, Vec<String>)> {
    let findings = matcher
        .match_packages(&[package(ecosystem, name, version)], None)
        .unwrap();
    findings.iter().map(|f| (f.id.clone(), fixed(f))).collect()
}

fn fixed(finding: &Finding) -> Vec<String> {
    match &finding.details {
        FindingDetails::Vulnerability {
            fix: FixState::Fixed { versions },
            ..
        } => versions.clone(),
        other => panic!("not a fixed vulnerability: {other:?}"),
    }
}

fn hit(id: &str, fixed: &str) -> Vec<(String, Vec<String>)> {
    vec![(id.to_owned(), vec![fixed.to_owned()])]
}

#[test]
fn hex_ranges_of_oidcc() {
    let (_dir, matcher) = matcher();
    let oidcc = |version: &str| matches(&matcher, Ecosystem::Hex, "oidcc", version);
    assert_eq!(oidcc("3.0.1"), hit("GHSA-mj35-2rgf-cv8p", "3.0.2"));
    assert_eq!(oidcc("3.1.1"), hit("GHSA-mj35-2rgf-cv8p", "3.1.2"));
    // Pre-releases order as in SemVer: beta.2 is inside the range, beta.3 is its fix, and the
    // 3.2.0 release is past it.
    assert_eq!(
        oidcc("3.2.0-beta.2"),
        hit("GHSA-mj35-2rgf-cv8p", "3.2.0-beta.3")
    );
    for clean in ["2.9.0", "3.0.2", "3.0.3", "3.1.2", "3.2.0-beta.3", "3.2.0"] {
        assert!(oidcc(clean).is_empty(), "{clean}");
    }
    // Build metadata does not order in Elixir's `Version`.
    assert_eq!(oidcc("3.0.1+build.7"), hit("GHSA-mj35-2rgf-cv8p", "3.0.2"));
    // hex.pm names are lowercase; a private organization's package is another package.
    assert_eq!(
        matches(&matcher, Ecosystem::Hex, "OIDCC", "3.0.1"),
        hit("GHSA-mj35-2rgf-cv8p", "3.0.2")
    );
    assert!(matches(&matcher, Ecosystem::Hex, "acme/oidcc", "3.0.1").is_empty());

    let findings = matcher
        .match_packages(&[package(Ecosystem::Hex, "oidcc", "3.0.1")], None)
        .unwrap();
    // CVSS 3.1 AV:L/AC:H/PR:H/UI:N/S:C/C:N/I:N/A:H scores 5.5.
    assert_eq!(findings[0].severity, Severity::Medium);
    assert_eq!(
        findings[0].title,
        "OpenID Connect client Atom Exhaustion in provider configuration worker ets table location"
    );
}

#[test]
fn pub_http_below_and_at_the_fix() {
    let (_dir, matcher) = matcher();
    let http = |version: &str| matches(&matcher, Ecosystem::Pub, "http", version);
    for affected in ["0.12.0+2", "0.13.0", "0.13.1", "0.13.2+5", "0.13.3-dev.1"] {
        assert_eq!(
            http(affected),
            hit("GHSA-4rgh-jx4f-qfcq", "0.13.3"),
            "{affected}"
        );
    }
    // In pub, a build after the fixed version is a later version, unlike SemVer.
    for clean in ["0.13.3", "0.13.3+1", "0.13.4", "1.2.0"] {
        assert!(http(clean).is_empty(), "{clean}");
    }
    let findings = matcher
        .match_packages(&[package(Ecosystem::Pub, "http", "0.13.1")], None)
        .unwrap();
    let FindingDetails::Vulnerability { aliases, .. } = &findings[0].details else {
        panic!("a vulnerability");
    };
    assert_eq!(aliases, &["CVE-2020-35669"]);
    // npm's `http` is another package: the ecosystem keeps them apart.
    assert!(matches(&matcher, Ecosystem::Npm, "http", "0.13.1").is_empty());
}

#[test]
fn swift_url_ranges_of_swift_nio() {
    let (_dir, matcher) = matcher();
    let nio = |version: &str| {
        matches(
            &matcher,
            Ecosystem::SwiftUrl,
            "github.com/apple/swift-nio",
            version,
        )
    };
    assert_eq!(nio("2.41.1"), hit("GHSA-7fj7-39wj-c64f", "2.42.0"));
    assert_eq!(nio("2.39.0"), hit("GHSA-7fj7-39wj-c64f", "2.39.1"));
    assert_eq!(nio("2.29.0"), hit("GHSA-7fj7-39wj-c64f", "2.29.1"));
    for clean in ["2.29.1", "2.39.1", "2.40.0", "2.42.0", "2.60.0"] {
        assert!(nio(clean).is_empty(), "{clean}");
    }
    // A pin on a branch carries its revision, which no range holds.
    assert!(nio("4444444444444444444444444444444444444444").is_empty());
    // The repository compares without scheme, `.git` or case.
    for name in [
        "github.com/Apple/Swift-NIO",
        "https://github.com/apple/swift-nio.git",
        "git@github.com:apple/swift-nio.git",
    ] {
        assert_eq!(
            matches(&matcher, Ecosystem::SwiftUrl, name, "2.41.0"),
            hit("GHSA-7fj7-39wj-c64f", "2.42.0"),
            "{name}"
        );
    }
    assert!(
        matches(
            &matcher,
            Ecosystem::SwiftUrl,
            "github.com/apple/swift-nio-extras",
            "1.0.0"
        )
        .is_empty()
    );
}

#[test]
fn names_are_keyed_as_the_registries_compare_them() {
    assert_eq!(
        normalize_package_name("Hex", " Plug_Crypto "),
        "plug_crypto"
    );
    assert_eq!(normalize_package_name("Pub", "HTTP"), "http");
    assert_eq!(
        normalize_package_name("SwiftURL", "https://github.com/Alamofire/Alamofire.git"),
        "github.com/alamofire/alamofire"
    );
}
