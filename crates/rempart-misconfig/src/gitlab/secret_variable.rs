use rempart_core::Finding;
use serde_json::Value;

use super::Pipeline;
use crate::check::check_doc;

check_doc! {
    code: "CI-GL-SECRET-VARIABLE",
    title: "Credential written in the pipeline's variables",
    severity: High,
    target: Workflow,
    doc: "A `variables:` entry (of the pipeline or of a job) whose name says credential \
(`…TOKEN`, `…PASSWORD`, `…SECRET`, `…API_KEY`, `…PRIVATE_KEY`, `…ACCESS_KEY`) holds a \
literal value.\n\n\
Why: `.gitlab-ci.yml` is in the repository: everyone who can read the code (and every fork \
and clone, forever, in its history) has the credential.\n\n\
Fix: revoke it, and define it as a masked, protected CI/CD variable in the project's or \
group's settings (or fetch it from a secrets manager with `secrets:`); reference it as \
`$NAME`. Values that reference other variables are not reported.\n\n\
Example: `variables: {DEPLOY_TOKEN: glpat-…}`.",
}

const CREDENTIAL_WORDS: &[&str] = &[
    "TOKEN",
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
];
/// Names that say where a credential is, not what it is.
const NOT_CREDENTIAL_SUFFIXES: &[&str] =
    &["_FILE", "_PATH", "_URL", "_NAME", "_USER", "_ID", "_HEADER"];

fn credential_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    CREDENTIAL_WORDS.iter().any(|word| upper.contains(word))
        && !NOT_CREDENTIAL_SUFFIXES
            .iter()
            .any(|suffix| upper.ends_with(suffix))
}

fn literal(value: &Value) -> Option<&str> {
    let text = match value {
        Value::String(text) => text.as_str(),
        Value::Object(map) => map.get("value").and_then(Value::as_str)?,
        _ => return None,
    };
    (text.trim().len() >= 6 && !text.contains('$')).then_some(text)
}

pub(super) fn run(pipeline: &Pipeline, out: &mut Vec<Finding>) {
    let mut check = |source: usize, anchor: &str, owner: &str, variables: Option<&Value>| {
        let Some(map) = variables.and_then(Value::as_object) else {
            return;
        };
        for (name, value) in map {
            if credential_name(name) && literal(value).is_some() {
                out.push(pipeline.finding(
                    &CHECK,
                    source,
                    pipeline.line_of(source, anchor, &format!("{name}:")),
                    owner.to_owned(),
                    // The value is never quoted: the report must not spread it further.
                    format!("{name} holds a literal credential: revoke it and make it a masked, protected CI/CD variable"),
                ));
            }
        }
    };
    for (index, source) in pipeline.sources.iter().enumerate() {
        check(
            index,
            "variables:",
            "pipeline",
            source.value.get("variables"),
        );
    }
    for job in &pipeline.jobs {
        check(
            job.source,
            &format!("{}:", job.name),
            &format!("job {}", job.name),
            job.value.get("variables"),
        );
    }
}
