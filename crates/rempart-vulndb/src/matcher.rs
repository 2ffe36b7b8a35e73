//! Finds the advisories that affect installed packages.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use rempart_core::{
    Ecosystem, Finding, FindingDetails, FixState, GoSymbols, ImageAnalyzer, ImageContext, OsInfo,
    Package, ScannerKind, Severity,
};

use crate::ecosystem::lookup_key;
use crate::model::{Event, RangeKind, VersionRange};
use crate::store::{Candidate, Database};
use crate::version::{ParsedVersion, VersionScheme};

/// Matches packages against a [`Database`]. As an [`ImageAnalyzer`] it reports one finding per
/// (package, advisory).
///
/// Findings are not filtered by fix state: ignoring unfixed vulnerabilities is the engine's
/// policy, applied after matching.
#[derive(Debug)]
pub struct VulnMatcher {
    database: Database,
    /// The database's end-of-life table, read on the first image and kept: it does not change
    /// while the database is open.
    eol_table: std::sync::OnceLock<crate::EolTable>,
}

/// Whether an installed version is affected, and which versions fix it.
#[derive(Debug, PartialEq, Eq)]
struct Verdict {
    fixed_in: Vec<String>,
}

/// The scheme a range's versions are read with. `SEMVER` ranges of Go, npm and crates.io use
/// the ecosystem's comparator, which is `SemVer` plus the ecosystem's spelling (`v1.2.3`).
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

/// Puts each range's events in version order once, when the database is built, so matching
/// can stop at the first event above the installed version. Ranges with a version the scheme
/// cannot read are left as published (and skipped when matching).
pub(crate) fn sort_range_events(ecosystem: &str, ranges: &mut [VersionRange]) {
    let Some(scheme) = VersionScheme::for_osv_ecosystem(ecosystem) else {
        return;
    };
    for range in ranges.iter_mut() {
        let Some(range_scheme) = range_scheme(scheme, range.kind) else {
            continue;
        };
        let parsed: Result<Vec<_>, ()> = range
            .events
            .iter()
            .map(|e| read_event(range_scheme, e.version()))
            .collect();
        let Ok(parsed) = parsed else {
            continue;
        };
        let mut paired: Vec<(Option<ParsedVersion>, Event)> =
            parsed.into_iter().zip(range.events.drain(..)).collect();
        paired.sort_by(|a, b| a.0.cmp(&b.0));
        range.events = paired.into_iter().map(|(_, e)| e).collect();
        range.sorted = true;
    }
}

/// One range with its versions read: `None` stands for `"0"`, before every version.
struct PreparedRange {
    events: Vec<(Event, Option<ParsedVersion>)>,
    scheme: VersionScheme,
    limits: Vec<ParsedVersion>,
}

/// A candidate advisory with every version it mentions read once, reused for every installed
/// version of the same package.
struct Prepared {
    candidate: Candidate,
    /// Ranges whose versions could all be read; a range with an unreadable version is skipped
    /// rather than guessed.
    ranges: Vec<PreparedRange>,
}

fn read_event(scheme: VersionScheme, version: &str) -> Result<Option<ParsedVersion>, ()> {
    if version == "0" {
        return Ok(None);
    }
    scheme.parse(version).map(Some).map_err(|_| ())
}

fn prepare(scheme: VersionScheme, candidate: Candidate) -> Prepared {
    let mut ranges = Vec::new();
    for range in &candidate.ranges {
        let Some(range_scheme) = range_scheme(scheme, range.kind) else {
            continue;
        };
        let events: Result<Vec<_>, ()> = range
            .events
            .iter()
            .filter(|e| !matches!(e, Event::Limit(_)))
            .map(|e| Ok((e.clone(), read_event(range_scheme, e.version())?)))
            .collect();
        let Ok(mut events) = events else {
            continue;
        };
        if !range.sorted {
            // `None` ("0") sorts first; the sort is stable, so ties keep the feed's order.
            events.sort_by(|a, b| a.1.cmp(&b.1));
        }
        let limits = range
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Limit(v) if v != "*" => range_scheme.parse(v).ok(),
                _ => None,
            })
            .collect();
        ranges.push(PreparedRange {
            events,
            scheme: range_scheme,
            limits,
        });
    }
    Prepared { candidate, ranges }
}

