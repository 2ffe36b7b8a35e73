//! npm packages: `package.json` of installed modules, and lock files when scanning source trees.

mod lockfiles;

use std::collections::BTreeSet;

use rempart_core::{
    AnalysisOutput, Dependency, Ecosystem, FileAnalyzer, FileMeta, Interest, Package,
};
use serde::Deserialize;

use crate::CatalogOptions;
use crate::common::{CatalogError, MIB, fingerprint, package, purl, text, whole};

const MAX_PACKAGE_JSON: u64 = 4 * MIB;
const MAX_LOCKFILE: u64 = 64 * MIB;

/// Reads `node_modules/<name>/package.json` and `node_modules/@scope/<name>/package.json` (the
/// installed modules, wherever the `node_modules` directory is), and with
/// [`CatalogOptions::lockfiles`] `package-lock.json`, `npm-shrinkwrap.json`, `yarn.lock` and
/// `pnpm-lock.yaml`.
///
/// A `package.json` outside `node_modules` is the manifest of an application, which declares
/// ranges and is not itself a published dependency, so it is not reported; nested `package.json`
/// files inside a module (`node_modules/x/lib/package.json`, often `{"type": "module"}` stubs)
/// are not modules either.
#[derive(Debug, Default, Clone, Copy)]
pub struct NpmCataloger {
    options: CatalogOptions,
}

impl NpmCataloger {
    pub fn new(options: CatalogOptions) -> Self {
        NpmCataloger { options }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Installed,
    PackageLock,
    Yarn,
    Pnpm,
}

fn kind(path: &str, lockfiles: bool) -> Option<Kind> {
    let file_name = path.rsplit('/').next().unwrap_or(path);
    if file_name == "package.json" && is_module_manifest(path) {
        return Some(Kind::Installed);
    }
    if !lockfiles || path.contains("node_modules/") {
        return None;
    }
    match file_name {
        "package-lock.json" | "npm-shrinkwrap.json" => Some(Kind::PackageLock),
        "yarn.lock" => Some(Kind::Yarn),
        "pnpm-lock.yaml" => Some(Kind::Pnpm),
        _ => None,
    }
}

/// True for `.../node_modules/name/package.json` and `.../node_modules/@scope/name/package.json`.
fn is_module_manifest(path: &str) -> bool {
    let parts: Vec<&str> = path.rsplit('/').skip(1).collect();
    // `…/<root>/name/package.json` or `…/<root>/@scope/name/package.json`.
    let is_root = |at: usize| {
        parts.get(at).is_some_and(|&dir| {
            dir == "node_modules" || (dir == "nodejs" && is_debian_node_root(&parts[at + 1..]))
        })
    };
    match (parts.first(), parts.get(1)) {
        (Some(name), Some(_)) if is_root(1) => !name.starts_with(['@', '.']),
        (Some(_), Some(scope)) if scope.starts_with('@') => is_root(2),
        _ => false,
    }
}

/// Where Debian installs Node modules without a `node_modules` directory:
/// `/usr/share/nodejs`, `/usr/lib/nodejs` and `/usr/lib/<triplet>/nodejs` (`above` lists the
/// directories above `nodejs`, nearest first).
fn is_debian_node_root(above: &[&str]) -> bool {
    match above {
        ["share" | "lib", "usr", ..] => true,
        [triplet, "lib", "usr", ..] => triplet.contains("-linux-"),
        _ => false,
    }
}

impl FileAnalyzer for NpmCataloger {
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "npm"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        match kind(file.path, self.options.lockfiles) {
            Some(Kind::Installed) => whole(MAX_PACKAGE_JSON),
            Some(_) => whole(MAX_LOCKFILE),
            None => Interest::Skip,
        }
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        let Some(kind) = kind(file.path, self.options.lockfiles) else {
            return;
        };
        let content = text(content);
        let result = match kind {
            Kind::Installed => parse_package_json(file.path, &content).map(|pkg| {
                out.packages.extend(pkg);
            }),
            Kind::PackageLock => lockfiles::package_lock(file.path, &content, out),
            Kind::Yarn => {
                lockfiles::yarn(file.path, &content, out);
                Ok(())
            }
            Kind::Pnpm => lockfiles::pnpm(file.path, &content, out),
        };
        if let Err(error) = result {
            error.report(out);
        }
    }
}

