//! One severity per vulnerability, chosen from every record of it.
//!
//! The same flaw is published by several databases under several ids: `PYSEC-2018-28`,
//! `GHSA-x84v-xcm2-53pg` and `CVE-2018-18074` are one bug in `requests`. The record a finding is
//! reported under often rates nothing (the Python Packaging Authority's records carry no
//! severity), while an alias's record does. The severity is taken, in this order, from:
//!
//! 1. the distribution's own rating of its package (Debian urgency, Ubuntu priority, Red Hat
//!    impact): it knows how the package is built and where it runs;
//! 2. a CVSS vector (v4.0, else v3.x) of the reported record, else of an alias's record;
//! 3. the database's own word without a vector (GitHub's `database_specific.severity`).
//!
//! Among alias records, GitHub's (reviewed per package ecosystem) comes before NVD's (the CVE
//! record, written for the product in general), then any other, by id, so the choice does not
//! depend on the order of import.

use std::collections::{BTreeSet, HashMap};

use rempart_core::{Severity, SeverityBasis, SeveritySource};

use crate::store::RecordRating;

/// The severity chosen for one finding, with what it rests on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rated {
    pub(crate) severity: Severity,
    pub(crate) source: Option<SeveritySource>,
    /// Every CVSS vector the records of the vulnerability publish, each once, in the order of
    /// the records.
    pub(crate) cvss: Vec<String>,
    /// The base score of the first record with a vector.
    pub(crate) cvss_score: Option<f64>,
}

/// The order alias records are consulted in (see the module documentation).
fn rank<'a>(id: &'a str, reported: &str) -> (u8, &'a str) {
    let group = if id == reported {
        0
    } else if id.starts_with("GHSA-") {
        1
    } else if id.starts_with("CVE-") {
        2
    } else {
        3
    };
    (group, id)
}