/// Evaluates one OSV range: walking the sorted events, each `introduced` at or below the
/// installed version switches "affected" on, each `fixed` at or below it (`last_affected` below
/// it) switches it off. Returns the fixing versions above the installed one when affected.
fn range_affects(range: &PreparedRange, installed: &ParsedVersion) -> Option<Vec<String>> {
    let mut affected = false;
    // Events past the installed version cannot change the verdict, and every `fixed` among them
    // is an upgrade that fixes it.
    let mut first_above = range.events.len();
    for (index, (event, version)) in range.events.iter().enumerate() {
        let order = version
            .as_ref()
            .map_or(Ordering::Greater, |v| installed.cmp(v));
        if order == Ordering::Less {
            first_above = index;
            break;
        }
        match event {
            Event::Introduced(_) => affected = true,
            Event::Fixed(_) => affected = false,
            Event::LastAffected(_) if order == Ordering::Greater => affected = false,
            _ => {}
        }
    }
    // `limit` bounds where the range applies (a release branch): at or above every limit the
    // version is outside it.
    if !range.limits.is_empty() && !range.limits.iter().any(|l| installed < l) {
        affected = false;
    }
    if !affected {
        return None;
    }
    Some(
        range.events[first_above..]
            .iter()
            .filter_map(|(e, _)| match e {
                Event::Fixed(v) => Some(v.clone()),
                _ => None,
            })
            .collect(),
    )
}

