//! Every built-in rule with its documentation, from the crates that own them: what `rempart
//! rules` lists, so a code in a report can be looked up.

use rempart_core::{ScannerKind, Severity};
use serde::Serialize;

/// One built-in rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleDoc {
    /// Stable code, never reused (`SEC-AWS-ACCESS-KEY-ID`, `MAL-REVSHELL`, `K8S-PSS-PRIVILEGED`).
    pub code: String,
    pub scanner: ScannerKind,
    pub severity: Severity,
    pub title: String,
    /// What the rule detects, why it matters, how to fix it.
    pub doc: String,
}

/// The built-in secret, malware and misconfiguration rules, each scanner's in code order.
pub fn rule_docs() -> Vec<RuleDoc> {
    let mut docs: Vec<RuleDoc> = rempart_secrets::builtin_rules()
        .into_iter()
        .map(|rule| RuleDoc {
            code: rule.code,
            scanner: ScannerKind::Secret,
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
            scanner: ScannerKind::Malware,
            severity: rule.severity,
            title: rule.description,
        })
        .collect();
    // Several YARA rules may share a code (one family); one entry per code.
    malware.sort_by(|a, b| a.code.cmp(&b.code));
    malware.dedup_by(|a, b| a.code == b.code);
    docs.extend(malware);
    docs.extend(
        rempart_misconfig::checks()
            .into_iter()
            .map(|check| RuleDoc {
                code: check.code.to_owned(),
                scanner: ScannerKind::Misconfig,
                severity: check.severity,
                title: check.title.to_owned(),
                doc: check.doc.to_owned(),
            }),
    );
    docs
}
