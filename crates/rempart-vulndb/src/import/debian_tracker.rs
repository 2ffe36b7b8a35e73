//! The Debian security tracker's JSON (`security-tracker.debian.org/tracker/data/json`): per source
//! package, per CVE, per release, a status, a fixed version and an urgency.

use std::collections::BTreeMap;

use rempart_core::Severity;
use serde::Deserialize;

use super::osv::{distro_severity, title_from};
use crate::ecosystem::debian_release_for_codename;
use crate::model::{Advisory, AffectedPackage, Event, RangeKind, UnfixedState, VersionRange};

#[derive(Debug, Deserialize)]
pub(crate) struct TrackerIssue {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    releases: BTreeMap<String, TrackerRelease>,
}

#[derive(Debug, Deserialize)]
struct TrackerRelease {
    #[serde(default)]
    status: String,
    #[serde(default)]
    fixed_version: Option<String>,
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    nodsa_reason: Option<String>,
}

pub(crate) type Tracker = BTreeMap<String, BTreeMap<String, TrackerIssue>>;

/// True when a parsed JSON document has the tracker's shape: packages mapping to issues that
/// carry `releases`.
pub(crate) fn looks_like_tracker(value: &serde_json::Value) -> bool {
    value.as_object().is_some_and(|packages| {
        packages.values().take(5).all(|issues| {
            issues.as_object().is_some_and(|issues| {
                issues
                    .values()
                    .take(5)
                    .all(|issue| issue.get("releases").is_some())
            })
        }) && !packages.is_empty()
    })
}

/// Converts the tracker into advisories, one per issue id, each listing the packages and
/// releases it affects. Releases whose codename rempart does not know (`sid`) are skipped.
pub(crate) fn convert(tracker: Tracker) -> Vec<Advisory> {
    let mut by_id: BTreeMap<String, Advisory> = BTreeMap::new();
    for (package, issues) in tracker {
        for (id, issue) in issues {
            for (codename, state) in issue.releases {
                let Some(release) = debian_release_for_codename(&codename) else {
                    continue;
                };
                let fixed = state
                    .fixed_version
                    .as_deref()
                    .map(str::trim)
                    .filter(|v| !v.is_empty() && *v != "<unfixed>");
                let ranges = match (state.status.as_str(), fixed) {
                    // Fixed in version 0: the package in this release never had the bug.
                    // Fixed in version 0: the package in this release never had the bug. A
                    // resolved entry without a version says nothing to match on.
                    (_, Some("0" | "<not-affected>"))
                    | ("not-affected", _)
                    | ("resolved", None) => {
                        continue;
                    }
                    ("resolved", Some(version)) => vec![
                        Event::Introduced("0".to_owned()),
                        Event::Fixed(version.to_owned()),
                    ],
                    // open, undetermined: affected, no fix yet.
                    _ => vec![Event::Introduced("0".to_owned())],
                };
                // The tracker's own words for an open issue: `no-dsa` with reason `ignored` (not
                // to be fixed in this release) or `postponed` (fixed in a later point release),
                // urgency `end-of-life` (the package is no longer supported), status
                // `undetermined` (not yet known whether it is affected).
                let unfixed = if state.status == "resolved" {
                    UnfixedState::Affected
                } else if state.urgency.as_deref() == Some("end-of-life") {
                    UnfixedState::EndOfLife
                } else {
                    match state.nodsa_reason.as_deref() {
                        Some("ignored") => UnfixedState::WillNotFix,
                        Some("postponed") => UnfixedState::FixDeferred,
                        _ if state.status == "undetermined" => UnfixedState::UnderInvestigation,
                        _ => UnfixedState::Affected,
                    }
                };
                let advisory = by_id.entry(id.clone()).or_insert_with(|| Advisory {
                    title: issue
                        .description
                        .as_deref()
                        .map(title_from)
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| id.clone()),
                    id: id.clone(),
                    aliases: Vec::new(),
                    severity: Severity::Unknown,
                    cvss: Vec::new(),
                    cvss_vector: None,
                    cvss_score: None,
                    rated_severity: None,
                    references: Vec::new(),
                    modified: None,
                    affected: Vec::new(),
                });
                advisory.affected.push(AffectedPackage {
                    ecosystem: "Debian".to_owned(),
                    release: release.to_owned(),
                    name: package.clone(),
                    ranges: vec![VersionRange {
                        kind: RangeKind::Ecosystem,
                        events: ranges,
                        sorted: false,
                    }],
                    versions: Vec::new(),
                    severity: state.urgency.as_deref().and_then(distro_severity),
                    state: unfixed,
                    imports: Vec::new(),
                });
            }
        }
    }
    by_id.into_values().collect()
}
