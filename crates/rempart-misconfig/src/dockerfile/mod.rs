//! Dockerfile checks (`DF-...`).

pub(crate) mod parse;
mod shell;

mod add_local;
mod add_remote_url;
mod apk_no_cache;
mod apt_lists_not_cleaned;
mod apt_no_recommends;
mod base_latest;
mod base_not_pinned;
mod copy_whole_context;
mod curl_pipe_shell;
mod expose_risky;
mod maintainer;
mod no_healthcheck;
mod no_user;
mod pip_no_cache_dir;
mod root_user;
mod secret_arg_env;
mod sudo;

use rempart_core::{Finding, Location};

use crate::check::CheckDoc;
use crate::error::MisconfigError;
pub(crate) use parse::MAX_DOCKERFILE_BYTES;
use parse::{Dockerfile, Instruction, Stage};
use shell::Command;

/// What is known about the build context, beyond the Dockerfile itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DockerfileOptions {
    /// Whether a `.dockerignore` sits next to the Dockerfile: `None` when the caller cannot tell
    /// (a Dockerfile found inside an image).
    pub dockerignore_present: Option<bool>,
}

/// One RUN with the stage it belongs to and its simple commands, split once for all rules.
pub(crate) type Run<'a> = (&'a Stage, &'a Instruction, Vec<Command>);

pub(crate) struct Context<'a> {
    pub(crate) path: &'a str,
    pub(crate) file: &'a Dockerfile,
    pub(crate) options: DockerfileOptions,
    runs: Vec<Run<'a>>,
}

impl Context<'_> {
    pub(crate) fn at(&self, line: u32) -> Location {
        Location::file(self.path).with_line(line)
    }

    pub(crate) fn final_stage(&self) -> Option<&Stage> {
        self.file.stages.last()
    }

    /// The stages a stage inherits from (itself first), following `FROM <earlier stage>`.
    pub(crate) fn lineage(&self, stage: &Stage) -> Vec<&Stage> {
        let mut chain = Vec::new();
        let mut current = self.file.stages.get(stage.index);
        while let Some(s) = current {
            chain.push(s);
            current = self.file.stage_named(&s.base, s.index);
        }
        chain
    }

    /// Every RUN of every stage with its simple commands.
    pub(crate) fn runs(&self) -> &[Run<'_>] {
        &self.runs
    }
}

/// Whether a RUN mounts a build cache over `target` (then leaving caches behind is intended).
pub(crate) fn has_cache_mount(run: &Instruction, target: &str) -> bool {
    run.flags.iter().any(|(name, value)| {
        name == "mount"
            && value
                .as_deref()
                .is_some_and(|v| v.contains("type=cache") && v.contains(target))
    })
}

type Rule = fn(&Context<'_>, &mut Vec<Finding>);

const RULES: &[(CheckDoc, Rule)] = &[
    (root_user::CHECK, root_user::run),
    (no_user::CHECK, no_user::run),
    (base_not_pinned::CHECK, base_not_pinned::run),
    (base_latest::CHECK, base_latest::run),
    (curl_pipe_shell::CHECK, curl_pipe_shell::run),
    (apt_no_recommends::CHECK, apt_no_recommends::run),
    (apt_lists_not_cleaned::CHECK, apt_lists_not_cleaned::run),
    (apk_no_cache::CHECK, apk_no_cache::run),
    (pip_no_cache_dir::CHECK, pip_no_cache_dir::run),
    (secret_arg_env::CHECK, secret_arg_env::run),
    (add_local::CHECK, add_local::run),
    (add_remote_url::CHECK, add_remote_url::run),
    (sudo::CHECK, sudo::run),
    (expose_risky::CHECK, expose_risky::run),
    (copy_whole_context::CHECK, copy_whole_context::run),
    (maintainer::CHECK, maintainer::run),
    (no_healthcheck::CHECK, no_healthcheck::run),
];

pub(crate) fn docs() -> impl Iterator<Item = CheckDoc> {
    RULES.iter().map(|(doc, _)| *doc)
}

/// Parses a Dockerfile with the same limits and errors as the checks, for user policies.
pub(crate) fn parse_for_policies(path: &str, text: &str) -> Result<Dockerfile, MisconfigError> {
    if text.len() > MAX_DOCKERFILE_BYTES {
        return Err(MisconfigError::TooLarge {
            path: path.to_owned(),
            size: text.len(),
            limit: MAX_DOCKERFILE_BYTES,
        });
    }
    parse::parse(text).map_err(|e| MisconfigError::Dockerfile {
        path: path.to_owned(),
        line: e.line,
        message: e.message,
    })
}

/// Checks a Dockerfile. `path` names it in findings and errors.
pub fn scan_dockerfile(path: &str, text: &str) -> Result<Vec<Finding>, MisconfigError> {
    scan_dockerfile_with(path, text, DockerfileOptions::default())
}

/// [`scan_dockerfile`] with what is known about the build context.
pub fn scan_dockerfile_with(
    path: &str,
    text: &str,
    options: DockerfileOptions,
) -> Result<Vec<Finding>, MisconfigError> {
    let file = parse_for_policies(path, text)?;
    if file.stages.is_empty() {
        return Err(MisconfigError::Dockerfile {
            path: path.to_owned(),
            line: 1,
            message: "no FROM instruction".to_owned(),
        });
    }
    let runs = file
        .stages
        .iter()
        .flat_map(|stage| {
            stage
                .instructions
                .iter()
                .filter(|i| i.keyword == "RUN")
                .map(move |i| (stage, i, shell::split_commands(&i.script())))
        })
        .collect();
    let context = Context {
        path,
        file: &file,
        options,
        runs,
    };
    let mut findings = Vec::new();
    for (_, rule) in RULES {
        rule(&context, &mut findings);
    }
    findings.sort_by(|a, b| (a.location.line, &a.id).cmp(&(b.location.line, &b.id)));
    Ok(findings)
}
