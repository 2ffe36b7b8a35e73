#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

use rempart_core::{Ecosystem, LayerRef, Location, Package, SourcePackage};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The real advisory exports the tests read: the trimmed snapshot kept in the repository
/// (`tests/fixtures/snapshot`), or a full snapshot of the same exports where
/// `REMPART_TEST_ADVISORIES` names one (the optional last step of `scripts/test.sh`).
pub fn advisory_snapshot() -> PathBuf {
    let path = std::env::var_os("REMPART_TEST_ADVISORIES")
        .map_or_else(|| fixture("snapshot"), PathBuf::from);
    assert!(
        path.join("PyPI-all.zip").is_file(),
        "{} must hold the advisory exports (PyPI-all.zip, Go-all.zip, crates.io-all.zip, alpine-secdb)",
        path.display()
    );
    path
}

pub fn package(ecosystem: Ecosystem, name: &str, version: &str) -> Package {
    Package {
        purl: format!(
            "pkg:{}/{name}@{version}",
            ecosystem.osv_name().to_ascii_lowercase()
        ),
        ecosystem,
        name: name.to_owned(),
        version: version.to_owned(),
        source: None,
        arch: None,
        licenses: Vec::new(),
        locations: vec![Location {
            path: "var/lib/dpkg/status".to_owned(),
            layer: Some(LayerRef {
                index: 1,
                diff_id: "sha256:abc".to_owned(),
            }),
            line: None,
            deleted: false,
            config: None,
        }],
        owned_by: None,
        depends_on: Vec::new(),
    }
}

pub fn with_source(mut package: Package, name: &str, version: &str) -> Package {
    package.source = Some(SourcePackage {
        name: name.to_owned(),
        version: version.to_owned(),
    });
    package
}
