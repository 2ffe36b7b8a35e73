//! What to show and what fails the build: severity filters, unfixed vulnerabilities, the gate.

use rempart_core::{Finding, FindingDetails, FixState, ScanResult, ScannerKind, Severity};

use crate::ignore::IgnoreList;
use crate::vex::VexStatement;

/// Filters applied to findings before reporting and gating.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Only findings with one of these severities are kept (all when empty).
    pub severities: Vec<Severity>,
    /// A scanner's own list, used instead of `severities` for that scanner's findings.
    pub scanner_severities: Vec<(ScannerKind, Vec<Severity>)>,
    /// Drop vulnerabilities that have no fixed version.
    pub ignore_unfixed: bool,
    /// Drop vulnerabilities in these states (`FixState::status_name`: `will_not_fix`,
    /// `fix_deferred`, `end_of_life`, `under_investigation`, `affected`, `fixed`).
    pub ignore_statuses: Vec<String>,
    /// The severity a vulnerability no record rates (`UNKNOWN`) counts as when filtering and
    /// gating: `Some(High)` makes an unrated vulnerability fail a `CRITICAL,HIGH` gate rather
    /// than pass it unseen. The finding still shows `UNKNOWN`.
    pub unknown_as: Option<Severity>,
    /// Vulnerabilities in CISA's Known Exploited Vulnerabilities catalogue are kept (and fail)
    /// whatever their severity.
    pub fail_on_kev: bool,
    /// Vulnerabilities with an EPSS score at or above this (0 to 1) are kept whatever their
    /// severity.
    pub epss_threshold: Option<f64>,
    /// Drop vulnerabilities whose functions the binary does not hold (Go binaries with a
    /// function table); unknown reachability is kept.
    pub ignore_unreachable: bool,
    /// Accepted findings, with reasons.
    pub ignores: IgnoreList,
    /// VEX statements that a vulnerability does not affect a product.
    pub vex: Vec<VexStatement>,
    /// `YYYY-MM-DD`, for ignore expiry.
    pub today: String,
    /// Content the scan could not inspect (too large, unreadable, past an archive cap, timed
    /// out) fails the verdict: a gate must not pass what it did not see.
    pub fail_on_skipped: bool,
}

/// Whether a scan result passes the policy, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    pub passed: bool,
    /// One line per reason the result fails (findings over the threshold, content not
    /// inspected); empty when it passes.
    pub reasons: Vec<String>,
}

/// A finding taken out by an ignore entry or a VEX statement, and why.
#[derive(Debug, Clone)]
pub struct Suppression {
    pub finding: Finding,
    pub reason: String,
}

/// What the policy did, for the user to review.
#[derive(Debug, Clone, Default)]
pub struct PolicyOutcome {
    /// Findings removed by the severity and unfixed filters.
    pub filtered: usize,
    pub suppressed: Vec<Suppression>,
    /// Ignore entries that matched nothing (`id` and scope), to be cleaned up.
    pub unmatched_ignores: Vec<String>,
    /// Ignore entries past their expiry date, no longer applied.
    pub expired_ignores: Vec<String>,
}

impl Policy {
    /// Whether the finding is exploited past the policy's bar (KEV, EPSS threshold).
    fn exploited(&self, finding: &Finding) -> bool {
        let FindingDetails::Vulnerability { kev, epss, .. } = &finding.details else {
            return false;
        };
        (self.fail_on_kev && kev.is_some())
            || self
                .epss_threshold
                .zip(epss.as_ref())
                .is_some_and(|(threshold, epss)| epss.score >= threshold)
    }

