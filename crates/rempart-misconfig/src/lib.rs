//! Misconfiguration checks of rempart: the image config and content, Dockerfiles, Kubernetes
//! manifests and docker-compose files. Every check has a stable code and a [`CheckDoc`]; see
//! [`checks`].
//!
//! Entry points:
//! - images: [`ImageConfigChecks`], an [`rempart_core::ImageAnalyzer`];
//! - any configuration file: [`detect_kind`], then [`scan_config_file`] (or
//!   [`scan_config_file_with`] and [`ConfigOptions`]);
//! - by kind: [`scan_dockerfile`], [`scan_compose`], [`scan_kubernetes`] (which also reports the
//!   Pod Security Standards level of every workload) and [`scan_kubernetes_set`] for a directory
//!   of manifests checked together; [`WORKLOAD_KINDS`], the kinds that run pods and where their
//!   pod spec is;
//! - user policies: [`RegoPolicies`].
//!
//! Findings are data; an `Err` ([`MisconfigError`]) means a file could not be checked at all, and
//! names it.

mod check;
mod ci_commands;
mod common;
mod compose;
mod detect;
mod dockerfile;
mod error;
mod github;
mod gitlab;
mod image;
mod kubernetes;
mod rego;

pub use check::{CheckDoc, CheckTarget};
pub use common::ImageRef;
pub use compose::scan_compose;
pub use detect::{
    ConfigKind, ConfigOptions, checks, detect_kind, is_dockerfile_name, scan_config_file,
    scan_config_file_with,
};
pub use dockerfile::{DockerfileOptions, scan_dockerfile, scan_dockerfile_with};
pub use error::MisconfigError;
pub use github::scan_workflow;
pub use gitlab::scan_pipeline;
pub use image::ImageConfigChecks;
pub use kubernetes::{
    KubeOptions, KubeReport, LATEST_PSS_MINOR, PssLevel, PssVersion, PssViolation, WORKLOAD_KINDS,
    WorkloadKind, WorkloadLevel, evaluate_pod_security, load_manifest_documents, scan_kubernetes,
    scan_kubernetes_set, scan_kubernetes_with, workload_kind,
};
pub use rego::{MAX_POLICY_FILE_BYTES, RegoLimits, RegoPolicies};
