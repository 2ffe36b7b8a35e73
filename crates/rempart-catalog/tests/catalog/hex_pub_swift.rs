//! Hex (`mix.lock`), Pub (`pubspec.lock`) and Swift (`Package.resolved`) catalogers.

use rempart_catalog::{CatalogOptions, HexCataloger, PubCataloger, SwiftCataloger};
use rempart_core::{Dependency, Ecosystem, Package};

use crate::support::{assert_well_formed, find, fixture, run, wants};

fn found(packages: &[Package]) -> Vec<(&str, &str)> {
    let mut found: Vec<(&str, &str)> = packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    found.sort_unstable();
    found
}

#[test]
fn mix_lock_hex_entries_without_git() {
    let analyzer = HexCataloger::new(CatalogOptions::filesystem());
    let path = "app/mix.lock";
    let out = run(&analyzer, path, &fixture("hex/mix.lock"));
    assert!(out.skipped.is_empty(), "{:?}", out.skipped);
    assert_well_formed(&out.packages, path, "hex");
    // `heroicons` is a git checkout, not a hex.pm release; the private package is named with
    // its organization.
    assert_eq!(
        found(&out.packages),
        [
            ("acme/acme_auth", "0.3.0"),
            ("castore", "1.0.12"),
            ("jose", "1.11.10"),
            ("mime", "2.0.6"),
            ("oidcc", "3.0.1"),
            ("plug", "1.17.0"),
            ("plug_crypto", "2.1.0"),
            ("telemetry", "1.3.0"),
        ]
    );
    assert!(out.packages.iter().all(|p| p.ecosystem == Ecosystem::Hex));
    let plug = find(&out.packages, "plug");
    assert_eq!(plug.purl, "pkg:hex/plug@1.17.0");
    assert_eq!(
        plug.depends_on,
        [
            Dependency::exact("mime", "2.0.6"),
            Dependency::exact("plug_crypto", "2.1.0"),
            Dependency::exact("telemetry", "1.3.0"),
        ]
    );
    // `telemetry_registry` is not in the lock: no edge is made up for it.
    assert_eq!(
        find(&out.packages, "oidcc").depends_on,
        [
            Dependency::exact("jose", "1.11.10"),
            Dependency::exact("telemetry", "1.3.0"),
        ]
    );
    assert_eq!(
        find(&out.packages, "acme/acme_auth").purl,
        "pkg:hex/acme/acme_auth@0.3.0"
    );
    assert!(!wants(
        &HexCataloger::new(CatalogOptions::image()),
        path,
        0o644,
        100
    ));
}

#[test]
fn mix_lock_written_by_older_mix() {
    // Before Elixir 1.10 keys were written `"name" => {...}`; before Hex 0.18 entries stopped
    // after the dependency list.
    let lock = "%{\"plug\" => {:hex, :plug, \"1.3.0\", \"abc\", [:mix], [{:mime, \"~> 1.0\", [hex: :mime, optional: false]}]},\n  \"mime\" => {:hex, :mime, \"1.1.0\", \"def\", [:mix], []}}\n";
    let out = run(
        &HexCataloger::new(CatalogOptions::filesystem()),
        "mix.lock",
        lock.as_bytes(),
    );
    assert_eq!(found(&out.packages), [("mime", "1.1.0"), ("plug", "1.3.0")]);
    assert_eq!(
        find(&out.packages, "plug").depends_on,
        [Dependency::exact("mime", "1.1.0")]
    );
}

#[test]
fn malformed_mix_lock_names_the_file_and_line() {
    let analyzer = HexCataloger::new(CatalogOptions::filesystem());
    let cases: [(&str, &str); 4] = [
        (
            "%{\n  \"plug\": {:hex, :plug, \"1.0.0}\n}\n",
            "src/mix.lock:2: invalid mix.lock: unterminated string",
        ),
        (
            "%{\"a\": {:hex, :a, \"1.0.0\"}\n",
            "src/mix.lock:2: invalid mix.lock: expected `,` or `}`",
        ),
        (
            "[1, 2]",
            "src/mix.lock: invalid mix.lock: the lock is not a map",
        ),
        (
            "%{\"a\": File.rm!(\"x\")}",
            "src/mix.lock:1: invalid mix.lock: unexpected word `File`",
        ),
    ];
    for (text, expected) in cases {
        let out = run(&analyzer, "src/mix.lock", text.as_bytes());
        assert!(out.packages.is_empty());
        let detail = out.skipped[0].detail.as_deref().unwrap();
        assert!(detail.starts_with(expected), "{detail}");
        assert_eq!(out.skipped[0].path, "src/mix.lock");
    }
    // Nesting past the bound is refused quickly, whatever the file's size.
    let deep = format!("%{{\"a\": {}}}", "[".repeat(1_000_000));
    let started = std::time::Instant::now();
    let out = run(&analyzer, "src/mix.lock", deep.as_bytes());
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let detail = out.skipped[0].detail.as_deref().unwrap();
    assert_eq!(
        detail,
        "src/mix.lock: nesting depth exceeds the limit of 32"
    );
}