fn evaluate(
    scheme: VersionScheme,
    version: &str,
    installed: &ParsedVersion,
    prepared: &Prepared,
) -> Option<Verdict> {
    // Listed versions match by exact spelling, as osv.dev does; the substring test spares
    // decoding lists of hundreds of versions for every package that is not in them.
    let listed = &prepared.candidate.versions_json;
    let mut hit = listed.contains(&format!("\"{version}\""))
        && serde_json::from_str::<Vec<String>>(listed)
            .is_ok_and(|versions| versions.iter().any(|v| v == version));
    let mut fixed_in = Vec::new();
    for range in &prepared.ranges {
        let installed_here;
        let installed = if range.scheme == scheme {
            installed
        } else {
            match range.scheme.parse(version) {
                Ok(parsed) => {
                    installed_here = parsed;
                    &installed_here
                }
                Err(_) => continue,
            }
        };
        if let Some(fixes) = range_affects(range, installed) {
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

/// The function table of the binary a Go module was read from, when there is one.
fn go_symbol_table<'a>(package: &Package, tables: &'a [GoSymbols]) -> Option<&'a GoSymbols> {
    if package.ecosystem != Ecosystem::Go {
        return None;
    }
    let path = package.locations.first()?.path.as_str();
    tables
        .binary_search_by(|table| table.path.as_str().cmp(path))
        .ok()
        .map(|index| &tables[index])
}

/// Whether the binary holds code the advisory says is vulnerable: a listed function of an
/// affected package, or any function of an affected package that lists none. `None` when the
/// advisory does not name its packages (the whole module is then affected).
fn reachable(
    candidate: &Candidate,
    platform: Option<(&str, &str)>,
    table: &GoSymbols,
) -> Option<bool> {
    if candidate.imports.is_empty() {
        return None;
    }
    Some(
        candidate
            .imports
            .iter()
            .filter(|import| platform.is_none_or(|(os, arch)| import.applies_to(os, arch)))
            .any(|import| {
                if import.symbols.is_empty() {
                    table.contains_package(&import.path)
                } else {
                    import
                        .symbols
                        .iter()
                        .any(|symbol| table.contains_symbol(&import.path, symbol))
                }
            }),
    )
}

/// The build target (`GOOS`, `GOARCH`) of the binary a Go module was read from, when its build
/// information records it (`arch` is then `linux/amd64`). Modules read from `go.mod` have none:
/// every platform-limited advisory then applies.
fn go_platform(package: &Package) -> Option<(&str, &str)> {
    if package.ecosystem != Ecosystem::Go {
        return None;
    }
    package.arch.as_deref()?.split_once('/')
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
        VulnMatcher {
            database,
            eol_table: std::sync::OnceLock::new(),
        }
    }

    /// Opens the database at `path` read-only (see [`Database::open`]).
    pub fn open(path: &std::path::Path) -> Result<VulnMatcher, crate::VulnDbError> {
        Database::open(path).map(VulnMatcher::new)
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Every (package, advisory) match, in package order then advisory id order.
    ///
    /// OS packages are looked up under their source package (Debian, Ubuntu and Alpine file
    /// advisories per source) in the image's distribution release, so a Debian 12 image uses
    /// `Debian:12` data only; without `os`, OS packages are not matched. Language packages are
    /// looked up by ecosystem and normalized name. Twin advisories (a PYSEC record naming its
    /// GHSA twin as an alias, with no other flaw) are reported once, under the id that sorts
    /// first.
    ///
    /// An `Err` means the database could not be read (damaged rows included): a scan must fail
    /// then, never report the packages clean.
    pub fn match_packages(
        &self,
        packages: &[Package],
        os: Option<&OsInfo>,
    ) -> Result<Vec<Finding>, crate::VulnDbError> {
        self.match_packages_with_symbols(packages, os, &[])
    }

    /// [`VulnMatcher::match_packages`], and for the Go modules of binaries whose function
    /// table is in `go_symbols` (sorted by path), whether each advisory's vulnerable functions
    /// are in the binary (`reachable`), as `govulncheck -mode binary` tells it.
    pub fn match_packages_with_symbols(
        &self,
        packages: &[Package],
        os: Option<&OsInfo>,
        go_symbols: &[GoSymbols],
    ) -> Result<Vec<Finding>, crate::VulnDbError> {
        type Key = (&'static str, String, String);
        // Read every package's key first, then fetch the advisories of all names of one
        // ecosystem and release in one query.
        let keyed: Vec<Option<(Key, VersionScheme, ParsedVersion, &str)>> = packages
            .iter()
            .map(|package| {
                // A language package in a file an OS package installed (a Go binary or a Python
                // module from a .deb) is the OS package's code: the distribution tracks and
                // fixes it there, so it is matched through the OS package only, never twice.
                if !package.ecosystem.is_os() && package.owned_by.is_some() {
                    return None;
                }
                let (ecosystem, release, name, version) = lookup_key(package, os)?;
                let scheme = VersionScheme::for_osv_ecosystem(ecosystem)?;
                let installed = scheme.parse(version).ok()?;
                Some(((ecosystem, release, name), scheme, installed, version))
            })
            .collect();
        let mut groups: BTreeMap<(&'static str, &str), (VersionScheme, BTreeSet<&str>)> =
            BTreeMap::new();
        for (key, scheme, _, _) in keyed.iter().flatten() {
            groups
                .entry((key.0, key.1.as_str()))
                .or_insert_with(|| (*scheme, BTreeSet::new()))
                .1
                .insert(key.2.as_str());
        }
        let mut cache: HashMap<Key, Vec<Prepared>> = HashMap::new();
        for ((ecosystem, release), (scheme, names)) in groups {
            let names: Vec<&str> = names.into_iter().collect();
            let found = self.database.candidates(ecosystem, release, &names)?;
            for (name, candidates) in found {
                let prepared = candidates
                    .into_iter()
                    .map(|candidate| prepare(scheme, candidate))
                    .collect();
                cache.insert((ecosystem, release.to_owned(), name), prepared);
            }
        }
        let mut findings: Vec<Finding> = Vec::new();
        // The distribution's rating of each finding's package, and the record it is from.
        let mut distribution_ratings: Vec<Option<(Severity, String)>> = Vec::new();
        for (package, keyed) in packages.iter().zip(&keyed) {
            let Some((key, scheme, installed, version)) = keyed else {
                continue;
            };
            let (scheme, version, ecosystem) = (*scheme, *version, key.0);
            let Some(candidates) = cache.get(key) else {
                continue;
            };
            let ecosystem_label = if key.1.is_empty() {
                ecosystem.to_owned()
            } else {
                format!("{ecosystem}:{}", key.1)
            };
            // Each finding reported for this package: its id, its aliases, the CVEs among them,
            // and where it is.
            let mut reported: Vec<(String, Vec<String>, BTreeSet<String>, usize)> = Vec::new();
            let platform = go_platform(package);
            let symbols = go_symbol_table(package, go_symbols);
            for prepared in candidates {
                let candidate = &prepared.candidate;
                if let Some((goos, goarch)) = platform
                    && !candidate.imports.is_empty()
                    && !candidate
                        .imports
                        .iter()
                        .any(|import| import.applies_to(goos, goarch))
                {
                    continue;
                }
                let Some(verdict) = evaluate(scheme, version, installed, prepared) else {
                    continue;
                };
                let (id, aliases) = report_id(package.ecosystem.is_os(), candidate);
                let cves: BTreeSet<String> = std::iter::once(&id)
                    .chain(&aliases)
                    .filter(|a| is_cve(a))
                    .cloned()
                    .collect();
                // A twin names the other as an alias and adds nothing to it, or covers exactly
                // the same CVEs (a GHSA and a PYSEC record of one flaw, neither naming the
                // other); an advisory that also covers other flaws (a DSA fixing two CVEs) is
                // not a twin.
                let twin = reported
                    .iter()
                    .find(|(other, other_aliases, other_cves, _)| {
                        *other == id
                            || other_aliases.contains(&id)
                            || (aliases.contains(other)
                                && aliases
                                    .iter()
                                    .all(|a| a == other || other_aliases.contains(a)))
                            || (!cves.is_empty() && cves == *other_cves)
                    });
                if let Some((kept, _, _, at)) = twin {
                    if distribution_ratings[*at].is_none() {
                        distribution_ratings[*at] = candidate
                            .package_severity
                            .map(|severity| (severity, candidate.id.clone()));
                    }
                    // One finding for the flaw, but every id any of its records carries: a
                    // PYSEC record merged into its GHSA twin stays findable by its own id.
                    if let FindingDetails::Vulnerability {
                        aliases: kept_aliases,
                        ..
                    } = &mut findings[*at].details
                    {
                        for alias in std::iter::once(&id).chain(&aliases) {
                            if alias != kept && !kept_aliases.contains(alias) {
                                kept_aliases.push(alias.clone());
                            }
                        }
                    }
                    continue;
                }
                reported.push((id.clone(), aliases.clone(), cves, findings.len()));
                let fix = if verdict.fixed_in.is_empty() {
                    candidate.state.fix_state()
                } else {
                    FixState::Fixed {
                        versions: verdict.fixed_in,
                    }
                };
                distribution_ratings.push(
                    candidate
                        .package_severity
                        .map(|severity| (severity, candidate.id.clone())),
                );
                findings.push(Finding {
                    scanner: ScannerKind::Vuln,
                    primary_url: Some(primary_url(&id, ecosystem)),
                    title: candidate.title.clone(),
                    // Rated below, from every record of the vulnerability.
                    severity: candidate.severity,
                    location: package.locations.first().cloned().unwrap_or_default(),
                    details: FindingDetails::Vulnerability {
                        package: package.name.clone(),
                        ecosystem: ecosystem_label.clone(),
                        installed_version: package.version.clone(),
                        purl: package.purl.clone(),
                        fix,
                        aliases,
                        cvss: candidate.cvss.clone(),
                        cvss_score: None,
                        references: candidate.references.clone(),
                        reachable: symbols.and_then(|table| reachable(candidate, platform, table)),
                        severity_source: None,
                        kev: None,
                        epss: None,
                    },
                    id,
                });
            }
        }
        self.rate_findings(&mut findings, &distribution_ratings)?;
        Ok(findings)
    }

    /// Sets each finding's severity from every record of its vulnerability (see
    /// [`crate::rating`]) and what CISA's catalogue and EPSS say of its CVEs. Two queries for
    /// the whole scan.
    fn rate_findings(
        &self,
        findings: &mut [Finding],
        distribution_ratings: &[Option<(Severity, String)>],
    ) -> Result<(), crate::VulnDbError> {
        let mut ids: BTreeSet<&str> = BTreeSet::new();
        for finding in findings.iter() {
            if let FindingDetails::Vulnerability { aliases, .. } = &finding.details {
                ids.insert(finding.id.as_str());
                ids.extend(aliases.iter().map(String::as_str));
            }
        }
        let ids: Vec<&str> = ids.into_iter().collect();
        let records = self.database.ratings(&ids)?;
        let cves: Vec<&str> = ids.iter().copied().filter(|id| is_cve(id)).collect();
        let exploitation = self.database.exploitation(&cves)?;
        let mut rated = Vec::with_capacity(findings.len());
        for (finding, distribution) in findings.iter().zip(distribution_ratings) {
            let FindingDetails::Vulnerability { aliases, .. } = &finding.details else {
                rated.push(None);
                continue;
            };
            let known_as: Vec<&str> = std::iter::once(finding.id.as_str())
                .chain(aliases.iter().map(String::as_str))
                .collect();
            let rating = crate::rating::rate(
                &finding.id,
                &known_as,
                distribution
                    .as_ref()
                    .map(|(s, record)| (*s, record.as_str())),
                &records,
            );
            // Any CVE of the vulnerability in the catalogue makes it exploited; the highest
            // EPSS score among its CVEs is its score.
            let known = known_as.iter().filter_map(|id| exploitation.get(*id));
            let kev = known.clone().find_map(|(kev, _)| kev.clone());
            let epss = known
                .filter_map(|(_, epss)| *epss)
                .max_by(|a, b| a.score.total_cmp(&b.score));
            rated.push(Some((rating, kev, epss)));
        }
        for (finding, rated) in findings.iter_mut().zip(rated) {
            let Some((rating, found_kev, found_epss)) = rated else {
                continue;
            };
            finding.severity = rating.severity;
            if let FindingDetails::Vulnerability {
                cvss,
                cvss_score,
                severity_source,
                kev,
                epss,
                ..
            } = &mut finding.details
            {
                *cvss = rating.cvss;
                *cvss_score = rating.cvss_score;
                *severity_source = rating.source;
                *kev = found_kev;
                *epss = found_epss;
            }
        }
        Ok(())
    }
}

impl ImageAnalyzer for VulnMatcher {
    fn name(&self) -> &'static str {
        "vuln"
    }

    fn analyze_image(
        &self,
        image: &ImageContext<'_>,
        findings: &mut Vec<Finding>,
    ) -> Result<(), rempart_core::ImageAnalysisError> {
        let error = |e: crate::VulnDbError| rempart_core::ImageAnalysisError(e.to_string());
        findings.extend(
            self.match_packages_with_symbols(image.packages, image.os, image.go_symbols)
                .map_err(error)?,
        );
        if let Some(os) = image.os {
            let table = if let Some(table) = self.eol_table.get() {
                table
            } else {
                let read = self.database.eol_table().map_err(error)?;
                self.eol_table.get_or_init(|| read)
            };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let today = &crate::store::rfc3339(now)[..10];
            findings.extend(crate::end_of_life::end_of_life_finding(table, os, today));
        }
        Ok(())
    }
}
