use rempart_core::Finding;
use serde_json::Value;

use super::Context;
use super::expressions::{expressions, properties};
use crate::check::check_doc;

check_doc! {
    code: "CI-GHA-SECRET-IN-LOG",
    title: "Secret written to the job's log",
    severity: High,
    target: Workflow,
    doc: "A `run:` script prints a secret (`echo`/`printf` of `${{ secrets.… }}`) or expands \
every secret at once (`${{ toJSON(secrets) }}`).\n\n\
Why: GitHub masks a secret in the log only where its exact value appears: piped through \
`base64`, split, quoted differently or printed one character at a time, it is shown to anyone \
who can read the logs (on a public repository, everyone). The expansion also writes the value \
into the script file on the runner's disk.\n\n\
Fix: pass secrets to the commands that need them through `env:`, never print them; to debug, \
print whether a secret is set (`[ -n \"$TOKEN\" ]`), not its value.\n\n\
Example: `run: echo ${{ secrets.NPM_TOKEN }} | base64`.",
}

/// Whether the expression prints a secret's value (`secrets.X`, `secrets['X']`): a comparison
/// (`secrets.X != ''`) or a negation yields a boolean, not the value.
fn prints_secret(expression: &str) -> bool {
    let compares = expression.contains("==")
        || expression.contains("!=")
        || expression.trim_start().starts_with('!');
    !compares
        && properties(expression)
            .iter()
            .any(|property| property.starts_with("secrets."))
}

/// Whether the expression reads the whole `secrets` context (`toJSON(secrets)`), which the
/// property reader leaves out as a bare name.
fn reads_every_secret(expression: &str) -> bool {
    let lower = expression.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("secrets") {
        let before = rest[..at].chars().next_back();
        let after = rest[at + "secrets".len()..].trim_start().chars().next();
        let word_start =
            before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'));
        if word_start && !matches!(after, Some('.' | '[' | '_' | '-' | 'a'..='z' | '0'..='9')) {
            return true;
        }
        rest = &rest[at + "secrets".len()..];
    }
    false
}

pub(super) fn run(context: &Context<'_>, out: &mut Vec<Finding>) {
    for job in &context.jobs {
        for step in job.steps() {
            let Some(script) = step.get("run").and_then(Value::as_str) else {
                continue;
            };
            for line in script.lines() {
                let printed = line.split(['|', ';', '&']).any(|command| {
                    let command = command.trim_start();
                    (command.starts_with("echo ") || command.starts_with("printf "))
                        && expressions(command).into_iter().any(prints_secret)
                });
                let everything = expressions(line).into_iter().any(reads_every_secret);
                if printed || everything {
                    out.push(context.finding(
                        &CHECK,
                        context.line_of(&format!("{}:", job.id), line.trim()),
                        format!("job {}", job.id),
                        if everything {
                            "every secret is expanded into the script: pass the ones needed through env:"
                        } else {
                            "a secret is printed to the log, where any transformation defeats masking: pass it through env: and do not print it"
                        },
                    ));
                }
            }
        }
    }
}
