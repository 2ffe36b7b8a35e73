use std::collections::BTreeSet;

use rempart_catalog::{CargoAuditableCataloger, CargoLockCataloger};

use crate::support::{assert_well_formed, fixture, fixture_text, run, run_chunked, wants};

/// Registry crates of the Cargo.lock cargo wrote when building the binary.
fn registry_crates_in_lock() -> BTreeSet<(String, String)> {
    let lock: toml::Table = toml::from_str(&fixture_text("cargo/Cargo.lock")).unwrap();
    lock["package"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p.get("source").is_some())
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn auditable_binary_lists_the_locked_crates_for_any_chunking() {
    let content = fixture("cargo/audit-demo");
    let analyzer = CargoAuditableCataloger::new();
    for chunk in [1000, 4096, 65536, 1 << 20] {
        let out = run_chunked(
            &analyzer,
            "usr/local/bin/audit-demo",
            0o755,
            &content,
            chunk,
        );
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        assert_well_formed(&out.packages, "usr/local/bin/audit-demo", "cargo");
        let found: BTreeSet<_> = out
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect();
        // The binary's own crate (`root` in the audit data), plus its locked registry crates.
        let mut expected = registry_crates_in_lock();
        expected.insert(("audit-demo".to_owned(), "0.3.0".to_owned()));
        assert_eq!(found, expected, "chunks of {chunk}");
    }
}

#[test]
fn cargo_lock_registry_crates() {
    let out = run(
        &CargoLockCataloger::new(),
        "src/Cargo.lock",
        &fixture("cargo/Cargo.lock"),
    );
    assert_well_formed(&out.packages, "src/Cargo.lock", "cargo");
    let found: BTreeSet<_> = out
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    assert_eq!(found, registry_crates_in_lock());
    assert!(
        out.packages
            .iter()
            .any(|p| p.purl == format!("pkg:cargo/itoa@{}", p.version))
    );
    let broken = run(
        &CargoLockCataloger::new(),
        "Cargo.lock",
        b"[[package]]\nname = 1",
    );
    assert_eq!(broken.skipped.len(), 1);
}

#[test]
fn truncated_and_foreign_binaries() {
    let content = fixture("cargo/audit-demo");
    let analyzer = CargoAuditableCataloger::new();
    let out = run_chunked(
        &analyzer,
        "bin/cut",
        0o755,
        &content[..content.len() / 2],
        4096,
    );
    assert!(out.packages.is_empty());
    let out = run_chunked(
        &analyzer,
        "bin/script",
        0o755,
        b"#!/bin/sh\necho hello\n".repeat(100).as_slice(),
        64,
    );
    assert!(out.packages.is_empty() && out.skipped.is_empty());
    assert!(wants(&analyzer, "usr/lib/libfoo.so.1", 0o644, 100_000));
    assert!(!wants(&analyzer, "usr/share/doc/readme", 0o644, 100_000));
}