    fn keeps(&self, finding: &Finding) -> bool {
        let severities = self
            .scanner_severities
            .iter()
            .find(|(scanner, _)| *scanner == finding.scanner)
            .map_or(&self.severities, |(_, list)| list);
        let severity = match (finding.severity, &finding.details, self.unknown_as) {
            (Severity::Unknown, FindingDetails::Vulnerability { .. }, Some(counted)) => counted,
            (severity, _, _) => severity,
        };
        if !severities.is_empty() && !severities.contains(&severity) && !self.exploited(finding) {
            return false;
        }
        if let FindingDetails::Vulnerability { fix, .. } = &finding.details {
            if self.ignore_unfixed && !matches!(fix, FixState::Fixed { .. }) {
                return false;
            }
            if self
                .ignore_statuses
                .iter()
                .any(|status| status == fix.status_name())
            {
                return false;
            }
        }
        if self.ignore_unreachable
            && let FindingDetails::Vulnerability {
                reachable: Some(false),
                ..
            } = &finding.details
        {
            return false;
        }
        true
    }

    /// The verdict on a result the policy was applied to ([`Policy::apply`]): every finding
    /// left fails it, and so does uninspected content when `fail_on_skipped` is set.
    pub fn verdict(&self, result: &ScanResult) -> Verdict {
        let mut reasons = Vec::new();
        if !result.findings.is_empty() {
            let mut by_severity: Vec<(Severity, usize)> = Vec::new();
            for finding in &result.findings {
                match by_severity.iter_mut().find(|(s, _)| *s == finding.severity) {
                    Some((_, count)) => *count += 1,
                    None => by_severity.push((finding.severity, 1)),
                }
            }
            by_severity.sort_by_key(|(severity, _)| std::cmp::Reverse(*severity));
            let counts: Vec<String> = by_severity
                .iter()
                .map(|(severity, count)| format!("{severity}: {count}"))
                .collect();
            let exploited = result
                .findings
                .iter()
                .filter(|finding| {
                    matches!(
                        &finding.details,
                        FindingDetails::Vulnerability { kev: Some(_), .. }
                    )
                })
                .count();
            let exploited = if exploited == 0 {
                String::new()
            } else {
                format!("; {exploited} known exploited (CISA KEV)")
            };
            reasons.push(format!(
                "{} finding{} ({}){exploited}",
                result.findings.len(),
                if result.findings.len() == 1 { "" } else { "s" },
                counts.join(", ")
            ));
        }
        if self.fail_on_skipped {
            let uninspected: Vec<&rempart_core::SkippedEntry> = result
                .skipped
                .iter()
                .filter(|entry| entry.reason.content_not_inspected())
                .collect();
            if let Some(first) = uninspected.first() {
                reasons.push(format!(
                    "{} entr{} not inspected (first: {} {})",
                    uninspected.len(),
                    if uninspected.len() == 1 { "y" } else { "ies" },
                    first.path,
                    first.detail.as_deref().unwrap_or_default()
                ));
            }
        }
        Verdict {
            passed: reasons.is_empty(),
            reasons,
        }
    }

    /// Applies ignores and VEX (suppressing, with the reason kept), then the filters.
    pub fn apply(&self, result: &mut ScanResult) -> PolicyOutcome {
        let mut outcome = PolicyOutcome::default();
        let active: Vec<bool> = self
            .ignores
            .entries
            .iter()
            .map(|e| e.active_on(&self.today))
            .collect();
        let mut used = vec![false; self.ignores.entries.len()];
        let image = result.target.name.clone();
        let findings = std::mem::take(&mut result.findings);
        for finding in findings {
            let ignored = self
                .ignores
                .entries
                .iter()
                .enumerate()
                .find(|(index, entry)| active[*index] && entry.matches(&finding, &image));
            if let Some((index, entry)) = ignored {
                used[index] = true;
                outcome.suppressed.push(Suppression {
                    reason: format!("ignored: {}", entry.reason),
                    finding,
                });
                continue;
            }
            if let Some(statement) = self.vex.iter().find(|s| s.matches(&finding)) {
                let justification = statement
                    .justification
                    .as_deref()
                    .unwrap_or("no justification given");
                outcome.suppressed.push(Suppression {
                    reason: format!(
                        "VEX {} ({}): {justification}",
                        statement.status,
                        statement.source.display()
                    ),
                    finding,
                });
                continue;
            }
            if self.keeps(&finding) {
                result.findings.push(finding);
            } else {
                outcome.filtered += 1;
            }
        }
        for (index, entry) in self.ignores.entries.iter().enumerate() {
            let scope = [
                ("path", &entry.path),
                ("package", &entry.package),
                ("image", &entry.image),
            ]
            .iter()
            .filter_map(|(name, value)| value.as_ref().map(|v| format!(" {name}={v}")))
            .collect::<String>();
            if !active[index] {
                outcome.expired_ignores.push(format!(
                    "{}{scope} (expired {})",
                    entry.id,
                    entry.expires.as_deref().unwrap_or_default()
                ));
            } else if !used[index] {
                outcome
                    .unmatched_ignores
                    .push(format!("{}{scope}", entry.id));
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use rempart_core::Location;

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
                reachable: None,
                severity_source: None,
                kev: None,
                epss: None,
            },
            primary_url: None,
        }
    }

