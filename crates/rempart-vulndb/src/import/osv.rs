//! OSV records (<https://ossf.github.io/osv-schema/>), as osv.dev exports them per ecosystem.

use std::collections::BTreeMap;
use std::str::FromStr;

use rempart_core::Severity;
use serde::Deserialize;

use crate::ecosystem::{is_module_build, is_rhel_rebuild, module_stream, split_osv_ecosystem};
use crate::model::{
    Advisory, AffectedPackage, Event, GoImport, RangeKind, UnfixedState, VersionRange,
};
use crate::version::VersionScheme;

#[derive(Debug, Deserialize)]
pub(crate) struct OsvRecord {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) modified: Option<String>,
    #[serde(default)]
    pub(crate) withdrawn: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    /// Debian and Ubuntu records name the CVEs they derive from here.
    #[serde(default)]
    upstream: Vec<String>,
    /// Ids of related records. Distribution errata that predate `upstream` name the CVEs they
    /// fix here (`AlmaLinux` and Rocky Linux errata, Chainguard's and older Ubuntu CVE records).
    #[serde(default)]
    related: Vec<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    severity: Vec<OsvSeverity>,
    #[serde(default)]
    affected: Vec<OsvAffected>,
    #[serde(default)]
    references: Vec<OsvReference>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct OsvSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Debug, Deserialize)]
struct OsvReference {
    #[serde(default)]
    url: String,
}

#[derive(Debug, Deserialize)]
struct OsvAffected {
    #[serde(default)]
    package: Option<OsvPackage>,
    #[serde(default)]
    ranges: Vec<OsvRange>,
    #[serde(default)]
    versions: Vec<String>,
    #[serde(default)]
    severity: Vec<OsvSeverity>,
    #[serde(default)]
    ecosystem_specific: Option<serde_json::Value>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct OsvPackage {
    ecosystem: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct OsvRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<BTreeMap<String, String>>,
}

/// The first line of a text, cut to a length a table can show.
pub(crate) fn title_from(text: &str) -> String {
    const MAX_TITLE: usize = 200;
    let line = text.trim().lines().next().unwrap_or("").trim();
    if line.len() <= MAX_TITLE {
        return line.to_owned();
    }
    let mut end = MAX_TITLE;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
}

/// Severity word of a distribution or of GitHub's database (`MODERATE`, `unimportant`).
pub(crate) fn severity_word(value: Option<&serde_json::Value>, keys: &[&str]) -> Option<Severity> {
    let object = value?.as_object()?;
    keys.iter()
        .filter_map(|k| object.get(*k)?.as_str())
        .find_map(distro_severity)
}

/// Maps the words distributions use (Debian urgencies, Ubuntu priorities) onto [`Severity`].
pub(crate) fn distro_severity(word: &str) -> Option<Severity> {
    let word = word.trim().trim_end_matches('*').trim_end_matches('!');
    match word.to_ascii_lowercase().as_str() {
        "unimportant" | "negligible" | "low" => Some(Severity::Low),
        "not yet assigned" | "end-of-life" | "" => None,
        _ => Severity::from_str(word).ok(),
    }
}

/// Score of a CVSS v3 or v4 vector; v2 vectors (no `CVSS:` prefix) are not scored.
pub(crate) fn cvss_score(vector: &str) -> Option<f64> {
    cvss::Cvss::from_str(vector.trim()).ok().map(|c| c.score())
}

/// Whether an OSV ecosystem is an operating system distribution's (its packages are dpkg, RPM or
/// apk packages).
fn is_distribution(ecosystem: &str) -> bool {
    matches!(
        VersionScheme::for_osv_ecosystem(ecosystem),
        Some(VersionScheme::Dpkg | VersionScheme::Rpm | VersionScheme::Apk)
    )
}

fn is_cve(id: &str) -> bool {
    id.starts_with("CVE-")
}

/// The Red Hat rating that RHEL rebuilds' errata carry as the first word of their summary
/// (`Moderate: curl security update`, `Important: firefox security update`).
fn errata_rating(summary: Option<&str>) -> Option<Severity> {
    let (word, _) = summary?.split_once(':')?;
    match word.trim().to_ascii_lowercase().as_str() {
        "low" | "moderate" | "important" | "critical" => distro_severity(word),
        _ => None,
    }
}

/// The `module:stream` pairs an erratum's summary names, after the rating word:
/// `Important: nodejs:18 security, bug fix, and enhancement update` names `nodejs:18`,
/// `Critical: idm:DL1 and idm:client security update` names two.
///
/// The summary is the only place an `AlmaLinux` or Rocky Linux OSV record says which stream
/// its module packages are built in: the package names are plain rpm names (`nodejs`, `npm`),
/// `ecosystem_specific` and `database_specific` say nothing of modules (Rocky Linux's records
/// carry only the `yum_repository`), and the module tag of a fixed release
/// (`.module_el8.8.0+3614+204d6f43`) holds a build number and a context hash, not the stream.
/// Red Hat titles every module erratum this way, and both rebuilds copy Red Hat's title.
fn summary_streams(summary: &str) -> Vec<String> {
    let text = match summary.split_once(':') {
        Some((word, rest)) if errata_rating(Some(summary)).is_some() || word.trim().is_empty() => {
            rest
        }
        _ => summary,
    };
    let mut streams: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let word = word.trim_matches(|c: char| matches!(c, ',' | ';' | '(' | ')' | '.'));
        let Some((module, stream)) = word.split_once(':') else {
            continue;
        };
        let is_name = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'))
        };
        if is_name(module)
            && is_name(stream)
            && let Some(pair) = module_stream(word)
            && !streams.contains(&pair)
        {
            streams.push(pair);
        }
    }
    streams
}

