//! The admission rules, one file each, with the documentation `rempart rules` shows.

pub(crate) mod exemption;
pub(crate) mod image_latest;
pub(crate) mod image_not_pinned;
pub(crate) mod image_registry;
pub(crate) mod image_trust;
pub(crate) mod image_verdict;
pub(crate) mod namespace_labels;
pub(crate) mod object;
pub(crate) mod pod_security;

use rempart_core::Severity;

/// The documentation of one admission rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionRuleDoc {
    /// Stable code, never reused (`ADM-IMAGE-NOT-PINNED`).
    pub code: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// What the rule checks, why it matters, how to fix it, and an example.
    pub doc: &'static str,
    /// Whether an exemption may name it.
    pub exemptable: bool,
}

/// Declares a rule's [`AdmissionRuleDoc`] as a constant, with the same text as its rustdoc.
macro_rules! rule_doc {
    (
        $name:ident,
        code: $code:literal,
        title: $title:literal,
        severity: $severity:ident,
        exemptable: $exemptable:literal,
        doc: $doc:literal $(,)?
    ) => {
        #[allow(clippy::doc_markdown)]
        #[doc = $doc]
        pub(crate) const $name: $crate::admission::rules::AdmissionRuleDoc =
            $crate::admission::rules::AdmissionRuleDoc {
                code: $code,
                title: $title,
                severity: rempart_core::Severity::$severity,
                doc: $doc,
                exemptable: $exemptable,
            };
    };
}
pub(crate) use rule_doc;

/// Every admission rule, in the order a decision checks them.
pub fn admission_rules() -> Vec<AdmissionRuleDoc> {
    vec![
        object::RULE,
        namespace_labels::RULE,
        pod_security::RULE,
        pod_security::NAMESPACE_RULE,
        image_registry::RULE,
        image_not_pinned::RULE,
        image_latest::RULE,
        image_verdict::FAILED,
        image_verdict::STALE,
        image_verdict::MISSING,
        image_trust::UNTRUSTED,
        image_trust::UNVERIFIED,
        exemption::EXPIRED,
        exemption::UNUSED,
    ]
}

/// Whether an exemption may name `code`: an exemptable admission rule, or one Pod Security
/// Standards control (`K8S-PSS-HOST-PATH`), which exempts that control alone.
pub(crate) fn is_exemptable(code: &str) -> bool {
    admission_rules()
        .iter()
        .any(|rule| rule.exemptable && rule.code == code)
        || (code.starts_with("K8S-PSS-")
            && rempart_misconfig::checks()
                .iter()
                .any(|check| check.code == code))
}
