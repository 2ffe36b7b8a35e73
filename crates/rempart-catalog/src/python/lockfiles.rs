//! Python lock files: pinned requirements, Poetry, Pipenv and uv.

use rempart_core::AnalysisOutput;
use serde::Deserialize;

use super::pypi_package;
use crate::common::CatalogError;

/// `requirements.txt`: only exact pins (`name==version`) name an installed version; ranges and
/// URLs do not.
pub(super) fn requirements(path: &str, content: &str, out: &mut AnalysisOutput) {
    for (index, raw) in content.lines().enumerate() {
        // A pin followed by `\` continues with `--hash` options on the next lines.
        let line = raw
            .split(" #")
            .next()
            .unwrap_or(raw)
            .trim()
            .trim_end_matches('\\')
            .trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
            continue;
        }
        // Environment markers and hash options follow the pin.
        let requirement = line.split(';').next().unwrap_or(line);
        let requirement = requirement
            .split(" --")
            .next()
            .unwrap_or(requirement)
            .trim();
        let Some((name, version)) = requirement.split_once("==") else {
            continue;
        };
        let name = name.split('[').next().unwrap_or(name).trim();
        let version = version.trim().trim_start_matches('=');
        if name.is_empty()
            || version.is_empty()
            || version.contains('*')
            || version.contains(',')
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            continue;
        }
        let mut pkg = pypi_package(name, version, path);
        if let Some(location) = pkg.locations.first_mut() {
            location.line = u32::try_from(index + 1).ok();
        }
        out.packages.push(pkg);
    }
}

#[derive(Deserialize)]
struct TomlLock {
    #[serde(default)]
    package: Vec<TomlLockPackage>,
}

#[derive(Deserialize)]
struct TomlLockPackage {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source: Option<toml::Table>,
}

/// `poetry.lock` and `uv.lock` share the `[[package]]` array of tables.
pub(super) fn toml_lock(
    path: &str,
    content: &str,
    uv: bool,
    out: &mut AnalysisOutput,
) -> Result<(), CatalogError> {
    let lock: TomlLock =
        toml::from_str(content).map_err(|error| CatalogError::syntax(path, "TOML", &error))?;
    for entry in lock.package {
        let Some(version) = entry.version.filter(|v| !v.is_empty()) else {
            continue;
        };
        // uv lists the project itself and workspace members with a local source; they are not
        // PyPI releases.
        if uv
            && entry.source.as_ref().is_some_and(|source| {
                ["editable", "virtual", "directory", "path"]
                    .iter()
                    .any(|key| source.contains_key(*key))
            })
        {
            continue;
        }
        out.packages.push(pypi_package(&entry.name, &version, path));
    }
    Ok(())
}

#[derive(Deserialize)]
struct Pipfile {
    #[serde(default)]
    default: std::collections::BTreeMap<String, PipfileEntry>,
    #[serde(default)]
    develop: std::collections::BTreeMap<String, PipfileEntry>,
}

#[derive(Deserialize)]
struct PipfileEntry {
    #[serde(default)]
    version: Option<String>,
}

pub(super) fn pipfile(
    path: &str,
    content: &str,
    out: &mut AnalysisOutput,
) -> Result<(), CatalogError> {
    let lock: Pipfile = serde_json::from_str(content)
        .map_err(|error| CatalogError::syntax(path, "JSON", &error))?;
    for (name, entry) in lock.default.iter().chain(&lock.develop) {
        if let Some(version) = entry.version.as_deref().and_then(|v| v.strip_prefix("=="))
            && !version.is_empty()
        {
            out.packages.push(pypi_package(name, version, path));
        }
    }
    Ok(())
}