impl OsvRecord {
    /// A bug fix or enhancement erratum of a RHEL rebuild (`ALBA-`, `ALEA-`, `RLBA-`, `RLEA-`)
    /// that names no CVE. Such errata list every package they update with a `fixed` version,
    /// which read as a vulnerability would report every older package.
    pub(crate) fn is_non_security_erratum(&self) -> bool {
        ["ALBA-", "ALEA-", "RLBA-", "RLEA-"]
            .iter()
            .any(|prefix| self.id.starts_with(prefix))
            && !self
                .aliases
                .iter()
                .chain(&self.upstream)
                .chain(&self.related)
                .any(|id| is_cve(id))
    }

    /// The distribution's own rating of the flaw, for the affected packages of that
    /// distribution: Ubuntu's priority (a top-level severity of type `Ubuntu`), or the rating an
    /// `AlmaLinux` or Rocky Linux erratum states in its summary. It wins over a CVSS score, as
    /// Debian's urgency does: the distribution rates the flaw as its builds carry it.
    fn distribution_rating(&self, base: &str) -> Option<Severity> {
        match base {
            "Ubuntu" => self
                .severity
                .iter()
                .find(|s| s.kind == "Ubuntu")
                .and_then(|s| distro_severity(&s.score)),
            "AlmaLinux" | "Rocky Linux" => errata_rating(self.summary.as_deref()),
            _ => None,
        }
    }

