//! Ubuntu's OpenVEX CVE documents (`vex/cve/YYYY/CVE-….json` of
//! `canonical/ubuntu-security-notices`): the Ubuntu CVE tracker's state of one CVE for every
//! package and release, as OpenVEX statements.
//!
//! Each statement carries one OpenVEX status and lists its products: for every release, the
//! source package as `pkg:deb/ubuntu/NAME@VERSION?arch=source&distro=RELEASE`, followed by the
//! binary packages built from it (which name no release). OpenVEX has four statuses where the
//! tracker has seven states, so Ubuntu writes the rest in its notes:
//!
//! | tracker state | OpenVEX status | told apart by |
//! |---|---|---|
//! | `released` | `fixed` | |
//! | `not-affected`, `DNE` | `not_affected` | the justification (`vulnerable_code_not_present`, `component_not_present`) |
//! | `needed` | `affected` | |
//! | `ignored` | `affected` | "… decided to not fix it", or "… is no longer supported" past the release's standard support |
//! | `needs-triage` | `under_investigation` | |
//! | `deferred` | `under_investigation` | "… deferred" |
//!
//! The version of a product is the one the release carries today, not the first fixed one: a
//! `fixed` statement lists the current build of each release. Fixed versions therefore come from
//! Ubuntu's OSV records only; these documents add what OSV cannot say, why an open entry has no
//! fix and which releases are not affected at all (see [`crate::store::Writer`] for how the two
//! are combined).

use serde::Deserialize;

use super::osv::{distro_severity, normalize_timestamp, title_from};
use crate::ecosystem::ubuntu_release_for_codename;
use rempart_core::Severity;

/// What the tracker says of one source package in one release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VexStatus {
    /// `released`: fixed; the version to upgrade to is OSV's.
    Fixed,
    /// `not-affected` or `DNE`: no finding, whatever another feed says of an open entry.
    NotAffected,
    /// `needed`.
    Affected,
    /// `ignored`: the Ubuntu Security Team decided not to fix it in this release.
    WillNotFix,
    /// `ignored` because the release is past its standard support.
    EndOfLife,
    /// `deferred`.
    FixDeferred,
    /// `needs-triage`.
    UnderInvestigation,
}

impl VexStatus {
    /// The word stored while the documents wait to be combined with the OSV records.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            VexStatus::Fixed => "fixed",
            VexStatus::NotAffected => "not_affected",
            VexStatus::Affected => "affected",
            VexStatus::WillNotFix => "will_not_fix",
            VexStatus::EndOfLife => "end_of_life",
            VexStatus::FixDeferred => "fix_deferred",
            VexStatus::UnderInvestigation => "under_investigation",
        }
    }
}

/// One (CVE, release, source package) of a document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VexEntry {
    pub(crate) cve: String,
    /// The release as `os_key` spells it for an Ubuntu image (`22.04`).
    pub(crate) release: String,
    /// The source package.
    pub(crate) name: String,
    pub(crate) status: VexStatus,
    /// The CVE's description, for an advisory made from the document alone.
    pub(crate) title: String,
    /// Ubuntu's priority, where the statement's notes state it.
    pub(crate) severity: Option<Severity>,
}

