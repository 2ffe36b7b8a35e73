//! End of life of container base OS releases: a dated table shipped with rempart, and the lookup
//! from an image's os-release to the release it runs.
//!
//! An image whose OS release no longer gets security updates keeps every vulnerability found
//! after that date, and the advisory feeds, which follow what the publisher fixes, stop covering
//! the release. The table lets a scan report that fact on its own, as a finding.
//!
//! # What "end of life" means here
//!
//! Each release carries one date, `eol`: the last day on which its publisher still ships
//! security updates **free of charge**. After it, fixes come only from a paid programme, or not
//! at all. The free date is the one that matters for an image: whoever builds `FROM` a base
//! image gets the public repositories, not the subscription some hosts may hold. Per
//! distribution that is:
//!
//! - Debian: the end of Debian LTS (free, run by volunteers and sponsors after the security
//!   team's three years); Freexian's Extended LTS is paid.
//! - Ubuntu: the end of standard support; Expanded Security Maintenance (ESM) needs Ubuntu Pro.
//!   Interim releases get nine months.
//! - Red Hat Enterprise Linux and its Universal Base Images (both `ID=rhel`): the end of
//!   Maintenance Support; Extended Life Cycle Support is a paid add-on.
//! - Rocky Linux, `AlmaLinux`: the end of security support of the major release.
//! - Oracle Linux: the end of Premier Support; Extended Support is paid.
//! - `CentOS` Linux and `CentOS` Stream: the end of updates (Stream follows the RHEL Full Support
//!   phase of its major).
//! - SUSE Linux Enterprise Server: the end of general support of each service pack; LTSS is paid.
//! - openSUSE Leap: the end of maintenance of each minor release.
//! - Fedora Linux: four weeks after release N+2 comes out.
//! - Alpine Linux: the end of security support of the branch's `main` repository.
//! - Amazon Linux: the end of support AWS publishes for Amazon Linux 2 and 2023 (and the
//!   original Amazon Linux AMI, `2018.03`).
//!
//! Rolling distributions (Wolfi, Chainguard, Arch, openSUSE Tumbleweed, Debian sid) have no
//! release to age out and no entry. Where a publisher states only a month, the table records
//! the last day of that month and says so in the release's note, so a finding never fires
//! before the publisher's own statement. A release whose end has not been announced has
//! `eol: null`.
//!
//! # Release keys
//!
//! [`EolTable::release_for`] turns `VERSION_ID` into the key the table files a release under:
//!
//! | `ID` | `VERSION_ID` | key |
//! | --- | --- | --- |
//! | `debian` | `12` (or empty, with `VERSION_CODENAME=trixie`) | `12` (`13`) |
//! | `ubuntu` | `22.04` | `22.04` |
//! | `alpine` | `3.19.1`, `3.21.0_alpha20240807` (edge) | `3.19`, `3.21` |
//! | `rhel`, `rocky`, `almalinux`, `ol`, `fedora` | `9.4`, `40` | `9`, `40` |
//! | `centos` | `7`; `8` or `9` with `PRETTY_NAME` `CentOS Stream …` | `7`; `stream-8`, `stream-9` |
//! | `sles` | `15`, `15.5`, `12.5` | `15`, `15 SP5`, `12 SP5` |
//! | `opensuse-leap` (and `opensuse`, Leap 42) | `15.5`, `42.3` | `15.5`, `42.3` |
//! | `amzn` | `2`, `2023`, `2018.03` | `2`, `2023`, `2018.03` |
//!
//! SUSE Linux Enterprise 12 and 15 spell a service pack as `15 SP5`, the way SUSE names it,
//! and the initial release as plain `15`; later majors keep `major.minor`. `CentOS` needs
//! `PRETTY_NAME` because `CentOS` Linux 8 and `CentOS` Stream 8 both say `ID=centos`,
//! `VERSION_ID=8`; with no `PRETTY_NAME` an `8` is taken as `CentOS` Linux 8.