    pub(crate) fn into_advisory(self) -> Advisory {
        let title = self
            .summary
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .or(self.details.as_deref())
            .map(title_from)
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| self.id.clone());
        let ratings: BTreeMap<String, Option<Severity>> = self
            .affected
            .iter()
            .filter_map(|a| a.package.as_ref())
            .map(|p| {
                let base = split_osv_ecosystem(&p.ecosystem).0;
                let rating = self.distribution_rating(&base);
                (base, rating)
            })
            .collect();
        // A distribution record without `upstream` names the CVEs it is about under `related`;
        // elsewhere `related` means other flaws, which must not become aliases.
        let related_cves: Vec<String> = if self.upstream.is_empty()
            && !ratings.is_empty()
            && ratings.keys().all(|base| is_distribution(base))
        {
            self.related.into_iter().filter(|id| is_cve(id)).collect()
        } else {
            Vec::new()
        };
        let mut aliases = self.aliases;
        for upstream in self.upstream.into_iter().chain(related_cves) {
            if !aliases.contains(&upstream) && upstream != self.id {
                aliases.push(upstream);
            }
        }
        let cvss: Vec<String> = self
            .severity
            .iter()
            .filter(|s| s.kind.starts_with("CVSS_V"))
            .map(|s| s.score.clone())
            .collect();
        // The newest CVSS version published wins: v4 rescores what v3 over- or under-rated.
        let scored = self
            .severity
            .iter()
            .filter(|s| s.kind == "CVSS_V4" || s.kind == "CVSS_V3")
            .filter_map(|s| Some((s.kind == "CVSS_V4", s.score.trim(), cvss_score(&s.score)?)))
            .max_by_key(|(v4, _, _)| *v4)
            .map(|(_, vector, score)| (vector.to_owned(), score));
        let rated = severity_word(self.database_specific.as_ref(), &["severity"]);
        // Ubuntu rates the whole record (its priority): that is the distribution's rating of
        // each of its packages, not an advisory database's word.
        let record_distro_rating = self
            .severity
            .iter()
            .find(|s| s.kind == "Ubuntu")
            .and_then(|s| distro_severity(&s.score));
        let severity = scored
            .as_ref()
            .map(|(_, score)| Severity::from_cvss_score(*score))
            .or(rated)
            .or(record_distro_rating);
        // Records list a URL once per reference type (`ADVISORY`, `WEB`, `REPORT`): each finding
        // carries the URLs, so each once, in the record's order.
        let mut references: Vec<String> = Vec::with_capacity(self.references.len());
        for reference in self.references {
            if !references.contains(&reference.url) {
                references.push(reference.url);
            }
        }
        let streams = self
            .summary
            .as_deref()
            .map(summary_streams)
            .unwrap_or_default();
        let affected = self
            .affected
            .into_iter()
            .filter_map(|affected| convert_affected(affected, &ratings, &streams))
            .collect();
        let (cvss_vector, cvss_score) = scored.unzip();
        Advisory {
            id: self.id,
            title,
            aliases,
            severity: severity.unwrap_or(Severity::Unknown),
            cvss,
            cvss_vector,
            cvss_score,
            rated_severity: rated,
            references,
            modified: self.modified.as_deref().and_then(normalize_timestamp),
            affected,
        }
    }
}

/// Whether an affected entry is about a module build: one of its versions has a module tag.
fn names_module_build(affected: &OsvAffected) -> bool {
    affected
        .ranges
        .iter()
        .flat_map(|range| &range.events)
        .flat_map(BTreeMap::values)
        .chain(&affected.versions)
        .any(|version| is_module_build(version))
}

/// The name an affected package is filed under. In an `AlmaLinux` or Rocky Linux erratum, an
/// entry whose versions are module builds is filed as `<module>:<stream>/<name>`, as Red Hat's
/// module packages are, so that it meets only rpms installed from that stream (their
/// `MODULARITYLABEL`), never the non-modular package of the same name nor another stream's.
///
/// `None` leaves the entry out: a module build in an erratum whose summary names no stream,
/// or several (`idm:DL1 and idm:client`, `virt:rhel and virt-devel:rhel`), whose entries do not
/// say which of them each belongs to. Filed under the plain name it would be compared with
/// non-modular packages; filed under every named stream, a package of one stream would be
/// compared with another stream's build of it, and module builds of one version order by their
/// build number, so a fully updated stream could read as older than its sibling's fix. Red
/// Hat's importer leaves out module packages whose stream it cannot tell for the same reason.
fn filed_name(base: &str, name: String, modular: bool, streams: &[String]) -> Option<String> {
    if !modular || !is_rhel_rebuild(base) {
        return Some(name);
    }
    match streams {
        [stream] => Some(format!("{stream}/{name}")),
        _ => None,
    }
}

