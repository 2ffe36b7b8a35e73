//! Misconfiguration checks of rempart: the image config and content, Dockerfiles, Kubernetes
//! manifests and docker-compose files. Every check has a stable code and a [`CheckDoc`]; see
//! [`checks`].

mod check;
mod common;
mod compose;
mod detect;
mod dockerfile;
mod error;
mod image;
mod kubernetes;
mod rego;

pub use check::{CheckDoc, CheckTarget};
pub use compose::scan_compose;
pub use detect::{
    ConfigKind, ConfigOptions, checks, detect_kind, scan_config_file, scan_config_file_with,
};
pub use dockerfile::{DockerfileOptions, scan_dockerfile, scan_dockerfile_with};
pub use error::MisconfigError;
pub use image::ImageConfigChecks;
pub use kubernetes::{
    KubeOptions, KubeReport, PssLevel, WorkloadLevel, scan_kubernetes, scan_kubernetes_set,
    scan_kubernetes_with,
};
pub use rego::{RegoLimits, RegoPolicies};