pub(crate) fn npm_package(name: &str, version: &str, path: &str) -> Package {
    let (namespace, bare) = match name.split_once('/') {
        Some((scope, bare)) if scope.starts_with('@') => (Some(scope), bare),
        _ => (None, name),
    };
    let purl = purl("npm", namespace, bare, Some(version), &[]);
    package(Ecosystem::Npm, name, version, purl, path)
}

#[derive(Deserialize)]
struct PackageJson {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    license: Option<serde_json::Value>,
    #[serde(default)]
    licenses: Option<serde_json::Value>,
    #[serde(default)]
    dependencies: Option<serde_json::Value>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: Option<serde_json::Value>,
    #[serde(default, rename = "peerDependencies")]
    peer_dependencies: Option<serde_json::Value>,
}

fn parse_package_json(path: &str, content: &str) -> Result<Option<Package>, CatalogError> {
    let manifest: PackageJson = serde_json::from_str(content)
        .map_err(|error| CatalogError::syntax(path, "JSON", &error))?;
    let (Some(name), Some(version)) = (manifest.name, manifest.version) else {
        return Ok(None);
    };
    if name.is_empty() || version.is_empty() {
        return Ok(None);
    }
    let mut pkg = npm_package(&name, &version, path);
    for value in manifest.license.iter().chain(manifest.licenses.iter()) {
        collect_licenses(value, &mut pkg.licenses);
    }
    // Names only: which copy each resolves to depends on the `node_modules` directories around
    // this one, which the report looks up among the modules found.
    let wanted: BTreeSet<&String> = [
        &manifest.dependencies,
        &manifest.optional_dependencies,
        &manifest.peer_dependencies,
    ]
    .into_iter()
    .flatten()
    .filter_map(serde_json::Value::as_object)
    .flat_map(serde_json::Map::keys)
    .filter(|wanted| **wanted != name)
    .collect();
    pkg.depends_on = wanted.into_iter().map(Dependency::named).collect();
    Ok(Some(pkg))
}

/// `"MIT"`, `{"type": "MIT"}` (deprecated) or `[{"type": "MIT"}, ...]` (older still).
fn collect_licenses(value: &serde_json::Value, licenses: &mut Vec<String>) {
    match value {
        serde_json::Value::String(license) if !license.is_empty() => licenses.push(license.clone()),
        serde_json::Value::Object(object) => {
            if let Some(serde_json::Value::String(license)) = object.get("type")
                && !license.is_empty()
            {
                licenses.push(license.clone());
            }
        }
        serde_json::Value::Array(items) => {
            for item in items.iter().take(32) {
                if !item.is_array() {
                    collect_licenses(item, licenses);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_module_roots_are_manifests() {
        assert!(is_module_manifest("app/node_modules/lodash/package.json"));
        assert!(is_module_manifest("node_modules/@babel/core/package.json"));
        assert!(is_module_manifest(
            "a/node_modules/b/node_modules/c/package.json"
        ));
        assert!(!is_module_manifest("app/package.json"));
        assert!(!is_module_manifest("node_modules/lodash/lib/package.json"));
        assert!(!is_module_manifest("node_modules/@babel/package.json"));
        assert!(!is_module_manifest("node_modules/.bin/package.json"));
        // Debian's Node modules live under /usr/share/nodejs, with no node_modules directory.
        assert!(is_module_manifest("usr/share/nodejs/debug/package.json"));
        assert!(is_module_manifest(
            "usr/share/nodejs/@types/node/package.json"
        ));
        assert!(is_module_manifest("usr/lib/nodejs/npm/package.json"));
        assert!(is_module_manifest(
            "usr/lib/x86_64-linux-gnu/nodejs/bufferutil/package.json"
        ));
        assert!(!is_module_manifest(
            "usr/share/nodejs/debug/src/package.json"
        ));
        assert!(!is_module_manifest("opt/nodejs/app/package.json"));
    }
}