fn convert_affected(
    affected: OsvAffected,
    ratings: &BTreeMap<String, Option<Severity>>,
    streams: &[String],
) -> Option<AffectedPackage> {
    let modular = names_module_build(&affected);
    let package = affected.package?;
    let (ecosystem, release) = split_osv_ecosystem(&package.ecosystem);
    let name = filed_name(&ecosystem, package.name, modular, streams)?;
    let ranges = affected
        .ranges
        .into_iter()
        .filter_map(|range| {
            let kind = match range.kind.as_str() {
                "ECOSYSTEM" => RangeKind::Ecosystem,
                "SEMVER" => RangeKind::Semver,
                "GIT" => RangeKind::Git,
                _ => return None,
            };
            let events = range
                .events
                .into_iter()
                .flat_map(std::iter::IntoIterator::into_iter)
                .filter_map(|(key, value)| match key.as_str() {
                    "introduced" => Some(Event::Introduced(value)),
                    "fixed" => Some(Event::Fixed(value)),
                    "last_affected" => Some(Event::LastAffected(value)),
                    "limit" => Some(Event::Limit(value)),
                    _ => None,
                })
                .collect();
            Some(VersionRange {
                kind,
                events,
                sorted: false,
            })
        })
        .collect();
    let severity = affected
        .severity
        .iter()
        .find(|s| s.kind == "Ubuntu")
        .and_then(|s| distro_severity(&s.score))
        .or_else(|| {
            // `ubuntu_priority`: Ubuntu's records before the priority moved to `severity`.
            severity_word(
                affected.ecosystem_specific.as_ref(),
                &["urgency", "severity", "ubuntu_priority"],
            )
        })
        .or_else(|| severity_word(affected.database_specific.as_ref(), &["urgency"]))
        .or_else(|| ratings.get(&ecosystem).copied().flatten());
    Some(AffectedPackage {
        ecosystem,
        release,
        name,
        ranges,
        versions: affected.versions,
        severity,
        state: UnfixedState::Affected,
        imports: go_imports(affected.ecosystem_specific.as_ref()),
    })
}

/// `ecosystem_specific.imports` of a Go record (the Go vulnerability database's format). A
/// malformed list is read as absent: the whole module is then affected, which reports more,
/// never less.
fn go_imports(specific: Option<&serde_json::Value>) -> Vec<GoImport> {
    specific
        .and_then(|value| value.get("imports"))
        .and_then(|imports| serde_json::from_value::<Vec<GoImport>>(imports.clone()).ok())
        .unwrap_or_default()
}

/// An OSV `modified` time as `YYYY-MM-DDTHH:MM:SSZ` in UTC, so that dates from every feed
/// compare as strings and print alike. Feeds differ: `2024-10-10 17:22:00.587279+00:00` (`PyPA`),
/// `2026-08-21T06:28:40Z` (`RustSec`), and `0001-01-01T00:00:00Z` for "not set" (the Go export):
/// a date before 1970 is no date.
pub(crate) fn normalize_timestamp(text: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let mut text = text.trim().to_owned();
    if text.len() > 10 && text.as_bytes()[10] == b' ' {
        text.replace_range(10..11, "T");
    }
    let parsed = time::OffsetDateTime::parse(&text, &Rfc3339).ok()?;
    let utc = parsed.to_offset(time::UtcOffset::UTC);
    if utc.year() < 1970 {
        return None;
    }
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    ))
}

#[cfg(test)]
mod timestamp_tests {
    use super::normalize_timestamp;

    #[test]
    fn feeds_dates_in_one_form() {
        assert_eq!(
            normalize_timestamp("2024-10-10 17:22:00.587279+00:00").as_deref(),
            Some("2024-10-10T17:22:00Z")
        );
        assert_eq!(
            normalize_timestamp("2026-08-21T06:28:40Z").as_deref(),
            Some("2026-08-21T06:28:40Z")
        );
        assert_eq!(
            normalize_timestamp("2024-01-01T01:30:00+02:00").as_deref(),
            Some("2023-12-31T23:30:00Z")
        );
        assert_eq!(normalize_timestamp("0001-01-01T00:00:00Z"), None);
        assert_eq!(normalize_timestamp("yesterday"), None);
    }
}

