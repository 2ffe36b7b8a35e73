//! Misconfiguration checks of rempart: the image config and content, Dockerfiles, Kubernetes
//! manifests and docker-compose files. Every check has a stable code and a [`CheckDoc`]; see
//! [`checks`].

mod check;
mod common;
mod dockerfile;
mod error;

pub use check::{CheckDoc, CheckTarget};
pub use dockerfile::{DockerfileOptions, scan_dockerfile, scan_dockerfile_with};
pub use error::MisconfigError;
mod kubernetes;
pub use kubernetes::{
    KubeOptions, KubeReport, PssLevel, WorkloadLevel, scan_kubernetes, scan_kubernetes_with,
};