/// A document read: its entries and the time it was written.
#[derive(Debug, Default)]
pub(crate) struct Converted {
    pub(crate) entries: Vec<VexEntry>,
    pub(crate) timestamp: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct VexDocument {
    metadata: Metadata,
    statements: Vec<Statement>,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    #[serde(default)]
    timestamp: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Statement {
    vulnerability: Vulnerability,
    #[serde(default)]
    products: Vec<Product>,
    status: String,
    #[serde(default)]
    status_notes: Option<String>,
    #[serde(default, rename = "action_statement")]
    action: Option<String>,
    #[serde(default, rename = "impact_statement")]
    impact: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Vulnerability {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Product {
    #[serde(rename = "@id")]
    id: String,
}

/// Whether a parsed JSON document is one of Canonical's OpenVEX documents: OpenVEX's context
/// (Ubuntu writes it under `metadata`, the specification at the top) and Canonical as author.
pub(crate) fn is_ubuntu_vex(value: &serde_json::Value) -> bool {
    let is_openvex = |object: &serde_json::Value| {
        object
            .get("@context")
            .and_then(serde_json::Value::as_str)
            .is_some_and(|context| context.starts_with("https://openvex.dev/ns"))
    };
    let metadata = value.get("metadata");
    let header = metadata
        .filter(|m| is_openvex(m))
        .or_else(|| is_openvex(value).then_some(value));
    header
        .and_then(|h| h.get("author"))
        .and_then(serde_json::Value::as_str)
        .is_some_and(|author| author.starts_with("Canonical"))
        && value.get("statements").is_some()
}

/// The document's entries for the releases rempart keys Ubuntu images on. Statements whose
/// status OpenVEX does not define make the document unreadable: guessing would report the wrong
/// state.
pub(crate) fn convert(document: &VexDocument) -> Result<Converted, String> {
    let mut entries = Vec::new();
    for statement in &document.statements {
        let cve = statement.vulnerability.name.trim();
        if !cve.starts_with("CVE-") {
            continue;
        }
        let status = status_of(statement)?;
        let title = statement
            .vulnerability
            .description
            .as_deref()
            .map(title_from)
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| cve.to_owned());
        let severity = statement.status_notes.as_deref().and_then(priority);
        for product in &statement.products {
            let Some((name, release)) = source_package(&product.id) else {
                continue;
            };
            entries.push(VexEntry {
                cve: cve.to_owned(),
                release,
                name,
                status,
                title: title.clone(),
                severity,
            });
        }
    }
    Ok(Converted {
        entries,
        timestamp: document.metadata.timestamp.as_deref().and_then(timestamp),
    })
}

/// The tracker state a statement stands for. OpenVEX has no field for why an affected package
/// has no fix; Ubuntu's fixed wording in the notes is the only carrier, and these are the
/// phrases its documentation gives for each state.
fn status_of(statement: &Statement) -> Result<VexStatus, String> {
    let notes = [
        statement.status_notes.as_deref(),
        statement.action.as_deref(),
        statement.impact.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
    .to_ascii_lowercase();
    Ok(match statement.status.as_str() {
        "fixed" => VexStatus::Fixed,
        "not_affected" => VexStatus::NotAffected,
        "affected" if notes.contains("no longer supported") => VexStatus::EndOfLife,
        "affected" if notes.contains("decided to not fix") => VexStatus::WillNotFix,
        "affected" => VexStatus::Affected,
        "under_investigation" if notes.contains("deferred") => VexStatus::FixDeferred,
        "under_investigation" => VexStatus::UnderInvestigation,
        other => {
            return Err(format!(
                "statement for {} has status `{other}`, which OpenVEX does not define",
                statement.vulnerability.name
            ));
        }
    })
}

/// Ubuntu's priority, as its notes state it ("… classified this CVE as of Low priority.").
fn priority(notes: &str) -> Option<Severity> {
    let (_, rest) = notes.split_once("as of ")?;
    let (word, _) = rest.split_once(" priority")?;
    distro_severity(word)
}

/// Ubuntu writes `2025-11-27T05:34:30.268005`, without a zone: it is UTC.
fn timestamp(text: &str) -> Option<String> {
    let text = text.trim();
    let has_zone = text.ends_with('Z') || text.get(19..).is_some_and(|t| t.contains(['+', '-']));
    if has_zone {
        normalize_timestamp(text)
    } else {
        normalize_timestamp(&format!("{text}Z"))
    }
}

/// The source package and release of a product, when the product is a source package of a
/// release an Ubuntu image can be. Binary packages name no release; the matcher looks Ubuntu
/// packages up under their source package, as OSV files them, so the source products carry all
/// that is needed.
///
/// The release is the purl's `distro` qualifier: the codename (`noble`; older documents wrote
/// `ubuntu/noble`, and `?` before `distro` instead of `&`). A qualifier with a pocket
/// (`esm-infra/xenial`, `esm-apps/jammy`, `trusty/esm`, `fips/focal`, `fips-updates/jammy`,
/// `fips-preview/jammy`, `realtime/jammy`) names a build that only a machine attached to an
/// Ubuntu Pro subscription installs; an image cannot show one, and a fix published there is no
/// fix for the archive's build, so those products are left out, as the `Ubuntu:Pro:…` OSV
/// ecosystems are kept apart.
fn source_package(purl: &str) -> Option<(String, String)> {
    let rest = purl.strip_prefix("pkg:deb/ubuntu/")?;
    let rest = rest.split('#').next()?;
    let (path, qualifiers) = rest.split_once('?')?;
    let (name, _version) = path.split_once('@')?;
    let mut arch = None;
    let mut distro = None;
    for pair in qualifiers.split(['&', '?']) {
        match pair.split_once('=') {
            Some(("arch", value)) => arch = Some(value),
            Some(("distro", value)) => distro = Some(value),
            _ => {}
        }
    }
    if !matches!(arch, Some("source" | "src")) {
        return None;
    }
    let distro = distro?;
    let distro = distro.strip_prefix("ubuntu/").unwrap_or(distro);
    if distro.contains('/') {
        return None;
    }
    let release = ubuntu_release_for_codename(distro)?;
    let name = String::from_utf8_lossy(&rempart_core::percent_decode(name.as_bytes())).into_owned();
    (!name.is_empty()).then(|| (name, release.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::{VexStatus, source_package, status_of, timestamp};

    #[test]
    fn source_products_of_archive_releases_only() {
        let cases = [
            (
                "pkg:deb/ubuntu/openssl@3.5.3-1ubuntu2?arch=source&distro=questing",
                Some(("openssl", "25.10")),
            ),
            (
                "pkg:deb/ubuntu/gnupg2@2.2.4-1ubuntu1.6?arch=src?distro=ubuntu/bionic",
                Some(("gnupg2", "18.04")),
            ),
            ("pkg:deb/ubuntu/openssl@3.0.13-0ubuntu3.6?arch=amd64", None),
            (
                "pkg:deb/ubuntu/openssl@1.0.2g-1ubuntu4.20+esm13?arch=source&distro=esm-infra/xenial",
                None,
            ),
            (
                "pkg:deb/ubuntu/openssl@1.0.1f-1ubuntu2.27+esm10?arch=source&distro=trusty/esm",
                None,
            ),
            (
                "pkg:deb/ubuntu/nodejs@12.22.9~dfsg-1ubuntu3.6+esm2?arch=source&distro=esm-apps/jammy",
                None,
            ),
            (
                "pkg:deb/ubuntu/openssl@1.1.1f-1ubuntu2.fips.7.1?arch=source&distro=fips/focal",
                None,
            ),
            (
                "pkg:deb/ubuntu/libsigc%2B%2B-2.0@2.12.1-2?arch=source&distro=noble",
                Some(("libsigc++-2.0", "24.04")),
            ),
            ("pkg:deb/ubuntu/foo@1?arch=source&distro=warty", None),
            (
                "pkg:deb/debian/openssl@3.0.11-1?arch=source&distro=bookworm",
                None,
            ),
        ];
        for (purl, expected) in cases {
            let found = source_package(purl);
            let expected = expected.map(|(n, r)| (n.to_owned(), r.to_owned()));
            assert_eq!(found, expected, "{purl}");
        }
    }

    #[test]
    fn zoneless_timestamps_are_utc() {
        assert_eq!(
            timestamp("2025-11-27T05:34:30.268005").as_deref(),
            Some("2025-11-27T05:34:30Z")
        );
        assert_eq!(
            timestamp("2025-07-23T05:12:19+02:00").as_deref(),
            Some("2025-07-23T03:12:19Z")
        );
    }

    #[test]
    fn unknown_status_is_refused() {
        let statement = serde_json::from_str(
            r#"{"vulnerability": {"name": "CVE-2024-0727"}, "status": "exploitable"}"#,
        )
        .unwrap();
        let error = status_of(&statement).unwrap_err();
        assert!(error.contains("exploitable"), "{error}");
        let statement = serde_json::from_str(
            r#"{"vulnerability": {"name": "CVE-2024-0727"}, "status": "under_investigation",
                "status_notes": "Vulnerability assessment is pending."}"#,
        )
        .unwrap();
        assert_eq!(status_of(&statement), Ok(VexStatus::UnderInvestigation));
    }
}
