#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

use rempart_core::{Ecosystem, LayerRef, Location, Package, SourcePackage};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The shared advisory exports, beside the repository in CI and here.
pub fn shared_advisories() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/advisories");
    assert!(
        path.join("PyPI-all.zip").is_file(),
        "{} must hold the shared advisory exports",
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
        }],
        owned_by: None,
    }
}

pub fn with_source(mut package: Package, name: &str, version: &str) -> Package {
    package.source = Some(SourcePackage {
        name: name.to_owned(),
        version: version.to_owned(),
    });
    package
}
