//! Finds the advisories that affect installed packages.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};

use rempart_core::{
    Finding, FindingDetails, FixState, ImageAnalyzer, ImageContext, OsInfo, Package, ScannerKind,
};

use crate::ecosystem::lookup_key;
use crate::model::{Event, RangeKind, VersionRange};
use crate::store::{Candidate, Database};
use crate::version::VersionScheme;

/// Matches packages against a [`Database`]. As an [`ImageAnalyzer`] it reports one finding per
/// (package, advisory).
///
/// Findings are not filtered by fix state: ignoring unfixed vulnerabilities is the engine's
/// policy, applied after matching.
#[derive(Debug)]
pub struct VulnMatcher {
    database: Database,
}

/// Whether an installed version is affected, and which versions fix it.
#[derive(Debug, PartialEq, Eq)]
struct Verdict {
    fixed_in: Vec<String>,
}

/// The scheme a range's versions are read with. `SEMVER` ranges of Go, npm and crates.io use
/// the ecosystem's comparator, which is SemVer plus the ecosystem's spelling (`v1.2.3`).
fn range_scheme(ecosystem_scheme: VersionScheme, kind: RangeKind) -> Option<VersionScheme> {
    match kind {
        RangeKind::Git => None,
        RangeKind::Ecosystem => Some(ecosystem_scheme),
        RangeKind::Semver => Some(match ecosystem_scheme {
            VersionScheme::Go | VersionScheme::Npm | VersionScheme::Cargo => ecosystem_scheme,
            _ => VersionScheme::SemVer,
        }),
    }
}

/// Compares with `"0"` as the smallest version of every scheme, as OSV's `introduced: "0"` means.
fn compare_event_versions(scheme: VersionScheme, a: &str, b: &str) -> Option<Ordering> {
    match (a == "0", b == "0") {
        (true, true) => Some(Ordering::Equal),
        (true, false) => Some(Ordering::Less),
        (false, true) => Some(Ordering::Greater),
        (false, false) => scheme.compare(a, b).ok(),
    }
}

/// Orders what can be ordered once, when the database is built: each range's events, and the
/// `versions` list (split into readable versions, sorted, and unreadable ones).
pub(crate) fn prepare_for_matching(
    ecosystem: &str,
    ranges: &mut [VersionRange],
    versions: &[String],
) -> (Vec<String>, Vec<String>) {
    let Some(scheme) = VersionScheme::for_osv_ecosystem(ecosystem) else {
        return (Vec::new(), versions.to_vec());
    };
    for range in ranges.iter_mut() {
        let Some(range_scheme) = range_scheme(scheme, range.kind) else {
            continue;
        };
        if range
            .events
            .iter()
            .all(|e| e.version() == "0" || range_scheme.validate(e.version()).is_ok())
        {
            range.events.sort_by(|a, b| {
                compare_event_versions(range_scheme, a.version(), b.version())
                    .unwrap_or(Ordering::Equal)
            });
            range.sorted = true;
        }
    }
    let (mut readable, unreadable): (Vec<String>, Vec<String>) = versions
        .iter()
        .cloned()
        .partition(|v| scheme.validate(v).is_ok());
    readable.sort_by(|a, b| scheme.compare(a, b).unwrap_or(Ordering::Equal));
    (readable, unreadable)
}

