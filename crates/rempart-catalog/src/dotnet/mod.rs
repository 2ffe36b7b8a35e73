//! .NET packages: the `*.deps.json` file the SDK writes next to every application.

use std::collections::BTreeMap;

use rempart_core::{AnalysisOutput, Ecosystem, FileAnalyzer, FileMeta, Interest};
use serde::Deserialize;

use crate::CatalogOptions;
use crate::common::{CatalogError, MIB, fingerprint, package, purl, text, whole};

const MAX_FILE: u64 = 32 * MIB;

/// Reads `*.deps.json`: its `libraries` map lists `Name/Version` keys with a `type`; only
/// `package` entries are `NuGet` packages (`project` entries are the application's own code).
/// With [`CatalogOptions::lockfiles`] also `packages.lock.json` (`NuGet` lock files).
#[derive(Debug, Default, Clone, Copy)]
pub struct DotnetCataloger {
    options: CatalogOptions,
}

impl DotnetCataloger {
    pub fn new(options: CatalogOptions) -> Self {
        DotnetCataloger { options }
    }
}

impl FileAnalyzer for DotnetCataloger {
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "dotnet"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        let lock = self.options.lockfiles && file.file_name() == "packages.lock.json";
        if file.file_name().ends_with(".deps.json") || lock {
            whole(MAX_FILE)
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        let result = if file.file_name() == "packages.lock.json" {
            parse_lock(file.path, &text(content), out)
        } else {
            parse(file.path, &text(content), out)
        };
        if let Err(error) = result {
            error.report(out);
        }
    }
}

#[derive(Deserialize)]
struct DepsJson {
    #[serde(default)]
    libraries: BTreeMap<String, Library>,
}

#[derive(Deserialize)]
struct Library {
    #[serde(default, rename = "type")]
    kind: String,
}

fn parse(path: &str, content: &str, out: &mut AnalysisOutput) -> Result<(), CatalogError> {
    let deps: DepsJson = serde_json::from_str(content)
        .map_err(|error| CatalogError::syntax(path, "JSON", &error))?;
    for (key, library) in deps.libraries {
        if library.kind != "package" {
            continue;
        }
        let Some((name, version)) = key.split_once('/') else {
            continue;
        };
        if name.is_empty() || version.is_empty() {
            continue;
        }
        let purl = purl("nuget", None, name, Some(version), &[]);
        out.packages
            .push(package(Ecosystem::NuGet, name, version, purl, path));
    }
    Ok(())
}

#[derive(Deserialize)]
struct PackagesLock {
    #[serde(default)]
    dependencies: BTreeMap<String, BTreeMap<String, LockEntry>>,
}

#[derive(Deserialize)]
struct LockEntry {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    resolved: Option<String>,
}

/// `{"dependencies": {"net8.0": {"Name": {"type": "Direct", "resolved": "1.2.3"}}}}`, one map
/// per target framework; `Project` entries are the solution's own projects.
fn parse_lock(path: &str, content: &str, out: &mut AnalysisOutput) -> Result<(), CatalogError> {
    let lock: PackagesLock = serde_json::from_str(content)
        .map_err(|error| CatalogError::syntax(path, "JSON", &error))?;
    let mut seen = std::collections::BTreeSet::new();
    for entries in lock.dependencies.values() {
        for (name, entry) in entries {
            let Some(version) = entry.resolved.as_deref().filter(|v| !v.is_empty()) else {
                continue;
            };
            if entry.kind == "Project" || !seen.insert((name.as_str(), version)) {
                continue;
            }
            let purl = purl("nuget", None, name, Some(version), &[]);
            out.packages
                .push(package(Ecosystem::NuGet, name, version, purl, path));
        }
    }
    Ok(())
}
