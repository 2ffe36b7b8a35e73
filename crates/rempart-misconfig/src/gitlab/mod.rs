//! GitLab CI pipeline checks (`CI-GL-…`) on `.gitlab-ci.yml` and the local files it includes:
//! unpinned images and includes, privileged Docker-in-Docker, credentials written into
//! variables, the job token sent elsewhere, images pushed before any scan or signature.

mod dind;
mod job_token;
mod push_without_scan;
mod secret_variable;
mod unpinned_image;
mod unpinned_include;

use std::path::{Component, Path};

use rempart_core::{Finding, Location};
use serde_json::Value;

use crate::check::CheckDoc;
use crate::error::MisconfigError;
use crate::kubernetes::load_yaml;

/// Top-level keys that are settings, not jobs.
const RESERVED: &[&str] = &[
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "types",
    "spec",
];

/// The stages GitLab uses when the pipeline names none.
const DEFAULT_STAGES: &[&str] = &[".pre", "build", "test", "deploy", ".post"];

/// Local includes followed at most: GitLab's own limit is 150 per pipeline; the files here are
/// read from a source tree and each costs a read.
const MAX_INCLUDES: usize = 64;
/// Nesting of includes within includes followed at most.
const MAX_INCLUDE_DEPTH: usize = 4;
/// An included file larger than this is not read.
const MAX_INCLUDE_BYTES: u64 = 1024 * 1024;

/// A file of the pipeline: `.gitlab-ci.yml` or a local file it includes.
pub(crate) struct Source {
    pub(crate) path: String,
    lines: Vec<String>,
    pub(crate) value: Value,
}

/// One job of the pipeline and the file that defines it.
pub(crate) struct Job {
    pub(crate) name: String,
    pub(crate) value: Value,
    pub(crate) source: usize,
}

impl Job {
    pub(crate) fn hidden(&self) -> bool {
        self.name.starts_with('.')
    }

    /// `before_script` then `script`, one command per line (arrays joined).
    pub(crate) fn script(&self) -> String {
        ["before_script", "script"]
            .iter()
            .filter_map(|key| self.value.get(*key))
            .map(script_text)
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub(crate) fn stage(&self) -> &str {
        self.value
            .get("stage")
            .and_then(Value::as_str)
            .unwrap_or("test")
    }
}

/// A script as text: a string, or an array of strings (and nested arrays, as `!reference`
/// expands them).
pub(crate) fn script_text(value: &Value) -> String {
    match value {
        Value::String(line) => line.clone(),
        Value::Array(items) => items.iter().map(script_text).collect::<Vec<_>>().join("\n"),
        _ => String::new(),
    }
}

pub(crate) struct Pipeline {
    pub(crate) sources: Vec<Source>,
    pub(crate) jobs: Vec<Job>,
}

impl Pipeline {
    /// The value of a top-level setting: the main file's, else the first include's that sets
    /// it (the including file wins, as GitLab merges them), with the file it is in.
    pub(crate) fn setting(&self, key: &str) -> Option<(&Value, usize)> {
        self.sources
            .iter()
            .enumerate()
            .find_map(|(index, source)| source.value.get(key).map(|value| (value, index)))
    }

