//! Routing a configuration file to the right checks.

use std::path::Path;

use rempart_core::Finding;
use serde::Serialize;

use crate::check::CheckDoc;
use crate::dockerfile::{self, DockerfileOptions, MAX_DOCKERFILE_BYTES};
use crate::error::MisconfigError;
use crate::kubernetes::{self, KubeOptions, MAX_MANIFEST_BYTES};
use crate::{compose, image};

/// The kinds of configuration file this crate checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigKind {
    Dockerfile,
    Compose,
    Kubernetes,
    /// A GitHub Actions workflow (`.github/workflows/*.yml`).
    GithubWorkflow,
    /// A GitLab CI pipeline (`.gitlab-ci.yml`).
    GitlabCi,
}

/// Settings for [`scan_config_file_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigOptions {
    pub dockerfile: DockerfileOptions,
    pub kubernetes: KubeOptions,
    /// The directory on disk the checked paths are relative to (empty: the current directory),
    /// when they are files of a source tree: a GitLab pipeline's local includes are then read
    /// from beside it. `None` (in images): includes are not followed.
    pub pipeline_root: Option<std::path::PathBuf>,
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Whether the name alone says Dockerfile: `Dockerfile`, `Containerfile`, `*.Dockerfile`,
/// `*.dockerfile`, and the common `Dockerfile.<variant>`.
pub fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "dockerfile"
        || lower == "containerfile"
        || lower.ends_with(".dockerfile")
        || lower.ends_with(".containerfile")
        || lower.starts_with("dockerfile.")
        || lower.starts_with("containerfile.")
}

fn is_compose_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let stem = lower
        .strip_suffix(".yml")
        .or_else(|| lower.strip_suffix(".yaml"));
    stem.is_some_and(|stem| {
        stem == "compose"
            || stem == "docker-compose"
            || stem.starts_with("docker-compose.")
            || stem.starts_with("compose.")
    })
}

fn has_top_level_key(text: &str, key: &str) -> bool {
    text.lines().any(|line| {
        line.strip_prefix(key)
            .is_some_and(|rest| rest.starts_with(':'))
            || line.trim_start().starts_with(&format!("\"{key}\""))
    })
}

/// Whether a text is a Dockerfile: its first instruction (after comments, parser directives and
/// blank lines) is `FROM`, or `ARG` before a `FROM`, as the builder requires.
pub(crate) fn looks_like_dockerfile(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let instruction = |line: &str| {
        line.split_whitespace()
            .next()
            .map(str::to_ascii_uppercase)
            .unwrap_or_default()
    };
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'));
    match lines.next().map(instruction).as_deref() {
        Some("FROM") => true,
        Some("ARG") => lines.any(|line| instruction(line) == "FROM"),
        _ => false,
    }
}

