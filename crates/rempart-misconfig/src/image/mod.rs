//! Checks of a built image: its config and its final filesystem (`IMG-...`).

mod add_remote;
mod env_secret;
mod expose_risky;
mod latest_tag;
mod no_healthcheck;
mod package_cache;
mod root_user;
mod setuid;
mod world_writable;

use rempart_core::{Finding, ImageAnalyzer, ImageContext, ImageMetadata, Location};

use crate::check::CheckDoc;

/// Findings of one per-file check beyond this many are summed up in one last finding, so a
/// pathological image cannot flood the report.
pub(crate) const MAX_FILE_FINDINGS: usize = 50;

/// Whether the source had an image config at all: a root filesystem directory has none, and then
/// "no USER" or "no HEALTHCHECK" would be noise.
pub(crate) fn has_config(metadata: &ImageMetadata) -> bool {
    metadata.config_digest.is_some()
        || !metadata.history.is_empty()
        || !metadata.env.is_empty()
        || metadata.cmd.is_some()
        || metadata.entrypoint.is_some()
        || metadata.user.is_some()
}

/// Findings about the config are located at the image's name: they belong to no file.
/// The location of a finding about a field of the image config (not a file), with the entry's
/// 0-based position in its list when there is one (reported 1-based).
pub(crate) fn config_location(field: &str, position: Option<usize>) -> Location {
    Location::config(
        field,
        position.and_then(|position| u32::try_from(position + 1).ok()),
    )
}

type Rule = fn(&ImageContext<'_>, &mut Vec<Finding>);

const RULES: &[(CheckDoc, Rule)] = &[
    (root_user::CHECK, root_user::run),
    (env_secret::CHECK, env_secret::run),
    (expose_risky::CHECK, expose_risky::run),
    (latest_tag::CHECK, latest_tag::run),
    (add_remote::CHECK, add_remote::run),
    (setuid::CHECK, setuid::run),
    (world_writable::CHECK, world_writable::run),
    (no_healthcheck::CHECK, no_healthcheck::run),
    (package_cache::CHECK, package_cache::run),
];

pub(crate) fn docs() -> impl Iterator<Item = CheckDoc> {
    RULES.iter().map(|(doc, _)| *doc)
}

/// The image config and content checks, as an [`ImageAnalyzer`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageConfigChecks;

impl ImageConfigChecks {
    pub fn new() -> ImageConfigChecks {
        ImageConfigChecks
    }
}

impl ImageAnalyzer for ImageConfigChecks {
    fn name(&self) -> &'static str {
        "misconfig-image"
    }

    fn analyze_image(
        &self,
        image: &ImageContext<'_>,
        findings: &mut Vec<Finding>,
    ) -> Result<(), rempart_core::ImageAnalysisError> {
        for (_, rule) in RULES {
            rule(image, findings);
        }
        Ok(())
    }
}
