//! The finding an image gets when its OS release is past its end of life.

use rempart_core::{Finding, FindingDetails, FixState, Location, OsInfo, ScannerKind, Severity};

use crate::eol::EolTable;

/// A rule of the vulnerability scanner that is not an advisory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VulnRule {
    pub code: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub doc: &'static str,
}

/// The code of the end-of-life finding.
pub const OS_EOL: &str = "OS-EOL";

/// The vulnerability scanner's own rules.
pub const VULN_RULES: &[VulnRule] = &[VulnRule {
    code: OS_EOL,
    title: "The image's OS release is past its end of life",
    severity: Severity::High,
    doc: "The image's operating system release (from its os-release) no longer receives free \
security updates from its publisher: the end of Debian LTS, of Ubuntu's standard support, of Red \
Hat's Maintenance Support, of an Alpine branch's security fixes. Dates come from the end-of-life \
table shipped with rempart and stored in the vulnerability database (`rempart db import` takes a \
newer one).\n\n\
Why: vulnerabilities found in its packages after that date are not fixed, and most are never \
even assessed for it, so a scan of such an image reports fewer problems than it has: a clean \
report means little.\n\n\
Fix: rebuild on a supported release of the same distribution (`FROM debian:12` rather than \
`debian:10`), or on a base image with paid extended support when a move is not possible; then \
accept this finding with an ignore entry that says so, with an expiry date.\n\n\
Example: an image built `FROM debian:10` scanned after 2024-06-30.",
}];

/// The end-of-life finding for an image of `os` on `today` (`YYYY-MM-DD`), when the table
/// knows its release and the date is past.
pub fn end_of_life_finding(table: &EolTable, os: &OsInfo, today: &str) -> Option<Finding> {
    let release = table.release_for(os)?;
    if !release.is_past(today) {
        return None;
    }
    let eol = release.eol.as_deref().unwrap_or_default();
    let rule = &VULN_RULES[0];
    Some(Finding {
        scanner: ScannerKind::Vuln,
        id: OS_EOL.to_owned(),
        title: format!(
            "{} reached its end of life on {eol}: its packages get no more security updates",
            release.name
        ),
        severity: rule.severity,
        location: Location::file("etc/os-release"),
        details: FindingDetails::Vulnerability {
            package: os.id.clone(),
            ecosystem: release.distribution.clone(),
            installed_version: os.version_id.clone(),
            purl: format!("pkg:generic/{}@{}", os.id, os.version_id),
            fix: FixState::EndOfLife,
            aliases: Vec::new(),
            cvss: Vec::new(),
            cvss_score: None,
            references: table.sources().iter().take(3).cloned().collect(),
            reachable: None,
            severity_source: None,
            kev: None,
            epss: None,
        },
        primary_url: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(id: &str, version_id: &str) -> OsInfo {
        OsInfo {
            id: id.to_owned(),
            version_id: version_id.to_owned(),
            ..OsInfo::default()
        }
    }

    #[test]
    fn a_release_past_its_end_of_life_is_a_finding() {
        let table = EolTable::builtin();
        let buster = end_of_life_finding(table, &os("debian", "10"), "2024-07-01")
            .expect("Debian 10 LTS ended on 2024-06-30");
        assert_eq!(buster.id, OS_EOL);
        assert_eq!(buster.severity, Severity::High);
        assert!(buster.title.contains("2024-06-30"), "{}", buster.title);
        assert!(end_of_life_finding(table, &os("debian", "10"), "2024-06-30").is_none());
        assert!(end_of_life_finding(table, &os("debian", "12"), "2026-12-05").is_none());
        assert!(end_of_life_finding(table, &os("alpine", "3.16.9"), "2026-12-05").is_some());
        // Rolling and unknown distributions have no end of life.
        assert!(end_of_life_finding(table, &os("wolfi", "20230201"), "2099-01-01").is_none());
        assert!(end_of_life_finding(table, &os("plan9", "4"), "2099-01-01").is_none());
    }
}
