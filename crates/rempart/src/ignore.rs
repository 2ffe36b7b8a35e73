//! The ignore file (`.rempartignore.yaml`): accepted findings, each with a reason and an
//! optional expiry, scoped by path, package or image.
//!
//! ```yaml
//! ignores:
//!   - id: CVE-2023-45853
//!     reason: zlib's minizip is not built into this image
//!     package: zlib1g
//!     expires: 2026-12-31
//!   - id: SEC-GENERIC-API-KEY
//!     path: "app/tests/**"
//!     reason: test fixtures hold fake keys
//! ```
//!
//! An entry that has expired stops applying and is reported; so is an entry that matched nothing,
//! since a stale ignore hides the next real finding with the same id.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use rempart_core::{Finding, FindingDetails};
use serde::Deserialize;

use crate::document::{DocumentError, read_capped};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreFile {
    #[serde(default)]
    ignores: Vec<RawEntry>,
}

/// An entry as written, before its globs are compiled; policy documents embed these.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEntry {
    id: String,
    reason: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    package: Option<String>,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    expires: Option<String>,
}

/// One accepted finding.
#[derive(Debug, Clone)]
pub struct IgnoreEntry {
    pub id: String,
    pub reason: String,
    pub path: Option<String>,
    pub package: Option<String>,
    pub image: Option<String>,
    /// `YYYY-MM-DD`; the entry applies up to and including that day.
    pub expires: Option<String>,
    path_matcher: Option<GlobMatcher>,
    image_matcher: Option<GlobMatcher>,
}

/// The entries of an ignore file.
#[derive(Debug, Clone, Default)]
pub struct IgnoreList {
    pub source: Option<PathBuf>,
    pub entries: Vec<IgnoreEntry>,
}

/// The at-most-10 MiB cap keeps a hostile or mistaken file (a log, a binary) from costing much.
const MAX_IGNORE_FILE_BYTES: u64 = 10 * 1024 * 1024;

impl IgnoreList {
    pub fn load(path: &Path) -> Result<IgnoreList, DocumentError> {
        let bytes = read_capped(path, MAX_IGNORE_FILE_BYTES)?;
        let text =
            String::from_utf8(bytes).map_err(|_| DocumentError::invalid(path, "not UTF-8 text"))?;
        IgnoreList::parse(&text, path)
    }

    pub fn parse(text: &str, origin: &Path) -> Result<IgnoreList, DocumentError> {
        let invalid = |message: String| DocumentError::Invalid {
            path: origin.to_owned(),
            message,
        };
        let file: IgnoreFile = serde_saphyr::from_str(text).map_err(|e| invalid(e.to_string()))?;
        IgnoreList::from_entries(file.ignores, origin)
    }

    /// Checks and compiles the entries of an ignore file or a policy document.
    pub(crate) fn from_entries(
        raw_entries: Vec<RawEntry>,
        origin: &Path,
    ) -> Result<IgnoreList, DocumentError> {
        let invalid = |message: String| DocumentError::Invalid {
            path: origin.to_owned(),
            message,
        };
        let mut entries = Vec::new();
        for (index, raw) in raw_entries.into_iter().enumerate() {
            let at = format!("entry {} ({})", index + 1, raw.id);
            if raw.id.trim().is_empty() {
                return Err(invalid(format!("{at}: `id` is empty")));
            }
            if raw.reason.trim().is_empty() {
                return Err(invalid(format!("{at}: every ignore needs a `reason`")));
            }
            if let Some(date) = &raw.expires {
                parse_date(date).ok_or_else(|| {
                    invalid(format!("{at}: `expires` must be YYYY-MM-DD, not `{date}`"))
                })?;
            }
            let glob = |pattern: &Option<String>| -> Result<Option<GlobMatcher>, DocumentError> {
                pattern
                    .as_deref()
                    .map(|p| {
                        Glob::new(p.trim_start_matches('/'))
                            .map(|g| g.compile_matcher())
                            .map_err(|e| invalid(format!("{at}: {e}")))
                    })
                    .transpose()
            };
            entries.push(IgnoreEntry {
                path_matcher: glob(&raw.path)?,
                image_matcher: glob(&raw.image)?,
                id: raw.id,
                reason: raw.reason,
                path: raw.path,
                package: raw.package,
                image: raw.image,
                expires: raw.expires,
            });
        }
        Ok(IgnoreList {
            source: Some(origin.to_owned()),
            entries,
        })
    }
}

impl IgnoreEntry {
    /// True if the entry is still in force on `today` (`YYYY-MM-DD`).
    pub fn active_on(&self, today: &str) -> bool {
        match (&self.expires, parse_date(today)) {
            (Some(expires), Some(today)) => parse_date(expires).is_some_and(|e| today <= e),
            _ => true,
        }
    }

    pub(crate) fn matches(&self, finding: &Finding, image: &str) -> bool {
        let id_matches = finding.id == self.id
            || matches!(&finding.details, FindingDetails::Vulnerability { aliases, .. } if aliases.contains(&self.id));
        if !id_matches {
            return false;
        }
        if let Some(matcher) = &self.path_matcher
            && !matcher.is_match(&finding.location.path)
        {
            return false;
        }
        if let Some(matcher) = &self.image_matcher
            && !matcher.is_match(image)
        {
            return false;
        }
        if let Some(package) = &self.package {
            let FindingDetails::Vulnerability {
                package: name,
                purl,
                ..
            } = &finding.details
            else {
                return false;
            };
            if name != package && purl != package && !purl.starts_with(&format!("{package}@")) {
                return false;
            }
        }
        true
    }
}

/// `YYYY-MM-DD` as a comparable number.
pub(crate) fn parse_date(text: &str) -> Option<u32> {
    let mut parts = text.trim().splitn(3, '-');
    let year: u32 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    ((1..=12).contains(&month) && (1..=31).contains(&day) && year >= 1970)
        .then_some(year * 10_000 + month * 100 + day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_need_a_reason_and_a_real_date() {
        let origin = Path::new(".rempartignore.yaml");
        assert!(IgnoreList::parse("ignores:\n  - id: CVE-1\n    reason: ''\n", origin).is_err());
        assert!(
            IgnoreList::parse(
                "ignores:\n  - id: CVE-1\n    reason: x\n    expires: next week\n",
                origin
            )
            .is_err()
        );
        assert!(
            IgnoreList::parse(
                "ignores:\n  - id: CVE-1\n    reason: x\n    colour: red\n",
                origin
            )
            .is_err()
        );
        let list = IgnoreList::parse(
            "ignores:\n  - id: CVE-1\n    reason: x\n    expires: 2026-01-31\n",
            origin,
        )
        .unwrap();
        assert!(list.entries[0].active_on("2026-01-31"));
        assert!(!list.entries[0].active_on("2026-02-01"));
    }

    #[test]
    fn yaml_bombs_are_refused() {
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nignores: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n";
        assert!(IgnoreList::parse(bomb, Path::new("bomb.yaml")).is_err());
    }
}
