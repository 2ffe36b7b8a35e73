//! .NET packages: the `*.deps.json` file the SDK writes next to every application.

use std::collections::BTreeMap;

use rempart_core::{AnalysisOutput, Ecosystem, FileAnalyzer, FileMeta, Interest};
use serde::Deserialize;

use crate::common::{CatalogError, MIB, fingerprint, package, purl, text, whole};

const MAX_FILE: u64 = 32 * MIB;

/// Reads `*.deps.json`: its `libraries` map lists `Name/Version` keys with a `type`; only
/// `package` entries are `NuGet` packages (`project` entries are the application's own code).
#[derive(Debug, Default, Clone, Copy)]
pub struct DotnetCataloger;

impl DotnetCataloger {
    pub fn new() -> Self {
        DotnetCataloger
    }
}

impl FileAnalyzer for DotnetCataloger {
    fn name(&self) -> &'static str {
        "dotnet"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        if file.file_name().ends_with(".deps.json") {
            whole(MAX_FILE)
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        if let Err(error) = parse(file.path, &text(content), out) {
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