use std::collections::HashSet;
use std::sync::OnceLock;

use rempart_core::OsInfo;
use serde::{Deserialize, Deserializer, Serialize};

use crate::VulnDbError;

/// The table shipped with rempart.
pub(crate) const BUILTIN: &str = include_str!("../data/os-eol.json");

/// How errors name the input.
const INPUT: &str = "end-of-life table";

/// os-release `ID`s that name a distribution the table files under another `ID`: openSUSE Leap
/// 42.x said `ID=opensuse`, Leap 15 and later say `opensuse-leap`.
const ID_ALIASES: &[(&str, &str)] = &[("opensuse", "opensuse-leap")];

/// One OS release and the last day of its free security support.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EolRelease {
    /// The distribution's name: `Debian`, `Ubuntu`, `Red Hat Enterprise Linux`.
    pub distribution: String,
    /// The key the release is filed under: `12`, `22.04`, `3.19`, `15 SP5`, `stream-9`.
    pub release: String,
    /// The release's full name: `Debian 12 (bookworm)`, `Ubuntu 22.04 LTS (Jammy Jellyfish)`.
    pub name: String,
    /// The last day (`YYYY-MM-DD`) of free security updates, or `None` when not yet announced.
    pub eol: Option<String>,
    /// What the date is and what (paid) support follows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl EolRelease {
    /// Whether `today` (`YYYY-MM-DD`) lies after the end of life. The end-of-life day itself is
    /// still supported. A release with no announced date is never past, and neither is any
    /// release when `today` is not a valid `YYYY-MM-DD` date.
    pub fn is_past(&self, today: &str) -> bool {
        let eol = self.eol.as_deref().and_then(parse_date);
        match (eol, parse_date(today)) {
            (Some(eol), Some(today)) => today > eol,
            _ => false,
        }
    }
}

/// The end-of-life dates of base OS releases, by os-release `ID` and release.
#[derive(Debug, Clone)]
pub struct EolTable {
    updated: String,
    sources: Vec<String>,
    distributions: Vec<Distribution>,
}

#[derive(Debug, Clone)]
struct Distribution {
    id: String,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    codename: Option<String>,
    release: EolRelease,
}

