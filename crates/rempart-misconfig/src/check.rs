use rempart_core::{Finding, FindingDetails, Location, ScannerKind, Severity};
use serde::Serialize;

/// What a check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckTarget {
    Image,
    Dockerfile,
    Kubernetes,
    Compose,
    /// CI workflows and pipelines (GitHub Actions, GitLab CI).
    Workflow,
}

/// The documentation of one check, from which the user docs are generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckDoc {
    /// Stable code, never reused (`IMG-ROOT-USER`).
    pub code: &'static str,
    pub title: &'static str,
    /// The usual severity; a few checks report a lower one when the evidence is weaker, and say so
    /// in their doc.
    pub severity: Severity,
    pub target: CheckTarget,
    /// What the check looks for, why it matters, how to fix it, and an example.
    pub doc: &'static str,
}

impl CheckDoc {
    pub(crate) fn finding(
        &self,
        location: Location,
        resource: impl Into<String>,
        resolution: impl Into<String>,
    ) -> Finding {
        self.finding_with_severity(self.severity, location, resource, resolution)
    }

    pub(crate) fn finding_with_severity(
        &self,
        severity: Severity,
        location: Location,
        resource: impl Into<String>,
        resolution: impl Into<String>,
    ) -> Finding {
        let resolution = resolution.into();
        Finding {
            scanner: ScannerKind::Misconfig,
            id: self.code.to_owned(),
            title: self.title.to_owned(),
            severity,
            location,
            details: FindingDetails::Misconfig {
                resource: resource.into(),
                resolution: (!resolution.is_empty()).then_some(resolution),
            },
            primary_url: None,
        }
    }
}

/// Declares a check's [`CheckDoc`] as `CHECK`, with the same text as its rustdoc.
macro_rules! check_doc {
    (
        code: $code:literal,
        title: $title:literal,
        severity: $severity:ident,
        target: $target:ident,
        doc: $doc:literal $(,)?
    ) => {
        // The text is user documentation in Markdown; Kubernetes kinds and field names read
        // better without backticks around every one.
        #[allow(clippy::doc_markdown)]
        #[doc = $doc]
        pub(crate) const CHECK: $crate::check::CheckDoc = $crate::check::CheckDoc {
            code: $code,
            title: $title,
            severity: rempart_core::Severity::$severity,
            target: $crate::check::CheckTarget::$target,
            doc: $doc,
        };
    };
}
pub(crate) use check_doc;