/// Rates the vulnerability reported as `reported` and known by `ids` (the reported id and its
/// aliases), given the records found for those ids and the distribution's rating of the package
/// when it is an OS package.
pub(crate) fn rate(
    reported: &str,
    ids: &[&str],
    distribution: Option<(Severity, &str)>,
    records: &HashMap<String, Vec<RecordRating>>,
) -> Rated {
    let mut seen = BTreeSet::new();
    // A record that also covers other CVEs (a RustSec advisory of three flaws, a DSA fixing
    // five) rates them together: its vector is not this flaw's, so it rates only the finding it
    // is reported as.
    let covers_only_these = |record: &RecordRating| {
        record.id == reported || record.cves.iter().all(|cve| ids.contains(&cve.as_str()))
    };
    let mut found: Vec<&RecordRating> = ids
        .iter()
        .filter_map(|id| records.get(*id))
        .flatten()
        .filter(|record| covers_only_these(record))
        .filter(|record| seen.insert(record.id.as_str()))
        .collect();
    found.sort_by(|a, b| rank(&a.id, reported).cmp(&rank(&b.id, reported)));
    let mut cvss: Vec<String> = Vec::new();
    for vector in found.iter().flat_map(|record| &record.cvss) {
        if !cvss.contains(vector) {
            cvss.push(vector.clone());
        }
    }
    let scored = found
        .iter()
        .find_map(|record| Some((*record, record.cvss_vector.as_ref()?, record.cvss_score?)));
    let cvss_score = scored.map(|(_, _, score)| score);
    if let Some((severity, record)) = distribution {
        return Rated {
            severity,
            source: Some(SeveritySource {
                basis: SeverityBasis::Distribution,
                record: record.to_owned(),
                vector: None,
            }),
            cvss,
            cvss_score,
        };
    }
    if let Some((record, vector, score)) = scored {
        return Rated {
            severity: Severity::from_cvss_score(score),
            source: Some(SeveritySource {
                basis: SeverityBasis::Cvss,
                record: record.id.clone(),
                vector: Some(vector.clone()),
            }),
            cvss,
            cvss_score,
        };
    }
    if let Some((record, severity)) = found
        .iter()
        .find_map(|record| Some((*record, record.rated_severity?)))
    {
        return Rated {
            severity,
            source: Some(SeveritySource {
                basis: SeverityBasis::Advisory,
                record: record.id.clone(),
                vector: None,
            }),
            cvss,
            cvss_score,
        };
    }
    Rated {
        severity: Severity::Unknown,
        source: None,
        cvss,
        cvss_score,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, vector: Option<(&str, f64)>, rated: Option<Severity>) -> RecordRating {
        RecordRating {
            id: id.to_owned(),
            cves: if id.starts_with("CVE-") {
                vec![id.to_owned()]
            } else {
                Vec::new()
            },
            cvss: vector.iter().map(|(v, _)| (*v).to_owned()).collect(),
            cvss_vector: vector.map(|(v, _)| v.to_owned()),
            cvss_score: vector.map(|(_, s)| s),
            rated_severity: rated,
        }
    }

    fn index(records: &[(&str, RecordRating)]) -> HashMap<String, Vec<RecordRating>> {
        let mut map: HashMap<String, Vec<RecordRating>> = HashMap::new();
        for (alias, record) in records {
            map.entry((*alias).to_owned())
                .or_default()
                .push(record.clone());
        }
        map
    }

    const HIGH_V31: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N";
    const MEDIUM_V31: &str = "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:N/A:N";

    #[test]
    fn an_unrated_record_takes_the_cvss_of_its_github_alias() {
        let records = index(&[
            ("PYSEC-2018-28", record("PYSEC-2018-28", None, None)),
            (
                "GHSA-x84v-xcm2-53pg",
                record(
                    "GHSA-x84v-xcm2-53pg",
                    Some((HIGH_V31, 7.5)),
                    Some(Severity::Medium),
                ),
            ),
        ]);
        let rated = rate(
            "PYSEC-2018-28",
            &["PYSEC-2018-28", "CVE-2018-18074", "GHSA-x84v-xcm2-53pg"],
            None,
            &records,
        );
        assert_eq!(rated.severity, Severity::High);
        let source = rated.source.unwrap();
        assert_eq!(source.basis, SeverityBasis::Cvss);
        assert_eq!(source.record, "GHSA-x84v-xcm2-53pg");
        assert_eq!(source.vector.as_deref(), Some(HIGH_V31));
        assert_eq!(rated.cvss_score, Some(7.5));
    }

    #[test]
    fn the_reported_record_comes_first_then_github_then_nvd() {
        let records = index(&[
            ("CVE-1", record("CVE-1", Some((MEDIUM_V31, 5.9)), None)),
            ("GHSA-1", record("GHSA-1", Some((HIGH_V31, 7.5)), None)),
            ("OTHER-1", record("OTHER-1", Some((HIGH_V31, 9.8)), None)),
        ]);
        let rated = rate(
            "X-1",
            &["X-1", "CVE-1", "GHSA-1", "OTHER-1"],
            None,
            &records,
        );
        assert_eq!(rated.source.unwrap().record, "GHSA-1");
        assert_eq!(rated.cvss, vec![HIGH_V31.to_owned(), MEDIUM_V31.to_owned()]);
        let rated = rate("CVE-1", &["CVE-1", "GHSA-1"], None, &records);
        assert_eq!(rated.severity, Severity::Medium);
    }

    #[test]
    fn a_distribution_rating_wins_over_cvss() {
        let records = index(&[("CVE-1", record("CVE-1", Some((HIGH_V31, 7.5)), None))]);
        let rated = rate(
            "CVE-1",
            &["CVE-1"],
            Some((Severity::Low, "DSA-1")),
            &records,
        );
        assert_eq!(rated.severity, Severity::Low);
        let source = rated.source.unwrap();
        assert_eq!(source.basis, SeverityBasis::Distribution);
        assert_eq!(source.record, "DSA-1");
        assert_eq!(rated.cvss_score, Some(7.5));
    }

    #[test]
    fn a_record_of_several_flaws_does_not_rate_one_of_them() {
        let mut combined = record("RUSTSEC-1", Some((HIGH_V31, 9.8)), None);
        combined.cves = vec!["CVE-1".into(), "CVE-2".into(), "CVE-3".into()];
        let records = index(&[("CVE-1", combined.clone())]);
        let rated = rate("PYSEC-1", &["PYSEC-1", "CVE-1"], None, &records);
        assert_eq!(rated.severity, Severity::Unknown);
        assert!(rated.cvss.is_empty());
        // Reported as itself, it rates its own finding.
        let records = index(&[("RUSTSEC-1", combined)]);
        let rated = rate(
            "RUSTSEC-1",
            &["RUSTSEC-1", "CVE-1", "CVE-2", "CVE-3"],
            None,
            &records,
        );
        assert_eq!(rated.severity, Severity::Critical);
    }

    #[test]
    fn a_word_without_a_vector_comes_last_and_nothing_is_unknown() {
        let records = index(&[("GHSA-1", record("GHSA-1", None, Some(Severity::Critical)))]);
        let rated = rate("PYSEC-1", &["PYSEC-1", "GHSA-1"], None, &records);
        assert_eq!(rated.severity, Severity::Critical);
        assert_eq!(rated.source.unwrap().basis, SeverityBasis::Advisory);
        let rated = rate("PYSEC-2", &["PYSEC-2"], None, &records);
        assert_eq!(rated.severity, Severity::Unknown);
        assert!(rated.source.is_none());
    }
}
