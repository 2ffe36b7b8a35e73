//! Helpers every cataloger shares: package construction, purls, error reporting and limits.

use rempart_core::{AnalysisOutput, Ecosystem, Location, Package, SkipReason, SkippedEntry};

/// Bumped whenever the output of any cataloger for the same input could change without the crate
/// version changing (during development of a release).
const FORMAT_REVISION: u32 = 4;

/// The cache-key fingerprint of a cataloger: its name, the crate version and the format revision.
pub(crate) fn fingerprint(name: &str) -> String {
    format!("{name}/{}/r{FORMAT_REVISION}", env!("CARGO_PKG_VERSION"))
}

/// Why a file could not be cataloged. Reported in `AnalysisOutput::skipped`, never as a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// The file is not valid in its format (JSON, TOML, YAML, a binary header...).
    #[error("{path}: invalid {format}: {message}")]
    Syntax {
        path: String,
        format: &'static str,
        message: String,
    },
    /// One line of a line-oriented file could not be understood.
    #[error("{path}:{line}: {message}")]
    Line {
        path: String,
        line: usize,
        message: String,
    },
    /// A bound on hostile input was reached (entries, nesting, expansion).
    #[error("{path}: {what} exceeds the limit of {limit}")]
    Limit {
        path: String,
        what: &'static str,
        limit: u64,
    },
}

impl CatalogError {
    pub(crate) fn syntax(path: &str, format: &'static str, message: &impl ToString) -> Self {
        CatalogError::Syntax {
            path: path.to_owned(),
            format,
            message: message.to_string(),
        }
    }

    fn path(&self) -> &str {
        match self {
            CatalogError::Syntax { path, .. }
            | CatalogError::Line { path, .. }
            | CatalogError::Limit { path, .. } => path,
        }
    }

    /// Records the error as a skipped entry. Core has no "malformed" reason, so syntax errors use
    /// `Unreadable` with the message as detail, and limits use `ArchiveLimit`.
    pub(crate) fn report(self, out: &mut AnalysisOutput) {
        let reason = match self {
            CatalogError::Limit { .. } => SkipReason::ArchiveLimit,
            _ => SkipReason::Unreadable,
        };
        out.skipped.push(SkippedEntry {
            path: self.path().to_owned(),
            layer: None,
            reason,
            detail: Some(self.to_string()),
        });
    }
}

/// Builds a purl; returns an empty string only for input the purl library refuses (an empty name),
/// which callers never pass.
pub(crate) fn purl(
    ty: &str,
    namespace: Option<&str>,
    name: &str,
    version: Option<&str>,
    qualifiers: &[(&str, &str)],
) -> String {
    let Ok(mut url) = packageurl::PackageUrl::new(ty, name) else {
        return String::new();
    };
    if let Some(namespace) = namespace.filter(|n| !n.is_empty()) {
        let _ = url.with_namespace(namespace);
    }
    if let Some(version) = version.filter(|v| !v.is_empty()) {
        let _ = url.with_version(version);
    }
    for (key, value) in qualifiers {
        if !value.is_empty() {
            let _ = url.add_qualifier(*key, *value);
        }
    }
    url.to_string()
}

/// A package with the fields every cataloger fills.
pub(crate) fn package(
    ecosystem: Ecosystem,
    name: impl Into<String>,
    version: impl Into<String>,
    purl: String,
    path: &str,
) -> Package {
    Package {
        ecosystem,
        name: name.into(),
        version: version.into(),
        purl,
        source: None,
        arch: None,
        licenses: Vec::new(),
        locations: vec![Location::file(path)],
        owned_by: None,
        depends_on: Vec::new(),
    }
}

/// Strips a leading slash and `./` so paths from package databases match walker paths.
pub(crate) fn relative_path(raw: &str) -> Option<String> {
    rempart_core::normalize_entry_path(raw).ok()
}

/// Splits RFC 822 style `Key: value` headers (dpkg, Python metadata, jar manifests) with
/// continuation lines, calling `field` once per complete field. Stops at the first blank line,
/// which ends the header block in all of them.
pub(crate) fn rfc822_fields<'a>(
    text: &'a str,
    mut field: impl FnMut(&'a str, String),
    continuation_joiner: &str,
) {
    let mut current: Option<(&str, String)> = None;
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = current.as_mut() {
                value.push_str(continuation_joiner);
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((key, value)) = current.take() {
            field(key, value);
        }
        if let Some((key, value)) = line.split_once(':') {
            current = Some((key.trim(), value.trim().to_owned()));
        }
    }
    if let Some((key, value)) = current {
        field(key, value);
    }
}

/// Lossless when the file is UTF-8, which every format read here is specified to be.
pub(crate) fn text(content: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(content)
}

/// Convenience for the common `Whole` interest.
pub(crate) const fn whole(max_bytes: u64) -> rempart_core::Interest {
    rempart_core::Interest::Whole { max_bytes }
}

pub(crate) const MIB: u64 = 1024 * 1024;