    pub(crate) fn stages(&self) -> Vec<String> {
        match self.setting("stages").map(|(value, _)| value) {
            Some(Value::Array(stages)) => {
                let mut all = vec![".pre".to_owned()];
                all.extend(stages.iter().filter_map(Value::as_str).map(str::to_owned));
                all.push(".post".to_owned());
                all
            }
            _ => DEFAULT_STAGES.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// The first line of `source` holding `needle` at or after the line holding `anchor`
    /// (1-based), or the anchor's line.
    pub(crate) fn line_of(&self, source: usize, anchor: &str, needle: &str) -> u32 {
        let lines = &self.sources[source].lines;
        let start = lines
            .iter()
            .position(|line| line.starts_with(anchor) || line.trim_start().starts_with(anchor))
            .unwrap_or(0);
        crate::common::line_holding(lines, start, needle)
    }

    /// The first line of `source` after line `after` (1-based; 0: from the start) holding
    /// `needle`, or `after` itself when none does.
    pub(crate) fn line_after(&self, source: usize, after: u32, needle: &str) -> u32 {
        let lines = &self.sources[source].lines;
        let start = usize::try_from(after).unwrap_or(usize::MAX);
        if lines.iter().skip(start).any(|line| line.contains(needle)) {
            crate::common::line_holding(lines, start, needle)
        } else {
            after
        }
    }

    pub(crate) fn finding(
        &self,
        check: &CheckDoc,
        source: usize,
        line: u32,
        resource: String,
        message: impl Into<String>,
    ) -> Finding {
        check.finding(
            Location::file(&self.sources[source].path).with_line(line),
            resource,
            message,
        )
    }
}

type Rule = fn(&Pipeline, &mut Vec<Finding>);

const RULES: &[(CheckDoc, Rule)] = &[
    (unpinned_image::CHECK, unpinned_image::run),
    (unpinned_include::CHECK, unpinned_include::run),
    (dind::CHECK, dind::run),
    (secret_variable::CHECK, secret_variable::run),
    (job_token::CHECK, job_token::run),
    (push_without_scan::CHECK, push_without_scan::run),
];

pub(crate) fn docs() -> impl Iterator<Item = CheckDoc> {
    RULES.iter().map(|(doc, _)| *doc)
}

/// Whether a path is a GitLab CI pipeline: `.gitlab-ci.yml` (or `.yaml`).
pub(crate) fn is_pipeline_path(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    name == ".gitlab-ci.yml" || name == ".gitlab-ci.yaml"
}

/// The entries of a file's `include:`, which is one entry or a list of them.
pub(crate) fn include_entries(value: &Value) -> Vec<&Value> {
    match value.get("include") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    }
}

/// The local files an `include:` names (`local:` entries and bare paths that are not URLs).
fn local_includes(value: &Value) -> Vec<String> {
    include_entries(value)
        .into_iter()
        .filter_map(|entry| match entry {
            Value::String(path) if !path.contains("://") => Some(path.clone()),
            Value::Object(map) => map.get("local").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        })
        .collect()
}

/// Reads a local include under `root`: the path is relative to the repository's root (a
/// leading `/` too); `..`, wildcards and anything that resolves outside the root are not
/// followed.
fn read_include(root: &Path, include: &str) -> Option<String> {
    let relative = Path::new(include.trim_start_matches('/'));
    if include.contains('*')
        || relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let canonical_root = root.canonicalize().ok()?;
    let path = canonical_root.join(relative).canonicalize().ok()?;
    if !path.starts_with(&canonical_root) {
        return None;
    }
    let bytes = rempart_core::read_regular_file(&path, MAX_INCLUDE_BYTES).ok()?;
    String::from_utf8(bytes).ok()
}

/// Checks a GitLab CI pipeline. With `root` (the repository's directory on disk), the local
/// files it includes are read and checked as part of it.
pub fn scan_pipeline(
    path: &str,
    text: &str,
    root: Option<&Path>,
) -> Result<Vec<Finding>, MisconfigError> {
    let mut sources = Vec::new();
    let Some(main) = load_yaml(path, text)?.into_iter().next() else {
        return Ok(Vec::new());
    };
    sources.push(Source {
        path: path.to_owned(),
        lines: text.lines().map(str::to_owned).collect(),
        value: main.value,
    });
    if let Some(root) = root {
        // Breadth first, each file once; an include that does not parse is the pipeline's
        // error as much as the main file's.
        let mut frontier: Vec<String> = local_includes(&sources[0].value);
        let mut seen: Vec<String> = Vec::new();
        for _ in 0..MAX_INCLUDE_DEPTH {
            let mut next = Vec::new();
            for include in frontier {
                if seen.contains(&include) || seen.len() >= MAX_INCLUDES {
                    continue;
                }
                seen.push(include.clone());
                let Some(text) = read_include(root, &include) else {
                    continue;
                };
                // Named as the pipeline file is: beside it, in the repository.
                let shown = Path::new(path)
                    .parent()
                    .unwrap_or(Path::new(""))
                    .join(include.trim_start_matches('/'))
                    .to_string_lossy()
                    .into_owned();
                let Some(document) = load_yaml(&shown, &text)?.into_iter().next() else {
                    continue;
                };
                next.extend(local_includes(&document.value));
                sources.push(Source {
                    path: shown,
                    lines: text.lines().map(str::to_owned).collect(),
                    value: document.value,
                });
            }
            frontier = next;
        }
    }
    // Jobs: the included files' first, replaced by a job of the same name in a file that
    // includes them (the main file last, so it wins).
    let mut jobs: Vec<Job> = Vec::new();
    for (index, source) in sources.iter().enumerate().rev() {
        let Some(map) = source.value.as_object() else {
            continue;
        };
        for (name, value) in map {
            if RESERVED.contains(&name.as_str()) || !value.is_object() {
                continue;
            }
            jobs.retain(|job| job.name != *name);
            jobs.push(Job {
                name: name.clone(),
                value: value.clone(),
                source: index,
            });
        }
    }
    let pipeline = Pipeline { sources, jobs };
    let mut findings = Vec::new();
    for (_, rule) in RULES {
        rule(&pipeline, &mut findings);
    }
    findings.sort_by(|a, b| {
        (&a.location.path, a.location.line, &a.id).cmp(&(&b.location.path, b.location.line, &b.id))
    });
    Ok(findings)
}

/// The image a job, `default:` or the pipeline names (`image: x` or `image: {name: x}`).
pub(crate) fn image_name(value: &Value) -> Option<&str> {
    match value {
        Value::String(name) => Some(name),
        Value::Object(map) => map.get("name").and_then(Value::as_str),
        _ => None,
    }
}

/// The images of a `services:` list.
pub(crate) fn service_images(value: Option<&Value>) -> Vec<&str> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(image_name).collect())
        .unwrap_or_default()
}

/// Every place an image is named: (file, anchor line text, image, where), for the pipeline's
/// and `default:`'s settings and each job's.
pub(crate) fn images(pipeline: &Pipeline) -> Vec<(usize, String, String, String, bool)> {
    let mut found = Vec::new();
    let mut add = |source: usize, anchor: &str, settings: &Value, owner: &str| {
        if let Some(image) = settings.get("image").and_then(image_name) {
            found.push((
                source,
                anchor.to_owned(),
                image.to_owned(),
                owner.to_owned(),
                false,
            ));
        }
        for image in service_images(settings.get("services")) {
            found.push((
                source,
                anchor.to_owned(),
                image.to_owned(),
                owner.to_owned(),
                true,
            ));
        }
    };
    for (index, source) in pipeline.sources.iter().enumerate() {
        add(index, "", &source.value, "pipeline");
        if let Some(default) = source.value.get("default") {
            add(index, "default:", default, "default");
        }
    }
    for job in &pipeline.jobs {
        add(
            job.source,
            &format!("{}:", job.name),
            &job.value,
            &format!("job {}", job.name),
        );
    }
    found
}