#[test]
fn pubspec_lock_hosted_packages_only() {
    let analyzer = PubCataloger::new(CatalogOptions::filesystem());
    let path = "app/pubspec.lock";
    let out = run(&analyzer, path, &fixture("pub/pubspec.lock"));
    assert!(out.skipped.is_empty(), "{:?}", out.skipped);
    assert_well_formed(&out.packages, path, "pub");
    // The SDK, path and git packages are not pub.dev releases.
    assert_eq!(
        found(&out.packages),
        [
            ("async", "2.11.0"),
            ("http", "0.13.1"),
            ("http_parser", "4.0.2"),
            ("internal_api", "1.0.0+3"),
        ]
    );
    assert_eq!(find(&out.packages, "http").purl, "pkg:pub/http@0.13.1");
    assert_eq!(
        find(&out.packages, "http_parser").purl,
        "pkg:pub/http_parser@4.0.2"
    );
    assert_eq!(
        find(&out.packages, "internal_api").purl,
        "pkg:pub/internal_api@1.0.0%2B3?repository_url=https:%2F%2Fpub.example.com"
    );
    assert!(!wants(
        &PubCataloger::new(CatalogOptions::image()),
        path,
        0o644,
        100
    ));
}

#[test]
fn malformed_pubspec_lock_names_the_file() {
    let analyzer = PubCataloger::new(CatalogOptions::filesystem());
    let out = run(
        &analyzer,
        "app/pubspec.lock",
        b"packages:\n  http: [unterminated\n",
    );
    let detail = out.skipped[0].detail.as_deref().unwrap();
    assert!(
        detail.starts_with("app/pubspec.lock: invalid YAML"),
        "{detail}"
    );
    let aliases = "packages:\n  a: &x {source: hosted, version: \"1.0.0\"}\n  b: *x\n";
    let out = run(&analyzer, "app/pubspec.lock", aliases.as_bytes());
    assert!(out.packages.is_empty() && !out.skipped.is_empty());
}

#[test]
fn package_resolved_every_version() {
    let analyzer = SwiftCataloger::new(CatalogOptions::filesystem());
    let path = "App/Package.resolved";
    let v1 = run(&analyzer, path, &fixture("swift/Package.resolved.v1"));
    assert_well_formed(&v1.packages, path, "swift");
    assert_eq!(
        found(&v1.packages),
        [
            ("github.com/apple/swift-log", "1.4.2"),
            ("github.com/apple/swift-nio", "2.38.0"),
        ]
    );
    assert_eq!(
        find(&v1.packages, "github.com/apple/swift-nio").purl,
        "pkg:swift/github.com/apple/swift-nio@2.38.0"
    );

    // Version 2: the local checkout is left out; the branch pin is listed with its revision.
    let v2 = run(&analyzer, path, &fixture("swift/Package.resolved.v2"));
    assert_well_formed(&v2.packages, path, "swift");
    assert_eq!(
        found(&v2.packages),
        [
            ("github.com/Alamofire/Alamofire", "5.9.1"),
            ("github.com/apple/swift-nio", "2.42.0"),
            (
                "github.com/apple/swift-nio-extras",
                "4444444444444444444444444444444444444444"
            ),
        ]
    );
    assert_eq!(
        find(&v2.packages, "github.com/Alamofire/Alamofire").purl,
        "pkg:swift/github.com/Alamofire/Alamofire@5.9.1"
    );

    // Version 3: registry packages have no repository and are not `SwiftURL` packages.
    let v3 = run(&analyzer, path, &fixture("swift/Package.resolved.v3"));
    assert_eq!(
        found(&v3.packages),
        [("github.com/apple/swift-nio", "2.41.1")]
    );
    assert!(
        [&v1, &v2, &v3]
            .iter()
            .flat_map(|out| &out.packages)
            .all(|p| p.ecosystem == Ecosystem::SwiftUrl)
    );
    assert!(!wants(
        &SwiftCataloger::new(CatalogOptions::image()),
        path,
        0o644,
        100
    ));
}

#[test]
fn malformed_package_resolved_names_the_file() {
    let analyzer = SwiftCataloger::new(CatalogOptions::filesystem());
    for text in [
        "{\"pins\": [",
        "{\"version\": 9, \"pins\": []}",
        "{\"version\": 1, \"pins\": []}",
    ] {
        let out = run(&analyzer, "App/Package.resolved", text.as_bytes());
        assert!(out.packages.is_empty());
        let detail = out.skipped[0].detail.as_deref().unwrap();
        assert!(
            detail.starts_with("App/Package.resolved: invalid JSON"),
            "{detail}"
        );
    }
}
