//! The image config (`application/vnd.oci.image.config.v1+json`, or Docker's equivalent).
//!
//! Parsed with our own serde types rather than `oci_spec::image::ImageConfiguration` because the
//! Docker fields we check (`Healthcheck`, `OnBuild`) are not part of the OCI config schema and
//! that type drops them.

use std::collections::BTreeMap;

use rempart_core::{HistoryEntry, ImageMetadata};
use serde::Deserialize;

use crate::error::ImageError;

/// Layers an image may have. Real images stay far below (runtimes stack at most 128 overlay
/// layers); each layer costs a walk and a cache lookup, so a config listing 100,000 empty layers
/// must be refused, not scanned for minutes.
pub(crate) const MAX_LAYERS: usize = 1000;

#[derive(Deserialize, Default)]
struct ConfigFile {
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    config: Option<RunConfig>,
    rootfs: RootFs,
    #[serde(default)]
    history: Vec<History>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RunConfig {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    env: Option<Vec<String>>,
    #[serde(default)]
    exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    entrypoint: Option<Vec<String>>,
    #[serde(default)]
    cmd: Option<Vec<String>>,
    #[serde(default)]
    healthcheck: Option<Healthcheck>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Healthcheck {
    #[serde(default)]
    test: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

#[derive(Deserialize, Default)]
struct History {
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    created_by: Option<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    empty_layer: bool,
}

/// Parsed image config: the metadata, the layers' diff ids, and for each layer the history line
/// that created it (matched in order over the non-empty history entries).
pub struct ParsedConfig {
    pub metadata: ImageMetadata,
    pub diff_ids: Vec<String>,
    pub layer_history: Vec<Option<String>>,
}

/// Parses a config document; `input` names it in errors.
pub fn parse_config(bytes: &[u8], input: &str) -> Result<ParsedConfig, ImageError> {
    let file: ConfigFile = serde_json::from_slice(bytes).map_err(|source| ImageError::Json {
        path: input.to_owned(),
        source,
    })?;
    let run = file.config.unwrap_or_default();
    let history: Vec<HistoryEntry> = file
        .history
        .into_iter()
        .map(|h| HistoryEntry {
            created: h.created,
            created_by: h.created_by.unwrap_or_default(),
            comment: h.comment,
            empty_layer: h.empty_layer,
        })
        .collect();
    let mut layer_history: Vec<Option<String>> = history
        .iter()
        .filter(|h| !h.empty_layer)
        .map(|h| Some(h.created_by.clone()))
        .collect();
    if file.rootfs.diff_ids.len() > MAX_LAYERS {
        return Err(ImageError::invalid(
            input,
            format!(
                "{} layers; images are refused above {MAX_LAYERS} (Docker and containerd's \
                 overlay stacks stop at 128)",
                file.rootfs.diff_ids.len()
            ),
        ));
    }
    // History is optional and sometimes incomplete; never let it disagree with the layer count.
    layer_history.resize(file.rootfs.diff_ids.len(), None);
    for diff_id in &file.rootfs.diff_ids {
        crate::digest::validate_digest(diff_id)
            .map_err(|message| ImageError::invalid(input, message))?;
    }
    Ok(ParsedConfig {
        metadata: ImageMetadata {
            os: file.os,
            architecture: file.architecture,
            user: run.user.filter(|u| !u.is_empty()),
            env: run.env.unwrap_or_default(),
            exposed_ports: run.exposed_ports.unwrap_or_default().into_keys().collect(),
            labels: run.labels.unwrap_or_default(),
            entrypoint: run.entrypoint,
            cmd: run.cmd,
            healthcheck: run.healthcheck.and_then(|h| h.test),
            history,
            ..ImageMetadata::default()
        },
        diff_ids: file.rootfs.diff_ids,
        layer_history,
    })
}