/// Evaluates one OSV range: sort the events, then walk them, each `introduced` at or below the
/// version switching "affected" on and each `fixed` at or below it (`last_affected` below it)
/// switching it off. A range with an unreadable version is skipped rather than guessed.
fn range_affects(scheme: VersionScheme, version: &str, range: &VersionRange) -> Option<Vec<String>> {
    let mut events: Vec<&Event> = range
        .events
        .iter()
        .filter(|e| !matches!(e, Event::Limit(_)))
        .collect();
    if !range.sorted {
        let mut unreadable = false;
        events.sort_by(|a, b| {
            compare_event_versions(scheme, a.version(), b.version()).unwrap_or_else(|| {
                unreadable = true;
                Ordering::Equal
            })
        });
        if unreadable {
            return None;
        }
    }
    let mut affected = false;
    // Events past the installed version cannot change the verdict, and every `fixed` among them
    // is an upgrade that fixes it.
    let mut first_above = events.len();
    for (index, event) in events.iter().enumerate() {
        let order = compare_event_versions(scheme, version, event.version())?;
        if order == Ordering::Less {
            first_above = index;
            break;
        }
        match event {
            Event::Introduced(_) if order != Ordering::Less => affected = true,
            Event::Fixed(_) if order != Ordering::Less => affected = false,
            Event::LastAffected(_) if order == Ordering::Greater => affected = false,
            _ => {}
        }
    }
    // `limit` bounds where the range applies (a release branch): at or above every limit the
    // version is outside it.
    let limits: Vec<&str> = range
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Limit(v) if v != "*" => Some(v.as_str()),
            _ => None,
        })
        .collect();
    if !limits.is_empty()
        && !limits
            .iter()
            .any(|l| compare_event_versions(scheme, version, l) == Some(Ordering::Less))
    {
        affected = false;
    }
    if !affected {
        return None;
    }
    Some(
        events[first_above..]
            .iter()
            .filter_map(|e| match e {
                Event::Fixed(v) => Some(v.clone()),
                _ => None,
            })
            .collect(),
    )
}

fn evaluate(scheme: VersionScheme, version: &str, candidate: &Candidate) -> Option<Verdict> {
    let mut hit = candidate.unordered_versions.iter().any(|listed| listed == version)
        || candidate
            .versions
            .binary_search_by(|listed| scheme.compare(listed, version).unwrap_or(Ordering::Less))
            .is_ok();
    let mut fixed_in = Vec::new();
    for range in &candidate.ranges {
        let Some(range_scheme) = range_scheme(scheme, range.kind) else {
            continue;
        };
        if let Some(fixes) = range_affects(range_scheme, version, range) {
            hit = true;
            fixed_in.extend(fixes);
        }
    }
    if !hit {
        return None;
    }
    fixed_in.sort_by(|a, b| scheme.compare(a, b).unwrap_or_else(|_| a.cmp(b)));
    fixed_in.dedup();
    Some(Verdict { fixed_in })
}

fn is_cve(id: &str) -> bool {
    id.starts_with("CVE-")
}

/// The id a finding is reported under.
///
/// Language advisories keep their own id (`GHSA-…`, `PYSEC-…`, `GO-…`): those databases are the
/// authority and their pages carry the detail. Distribution records that merely wrap one CVE
/// (`DEBIAN-CVE-2024-1234`, `UBUNTU-CVE-…`, `ALPINE-CVE-…`) are reported under that CVE, as the
/// distributions' own trackers and Trivy do, so the same flaw has the same id in every image;
/// the wrapper id is kept among the aliases. Advisories covering several CVEs (`DSA-5000-1`)
/// keep their id.
fn report_id(os_package: bool, candidate: &Candidate) -> (String, Vec<String>) {
    let mut aliases = candidate.aliases.clone();
    if os_package && !is_cve(&candidate.id) {
        let cves: BTreeSet<&String> = aliases.iter().filter(|a| is_cve(a)).collect();
        if cves.len() == 1 {
            let cve = (*cves.iter().next().expect("one element")).clone();
            aliases.retain(|a| *a != cve);
            aliases.insert(0, candidate.id.clone());
            return (cve, aliases);
        }
    }
    (candidate.id.clone(), aliases)
}

fn primary_url(id: &str, ecosystem: &str) -> String {
    if is_cve(id) {
        return match ecosystem {
            "Debian" => format!("https://security-tracker.debian.org/tracker/{id}"),
            "Ubuntu" => format!("https://ubuntu.com/security/{id}"),
            "Alpine" => format!("https://security.alpinelinux.org/vuln/{id}"),
            _ => format!("https://nvd.nist.gov/vuln/detail/{id}"),
        };
    }
    if id.starts_with("GHSA-") {
        return format!("https://github.com/advisories/{id}");
    }
    format!("https://osv.dev/vulnerability/{id}")
}

