use rempart_core::Finding;
use serde_json::Value;

use super::{Pipeline, include_entries};
use crate::check::check_doc;
use crate::common::is_commit_sha;

check_doc! {
    code: "CI-GL-UNPINNED-INCLUDE",
    title: "Pipeline includes configuration that can change under it",
    severity: High,
    target: Workflow,
    doc: "An `include:` takes pipeline configuration from another project without a commit SHA \
as `ref:` (its default branch, a branch or a tag), from a remote URL without `integrity:`, or \
a CI/CD component at a version that is not a commit SHA (`@~latest`, `@1.2`).\n\n\
Why: included configuration runs as your own jobs, with your variables and token. Whoever can \
push to that project or serve that URL changes what your pipeline runs, with no change on \
your side.\n\n\
Fix: `ref:` a full commit SHA, `integrity: sha256-…` on remote includes, components at \
`@<sha>`; `template:` (GitLab's own) and `local:` includes are not judged.\n\n\
Example: `include: [{project: platform/ci, file: build.yml}]`.",
}

/// Why an include entry can change, if it can.
fn movable(entry: &Value) -> Option<(String, String)> {
    if let Some(url) = entry.as_str() {
        return url.contains("://").then(|| {
            (
                url.to_owned(),
                format!("remote {url} has no integrity: it is whatever the URL serves"),
            )
        });
    }
    let map = entry.as_object()?;
    if let Some(project) = map.get("project").and_then(Value::as_str) {
        return match map.get("ref").and_then(Value::as_str) {
            Some(reference) if is_commit_sha(reference) => None,
            Some(reference) => Some((
                project.to_owned(),
                format!("project {project} at ref {reference}, which moves: use a commit SHA"),
            )),
            None => Some((
                project.to_owned(),
                format!(
                    "project {project} without ref follows its default branch: use a commit SHA"
                ),
            )),
        };
    }
    if let Some(url) = map.get("remote").and_then(Value::as_str) {
        return (!map.contains_key("integrity")).then(|| {
            (
                url.to_owned(),
                format!("remote {url} has no integrity: it is whatever the URL serves"),
            )
        });
    }
    if let Some(component) = map.get("component").and_then(Value::as_str) {
        let version = component.rsplit_once('@').map(|(_, v)| v);
        return match version {
            Some(version) if is_commit_sha(version) => None,
            Some(version) => Some((
                component.to_owned(),
                format!(
                    "component {component} at version {version}, which can be moved: use a commit SHA"
                ),
            )),
            None => Some((
                component.to_owned(),
                format!("component {component} names no version: use a commit SHA"),
            )),
        };
    }
    None
}

pub(super) fn run(pipeline: &Pipeline, out: &mut Vec<Finding>) {
    for (index, source) in pipeline.sources.iter().enumerate() {
        let entries = include_entries(&source.value);
        if entries.is_empty() {
            continue;
        }
        // Entries are found in order, each after the previous one: a project included twice
        // points at each of its entries.
        let mut cursor = pipeline.line_of(index, "include:", "include:");
        for entry in entries {
            if let Some((needle, message)) = movable(entry) {
                let line = pipeline.line_after(index, cursor, &needle);
                cursor = line;
                out.push(pipeline.finding(&CHECK, index, line, "include".to_owned(), message));
            }
        }
    }
}
