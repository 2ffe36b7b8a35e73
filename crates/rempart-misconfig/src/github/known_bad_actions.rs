use rempart_core::Finding;
use serde_json::Value;

use super::Context;
use crate::check::check_doc;
use crate::common::is_commit_sha;

check_doc! {
    code: "CI-GHA-KNOWN-BAD-ACTION",
    title: "Action known to have been compromised, or archived",
    severity: High,
    target: Workflow,
    doc: "A step uses an action on the list shipped with rempart: actions whose tags were moved \
to malicious code (the step is reported unless pinned to a commit other than the malicious \
one), and archived actions, which get no fixes any more.\n\n\
Why: a compromised action ran code that printed the runner's secrets into public logs \
(tj-actions/changed-files, March 2025, CVE-2025-30066; reviewdog/action-setup, CVE-2025-30154); \
a workflow still following its tags runs whatever its tags point at. An archived action keeps \
its vulnerabilities and its deprecated runtime forever.\n\n\
Fix: rotate the secrets the workflow could read while the compromise lasted; replace the \
action (GitHub's `gh` CLI, a maintained fork) or pin it to an audited commit SHA; move off \
archived actions (`actions/create-release` → `gh release create`, `actions-rs/toolchain` → \
`rustup` or `dtolnay/rust-toolchain`).\n\n\
Example: `uses: tj-actions/changed-files@v45`.",
}

/// What happened to a listed action.
enum Known {
    /// Tags moved to malicious code; `bad` are the malicious commits.
    Compromised {
        advisory: &'static str,
        bad: &'static [&'static str],
    },
    Archived,
}

/// The list. Sources: the GitHub advisories named, and the repositories' archived state.
const KNOWN: &[(&str, Known)] = &[
    (
        "tj-actions/changed-files",
        Known::Compromised {
            advisory: "CVE-2025-30066 (GHSA-mrrh-fwg8-r2c3): every tag pointed at a commit that dumped the runner's memory, secrets included, into the log, 2025-03-14/15",
            bad: &["0e58ed8671d6b60d0890c21b07f8835ace038e67"],
        },
    ),
    (
        "reviewdog/action-setup",
        Known::Compromised {
            advisory: "CVE-2025-30154: the v1 tag pointed at malicious code that printed the runner's secrets, 2025-03-11",
            bad: &[],
        },
    ),
    ("actions/create-release", Known::Archived),
    ("actions/upload-release-asset", Known::Archived),
    ("actions-rs/toolchain", Known::Archived),
    ("actions-rs/cargo", Known::Archived),
    ("actions-rs/audit-check", Known::Archived),
    ("actions-rs/clippy-check", Known::Archived),
    ("actions-rs/tarpaulin", Known::Archived),
];

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for job in &context.jobs {
        for step in job.steps() {
            let Some(uses) = step.get("uses").and_then(Value::as_str) else {
                continue;
            };
            let (name, reference) = uses.split_once('@').unwrap_or((uses, ""));
            let Some((listed, known)) = KNOWN
                .iter()
                .find(|(listed, _)| name.eq_ignore_ascii_case(listed))
            else {
                continue;
            };
            let message = match known {
                Known::Compromised { advisory, bad } => {
                    let reference = reference.to_ascii_lowercase();
                    if is_commit_sha(&reference) && !bad.contains(&reference.as_str()) {
                        continue;
                    }
                    format!(
                        "{listed} was compromised ({advisory}); {uses} follows a reference that pointed at the malicious code: rotate the secrets, replace the action or pin an audited commit"
                    )
                }
                Known::Archived => {
                    format!("{listed} is archived: no fixes, an outdated runtime; replace it")
                }
            };
            out.push(context.finding(
                &CHECK,
                context.line_of(&format!("{}:", job.id), uses),
                format!("job {}", job.id),
                message,
            ));
        }
    }
}