/// Decides which checks apply, from the file name first and then the content. `None`: not a
/// configuration file this crate knows.
pub fn detect_kind(path: &Path, bytes: &[u8]) -> Option<ConfigKind> {
    if crate::github::is_workflow_path(&path.to_string_lossy()) {
        return Some(ConfigKind::GithubWorkflow);
    }
    if crate::gitlab::is_pipeline_path(&path.to_string_lossy()) {
        return Some(ConfigKind::GitlabCi);
    }
    let name = file_name(path);
    if is_dockerfile_name(&name) {
        // The name is a hint, the content decides: vim's `dockerfile.vim` syntax file and
        // editors' snippets carry the name but are not build files.
        return looks_like_dockerfile(bytes).then_some(ConfigKind::Dockerfile);
    }
    if is_compose_name(&name) {
        return Some(ConfigKind::Compose);
    }
    let extension = Path::new(&name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if !matches!(extension.as_deref(), Some("yaml" | "yml" | "json")) {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if has_top_level_key(text, "apiVersion") && has_top_level_key(text, "kind")
        || text
            .lines()
            .any(|l| l.trim_start().starts_with("- apiVersion:"))
    {
        Some(ConfigKind::Kubernetes)
    } else if has_top_level_key(text, "services") {
        Some(ConfigKind::Compose)
    } else {
        None
    }
}

/// Checks a configuration file of any known kind. Files of no known kind are an error
/// ([`MisconfigError::UnknownKind`]); use [`detect_kind`] first to filter.
pub fn scan_config_file(path: &Path, bytes: &[u8]) -> Result<Vec<Finding>, MisconfigError> {
    scan_config_file_with(path, bytes, &ConfigOptions::default())
}

/// [`scan_config_file`] with settings.
pub fn scan_config_file_with(
    path: &Path,
    bytes: &[u8],
    options: &ConfigOptions,
) -> Result<Vec<Finding>, MisconfigError> {
    let shown = path.to_string_lossy();
    let limit = MAX_DOCKERFILE_BYTES.max(MAX_MANIFEST_BYTES);
    if bytes.len() > limit {
        return Err(MisconfigError::TooLarge {
            path: shown.into_owned(),
            size: bytes.len(),
            limit,
        });
    }
    let kind = detect_kind(path, bytes).ok_or_else(|| MisconfigError::UnknownKind {
        path: path.to_path_buf(),
    })?;
    let text = std::str::from_utf8(bytes).map_err(|_| MisconfigError::NotUtf8 {
        path: shown.clone().into_owned(),
    })?;
    match kind {
        ConfigKind::Dockerfile => {
            dockerfile::scan_dockerfile_with(&shown, text, options.dockerfile)
        }
        ConfigKind::Compose => compose::scan_compose(&shown, text),
        ConfigKind::GithubWorkflow => crate::github::scan_workflow(&shown, text),
        ConfigKind::GitlabCi => {
            // The repository's root is the pipeline file's directory.
            let root = options
                .pipeline_root
                .as_ref()
                .map(|root| match root.join(path).parent() {
                    Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
                    _ => std::path::PathBuf::from("."),
                });
            crate::gitlab::scan_pipeline(&shown, text, root.as_deref())
        }
        ConfigKind::Kubernetes => {
            kubernetes::scan_kubernetes_with(&shown, text, &options.kubernetes)
                .map(|report| report.findings)
        }
    }
}

/// Every check of this crate, image checks first, then Dockerfile, Kubernetes and compose.
pub fn checks() -> Vec<CheckDoc> {
    image::docs()
        .chain(dockerfile::docs())
        .chain(kubernetes::docs())
        .chain(compose::docs())
        .chain(crate::github::docs())
        .chain(crate::gitlab::docs())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for name in [
            "Dockerfile",
            "api.Dockerfile",
            "Containerfile",
            "Dockerfile.prod",
        ] {
            assert!(is_dockerfile_name(name), "{name}");
        }
        assert!(!is_dockerfile_name("notes.md"));
        // The name says Dockerfile, the content decides.
        let vim = b"\" Vim syntax file\n\" Language: Dockerfile\nsyn keyword dockerfileKeyword FROM RUN\n";
        assert_eq!(
            detect_kind(Path::new("usr/share/vim/syntax/dockerfile.vim"), vim),
            None
        );
        let real = b"# syntax=docker/dockerfile:1\nARG BASE=debian:12\n\nFROM $BASE\nRUN true\n";
        assert_eq!(
            detect_kind(Path::new("Dockerfile.prod"), real),
            Some(ConfigKind::Dockerfile)
        );
        assert_eq!(detect_kind(Path::new("Dockerfile"), b"ARG X=1\n"), None);
        assert_eq!(
            detect_kind(Path::new("Dockerfile"), b"from alpine\n"),
            Some(ConfigKind::Dockerfile)
        );
        assert!(is_compose_name("docker-compose.prod.yml"));
        assert!(is_compose_name("compose.yaml"));
        assert!(!is_compose_name("values.yaml"));
    }
}
