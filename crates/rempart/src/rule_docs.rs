//! Every built-in rule with its documentation, from the crates that own them: what `rempart
//! rules` lists, so a code in a report can be looked up.

use rempart_core::{ScannerKind, Severity};
use serde::Serialize;

/// Which part of rempart applies a rule: one of the scanners, or admission control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleFamily {
    /// The vulnerability scanner's rules that are not advisories (`OS-EOL`).
    Vuln,
    Secret,
    Malware,
    Misconfig,
    /// The supply-chain trust rules (`TRUST-…`): `rempart verify`, `--verify` and the server.
    Trust,
    /// The admission rules (`ADM-…`): `rempart admit` and the server's webhooks.
    Admission,
    /// The host audit checks (`HOST-…`): `rempart host`.
    Host,
    /// The runtime watcher's own rules (`RUNTIME-…`): `rempart watch`.
    Runtime,
}

impl RuleFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleFamily::Vuln => "vuln",
            RuleFamily::Secret => "secret",
            RuleFamily::Malware => "malware",
            RuleFamily::Misconfig => "misconfig",
            RuleFamily::Trust => "trust",
            RuleFamily::Admission => "admission",
            RuleFamily::Host => "host",
            RuleFamily::Runtime => "runtime",
        }
    }

    /// The family of a scanner's rules.
    pub fn of_scanner(scanner: ScannerKind) -> Option<RuleFamily> {
        match scanner {
            ScannerKind::Secret => Some(RuleFamily::Secret),
            ScannerKind::Malware => Some(RuleFamily::Malware),
            ScannerKind::Misconfig => Some(RuleFamily::Misconfig),
            ScannerKind::Trust => Some(RuleFamily::Trust),
            ScannerKind::Vuln => Some(RuleFamily::Vuln),
        }
    }
}

/// One built-in rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleDoc {
    /// Stable code, never reused (`SEC-AWS-ACCESS-KEY-ID`, `MAL-REVSHELL`, `K8S-PSS-PRIVILEGED`).
    pub code: String,
    /// Kept under this name in JSON (`"scanner": "admission"`) for readers of earlier output.
    pub scanner: RuleFamily,
    pub severity: Severity,
    pub title: String,
    /// What the rule detects, why it matters, how to fix it.
    pub doc: String,
}

/// The built-in secret, malware, misconfiguration and admission rules, each family's in code
/// order.
pub fn rule_docs() -> Vec<RuleDoc> {
    let mut docs: Vec<RuleDoc> = rempart_secrets::builtin_rules()
        .into_iter()
        .map(|rule| RuleDoc {
            code: rule.code,
            scanner: RuleFamily::Secret,
            severity: rule.severity,
            title: rule.title,
            doc: rule.doc,
        })
        .collect();
    let malware = rempart_malware::MalwareScanner::builtin()
        .rules()
        .unwrap_or_default();
    let mut malware: Vec<RuleDoc> = malware
        .into_iter()
        .map(|rule| RuleDoc {
            doc: format!(
                "{}. Found by the YARA rule `{}:{}` (crates/rempart-malware/rules/).\n\n\
                 Fix: find how the file got into the image (the finding names its layer, and the \
                 layer's history step the build step that wrote it), remove it and rebuild from \
                 a clean base. A file nobody expected means the build or its inputs were \
                 tampered with: treat the build machine and the credentials it held as exposed.",
                rule.description, rule.namespace, rule.name
            ),
            code: rule.code,
            scanner: RuleFamily::Malware,
            severity: rule.severity,
            title: rule.description,
        })
        .collect();
    // Several YARA rules may share a code (one family); one entry per code.
    malware.sort_by(|a, b| a.code.cmp(&b.code));
    malware.dedup_by(|a, b| a.code == b.code);
    docs.extend(malware);
    docs.extend(rempart_vulndb::VULN_RULES.iter().map(|rule| RuleDoc {
        code: rule.code.to_owned(),
        scanner: RuleFamily::Vuln,
        severity: rule.severity,
        title: rule.title.to_owned(),
        doc: rule.doc.to_owned(),
    }));
    docs.extend(
        rempart_misconfig::checks()
            .into_iter()
            .map(|check| RuleDoc {
                code: check.code.to_owned(),
                scanner: RuleFamily::Misconfig,
                severity: check.severity,
                title: check.title.to_owned(),
                doc: check.doc.to_owned(),
            }),
    );
    docs.extend(
        rempart_trust::findings::TRUST_RULES
            .iter()
            .map(|rule| RuleDoc {
                code: rule.code.to_owned(),
                scanner: RuleFamily::Trust,
                severity: rule.severity,
                title: rule.title.to_owned(),
                doc: rule.doc.to_owned(),
            }),
    );
    docs.extend(
        rempart_host::host_checks()
            .into_iter()
            .map(|check| RuleDoc {
                code: check.code.to_owned(),
                scanner: RuleFamily::Host,
                severity: check.severity,
                title: check.title.to_owned(),
                doc: format!("{}\n\nBenchmark: {}.", check.doc, check.benchmark),
            }),
    );
    docs.extend(rempart_runtime::RUNTIME_RULES.iter().map(|rule| RuleDoc {
        code: rule.code.to_owned(),
        scanner: RuleFamily::Runtime,
        severity: rule.severity,
        title: rule.title.to_owned(),
        doc: rule.doc.to_owned(),
    }));
    docs.extend(
        crate::admission::admission_rules()
            .into_iter()
            .map(|rule| RuleDoc {
                code: rule.code.to_owned(),
                scanner: RuleFamily::Admission,
                severity: rule.severity,
                title: rule.title.to_owned(),
                doc: rule.doc.to_owned(),
            }),
    );
    docs
}