#[cfg(test)]
mod reference_tests {
    use super::OsvRecord;

    #[test]
    fn a_url_listed_under_several_reference_types_is_kept_once() {
        // As PYSEC-2019-241 lists its oss-fuzz report (REPORT and WEB) and its openSUSE notice.
        let record: OsvRecord = serde_json::from_str(
            r#"{"id": "PYSEC-TEST-1", "references": [
                {"type": "FIX", "url": "https://example.com/commit"},
                {"type": "REPORT", "url": "https://example.com/issue"},
                {"type": "WEB", "url": "https://example.com/issue"},
                {"type": "ADVISORY", "url": "https://example.com/notice"},
                {"type": "WEB", "url": "https://example.com/notice"},
                {"type": "ARTICLE", "url": "https://example.com/notice"}]}"#,
        )
        .unwrap();
        assert_eq!(
            record.into_advisory().references,
            [
                "https://example.com/commit",
                "https://example.com/issue",
                "https://example.com/notice"
            ]
        );
    }
}

#[cfg(test)]
mod module_stream_tests {
    use super::{filed_name, summary_streams};
    use crate::ecosystem::is_module_build;

    /// Summaries as `AlmaLinux` and Rocky Linux copy them from Red Hat's errata.
    #[test]
    fn streams_named_in_summaries() {
        for (summary, streams) in [
            (
                "Important: nodejs:16 security, bug fix, and enhancement update",
                &["nodejs:16"][..],
            ),
            (
                "Important: postgresql:16 security update",
                &["postgresql:16"],
            ),
            (
                "Moderate: ruby:3.3 security, bug fix, and enhancement update",
                &["ruby:3.3"],
            ),
            (
                "Moderate: container-tools:rhel8 security update",
                &["container-tools:rhel8"],
            ),
            (
                "Critical: idm:DL1 and idm:client security update",
                &["idm:DL1", "idm:client"],
            ),
            ("nodejs:18 security update", &["nodejs:18"]),
            ("Important: postgresql security update", &[]),
            ("Moderate: go-toolset security update", &[]),
            ("lttng-ust bug fix and enhancement update", &[]),
        ] {
            assert_eq!(summary_streams(summary), streams, "{summary}");
        }
    }

    #[test]
    fn module_builds_by_their_release() {
        for version in [
            "1:16.20.2-2.module_el8.8.0+3614+204d6f43",
            "0:3.3.1-2.module+el9.4.0+20787+4c237fd3",
            "1:8.19.4-1.16.20.2.2.module_el8.8.0+3614+204d6f43",
            "2.4.37-51.module+el8.7.0+1182+86a6cd60.5",
        ] {
            assert!(is_module_build(version), "{version}");
        }
        for version in [
            "13.16-1.el9_4",
            "1:11.0.13.0.8-1.el8_4",
            "0",
            "module_el8-1.el8",
        ] {
            assert!(!is_module_build(version), "{version}");
        }
    }

    /// A module build is filed under its stream when the erratum names exactly one, and left
    /// out when it names none or several; other entries keep their name.
    #[test]
    fn module_entries_filed_under_their_stream() {
        let one = ["nodejs:18".to_owned()];
        let two = ["idm:DL1".to_owned(), "idm:client".to_owned()];
        let name = || "nodejs".to_owned();
        for base in ["AlmaLinux", "Rocky Linux"] {
            assert_eq!(
                filed_name(base, name(), true, &one).as_deref(),
                Some("nodejs:18/nodejs")
            );
            assert_eq!(filed_name(base, name(), true, &[]), None);
            assert_eq!(filed_name(base, name(), true, &two), None);
            assert_eq!(
                filed_name(base, name(), false, &one).as_deref(),
                Some("nodejs")
            );
        }
        assert_eq!(
            filed_name("Red Hat", name(), true, &one).as_deref(),
            Some("nodejs")
        );
    }
}
