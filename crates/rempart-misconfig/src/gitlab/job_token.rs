use rempart_core::Finding;

use super::{Pipeline, script_text};
use crate::check::check_doc;

check_doc! {
    code: "CI-GL-JOB-TOKEN",
    title: "Job token printed or sent to a host named in the script",
    severity: Medium,
    target: Workflow,
    doc: "A job's script prints `$CI_JOB_TOKEN` (`echo`, `printf`) or sends it in a request to \
a host written literally in the script rather than GitLab's own (`$CI_API_V4_URL`, \
`$CI_SERVER_HOST`, `$CI_REGISTRY`).\n\n\
Why: the job token acts as the user who started the pipeline on every project that allows \
it; a log or a foreign server that receives it can use it until the job ends (longer, when \
the job waits). A host typed into the script is easy to get wrong and easy for a merge request \
to change.\n\n\
Fix: send the token only to `$CI_API_V4_URL`, `$CI_SERVER_URL` or `$CI_REGISTRY`, never print \
it; limit what it may reach with the project's job token allowlist.\n\n\
Example: `curl -H \"JOB-TOKEN: $CI_JOB_TOKEN\" https://artifacts.example.com/upload`.",
}

fn mentions_token(line: &str) -> bool {
    line.contains("$CI_JOB_TOKEN") || line.contains("${CI_JOB_TOKEN}")
}

/// The first URL host in `line` written literally (not through a variable).
fn literal_host(line: &str) -> Option<&str> {
    let mut rest = line;
    while let Some(at) = rest.find("://") {
        let after = &rest[at + 3..];
        let host_end = after
            .find(|c: char| c == '/' || c == '"' || c == '\'' || c.is_whitespace())
            .unwrap_or(after.len());
        let host = &after[..host_end];
        if !host.is_empty() && !host.contains('$') {
            return Some(host);
        }
        rest = after;
    }
    None
}

pub(super) fn run(pipeline: &Pipeline, out: &mut Vec<Finding>) {
    for job in &pipeline.jobs {
        let scripts = ["before_script", "script", "after_script"]
            .iter()
            .filter_map(|key| job.value.get(*key))
            .map(script_text)
            .collect::<Vec<_>>()
            .join("\n");
        for line in scripts.lines().filter(|line| mentions_token(line)) {
            let command = line.trim_start();
            let message = if command.starts_with("echo ") || command.starts_with("printf ") {
                "the job token is printed to the log".to_owned()
            } else if let Some(host) = literal_host(line) {
                format!(
                    "the job token is sent to {host}, a host written in the script: send it only to $CI_API_V4_URL, $CI_SERVER_URL or $CI_REGISTRY"
                )
            } else {
                continue;
            };
            out.push(pipeline.finding(
                &CHECK,
                job.source,
                pipeline.line_of(job.source, &format!("{}:", job.name), line.trim()),
                format!("job {}", job.name),
                message,
            ));
        }
    }
}
