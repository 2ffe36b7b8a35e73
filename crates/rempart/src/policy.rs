//! What to show and what fails the build: severity filters, unfixed vulnerabilities, the gate.

use rempart_core::{Finding, FindingDetails, FixState, ScanResult, Severity};

/// Filters applied to findings before reporting and gating.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Only findings with one of these severities are kept (all when empty).
    pub severities: Vec<Severity>,
    /// Drop vulnerabilities that have no fixed version.
    pub ignore_unfixed: bool,
}

impl Policy {
    fn keeps(&self, finding: &Finding) -> bool {
        if !self.severities.is_empty() && !self.severities.contains(&finding.severity) {
            return false;
        }
        if self.ignore_unfixed
            && let FindingDetails::Vulnerability { fix, .. } = &finding.details
            && !matches!(fix, FixState::Fixed { .. })
        {
            return false;
        }
        true
    }

    /// Removes the findings the policy does not keep; returns how many were removed.
    pub fn apply(&self, result: &mut ScanResult) -> usize {
        let before = result.findings.len();
        result.findings.retain(|finding| self.keeps(finding));
        before - result.findings.len()
    }
}

#[cfg(test)]
mod tests {
    use rempart_core::{Location, ScannerKind};

    use super::*;

    fn vuln(severity: Severity, fix: FixState) -> Finding {
        Finding {
            scanner: ScannerKind::Vuln,
            id: "CVE-1".into(),
            title: String::new(),
            severity,
            location: Location::file("x"),
            details: FindingDetails::Vulnerability {
                package: "p".into(),
                ecosystem: "PyPI".into(),
                installed_version: "1".into(),
                purl: "pkg:pypi/p@1".into(),
                fix,
                aliases: vec![],
                cvss: vec![],
                cvss_score: None,
                references: vec![],
            },
            primary_url: None,
        }
    }

    #[test]
    fn severity_and_unfixed_filters() {
        let policy = Policy {
            severities: vec![Severity::High, Severity::Critical],
            ignore_unfixed: true,
        };
        assert!(policy.keeps(&vuln(
            Severity::High,
            FixState::Fixed {
                versions: vec!["2".into()]
            }
        )));
        assert!(!policy.keeps(&vuln(
            Severity::Medium,
            FixState::Fixed {
                versions: vec!["2".into()]
            }
        )));
        assert!(!policy.keeps(&vuln(Severity::Critical, FixState::NotFixed)));
        assert!(!policy.keeps(&vuln(Severity::Critical, FixState::WillNotFix)));
        assert!(Policy::default().keeps(&vuln(Severity::Low, FixState::NotFixed)));
    }
}