impl EolTable {
    /// The table shipped with this build of rempart (`data/os-eol.json`), parsed once.
    pub fn builtin() -> &'static EolTable {
        static TABLE: OnceLock<EolTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            EolTable::from_json(BUILTIN)
                .expect("the shipped end-of-life table is valid: its unit tests parse it")
        })
    }

    /// Parses and checks a table in the format of `data/os-eol.json`.
    ///
    /// Refused, with the reason naming the distribution, release and value at fault: text that
    /// is not such a JSON document (unknown keys included), dates that are not real
    /// `YYYY-MM-DD` dates, a release without an `eol` key (`null` says "not announced"), a
    /// release or codename listed twice in one distribution, a distribution listed twice, and
    /// a table, or a distribution, with nothing in it.
    pub fn from_json(text: &str) -> Result<EolTable, VulnDbError> {
        let raw: RawTable = serde_json::from_str(text)
            .map_err(|e| invalid(format!("not a valid end-of-life table: {e}")))?;
        check_date(&raw.updated, || "`updated`".to_owned())?;
        if raw.sources.is_empty() {
            return Err(invalid(
                "`sources` is empty: the table must say where its dates come from",
            ));
        }
        if raw.distributions.is_empty() {
            return Err(invalid("the table lists no distributions"));
        }
        let mut ids = HashSet::new();
        let mut distributions = Vec::with_capacity(raw.distributions.len());
        for dist in raw.distributions {
            distributions.push(check_distribution(dist, &mut ids)?);
        }
        Ok(EolTable {
            updated: raw.updated,
            sources: raw.sources,
            distributions,
        })
    }

    /// The day (`YYYY-MM-DD`) the table's dates were last checked against their sources.
    pub fn updated(&self) -> &str {
        &self.updated
    }

    /// Where the dates come from.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Every release, with the os-release `ID` of its distribution, in table order.
    pub fn releases(&self) -> impl Iterator<Item = (&str, &EolRelease)> {
        self.distributions.iter().flat_map(|dist| {
            dist.entries
                .iter()
                .map(move |entry| (dist.id.as_str(), &entry.release))
        })
    }

    /// The release an image runs, from its os-release, or `None` when the distribution is not in
    /// the table (rolling distributions included) or the release is not. See the module
    /// documentation for how `VERSION_ID` becomes a release key; `VERSION_CODENAME` is used only
    /// when `VERSION_ID` is empty, as on Debian testing.
    pub fn release_for(&self, os: &OsInfo) -> Option<&EolRelease> {
        let id = os.id.trim().to_ascii_lowercase();
        let id = ID_ALIASES
            .iter()
            .find(|(alias, _)| *alias == id)
            .map_or(id.as_str(), |(_, target)| target);
        let dist = self.distributions.iter().find(|dist| dist.id == id)?;
        let version = os.version_id.trim();
        let entry = if version.is_empty() {
            let codename = os.codename.as_deref().map(str::trim)?;
            dist.entries.iter().find(|entry| {
                entry
                    .codename
                    .as_deref()
                    .is_some_and(|c| !codename.is_empty() && c.eq_ignore_ascii_case(codename))
            })?
        } else {
            release_keys(id, version, os.pretty_name.as_deref())
                .iter()
                .find_map(|key| {
                    dist.entries
                        .iter()
                        .find(|entry| entry.release.release == *key)
                })?
        };
        Some(&entry.release)
    }
}

