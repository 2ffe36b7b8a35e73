use std::process::Command;

use rempart_catalog::OsReleaseCataloger;

use crate::support::{fixture, fixture_path, run, wants};

/// What a shell sourcing the file sees: os-release is specified as shell-compatible.
fn sourced(relative: &str, variable: &str) -> String {
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!(". \"$1\"; printf %s \"${variable}\""))
        .arg("sh")
        .arg(fixture_path(relative))
        .output()
        .expect("sh runs");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn os_release_matches_what_the_shell_reads() {
    for (fixture_name, path) in [
        ("os/os-release-debian12", "usr/lib/os-release"),
        ("os/os-release-alpine319", "etc/os-release"),
    ] {
        let out = run(&OsReleaseCataloger::new(), path, &fixture(fixture_name));
        assert_eq!(out.os.len(), 1);
        let (found_at, info) = &out.os[0];
        assert_eq!(found_at, path);
        assert_eq!(info.id, sourced(fixture_name, "ID"));
        assert_eq!(info.version_id, sourced(fixture_name, "VERSION_ID"));
        assert_eq!(
            info.pretty_name.as_deref().unwrap_or_default(),
            sourced(fixture_name, "PRETTY_NAME")
        );
        assert_eq!(
            info.codename.as_deref().unwrap_or_default(),
            sourced(fixture_name, "VERSION_CODENAME")
        );
    }
}

#[test]
fn release_file_fallbacks() {
    let analyzer = OsReleaseCataloger::new();
    let alpine = run(
        &analyzer,
        "etc/alpine-release",
        &fixture("os/alpine-release"),
    );
    assert_eq!(alpine.os[0].1.id, "alpine");
    assert_eq!(
        alpine.os[0].1.version_id,
        String::from_utf8(fixture("os/alpine-release"))
            .unwrap()
            .trim()
    );

    let debian = run(
        &analyzer,
        "etc/debian_version",
        &fixture("os/debian_version"),
    );
    let raw = String::from_utf8(fixture("os/debian_version")).unwrap();
    assert_eq!(debian.os[0].1.id, "debian");
    assert_eq!(
        debian.os[0].1.version_id,
        raw.trim().split('.').next().unwrap()
    );

    let testing = run(&analyzer, "etc/debian_version", b"trixie/sid\n");
    assert_eq!(testing.os[0].1.codename.as_deref(), Some("trixie"));
}

#[test]
fn wants_only_release_files() {
    let analyzer = OsReleaseCataloger::new();
    assert!(wants(&analyzer, "etc/os-release", 0o644, 300));
    assert!(wants(&analyzer, "usr/lib/os-release", 0o644, 300));
    assert!(!wants(&analyzer, "usr/lib/os-release.d/x", 0o644, 300));
    assert!(!wants(&analyzer, "home/etc/os-release", 0o644, 300));
}

#[test]
fn garbage_is_ignored() {
    let out = run(
        &OsReleaseCataloger::new(),
        "etc/os-release",
        b"\xff\xfe\x00garbage\n=\n",
    );
    assert!(out.os.is_empty());
}
