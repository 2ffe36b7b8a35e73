//! Python packages: installed distribution metadata, and lock files when scanning source trees.

mod lockfiles;

use std::collections::BTreeSet;

use rempart_core::{
    AnalysisOutput, Dependency, Ecosystem, FileAnalyzer, FileMeta, Interest, Package,
};

use crate::CatalogOptions;
use crate::common::{MIB, fingerprint, package, purl, rfc822_fields, text, whole};

const MAX_METADATA: u64 = 4 * MIB;
const MAX_LOCKFILE: u64 = 32 * MIB;
/// A `License:` value longer than this is the license text pasted in, not a name.
const MAX_LICENSE_NAME: usize = 120;

/// Reads `*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, single-file `*.egg-info`, and with
/// [`CatalogOptions::lockfiles`] `requirements*.txt`, `poetry.lock`, `Pipfile.lock` and `uv.lock`.
#[derive(Debug, Default, Clone, Copy)]
pub struct PythonCataloger {
    options: CatalogOptions,
}

impl PythonCataloger {
    pub fn new(options: CatalogOptions) -> Self {
        PythonCataloger { options }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Metadata,
    Requirements,
    Poetry,
    Pipfile,
    Uv,
}

fn kind(path: &str, file_name: &str, lockfiles: bool) -> Option<Kind> {
    if path.ends_with(".dist-info/METADATA")
        || path.ends_with(".egg-info/PKG-INFO")
        || path.ends_with("/EGG-INFO/PKG-INFO")
        || file_name.ends_with(".egg-info")
    {
        return Some(Kind::Metadata);
    }
    if !lockfiles {
        return None;
    }
    match file_name {
        "poetry.lock" => Some(Kind::Poetry),
        "Pipfile.lock" => Some(Kind::Pipfile),
        "uv.lock" => Some(Kind::Uv),
        _ if file_name.starts_with("requirements")
            && std::path::Path::new(file_name)
                .extension()
                .is_some_and(|ext| ext == "txt") =>
        {
            Some(Kind::Requirements)
        }
        _ => None,
    }
}

impl FileAnalyzer for PythonCataloger {
    fn reads_by_name(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "python"
    }

    fn fingerprint(&self) -> String {
        fingerprint(self.name())
    }

    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        match kind(file.path, file.file_name(), self.options.lockfiles) {
            Some(Kind::Metadata) => whole(MAX_METADATA),
            Some(_) => whole(MAX_LOCKFILE),
            None => Interest::Skip,
        }
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], out: &mut AnalysisOutput) {
        let Some(kind) = kind(file.path, file.file_name(), self.options.lockfiles) else {
            return;
        };
        let content = text(content);
        let result = match kind {
            Kind::Metadata => {
                out.packages.extend(parse_metadata(file.path, &content));
                Ok(())
            }
            Kind::Requirements => {
                lockfiles::requirements(file.path, &content, out);
                Ok(())
            }
            Kind::Poetry | Kind::Uv => {
                lockfiles::toml_lock(file.path, &content, kind == Kind::Uv, out)
            }
            Kind::Pipfile => lockfiles::pipfile(file.path, &content, out),
        };
        if let Err(error) = result {
            error.report(out);
        }
    }
}

/// PEP 503 normalization: lowercase, runs of `-`, `_` and `.` become one `-`.
pub(crate) fn normalize_name(name: &str) -> String {
    let mut normalized = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
        } else {
            if separator && !normalized.is_empty() {
                normalized.push('-');
            }
            separator = false;
            normalized.extend(c.to_lowercase());
        }
    }
    normalized
}

pub(crate) fn pypi_package(name: &str, version: &str, path: &str) -> Package {
    let purl = purl("pypi", None, &normalize_name(name), Some(version), &[]);
    package(Ecosystem::PyPI, name, version, purl, path)
}

/// Core metadata (PEP 241 to PEP 639): RFC 822 headers, then the description.
fn parse_metadata(path: &str, content: &str) -> Option<Package> {
    let mut name = None;
    let mut version = None;
    let mut expression = None;
    let mut license = None;
    let mut classifiers = Vec::new();
    let mut requires = BTreeSet::new();
    rfc822_fields(
        content,
        |key, value| match key {
            "Name" => name = Some(value),
            "Version" => version = Some(value),
            "License-Expression" => expression = Some(value),
            "License" => license = Some(value),
            "Requires-Dist" => requires.extend(required_distribution(&value)),
            "Classifier" => {
                if let Some(rest) = value.strip_prefix("License ::") {
                    // `License :: OSI Approved :: MIT License`: the last segment is the name.
                    if let Some(last) = rest.rsplit("::").next().map(str::trim)
                        && !last.is_empty()
                        && last != "OSI Approved"
                    {
                        classifiers.push(last.to_owned());
                    }
                }
            }
            _ => {}
        },
        "\n",
    );
    let (name, version) = (
        name.filter(|n| !n.is_empty())?,
        version.filter(|v| !v.is_empty())?,
    );
    let mut pkg = pypi_package(&name, &version, path);
    pkg.licenses = if let Some(expression) = expression.filter(|e| !e.is_empty()) {
        vec![expression]
    } else if let Some(license) = license.filter(|l| {
        !l.is_empty() && l != "UNKNOWN" && !l.contains('\n') && l.len() <= MAX_LICENSE_NAME
    }) {
        vec![license]
    } else {
        classifiers
    };
    requires.remove(&normalize_name(&name));
    pkg.depends_on = requires.into_iter().map(Dependency::named).collect();
    Some(pkg)
}

/// `requests[socks] (>=2.0) ; python_version >= "3.8"`: the normalized name of a requirement
/// a plain install pulls in. One guarded by an extra (`; extra == "test"`) is installed only when
/// that extra is asked for, so it is left out; other markers are kept, and a requirement they
/// exclude is simply not found installed.
fn required_distribution(requirement: &str) -> Option<String> {
    let (spec, marker) = requirement.split_once(';').unwrap_or((requirement, ""));
    if marker
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| word == "extra")
    {
        return None;
    }
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    let name = spec[..end].trim();
    (!name.is_empty()).then(|| normalize_name(name))
}
