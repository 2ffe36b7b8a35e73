//! Rust crates: `Cargo.lock`, and the dependency list that `cargo auditable` embeds in binaries.

mod auditable;

use rempart_core::{AnalysisOutput, Ecosystem, FileAnalyzer, FileMeta, Interest, Package};
use serde::Deserialize;

pub use auditable::CargoAuditableCataloger;

use crate::common::{CatalogError, MIB, fingerprint, package, purl, text, whole};

const MAX_LOCKFILE: u64 = 32 * MIB;

/// Reads `Cargo.lock` (in images too: Rust images often keep the source tree of the binary they
/// ship, and the lock file is the only record of what went into it without `cargo auditable`).
///
/// Only crates from a registry are reported: workspace members and path dependencies are not
/// crates.io releases, and a local crate named like a published one would match its advisories.
#[derive(Debug, Default, Clone, Copy)]
pub struct CargoLockCataloger;

impl CargoLockCataloger {
    pub fn new() -> Self {
        CargoLockCataloger
    }
}

impl FileAnalyzer for CargoLockCataloger {
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "cargo-lock"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        if file.file_name() == "Cargo.lock" {
            whole(MAX_LOCKFILE)
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        if let Err(error) = parse_lock(file.path, &text(content), out) {
            error.report(out);
        }
    }
}

#[derive(Deserialize)]
struct CargoLock {
    #[serde(default)]
    package: Vec<LockPackage>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
}

fn parse_lock(path: &str, content: &str, out: &mut AnalysisOutput) -> Result<(), CatalogError> {
    let lock: CargoLock =
        toml::from_str(content).map_err(|error| CatalogError::syntax(path, "TOML", &error))?;
    for entry in lock.package {
        let from_registry = entry
            .source
            .as_deref()
            .is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"));
        if from_registry {
            out.packages
                .push(crate_package(&entry.name, &entry.version, path));
        }
    }
    Ok(())
}

pub(crate) fn crate_package(name: &str, version: &str, path: &str) -> Package {
    let purl = purl("cargo", None, name, Some(version), &[]);
    package(Ecosystem::CratesIo, name, version, purl, path)
}