/// The keys, most specific first, a `VERSION_ID` may be filed under for distribution `id`.
fn release_keys(id: &str, version: &str, pretty_name: Option<&str>) -> Vec<String> {
    let mut parts = version.split('.');
    let major = parts.next().unwrap_or_default();
    let minor = parts.next();
    match id {
        "ubuntu" | "opensuse-leap" => minor
            .map(|minor| vec![format!("{major}.{minor}")])
            .unwrap_or_default(),
        "alpine" => {
            // Edge snapshots carry the branch they lead to: `3.21.0_alpha20240807`.
            let release = version.split('_').next().unwrap_or_default();
            let mut parts = release.split('.');
            match (parts.next(), parts.next()) {
                (Some(major), Some(minor)) if is_number(major) && is_number(minor) => {
                    vec![format!("{major}.{minor}")]
                }
                _ => Vec::new(),
            }
        }
        "sles" => match major.parse::<u32>() {
            Ok(number) if number <= 15 => match minor {
                None | Some("0") => vec![major.to_owned()],
                Some(sp) => vec![format!("{major} SP{sp}")],
            },
            Ok(_) => vec![format!("{major}.{}", minor.unwrap_or("0"))],
            Err(_) => Vec::new(),
        },
        "centos" => {
            let stream = pretty_name.is_some_and(|p| p.to_ascii_lowercase().contains("stream"));
            match major.parse::<u32>() {
                // CentOS Linux ended at 8; every later CentOS is a Stream.
                Ok(number) if number >= 9 || (number == 8 && stream) => {
                    vec![format!("stream-{major}")]
                }
                _ => vec![major.to_owned()],
            }
        }
        // `2018.03` is a release of its own; `2` and `2023` are majors.
        "amzn" => vec![version.to_owned(), major.to_owned()],
        _ => vec![major.to_owned()],
    }
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn check_distribution(
    raw: RawDistribution,
    ids: &mut HashSet<String>,
) -> Result<Distribution, VulnDbError> {
    let id = raw.id;
    if id.is_empty() || id != id.trim() || id != id.to_ascii_lowercase() {
        return Err(invalid(format!(
            "distribution id {id:?} is not an os-release ID (lowercase, no spaces)"
        )));
    }
    if !ids.insert(id.clone()) {
        return Err(invalid(format!("distribution {id:?} is listed twice")));
    }
    if raw.name.trim().is_empty() {
        return Err(invalid(format!("distribution {id:?} has no name")));
    }
    if raw.releases.is_empty() {
        return Err(invalid(format!("distribution {id:?} lists no releases")));
    }
    let mut keys = HashSet::new();
    let mut codenames = HashSet::new();
    let mut entries = Vec::with_capacity(raw.releases.len());
    for release in raw.releases {
        let key = release.release;
        if key.trim().is_empty() {
            return Err(invalid(format!("{id}: a release has an empty `release`")));
        }
        if !keys.insert(key.clone()) {
            return Err(invalid(format!("{id}: release {key:?} is listed twice")));
        }
        if let Some(codename) = &release.codename
            && !codenames.insert(codename.to_ascii_lowercase())
        {
            return Err(invalid(format!(
                "{id}: codename {codename:?} is listed twice"
            )));
        }
        if release.name.trim().is_empty() {
            return Err(invalid(format!("{id} release {key:?} has no name")));
        }
        let eol = match release.eol {
            EolField::Missing => {
                return Err(invalid(format!(
                    "{id} release {key:?} has no `eol`: give a date, or null when none is announced"
                )));
            }
            EolField::Null => None,
            EolField::Date(date) => {
                check_date(&date, || format!("{id} release {key:?}: `eol`"))?;
                Some(date)
            }
        };
        entries.push(Entry {
            codename: release.codename,
            release: EolRelease {
                distribution: raw.name.clone(),
                release: key,
                name: release.name,
                eol,
                note: release.note,
            },
        });
    }
    Ok(Distribution { id, entries })
}

fn check_date(text: &str, what: impl FnOnce() -> String) -> Result<(), VulnDbError> {
    if parse_date(text).is_some() {
        Ok(())
    } else {
        Err(invalid(format!(
            "{} {text:?} is not a YYYY-MM-DD date",
            what()
        )))
    }
}

/// A `YYYY-MM-DD` calendar date, and only that spelling.
fn parse_date(text: &str) -> Option<time::Date> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

fn invalid(reason: impl Into<String>) -> VulnDbError {
    VulnDbError::Parse {
        input: INPUT.to_owned(),
        reason: reason.into(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    updated: String,
    sources: Vec<String>,
    distributions: Vec<RawDistribution>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDistribution {
    id: String,
    name: String,
    releases: Vec<RawRelease>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelease {
    release: String,
    #[serde(default)]
    codename: Option<String>,
    name: String,
    #[serde(default, deserialize_with = "eol_field")]
    eol: EolField,
    #[serde(default)]
    note: Option<String>,
}

/// An `eol` key as written: a missing key is an error, `null` says no date is announced.
#[derive(Default)]
enum EolField {
    #[default]
    Missing,
    Null,
    Date(String),
}

/// Only a present key reaches this, so a `null` stays apart from a missing key.
fn eol_field<'de, D: Deserializer<'de>>(deserializer: D) -> Result<EolField, D::Error> {
    Option::<String>::deserialize(deserializer)
        .map(|eol| eol.map_or(EolField::Null, EolField::Date))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(id: &str, version_id: &str, codename: Option<&str>, pretty: Option<&str>) -> OsInfo {
        OsInfo {
            id: id.to_owned(),
            version_id: version_id.to_owned(),
            codename: codename.map(str::to_owned),
            pretty_name: pretty.map(str::to_owned),
        }
    }

    /// The key of the release the builtin table finds for an os-release, if any.
    fn key(
        id: &str,
        version_id: &str,
        codename: Option<&str>,
        pretty: Option<&str>,
    ) -> Option<String> {
        EolTable::builtin()
            .release_for(&os(id, version_id, codename, pretty))
            .map(|r| r.release.clone())
    }

    fn eol_of(id: &str, version_id: &str) -> Option<String> {
        EolTable::builtin()
            .release_for(&os(id, version_id, None, None))
            .and_then(|r| r.eol.clone())
    }

    fn reason(result: Result<EolTable, VulnDbError>) -> String {
        match result {
            Err(VulnDbError::Parse { input, reason }) => {
                assert_eq!(input, INPUT);
                reason
            }
            Err(other) => panic!("expected a parse error, got {other}"),
            Ok(_) => panic!("the table was accepted"),
        }
    }

    /// A one-distribution table with the given releases (JSON objects).
    fn table_with(releases: &str) -> String {
        format!(
            r#"{{"updated": "2026-01-01", "sources": ["https://example.org"],
               "distributions": [{{"id": "debian", "name": "Debian", "releases": [{releases}]}}]}}"#
        )
    }

    const GOOD_RELEASE: &str =
        r#"{"release": "12", "codename": "bookworm", "name": "Debian 12", "eol": "2028-06-30"}"#;

    #[test]
    fn builtin_table_parses_and_covers_the_base_images() {
        let table = EolTable::builtin();
        assert!(parse_date(table.updated()).is_some(), "{}", table.updated());
        assert!(table.sources().iter().all(|s| s.starts_with("https://")));
        let ids: HashSet<&str> = table.releases().map(|(id, _)| id).collect();
        for id in [
            "debian",
            "ubuntu",
            "alpine",
            "rhel",
            "rocky",
            "almalinux",
            "ol",
            "centos",
            "sles",
            "opensuse-leap",
            "fedora",
            "amzn",
        ] {
            assert!(ids.contains(id), "no releases for {id}");
        }
        assert!(
            !ids.contains("wolfi"),
            "rolling distributions have no end of life"
        );
    }

    #[test]
    fn every_shipped_date_is_a_real_date() {
        // Read the file on its own, not through `from_json`, so a check dropped there shows here.
        let doc: serde_json::Value = serde_json::from_str(BUILTIN).unwrap();
        assert!(parse_date(doc["updated"].as_str().unwrap()).is_some());
        let mut dates = 0;
        for dist in doc["distributions"].as_array().unwrap() {
            for release in dist["releases"].as_array().unwrap() {
                let eol = &release["eol"];
                assert!(
                    eol.is_null() || eol.as_str().and_then(parse_date).is_some(),
                    "{} {}: eol {eol}",
                    dist["id"],
                    release["release"]
                );
                dates += usize::from(eol.is_string());
            }
        }
        assert!(dates > 100, "only {dates} dates");
    }

    #[test]
    fn shipped_dates_match_the_publishers() {
        // A handful of anchors: a data edit that shifts them is caught here.
        assert_eq!(eol_of("debian", "10").as_deref(), Some("2024-06-30"));
        assert_eq!(eol_of("debian", "11").as_deref(), Some("2026-08-31"));
        assert_eq!(eol_of("ubuntu", "18.04").as_deref(), Some("2023-05-31"));
        assert_eq!(eol_of("ubuntu", "22.04").as_deref(), Some("2027-04-30"));
        assert_eq!(eol_of("alpine", "3.18.4").as_deref(), Some("2025-05-09"));
        assert_eq!(eol_of("rhel", "7.9").as_deref(), Some("2024-06-30"));
        assert_eq!(eol_of("rhel", "9.4").as_deref(), Some("2032-05-31"));
        assert_eq!(eol_of("amzn", "2").as_deref(), Some("2026-06-30"));
        assert_eq!(eol_of("amzn", "2023").as_deref(), Some("2029-06-30"));
    }

    #[test]
    fn debian_by_major_or_by_codename() {
        assert_eq!(
            key("debian", "12", Some("bookworm"), None).as_deref(),
            Some("12")
        );
        assert_eq!(
            key("debian", "8", Some("jessie"), None).as_deref(),
            Some("8")
        );
        // Testing images have no VERSION_ID, only the codename of the release to come.
        assert_eq!(
            key("debian", "", Some("trixie"), None).as_deref(),
            Some("13")
        );
        assert_eq!(
            key("debian", "", Some("Trixie"), None).as_deref(),
            Some("13")
        );
        // sid never becomes a release; an empty codename matches nothing.
        assert_eq!(key("debian", "", Some("sid"), None), None);
        assert_eq!(key("debian", "", Some(""), None), None);
        assert_eq!(key("debian", "", None, None), None);
        let release = EolTable::builtin()
            .release_for(&os("debian", "", Some("bookworm"), None))
            .unwrap();
        assert_eq!(release.distribution, "Debian");
        assert_eq!(release.name, "Debian 12 (bookworm)");
    }

    #[test]
    fn ubuntu_by_year_and_month() {
        assert_eq!(
            key("ubuntu", "22.04", Some("jammy"), None).as_deref(),
            Some("22.04")
        );
        assert_eq!(
            key("ubuntu", "24.10", Some("oracular"), None).as_deref(),
            Some("24.10")
        );
        assert_eq!(
            key("ubuntu", "", Some("noble"), None).as_deref(),
            Some("24.04")
        );
        assert_eq!(key("ubuntu", "22", None, None), None);
        let focal = EolTable::builtin()
            .release_for(&os("ubuntu", "20.04", Some("focal"), None))
            .unwrap();
        assert_eq!(focal.name, "Ubuntu 20.04 LTS (Focal Fossa)");
        assert!(focal.note.as_deref().unwrap().contains("ESM"));
    }

    #[test]
    fn alpine_by_branch_including_edge() {
        assert_eq!(key("alpine", "3.19.1", None, None).as_deref(), Some("3.19"));
        assert_eq!(key("alpine", "3.10.9", None, None).as_deref(), Some("3.10"));
        assert_eq!(
            key("alpine", "3.21.0_alpha2024", None, None).as_deref(),
            Some("3.21")
        );
        assert_eq!(
            key("alpine", "3.20.0_alpha20240329", None, None).as_deref(),
            Some("3.20")
        );
        assert_eq!(key("alpine", "edge", None, None), None);
        assert_eq!(key("alpine", "3", None, None), None);
    }

    #[test]
    fn enterprise_linux_by_major() {
        let ubi = Some("Red Hat Enterprise Linux 9.4 (Plow)");
        assert_eq!(key("rhel", "9.4", None, ubi).as_deref(), Some("9"));
        assert_eq!(key("rhel", "8.10", None, None).as_deref(), Some("8"));
        assert_eq!(key("rhel", "10.0", None, None).as_deref(), Some("10"));
        assert_eq!(key("rocky", "9.3", None, None).as_deref(), Some("9"));
        assert_eq!(key("almalinux", "8.9", None, None).as_deref(), Some("8"));
        assert_eq!(key("ol", "8.9", None, None).as_deref(), Some("8"));
        assert_eq!(key("ol", "7.9", None, None).as_deref(), Some("7"));
        assert_eq!(key("rhel", "6.10", None, None), None);
    }

    #[test]
    fn centos_linux_and_stream_apart() {
        assert_eq!(
            key("centos", "7", None, Some("CentOS Linux 7 (Core)")).as_deref(),
            Some("7")
        );
        assert_eq!(
            key("centos", "8", None, Some("CentOS Linux 8")).as_deref(),
            Some("8")
        );
        assert_eq!(
            key("centos", "8", None, Some("CentOS Stream 8")).as_deref(),
            Some("stream-8")
        );
        assert_eq!(key("centos", "8", None, None).as_deref(), Some("8"));
        assert_eq!(
            key("centos", "9", None, Some("CentOS Stream 9")).as_deref(),
            Some("stream-9")
        );
        assert_eq!(key("centos", "9", None, None).as_deref(), Some("stream-9"));
    }

    #[test]
    fn suse_by_service_pack_and_leap_by_minor() {
        assert_eq!(key("sles", "15.5", None, None).as_deref(), Some("15 SP5"));
        assert_eq!(key("sles", "15", None, None).as_deref(), Some("15"));
        assert_eq!(key("sles", "12.5", None, None).as_deref(), Some("12 SP5"));
        assert_eq!(key("sles", "15.7", None, None).as_deref(), Some("15 SP7"));
        assert_eq!(eol_of("sles", "15.5").as_deref(), Some("2024-12-31"));
        assert_eq!(
            key("opensuse-leap", "15.5", None, None).as_deref(),
            Some("15.5")
        );
        assert_eq!(
            key("opensuse-leap", "16.0", None, None).as_deref(),
            Some("16.0")
        );
        // Leap 42 called itself `opensuse`.
        assert_eq!(key("opensuse", "42.3", None, None).as_deref(), Some("42.3"));
        assert_eq!(key("opensuse-tumbleweed", "20240101", None, None), None);
    }

    #[test]
    fn fedora_and_amazon_linux() {
        assert_eq!(key("fedora", "40", None, None).as_deref(), Some("40"));
        assert_eq!(key("amzn", "2", None, None).as_deref(), Some("2"));
        assert_eq!(key("amzn", "2023", None, None).as_deref(), Some("2023"));
        assert_eq!(
            key("amzn", "2018.03", None, None).as_deref(),
            Some("2018.03")
        );
        let al2 = EolTable::builtin()
            .release_for(&os("amzn", "2", None, None))
            .unwrap();
        assert_eq!(al2.distribution, "Amazon Linux");
    }

    #[test]
    fn unknown_and_rolling_distributions_have_no_release() {
        assert_eq!(key("wolfi", "20230201", None, None), None);
        assert_eq!(key("chainguard", "20230214", None, None), None);
        assert_eq!(key("arch", "", None, None), None);
        assert_eq!(key("", "12", None, None), None);
        // The os-release ID is matched without regard to case.
        assert_eq!(key("Debian", "12", None, None).as_deref(), Some("12"));
    }

    #[test]
    fn past_only_after_the_last_day() {
        let release = EolRelease {
            distribution: "Debian".to_owned(),
            release: "10".to_owned(),
            name: "Debian 10 (buster)".to_owned(),
            eol: Some("2024-06-30".to_owned()),
            note: None,
        };
        assert!(!release.is_past("2024-06-29"));
        assert!(!release.is_past("2024-06-30"));
        assert!(release.is_past("2024-07-01"));
        assert!(release.is_past("2025-01-01"));
        // Not a date: never past.
        assert!(!release.is_past("2024-7-01"));
        assert!(!release.is_past("tomorrow"));
        let unannounced = EolRelease {
            eol: None,
            ..release
        };
        assert!(!unannounced.is_past("2099-12-31"));
    }

    #[test]
    fn shipped_release_past_or_not() {
        let buster = EolTable::builtin()
            .release_for(&os("debian", "10", Some("buster"), None))
            .unwrap();
        assert!(buster.is_past("2026-12-05"));
        let trixie = EolTable::builtin()
            .release_for(&os("debian", "13", Some("trixie"), None))
            .unwrap();
        assert!(!trixie.is_past("2026-12-05"));
    }

    #[test]
    fn a_well_formed_table_is_accepted() {
        let table = EolTable::from_json(&table_with(&format!(
            r#"{GOOD_RELEASE}, {{"release": "14", "codename": "forky", "name": "Debian 14", "eol": null, "note": "n"}}"#
        )))
        .unwrap();
        assert_eq!(table.updated(), "2026-01-01");
        let forky = table.release_for(&os("debian", "14", None, None)).unwrap();
        assert_eq!(forky.eol, None);
        assert_eq!(forky.note.as_deref(), Some("n"));
    }

    #[test]
    fn malformed_json_is_rejected() {
        let why = reason(EolTable::from_json("{\"updated\": "));
        assert!(why.starts_with("not a valid end-of-life table"), "{why}");
        let why = reason(EolTable::from_json("[]"));
        assert!(why.starts_with("not a valid end-of-life table"), "{why}");
        // A misspelt key is an error, not a silently missing date.
        let why = reason(EolTable::from_json(&table_with(
            r#"{"release": "12", "name": "Debian 12", "eol_date": "2028-06-30"}"#,
        )));
        assert!(why.contains("eol_date"), "{why}");
    }

    #[test]
    fn bad_dates_are_rejected_by_name() {
        for bad in [
            "2028-13-01",
            "2028-02-30",
            "2028-6-30",
            "28-06-30",
            "2028/06/30",
            " 2028-06-30",
        ] {
            let why = reason(EolTable::from_json(&table_with(&format!(
                r#"{{"release": "12", "name": "Debian 12", "eol": "{bad}"}}"#
            ))));
            assert!(why.contains(r#"debian release "12""#), "{why}");
            assert!(why.contains(bad), "{why}");
            assert!(why.contains("YYYY-MM-DD"), "{why}");
        }
        let why = reason(EolTable::from_json(
            &table_with(GOOD_RELEASE).replace("2026-01-01", "January 2026"),
        ));
        assert!(
            why.contains("`updated`") && why.contains("January 2026"),
            "{why}"
        );
    }

    #[test]
    fn a_missing_eol_is_rejected() {
        let why = reason(EolTable::from_json(&table_with(
            r#"{"release": "12", "name": "Debian 12"}"#,
        )));
        assert!(why.contains(r#"debian release "12" has no `eol`"#), "{why}");
    }

    #[test]
    fn duplicates_are_rejected() {
        let why = reason(EolTable::from_json(&table_with(&format!(
            "{GOOD_RELEASE}, {GOOD_RELEASE}"
        ))));
        assert!(why.contains(r#"release "12" is listed twice"#), "{why}");
        let why = reason(EolTable::from_json(&table_with(&format!(
            r#"{GOOD_RELEASE}, {{"release": "13", "codename": "Bookworm", "name": "Debian 13", "eol": null}}"#
        ))));
        assert!(why.contains("codename") && why.contains("twice"), "{why}");
        let dist = format!(r#"{{"id": "debian", "name": "Debian", "releases": [{GOOD_RELEASE}]}}"#);
        let why = reason(EolTable::from_json(&format!(
            r#"{{"updated": "2026-01-01", "sources": ["https://example.org"], "distributions": [{dist}, {dist}]}}"#
        )));
        assert!(
            why.contains(r#"distribution "debian" is listed twice"#),
            "{why}"
        );
    }

    #[test]
    fn empty_tables_are_rejected() {
        let why = reason(EolTable::from_json(
            r#"{"updated": "2026-01-01", "sources": ["https://example.org"], "distributions": []}"#,
        ));
        assert!(why.contains("no distributions"), "{why}");
        let why = reason(EolTable::from_json(&table_with("")));
        assert!(
            why.contains(r#"distribution "debian" lists no releases"#),
            "{why}"
        );
        let why = reason(EolTable::from_json(
            &table_with(GOOD_RELEASE).replace(r#"["https://example.org"]"#, "[]"),
        ));
        assert!(why.contains("`sources` is empty"), "{why}");
    }

    #[test]
    fn ids_must_be_os_release_ids() {
        let why = reason(EolTable::from_json(
            &table_with(GOOD_RELEASE).replace(r#""id": "debian""#, r#""id": "Debian""#),
        ));
        assert!(why.contains("not an os-release ID"), "{why}");
    }
}
