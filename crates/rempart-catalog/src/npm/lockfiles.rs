//! npm, Yarn and pnpm lock files.

use std::collections::{BTreeMap, BTreeSet};

use rempart_core::{AnalysisOutput, Dependency};
use serde::Deserialize;

use super::npm_package;
use crate::common::CatalogError;

/// Bounds the recursion of `package-lock.json` v1 trees (a hostile file could nest deeply).
const MAX_DEPTH: usize = 64;

#[derive(Deserialize)]
struct PackageLock {
    #[serde(default)]
    packages: Option<BTreeMap<String, LockPackage>>,
    #[serde(default)]
    dependencies: Option<BTreeMap<String, LockDependency>>,
}

#[derive(Deserialize)]
struct LockPackage {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    link: bool,
    /// The ranges do not matter here: the lock file says which copy each name resolves to.
    #[serde(default)]
    dependencies: serde_json::Value,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: serde_json::Value,
    #[serde(default, rename = "peerDependencies")]
    peer_dependencies: serde_json::Value,
}

#[derive(Deserialize)]
struct LockDependency {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    dependencies: Option<BTreeMap<String, LockDependency>>,
}

/// `package-lock.json` v2 and v3 list every installed path under `packages`; v1 only has the
/// nested `dependencies` tree.
pub(super) fn package_lock(
    path: &str,
    content: &str,
    out: &mut AnalysisOutput,
) -> Result<(), CatalogError> {
    let lock: PackageLock = serde_json::from_str(content)
        .map_err(|error| CatalogError::syntax(path, "JSON", &error))?;
    let mut seen = BTreeSet::new();
    if let Some(packages) = lock.packages {
        // The name and version installed at each `node_modules` path that is reported.
        let mut installed: BTreeMap<&str, (String, String)> = BTreeMap::new();
        for (key, entry) in &packages {
            // The empty key is the project itself; keys without node_modules are workspace
            // members; links point at them.
            let Some(index) = key.rfind("node_modules/") else {
                continue;
            };
            if entry.link {
                continue;
            }
            let name = entry
                .name
                .clone()
                .unwrap_or_else(|| key[index + "node_modules/".len()..].to_owned());
            if let Some(version) = entry.version.clone().filter(|v| is_registry_version(v)) {
                installed.insert(key, (name, version));
            }
        }
        for (key, (name, version)) in &installed {
            if !seen.insert((name.clone(), version.clone())) {
                continue;
            }
            let mut package = npm_package(name, version, path);
            let entry = &packages[*key];
            let targets: BTreeSet<Dependency> = [
                &entry.dependencies,
                &entry.optional_dependencies,
                &entry.peer_dependencies,
            ]
            .into_iter()
            .filter_map(serde_json::Value::as_object)
            .flat_map(serde_json::Map::keys)
            .filter_map(|wanted| resolve_installed(key, wanted, &installed))
            .map(|(name, version)| Dependency::exact(name.clone(), version.clone()))
            .collect();
            package.depends_on = targets.into_iter().collect();
            out.packages.push(package);
        }
    } else if let Some(dependencies) = lock.dependencies {
        walk_v1(path, &dependencies, 0, &mut seen, out);
    }
    Ok(())
}

/// Node's lookup: from the package's own `node_modules` up through each enclosing one to the
/// project's. A name found nowhere (an optional dependency for another platform, a peer left
/// out) gives no edge.
fn resolve_installed<'a>(
    from: &str,
    wanted: &str,
    installed: &'a BTreeMap<&str, (String, String)>,
) -> Option<&'a (String, String)> {
    let mut base = from;
    loop {
        if let Some(found) = installed.get(format!("{base}/node_modules/{wanted}").as_str()) {
            return Some(found);
        }
        let Some(index) = base.rfind("node_modules/") else {
            return installed.get(format!("node_modules/{wanted}").as_str());
        };
        base = base[..index].trim_end_matches('/');
        if base.is_empty() {
            return installed.get(format!("node_modules/{wanted}").as_str());
        }
    }
}

fn walk_v1(
    path: &str,
    dependencies: &BTreeMap<String, LockDependency>,
    depth: usize,
    seen: &mut BTreeSet<(String, String)>,
    out: &mut AnalysisOutput,
) {
    if depth > MAX_DEPTH {
        return;
    }
    for (name, entry) in dependencies {
        if let Some(version) = entry.version.as_deref().filter(|v| is_registry_version(v))
            && seen.insert((name.clone(), version.to_owned()))
        {
            out.packages.push(npm_package(name, version, path));
        }
        if let Some(nested) = &entry.dependencies {
            walk_v1(path, nested, depth + 1, seen, out);
        }
    }
}

/// Versions of git, file and link dependencies are URLs or paths, not registry versions.
fn is_registry_version(version: &str) -> bool {
    !version.is_empty() && !version.contains(':') && !version.contains('/')
}

