//! The host checks, one file each, with the documentation `rempart rules` shows.

mod audit_engine_files;
mod container_capabilities;
mod container_check;
mod container_host_mounts;
mod container_host_namespaces;
mod container_no_seccomp;
mod container_privileged;
mod container_root;
mod containerd;
mod containerd_confinement;
mod containerd_socket_permissions;
mod containerd_tcp;
mod containers_insecure_registries;
mod containers_signature_policy;
mod crio_confinement;
mod docker_config_permissions;
mod docker_daemon;
mod docker_icc;
mod docker_insecure_registries;
mod docker_live_restore;
mod docker_no_new_privileges;
mod docker_socket_permissions;
mod docker_tcp_tls;
mod docker_userland_proxy;
mod docker_userns;
mod engine_toml;
mod kernel_cgroup_v2;
mod kernel_lockdown;
mod kernel_lsm;
mod kernel_sysctls;
mod kernel_userns;
mod kubelet_anonymous;
mod kubelet_authorization;
mod kubelet_config;
mod kubelet_protect_kernel_defaults;
mod kubelet_read_only_port;
mod kubelet_rotate_certificates;
mod listening_services;
mod podman_confinement;

use rempart_core::Severity;
use serde::Serialize;

use crate::{AuditOptions, CheckResult, Host, Status};

/// The documentation of one host check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HostCheckDoc {
    /// Stable code, never reused (`HOST-DOCKER-ICC`).
    pub code: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// The benchmark recommendation it follows (CIS section and title), or its source.
    pub benchmark: &'static str,
    /// What it checks, why, how to fix it, and an example.
    pub doc: &'static str,
}

/// Declares a check's [`HostCheckDoc`] as the constant `CHECK`.
macro_rules! host_check {
    (
        code: $code:literal,
        title: $title:literal,
        severity: $severity:ident,
        benchmark: $benchmark:literal,
        doc: $doc:literal $(,)?
    ) => {
        #[allow(clippy::doc_markdown)]
        #[doc = $doc]
        pub(crate) const CHECK: $crate::checks::HostCheckDoc = $crate::checks::HostCheckDoc {
            code: $code,
            title: $title,
            severity: rempart_core::Severity::$severity,
            benchmark: $benchmark,
            doc: $doc,
        };
    };
}
pub(crate) use host_check;

/// What a check found.
pub(crate) struct Outcome {
    pub(crate) status: Status,
    pub(crate) detail: String,
    pub(crate) path: Option<String>,
    pub(crate) offenders: Vec<crate::Offender>,
}

impl Outcome {
    fn new(status: Status, detail: impl Into<String>, path: Option<&str>) -> Outcome {
        Outcome {
            status,
            detail: detail.into(),
            path: path.map(str::to_owned),
            offenders: Vec::new(),
        }
    }
    pub(crate) fn passed(detail: impl Into<String>, path: Option<&str>) -> Outcome {
        Outcome::new(Status::Passed, detail, path)
    }
    pub(crate) fn failed(detail: impl Into<String>, path: Option<&str>) -> Outcome {
        Outcome::new(Status::Failed, detail, path)
    }
    pub(crate) fn not_applicable(detail: impl Into<String>) -> Outcome {
        Outcome::new(Status::NotApplicable, detail, None)
    }
}

type Check = fn(&Host, &AuditOptions) -> Outcome;

const CHECKS: &[(HostCheckDoc, Check)] = &[
    (docker_icc::CHECK, docker_icc::run),
    (docker_userns::CHECK, docker_userns::run),
    (
        docker_no_new_privileges::CHECK,
        docker_no_new_privileges::run,
    ),
    (docker_live_restore::CHECK, docker_live_restore::run),
    (docker_userland_proxy::CHECK, docker_userland_proxy::run),
    (
        docker_insecure_registries::CHECK,
        docker_insecure_registries::run,
    ),
    (docker_tcp_tls::CHECK, docker_tcp_tls::run),
    (
        docker_socket_permissions::CHECK,
        docker_socket_permissions::run,
    ),
    (
        docker_config_permissions::CHECK,
        docker_config_permissions::run,
    ),
    (containerd_confinement::CHECK, containerd_confinement::run),
    (containerd_tcp::CHECK, containerd_tcp::run),
    (
        containerd_socket_permissions::CHECK,
        containerd_socket_permissions::run,
    ),
    (crio_confinement::CHECK, crio_confinement::run),
    (podman_confinement::CHECK, podman_confinement::run),
    (
        containers_signature_policy::CHECK,
        containers_signature_policy::run,
    ),
    (
        containers_insecure_registries::CHECK,
        containers_insecure_registries::run,
    ),
    (audit_engine_files::CHECK, audit_engine_files::run),
    (kubelet_anonymous::CHECK, kubelet_anonymous::run),
    (kubelet_authorization::CHECK, kubelet_authorization::run),
    (kubelet_read_only_port::CHECK, kubelet_read_only_port::run),
    (
        kubelet_rotate_certificates::CHECK,
        kubelet_rotate_certificates::run,
    ),
    (
        kubelet_protect_kernel_defaults::CHECK,
        kubelet_protect_kernel_defaults::run,
    ),
    (kernel_lsm::CHECK, kernel_lsm::run),
    (kernel_cgroup_v2::CHECK, kernel_cgroup_v2::run),
    (kernel_userns::CHECK, kernel_userns::run),
    (kernel_sysctls::CHECK, kernel_sysctls::run),
    (kernel_lockdown::CHECK, kernel_lockdown::run),
    (listening_services::CHECK, listening_services::run),
    (container_privileged::CHECK, container_privileged::run),
    (container_root::CHECK, container_root::run),
    (
        container_host_namespaces::CHECK,
        container_host_namespaces::run,
    ),
    (container_capabilities::CHECK, container_capabilities::run),
    (container_host_mounts::CHECK, container_host_mounts::run),
    (container_no_seccomp::CHECK, container_no_seccomp::run),
];

/// Every host check, in the order an audit runs them.
pub fn host_checks() -> Vec<HostCheckDoc> {
    CHECKS.iter().map(|(doc, _)| *doc).collect()
}

pub(crate) fn run_all(host: &Host, options: &AuditOptions) -> Vec<CheckResult> {
    CHECKS
        .iter()
        .map(|(doc, check)| {
            let outcome = check(host, options);
            CheckResult {
                code: doc.code,
                title: doc.title,
                benchmark: doc.benchmark,
                status: outcome.status,
                detail: outcome.detail,
                path: outcome.path,
                offenders: outcome.offenders,
                severity: doc.severity,
            }
        })
        .collect()
}
