//! A named scan policy as one document (YAML or JSON), the form a server stores and versions:
//! the same severity threshold, fix-state filters, ignores and VEX statements the CLI takes as
//! flags and files, so that a verdict means the same thing wherever it is decided.
//!
//! ```yaml
//! description: release gate
//! severities: [CRITICAL, HIGH, secret=MEDIUM]
//! ignore_unfixed: true
//! fail_on_skipped: true
//! ignores:
//!   - id: CVE-2023-45853
//!     package: zlib1g
//!     reason: minizip is not built into our images
//!     expires: 2027-06-30
//! vex:
//!   - { "@context": "https://openvex.dev/ns/v0.2.0", "statements": [ … ] }
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::document::DocumentError;
use crate::ignore::{IgnoreList, RawEntry};
use crate::policy::Policy;
use crate::selection::parse_severities;
use crate::vex::parse_vex;

/// Policy documents are small; a cap keeps a mistaken upload from costing much.
pub const MAX_POLICY_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;

/// A policy as written. [`PolicyDocument::parse`] checks every part, so a document that parses
/// always gives a [`Policy`].
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Severities that fail the image (`CRITICAL`, or `vuln=HIGH` for one scanner); every
    /// finding counts when empty.
    #[serde(default)]
    pub severities: Vec<String>,
    #[serde(default)]
    pub ignore_unfixed: bool,
    /// Vulnerability states to drop: `will_not_fix`, `fix_deferred`, `end_of_life`,
    /// `under_investigation`, `affected`, `fixed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_statuses: Vec<String>,
    /// The severity an unrated (`UNKNOWN`) vulnerability counts as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_as: Option<String>,
    /// Known exploited vulnerabilities (CISA KEV) fail whatever their severity.
    #[serde(default)]
    pub fail_on_kev: bool,
    /// Vulnerabilities with an EPSS score at or above this fail whatever their severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss_threshold: Option<f64>,
    #[serde(default)]
    pub ignore_unreachable: bool,
    #[serde(default)]
    pub fail_on_skipped: bool,
    #[serde(default)]
    ignores: Vec<RawEntry>,
    /// `OpenVEX` or `CycloneDX` VEX documents, inline.
    #[serde(default)]
    pub vex: Vec<serde_json::Value>,
}

impl PolicyDocument {
    /// Reads and checks a document; `origin` names it in errors (a file, or `policy NAME`).
    pub fn parse(text: &str, origin: &Path) -> Result<PolicyDocument, DocumentError> {
        if text.len() > MAX_POLICY_DOCUMENT_BYTES {
            return Err(DocumentError::invalid(
                origin,
                format!(
                    "the policy document is {} bytes, over the {MAX_POLICY_DOCUMENT_BYTES}-byte limit",
                    text.len()
                ),
            ));
        }
        let document: PolicyDocument = serde_saphyr::from_str(text)
            .map_err(|e| DocumentError::invalid(origin, e.to_string()))?;
        document.to_policy(origin, "")?;
        Ok(document)
    }

    /// The policy this document states, with ignore expiry judged on `today` (`YYYY-MM-DD`).
    pub fn to_policy(&self, origin: &Path, today: &str) -> Result<Policy, DocumentError> {
        let (severities, scanner_severities) = parse_severities(&self.severities)
            .map_err(|e| DocumentError::invalid(origin, format!("severities: {e}")))?;
        let ignores = IgnoreList::from_entries(self.ignores.clone(), origin)?;
        let ignore_statuses = crate::selection::parse_statuses(&self.ignore_statuses)
            .map_err(|e| DocumentError::invalid(origin, format!("ignore_statuses: {e}")))?;
        let unknown_as = self
            .unknown_as
            .as_deref()
            .map(str::parse::<rempart_core::Severity>)
            .transpose()
            .map_err(|e| DocumentError::invalid(origin, format!("unknown_as: {e}")))?;
        if let Some(threshold) = self.epss_threshold
            && !(0.0..=1.0).contains(&threshold)
        {
            return Err(DocumentError::invalid(
                origin,
                format!("epss_threshold: {threshold} is not a probability from 0 to 1"),
            ));
        }
        let mut vex = Vec::new();
        for (index, document) in self.vex.iter().enumerate() {
            vex.extend(parse_vex(document.clone(), origin).map_err(|e| {
                DocumentError::invalid(origin, format!("vex document {}: {e}", index + 1))
            })?);
        }
        Ok(Policy {
            severities,
            scanner_severities,
            ignore_unfixed: self.ignore_unfixed,
            ignore_statuses,
            unknown_as,
            fail_on_kev: self.fail_on_kev,
            epss_threshold: self.epss_threshold,
            ignore_unreachable: self.ignore_unreachable,
            ignores,
            vex,
            today: today.to_owned(),
            fail_on_skipped: self.fail_on_skipped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "policy release";

    #[test]
    fn a_document_gives_the_policy_it_states() {
        let document = PolicyDocument::parse(
            "severities: [CRITICAL, secret=MEDIUM]\nignore_unfixed: true\nignores:\n  - id: CVE-1\n    reason: not built\n    expires: 2020-01-01\n",
            Path::new(ORIGIN),
        )
        .unwrap();
        let policy = document.to_policy(Path::new(ORIGIN), "2026-12-04").unwrap();
        assert_eq!(policy.severities, vec![rempart_core::Severity::Critical]);
        assert_eq!(policy.scanner_severities.len(), 1);
        assert!(policy.ignore_unfixed);
        assert_eq!(policy.ignores.entries.len(), 1);
        assert!(!policy.ignores.entries[0].active_on(&policy.today));
    }

    #[test]
    fn mistakes_are_refused_with_the_part_named() {
        let refuse = |text: &str, expected: &str| {
            let error = PolicyDocument::parse(text, Path::new(ORIGIN))
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(expected) && error.starts_with(ORIGIN),
                "{text:?}: {error}"
            );
        };
        refuse("severities: [SEVERE]\n", "severities");
        refuse("ignores:\n  - id: CVE-1\n", "reason");
        refuse("vex:\n  - {}\n", "vex document 1");
        refuse("treshold: HIGH\n", "treshold");
    }
}