/// Yarn v1 (its own format) and Yarn berry (YAML) share a shape that a line reader handles:
/// a header line of comma-separated descriptors at column 0, then indented fields.
pub(super) fn yarn(path: &str, content: &str, out: &mut AnalysisOutput) {
    let mut seen = BTreeSet::new();
    let mut name: Option<String> = None;
    let mut skip_entry = false;
    for line in content.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            let first = line
                .trim_end_matches(':')
                .split(", ")
                .next()
                .unwrap_or_default()
                .trim_matches('"');
            name = descriptor_name(first).map(str::to_owned);
            // Berry records workspaces, patches and local links as entries of their own.
            skip_entry = first == "__metadata"
                || [
                    "@workspace:",
                    "@patch:",
                    "@link:",
                    "@portal:",
                    "@file:",
                    "@exec:",
                ]
                .iter()
                .any(|protocol| first.contains(protocol));
            continue;
        }
        let field = line.trim();
        let version = field
            .strip_prefix("version ")
            .or_else(|| field.strip_prefix("version: "))
            .map(|v| v.trim().trim_matches('"'));
        if let (Some(version), Some(name)) = (version, name.as_deref())
            && !skip_entry
            && line.starts_with("  ")
            && !line.starts_with("    ")
            && is_registry_version(version)
            && seen.insert((name.to_owned(), version.to_owned()))
        {
            out.packages.push(npm_package(name, version, path));
        }
    }
}

/// `@babel/core@^7.0.0` and `lodash@npm:^4.17.21`: the name is everything before the `@` that is
/// not the scope's.
fn descriptor_name(descriptor: &str) -> Option<&str> {
    let at = descriptor.get(1..)?.find('@')? + 1;
    let name = &descriptor[..at];
    // An alias (`string-width-cjs@npm:string-width@^4.2.0`) installs the package it names.
    if let Some(target) = descriptor[at + 1..].strip_prefix("npm:")
        && target.get(1..).is_some_and(|t| t.contains('@'))
    {
        return descriptor_name(target);
    }
    (!name.is_empty()).then_some(name)
}

#[derive(Deserialize)]
struct PnpmLock {
    #[serde(default)]
    packages: Option<BTreeMap<String, PnpmPackage>>,
}

#[derive(Deserialize)]
struct PnpmPackage {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
}

/// `pnpm-lock.yaml` keys: `/name/1.0.0_peer` (v5), `/name@1.0.0(peer)` (v6), `name@1.0.0` (v9).
pub(super) fn pnpm(
    path: &str,
    content: &str,
    out: &mut AnalysisOutput,
) -> Result<(), CatalogError> {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = 1_000_000;
    budget.max_events = 4_000_000;
    budget.max_documents = 4;
    // pnpm never writes anchors or aliases: any is a sign of a crafted file.
    budget.max_aliases = 0;
    budget.max_anchors = 0;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    let lock: PnpmLock = serde_saphyr::from_str_with_options(content, options)
        .map_err(|error| CatalogError::syntax(path, "YAML", &error))?;
    let mut seen = BTreeSet::new();
    for (key, entry) in lock.packages.unwrap_or_default() {
        let Some((name, version)) = pnpm_key(&key) else {
            continue;
        };
        // Tarball and git dependencies carry their real name and version as fields.
        let name = entry.name.unwrap_or(name);
        let version = entry.version.unwrap_or(version);
        if is_registry_version(&version) && seen.insert((name.clone(), version.clone())) {
            out.packages.push(npm_package(&name, &version, path));
        }
    }
    Ok(())
}

fn pnpm_key(key: &str) -> Option<(String, String)> {
    let key = key.strip_prefix('/').unwrap_or(key);
    let key = key.split('(').next().unwrap_or(key);
    if let Some(at) = key.get(1..).and_then(|rest| rest.find('@')) {
        let (name, version) = (&key[..=at], &key[at + 2..]);
        // A v5 key with a peer suffix (`/a/1.0.0_b@2.0.0`) also has an `@`, after too many
        // slashes for a package name.
        let slashes = name.matches('/').count();
        if slashes == usize::from(name.starts_with('@')) {
            return (!name.contains(':')).then(|| (name.to_owned(), version.to_owned()));
        }
    }
    // v5: the version is the last path segment, with peer suffixes after `_`.
    let (name, version) = key.rsplit_once('/')?;
    let version = version.split('_').next().unwrap_or(version);
    (!name.is_empty()).then(|| (name.to_owned(), version.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pnpm_keys_of_every_version() {
        let pair = |n: &str, v: &str| Some((n.to_owned(), v.to_owned()));
        assert_eq!(pnpm_key("/lodash/4.17.21"), pair("lodash", "4.17.21"));
        assert_eq!(
            pnpm_key("/@babel/core/7.1.0_eslint@8.0.0"),
            pair("@babel/core", "7.1.0")
        );
        assert_eq!(
            pnpm_key("/@babel/core@7.1.0(eslint@8.0.0)"),
            pair("@babel/core", "7.1.0")
        );
        assert_eq!(pnpm_key("ms@2.1.3"), pair("ms", "2.1.3"));
    }

    #[test]
    fn yarn_descriptor_names() {
        assert_eq!(descriptor_name("@babel/core@^7.0.0"), Some("@babel/core"));
        assert_eq!(descriptor_name("lodash@npm:^4.17.21"), Some("lodash"));
        assert_eq!(descriptor_name("@"), None);
        assert_eq!(
            descriptor_name("string-width-cjs@npm:string-width@^4.2.0"),
            Some("string-width")
        );
    }
}
