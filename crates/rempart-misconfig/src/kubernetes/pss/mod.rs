//! The Pod Security Standards, every control of the baseline and restricted profiles as the
//! upstream `pod-security-admission` implementation applies them, per version (see
//! [`version`]): the pod-level defaults that container fields inherit, the exemptions of Windows
//! pods and of pods in their own user namespace, and the controls added over the releases.

mod apparmor;
mod capabilities_baseline;
mod capabilities_restricted;
mod host_namespaces;
mod host_ports;
mod host_probes;
mod host_process;
mod hostpath_volumes;
mod privilege_escalation;
mod privileged;
mod proc_mount;
mod proc_mount_restricted;
mod run_as_non_root;
mod run_as_user;
mod seccomp_baseline;
mod seccomp_restricted;
mod selinux;
mod sysctls;
mod version;
mod volume_types;

use serde::Serialize;

use super::model::Pod;
use crate::check::CheckDoc;
pub use version::{LATEST_PSS_MINOR, PssVersion};

/// The Pod Security Standards profiles, from least to most restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PssLevel {
    /// Fails at least one baseline control.
    Privileged,
    /// Meets every baseline control, fails at least one restricted control.
    Baseline,
    /// Meets every control.
    Restricted,
}

impl PssLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            PssLevel::Privileged => "privileged",
            PssLevel::Baseline => "baseline",
            PssLevel::Restricted => "restricted",
        }
    }
}

/// One failed control on one pod or container.
pub(crate) struct Violation {
    /// `container app`, `init container setup`; `None` for pod-level fields.
    pub(crate) container: Option<String>,
    /// Which field holds which value, and what is allowed.
    pub(crate) message: String,
}

impl Violation {
    pub(crate) fn pod(message: impl Into<String>) -> Violation {
        Violation {
            container: None,
            message: message.into(),
        }
    }

    pub(crate) fn container(
        container: &super::model::Container<'_>,
        message: impl Into<String>,
    ) -> Violation {
        Violation {
            container: Some(container.label()),
            message: message.into(),
        }
    }
}

/// A control, judged as of a minor version of the standards.
type Control = fn(&Pod<'_>, u32, &mut Vec<Violation>);

/// The profile a control belongs to: failing it drops the pod below that profile.
const CONTROLS: &[(CheckDoc, PssLevel, Control)] = &[
    (
        host_process::CHECK,
        PssLevel::Baseline,
        host_process::evaluate,
    ),
    (
        host_namespaces::CHECK,
        PssLevel::Baseline,
        host_namespaces::evaluate,
    ),
    (privileged::CHECK, PssLevel::Baseline, privileged::evaluate),
    (
        capabilities_baseline::CHECK,
        PssLevel::Baseline,
        capabilities_baseline::evaluate,
    ),
    (
        hostpath_volumes::CHECK,
        PssLevel::Baseline,
        hostpath_volumes::evaluate,
    ),
    (host_ports::CHECK, PssLevel::Baseline, host_ports::evaluate),
    (apparmor::CHECK, PssLevel::Baseline, apparmor::evaluate),
    (selinux::CHECK, PssLevel::Baseline, selinux::evaluate),
    (proc_mount::CHECK, PssLevel::Baseline, proc_mount::evaluate),
    (
        host_probes::CHECK,
        PssLevel::Baseline,
        host_probes::evaluate,
    ),
    (
        seccomp_baseline::CHECK,
        PssLevel::Baseline,
        seccomp_baseline::evaluate,
    ),
    (sysctls::CHECK, PssLevel::Baseline, sysctls::evaluate),
    (
        volume_types::CHECK,
        PssLevel::Restricted,
        volume_types::evaluate,
    ),
    (
        privilege_escalation::CHECK,
        PssLevel::Restricted,
        privilege_escalation::evaluate,
    ),
    (
        run_as_non_root::CHECK,
        PssLevel::Restricted,
        run_as_non_root::evaluate,
    ),
    (
        run_as_user::CHECK,
        PssLevel::Restricted,
        run_as_user::evaluate,
    ),
    (
        seccomp_restricted::CHECK,
        PssLevel::Restricted,
        seccomp_restricted::evaluate,
    ),
    (
        capabilities_restricted::CHECK,
        PssLevel::Restricted,
        capabilities_restricted::evaluate,
    ),
    (
        proc_mount_restricted::CHECK,
        PssLevel::Restricted,
        proc_mount_restricted::evaluate,
    ),
];

pub(crate) fn docs() -> impl Iterator<Item = CheckDoc> {
    CONTROLS.iter().map(|(doc, _, _)| *doc)
}

/// The profile a control belongs to (`Restricted` for a code that is not a control's).
pub(crate) fn profile_of(code: &str) -> PssLevel {
    CONTROLS
        .iter()
        .find(|(doc, _, _)| doc.code == code)
        .map_or(PssLevel::Restricted, |(_, profile, _)| *profile)
}

/// Evaluates every control as of `version`; returns the level the pod meets and the violations
/// found.
pub(crate) fn evaluate(
    pod: &Pod<'_>,
    version: PssVersion,
) -> (PssLevel, Vec<(CheckDoc, Violation)>) {
    let minor = version.effective_minor();
    let mut level = PssLevel::Restricted;
    let mut found = Vec::new();
    for (doc, profile, control) in CONTROLS {
        let mut violations = Vec::new();
        control(pod, minor, &mut violations);
        if !violations.is_empty() {
            let below = match profile {
                PssLevel::Baseline => PssLevel::Privileged,
                _ => PssLevel::Baseline,
            };
            level = level.min(below);
        }
        found.extend(violations.into_iter().map(|v| (*doc, v)));
    }
    (level, found)
}

/// Renders a JSON value for a message (`true`, `"Unconfined"`).
pub(crate) fn shown(value: &serde_json::Value) -> String {
    value.to_string()
}
