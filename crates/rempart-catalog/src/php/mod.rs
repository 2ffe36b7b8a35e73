//! PHP packages installed by Composer.

use rempart_core::{AnalysisOutput, Ecosystem, FileAnalyzer, FileMeta, Interest};
use serde::Deserialize;

use crate::CatalogOptions;
use crate::common::{CatalogError, MIB, fingerprint, package, purl, text, whole};

const MAX_FILE: u64 = 32 * MIB;

/// Reads `vendor/composer/installed.json` (what Composer installed), and with
/// [`CatalogOptions::lockfiles`] `composer.lock`.
#[derive(Debug, Default, Clone, Copy)]
pub struct PhpCataloger {
    options: CatalogOptions,
}

impl PhpCataloger {
    pub fn new(options: CatalogOptions) -> Self {
        PhpCataloger { options }
    }
}

impl FileAnalyzer for PhpCataloger {
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "php"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        let installed = file.path.ends_with("vendor/composer/installed.json");
        let lock = self.options.lockfiles && file.file_name() == "composer.lock";
        if installed || lock {
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

/// `installed.json` is an array (Composer 1) or `{"packages": [...]}` (Composer 2);
/// `composer.lock` has `packages` and `packages-dev`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Document {
    List(Vec<ComposerPackage>),
    Object {
        #[serde(default)]
        packages: Vec<ComposerPackage>,
        #[serde(default, rename = "packages-dev")]
        packages_dev: Vec<ComposerPackage>,
    },
}

#[derive(Deserialize)]
struct ComposerPackage {
    name: String,
    version: String,
    #[serde(default)]
    license: Vec<String>,
}

fn parse(path: &str, content: &str, out: &mut AnalysisOutput) -> Result<(), CatalogError> {
    let document: Document = serde_json::from_str(content)
        .map_err(|error| CatalogError::syntax(path, "JSON", &error))?;
    let entries = match document {
        Document::List(list) => list,
        Document::Object {
            mut packages,
            packages_dev,
        } => {
            packages.extend(packages_dev);
            packages
        }
    };
    for entry in entries {
        let Some((vendor, name)) = entry.name.split_once('/') else {
            continue;
        };
        // Composer records `v1.2.3` when the tag had a `v`; Packagist advisories use `1.2.3`.
        let version = entry.version.strip_prefix('v').unwrap_or(&entry.version);
        if version.is_empty() || version.starts_with("dev-") {
            continue;
        }
        let purl = purl("composer", Some(vendor), name, Some(version), &[]);
        let mut pkg = package(Ecosystem::Packagist, &entry.name, version, purl, path);
        pkg.licenses = entry.license;
        out.packages.push(pkg);
    }
    Ok(())
}
