//! Rust crates: `Cargo.lock`, and the dependency list that `cargo auditable` embeds in binaries.

mod auditable;

use std::collections::{BTreeMap, BTreeSet};

use rempart_core::{
    AnalysisOutput, Dependency, Ecosystem, FileAnalyzer, FileMeta, Interest, Package,
};
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
    /// `name`, or `name version` when the lock holds several versions of the name, or
    /// `name version (source)` when even that is ambiguous.
    #[serde(default)]
    dependencies: Vec<String>,
}

impl LockPackage {
    fn is_from_registry(&self) -> bool {
        self.source
            .as_deref()
            .is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"))
    }
}

fn parse_lock(path: &str, content: &str, out: &mut AnalysisOutput) -> Result<(), CatalogError> {
    let lock: CargoLock =
        toml::from_str(content).map_err(|error| CatalogError::syntax(path, "TOML", &error))?;
    let mut by_name: BTreeMap<&str, Vec<&LockPackage>> = BTreeMap::new();
    for entry in &lock.package {
        by_name.entry(entry.name.as_str()).or_default().push(entry);
    }
    for entry in &lock.package {
        if entry.is_from_registry() {
            let mut package = crate_package(&entry.name, &entry.version, path);
            let targets: BTreeSet<Dependency> = entry
                .dependencies
                .iter()
                .filter_map(|wanted| locked_dependency(&by_name, wanted))
                .collect();
            package.depends_on = targets.into_iter().collect();
            out.packages.push(package);
        }
    }
    Ok(())
}

/// The registry crate a `dependencies` entry names; workspace members and path crates are not
/// reported, so an edge to one is dropped.
fn locked_dependency(
    by_name: &BTreeMap<&str, Vec<&LockPackage>>,
    wanted: &str,
) -> Option<Dependency> {
    let mut parts = wanted.split_whitespace();
    let name = parts.next()?;
    let version = parts.next();
    let mut matching = by_name
        .get(name)?
        .iter()
        .filter(|p| version.is_none_or(|v| p.version == v));
    let found = matching.next()?;
    // A bare name is written only when it is unique; two matches mean a malformed lock.
    if matching.next().is_some() || !found.is_from_registry() {
        return None;
    }
    Some(Dependency::exact(&found.name, &found.version))
}

pub(crate) fn crate_package(name: &str, version: &str, path: &str) -> Package {
    let purl = purl("cargo", None, name, Some(version), &[]);
    package(Ecosystem::CratesIo, name, version, purl, path)
}