    #[test]
    fn unreachable_vulnerabilities_are_kept_unless_asked() {
        let mut unreachable = vuln(Severity::High, FixState::NotFixed);
        if let FindingDetails::Vulnerability { reachable, .. } = &mut unreachable.details {
            *reachable = Some(false);
        }
        let mut reached = vuln(Severity::High, FixState::NotFixed);
        reached.id = "CVE-2".into();
        if let FindingDetails::Vulnerability { reachable, .. } = &mut reached.details {
            *reachable = Some(true);
        }
        let mut unknown = vuln(Severity::High, FixState::NotFixed);
        unknown.id = "CVE-3".into();
        let result = || result(vec![unreachable.clone(), reached.clone(), unknown.clone()]);
        let mut kept = result();
        Policy::default().apply(&mut kept);
        assert_eq!(kept.findings.len(), 3);
        let mut filtered = result();
        let outcome = Policy {
            ignore_unreachable: true,
            ..Policy::default()
        }
        .apply(&mut filtered);
        let ids: Vec<&str> = filtered.findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["CVE-2", "CVE-3"]);
        assert_eq!(outcome.filtered, 1);
    }

    #[test]
    fn severity_and_unfixed_filters() {
        let policy = Policy {
            severities: vec![Severity::High, Severity::Critical],
            ignore_unfixed: true,
            ..Policy::default()
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

    #[test]
    fn unknown_counts_as_the_severity_asked_for() {
        let gate = Policy {
            severities: vec![Severity::High, Severity::Critical],
            ..Policy::default()
        };
        assert!(!gate.keeps(&vuln(Severity::Unknown, FixState::NotFixed)));
        let strict = Policy {
            unknown_as: Some(Severity::High),
            ..gate.clone()
        };
        assert!(strict.keeps(&vuln(Severity::Unknown, FixState::NotFixed)));
        assert!(!strict.keeps(&vuln(Severity::Low, FixState::NotFixed)));
        let lenient = Policy {
            unknown_as: Some(Severity::Low),
            ..gate
        };
        assert!(!lenient.keeps(&vuln(Severity::Unknown, FixState::NotFixed)));
    }

    #[test]
    fn statuses_are_ignored_by_name() {
        let policy = Policy {
            ignore_statuses: vec!["will_not_fix".into(), "end_of_life".into()],
            ..Policy::default()
        };
        assert!(!policy.keeps(&vuln(Severity::High, FixState::WillNotFix)));
        assert!(!policy.keeps(&vuln(Severity::High, FixState::EndOfLife)));
        assert!(policy.keeps(&vuln(Severity::High, FixState::FixDeferred)));
        assert!(policy.keeps(&vuln(Severity::High, FixState::NotFixed)));
    }

    #[test]
    fn exploited_vulnerabilities_pass_no_severity_filter() {
        let mut exploited = vuln(Severity::Medium, FixState::NotFixed);
        let mut likely = vuln(Severity::Low, FixState::NotFixed);
        let mut unlikely = vuln(Severity::Low, FixState::NotFixed);
        if let FindingDetails::Vulnerability { kev, .. } = &mut exploited.details {
            *kev = Some(rempart_core::KnownExploited {
                cve: "CVE-1".into(),
                date_added: "2024-01-01".into(),
                due_date: None,
                ransomware: false,
            });
        }
        for (finding, score) in [(&mut likely, 0.7), (&mut unlikely, 0.01)] {
            if let FindingDetails::Vulnerability { epss, .. } = &mut finding.details {
                *epss = Some(rempart_core::Epss {
                    score,
                    percentile: 0.9,
                });
            }
        }
        let critical_only = Policy {
            severities: vec![Severity::Critical],
            ..Policy::default()
        };
        assert!(!critical_only.keeps(&exploited));
        let gate = Policy {
            fail_on_kev: true,
            epss_threshold: Some(0.5),
            ..critical_only
        };
        assert!(gate.keeps(&exploited));
        assert!(gate.keeps(&likely));
        assert!(!gate.keeps(&unlikely));
        let mut outcome = result(vec![exploited]);
        gate.apply(&mut outcome);
        let verdict = gate.verdict(&outcome);
        assert!(!verdict.passed);
        assert!(
            verdict.reasons[0].contains("1 known exploited"),
            "{verdict:?}"
        );
    }

    fn result(findings: Vec<Finding>) -> ScanResult {
        ScanResult {
            schema_version: 1,
            target_kind: "image".into(),
            target: rempart_core::ImageMetadata {
                name: "registry.example.com/app:1".into(),
                ..Default::default()
            },
            os: None,
            scanners: vec![],
            layers: vec![],
            packages: vec![],
            findings,
            skipped: vec![],
            vulnerability_data: None,
        }
    }

    fn secret(id: &str, path: &str) -> Finding {
        Finding {
            scanner: ScannerKind::Secret,
            id: id.into(),
            title: String::new(),
            severity: Severity::High,
            location: Location::file(path),
            details: FindingDetails::Secret {
                redacted: "x***".into(),
                origin: None,
            },
            primary_url: None,
        }
    }

    fn policy_with(ignores: &str) -> Policy {
        Policy {
            ignores: crate::IgnoreList::parse(ignores, std::path::Path::new("ignore.yaml"))
                .unwrap(),
            today: "2026-06-01".into(),
            ..Policy::default()
        }
    }

    #[test]
    fn ignores_are_scoped_expire_and_report_unmatched() {
        let policy = policy_with(
            "ignores:\n  - id: SEC-KEY\n    path: 'tests/**'\n    reason: fixtures\n  - id: CVE-1\n    reason: old\n    expires: 2026-05-31\n  - id: CVE-404\n    reason: gone\n",
        );
        let mut scan = result(vec![
            secret("SEC-KEY", "tests/fixture.env"),
            secret("SEC-KEY", "app/.env"),
            vuln(Severity::High, FixState::NotFixed),
        ]);
        let outcome = policy.apply(&mut scan);
        let kept: Vec<&str> = scan
            .findings
            .iter()
            .map(|f| f.location.path.as_str())
            .collect();
        assert_eq!(
            kept,
            ["app/.env", "x"],
            "out-of-scope secret and the expired ignore's CVE stay"
        );
        assert_eq!(outcome.suppressed.len(), 1);
        assert_eq!(outcome.suppressed[0].reason, "ignored: fixtures");
        assert_eq!(outcome.expired_ignores, ["CVE-1 (expired 2026-05-31)"]);
        assert_eq!(outcome.unmatched_ignores, ["CVE-404"]);
    }

    #[test]
    fn ignores_match_aliases_and_packages() {
        let mut finding = vuln(Severity::High, FixState::NotFixed);
        if let FindingDetails::Vulnerability { aliases, .. } = &mut finding.details {
            aliases.push("GHSA-aaaa-bbbb-cccc".into());
        }
        let policy = policy_with(
            "ignores:\n  - id: GHSA-aaaa-bbbb-cccc\n    package: other\n    reason: r\n  - id: GHSA-aaaa-bbbb-cccc\n    package: p\n    reason: right package\n",
        );
        let mut scan = result(vec![finding]);
        let outcome = policy.apply(&mut scan);
        assert!(scan.findings.is_empty());
        assert_eq!(outcome.suppressed[0].reason, "ignored: right package");
        assert_eq!(
            outcome.unmatched_ignores,
            ["GHSA-aaaa-bbbb-cccc package=other"]
        );
    }

    #[test]
    fn vex_not_affected_suppresses_with_justification() {
        let temp = tempfile::tempdir().unwrap();
        let openvex = temp.path().join("app.openvex.json");
        std::fs::write(&openvex, r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[
            {"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:oci/app","subcomponents":[{"@id":"pkg:pypi/p@1"}]}],
             "status":"not_affected","justification":"vulnerable_code_not_in_execute_path"},
            {"vulnerability":"CVE-2","products":["pkg:pypi/p"],"status":"under_investigation"}]}"#).unwrap();
        let cdx = temp.path().join("app.cdx.json");
        std::fs::write(&cdx, r#"{"bomFormat":"CycloneDX","specVersion":"1.6","vulnerabilities":[
            {"id":"CVE-3","analysis":{"state":"false_positive","detail":"not our libxml"},"affects":[{"ref":"pkg:pypi/p@1"}]},
            {"id":"CVE-4","analysis":{"state":"exploitable"},"affects":[{"ref":"pkg:pypi/p@1"}]}]}"#).unwrap();
        let mut vex = crate::load_vex(&openvex).unwrap();
        vex.extend(crate::load_vex(&cdx).unwrap());
        assert_eq!(vex.len(), 2, "only suppressing statements are kept");
        let policy = Policy {
            vex,
            ..Policy::default()
        };
        let with_id = |id: &str| {
            let mut finding = vuln(Severity::High, FixState::NotFixed);
            finding.id = id.into();
            finding
        };
        let mut scan = result(vec![
            with_id("CVE-1"),
            with_id("CVE-2"),
            with_id("CVE-3"),
            with_id("CVE-4"),
        ]);
        let outcome = policy.apply(&mut scan);
        let kept: Vec<&str> = scan.findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(kept, ["CVE-2", "CVE-4"]);
        assert!(outcome.suppressed[0].reason.contains("not_affected"));
        assert!(
            outcome.suppressed[0]
                .reason
                .contains("vulnerable_code_not_in_execute_path")
        );
        assert!(outcome.suppressed[1].reason.contains("not our libxml"));
    }

    #[test]
    fn malformed_vex_names_the_file() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("broken.json");
        std::fs::write(&path, "{\"statements\": 3").unwrap();
        let error = crate::load_vex(&path).unwrap_err();
        assert!(error.to_string().contains("broken.json"), "{error}");
    }

    #[test]
    fn a_scanner_list_overrides_the_global_one() {
        let policy = Policy {
            severities: vec![Severity::Critical],
            scanner_severities: vec![(ScannerKind::Secret, vec![Severity::High, Severity::Medium])],
            ..Policy::default()
        };
        let mut medium_secret = secret("SEC-KEY", "app/.env");
        medium_secret.severity = Severity::Medium;
        assert!(policy.keeps(&medium_secret));
        assert!(
            !policy.keeps(&vuln(Severity::High, FixState::NotFixed)),
            "vulnerabilities use the global list"
        );
        assert!(policy.keeps(&vuln(Severity::Critical, FixState::NotFixed)));
    }
}