impl VulnMatcher {
    pub fn new(database: Database) -> VulnMatcher {
        VulnMatcher { database }
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Every (package, advisory) match, in package order then advisory id order.
    ///
    /// OS packages are looked up under their source package (Debian, Ubuntu and Alpine file
    /// advisories per source) in the image's distribution release, so a Debian 12 image uses
    /// `Debian:12` data only; without `os`, OS packages are not matched. Language packages are
    /// looked up by ecosystem and normalized name. An advisory that names another one already
    /// reported for the same package as an alias (a PYSEC record and its GHSA twin) is reported
    /// once, under the id that sorts first.
    pub fn match_packages(&self, packages: &[Package], os: Option<&OsInfo>) -> Vec<Finding> {
        let mut cache: HashMap<(&'static str, String, String), Vec<Candidate>> = HashMap::new();
        let mut findings = Vec::new();
        for package in packages {
            let Some((ecosystem, release, name, version)) = lookup_key(package, os) else {
                continue;
            };
            let Some(scheme) = VersionScheme::for_osv_ecosystem(ecosystem) else {
                continue;
            };
            if scheme.validate(version).is_err() {
                continue;
            }
            let key = (ecosystem, release, name);
            if !cache.contains_key(&key) {
                // A database that cannot be read mid-scan yields no matches for this package
                // rather than aborting the others; `open` already proved the file readable.
                let candidates = self
                    .database
                    .candidates(key.0, &key.1, &key.2)
                    .unwrap_or_default();
                cache.insert(key.clone(), candidates);
            }
            let candidates = &cache[&key];
            let ecosystem_label = if key.1.is_empty() {
                ecosystem.to_owned()
            } else {
                format!("{ecosystem}:{}", key.1)
            };
            let mut reported: Vec<(String, Vec<String>)> = Vec::new();
            for candidate in candidates {
                let Some(verdict) = evaluate(scheme, version, candidate) else {
                    continue;
                };
                let (id, aliases) = report_id(package.ecosystem.is_os(), candidate);
                let duplicate = reported.iter().any(|(other, other_aliases)| {
                    *other == id || other_aliases.contains(&id) || aliases.contains(other)
                });
                if duplicate {
                    continue;
                }
                reported.push((id.clone(), aliases.clone()));
                let fix = if !verdict.fixed_in.is_empty() {
                    FixState::Fixed {
                        versions: verdict.fixed_in,
                    }
                } else if candidate.will_not_fix {
                    FixState::WillNotFix
                } else {
                    FixState::NotFixed
                };
                let severity = candidate.package_severity.unwrap_or(candidate.severity);
                findings.push(Finding {
                    scanner: ScannerKind::Vuln,
                    primary_url: Some(primary_url(&id, ecosystem)),
                    title: candidate.title.clone(),
                    severity,
                    location: package.locations.first().cloned().unwrap_or_default(),
                    details: FindingDetails::Vulnerability {
                        package: package.name.clone(),
                        ecosystem: ecosystem_label.clone(),
                        installed_version: package.version.clone(),
                        purl: package.purl.clone(),
                        fix,
                        aliases,
                        cvss: candidate.cvss.clone(),
                        cvss_score: candidate.cvss_score,
                        references: candidate.references.clone(),
                    },
                    id,
                });
            }
        }
        findings
    }
}

impl ImageAnalyzer for VulnMatcher {
    fn name(&self) -> &'static str {
        "vuln"
    }

    fn analyze_image(&self, image: &ImageContext<'_>, findings: &mut Vec<Finding>) {
        findings.extend(self.match_packages(image.packages, image.os));
    }
}
