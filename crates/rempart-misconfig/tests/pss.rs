//! Every Pod Security Standards control against its own pass and fail fixtures
//! (`tests/fixtures/kubernetes/pss/<control>-{pass,fail}.yaml`), written from the Kubernetes
//! documentation: every pod of a pass file must meet `restricted` with no PSS finding at all;
//! every pod of a fail file must trip its control and drop to the expected level.

use std::collections::BTreeSet;
use std::path::PathBuf;

use rempart_core::FindingDetails;
use rempart_misconfig::{PssLevel, checks, scan_kubernetes};

/// Control fixture stem, its code, the level a violating pod falls to, and the other PSS codes a
/// violation of this control necessarily trips as well.
const CONTROLS: &[(&str, &str, PssLevel, &[&str])] = &[
    (
        "host-process",
        "K8S-PSS-HOST-PROCESS",
        PssLevel::Privileged,
        &[],
    ),
    (
        "host-namespaces",
        "K8S-PSS-HOST-NAMESPACES",
        PssLevel::Privileged,
        &[],
    ),
    (
        "privileged",
        "K8S-PSS-PRIVILEGED",
        PssLevel::Privileged,
        &[],
    ),
    (
        "capabilities-baseline",
        "K8S-PSS-CAPABILITIES-BASELINE",
        PssLevel::Privileged,
        &["K8S-PSS-CAPABILITIES-RESTRICTED"],
    ),
    (
        "hostpath",
        "K8S-PSS-HOSTPATH",
        PssLevel::Privileged,
        &["K8S-PSS-VOLUME-TYPES"],
    ),
    (
        "host-ports",
        "K8S-PSS-HOST-PORTS",
        PssLevel::Privileged,
        &[],
    ),
    ("apparmor", "K8S-PSS-APPARMOR", PssLevel::Privileged, &[]),
    ("selinux", "K8S-PSS-SELINUX", PssLevel::Privileged, &[]),
    (
        "proc-mount",
        "K8S-PSS-PROC-MOUNT",
        PssLevel::Privileged,
        &[],
    ),
    (
        "seccomp-baseline",
        "K8S-PSS-SECCOMP-BASELINE",
        PssLevel::Privileged,
        &["K8S-PSS-SECCOMP-RESTRICTED"],
    ),
    ("sysctls", "K8S-PSS-SYSCTLS", PssLevel::Privileged, &[]),
    (
        "host-probes",
        "K8S-PSS-HOST-PROBES",
        PssLevel::Privileged,
        &[],
    ),
    (
        "volume-types",
        "K8S-PSS-VOLUME-TYPES",
        PssLevel::Baseline,
        &[],
    ),
    (
        "privilege-escalation",
        "K8S-PSS-PRIVILEGE-ESCALATION",
        PssLevel::Baseline,
        &[],
    ),
    (
        "run-as-non-root",
        "K8S-PSS-RUN-AS-NON-ROOT",
        PssLevel::Baseline,
        &[],
    ),
    (
        "run-as-user",
        "K8S-PSS-RUN-AS-USER",
        PssLevel::Baseline,
        &[],
    ),
    (
        "seccomp-restricted",
        "K8S-PSS-SECCOMP-RESTRICTED",
        PssLevel::Baseline,
        &[],
    ),
    (
        "capabilities-restricted",
        "K8S-PSS-CAPABILITIES-RESTRICTED",
        PssLevel::Baseline,
        &[],
    ),
    (
        "proc-mount-restricted",
        "K8S-PSS-PROC-MOUNT-RESTRICTED",
        PssLevel::Baseline,
        &[],
    ),
];

fn fixture(name: &str) -> (String, String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kubernetes/pss")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (name.to_owned(), text)
}

fn resource_of(details: &FindingDetails) -> &str {
    match details {
        FindingDetails::Misconfig { resource, .. } => resource,
        other => panic!("not a misconfig finding: {other:?}"),
    }
}

#[test]
fn every_pss_code_has_a_fixture_pair() {
    let listed: BTreeSet<&str> = CONTROLS.iter().map(|(_, code, _, _)| *code).collect();
    let pss: BTreeSet<&str> = checks()
        .into_iter()
        .map(|c| c.code)
        .filter(|c| c.starts_with("K8S-PSS-"))
        .collect();
    assert_eq!(listed, pss);
}

#[test]
fn pass_fixtures_meet_restricted() {
    for (stem, _, _, _) in CONTROLS {
        let (name, text) = fixture(&format!("{stem}-pass.yaml"));
        let report = scan_kubernetes(&name, &text).unwrap();
        assert!(!report.workloads.is_empty(), "{name}: no workloads");
        for workload in &report.workloads {
            assert_eq!(
                workload.level,
                PssLevel::Restricted,
                "{name}: {}",
                workload.resource
            );
        }
        let pss: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.id.starts_with("K8S-PSS-"))
            .map(|f| (&f.id, resource_of(&f.details)))
            .collect();
        assert!(pss.is_empty(), "{name}: {pss:?}");
    }
}

#[test]
fn fail_fixtures_trip_their_control() {
    for (stem, code, level, companions) in CONTROLS {
        let (name, text) = fixture(&format!("{stem}-fail.yaml"));
        let report = scan_kubernetes(&name, &text).unwrap();
        assert!(!report.workloads.is_empty(), "{name}: no workloads");
        for workload in &report.workloads {
            assert_eq!(workload.level, *level, "{name}: {}", workload.resource);
            let prefix = format!("{} ", workload.resource);
            let tripped = report.findings.iter().any(|f| {
                f.id == *code
                    && (resource_of(&f.details) == workload.resource
                        || resource_of(&f.details).starts_with(&prefix))
            });
            assert!(
                tripped,
                "{name}: {} does not trip {code}",
                workload.resource
            );
        }
        for finding in report
            .findings
            .iter()
            .filter(|f| f.id.starts_with("K8S-PSS-"))
        {
            assert!(
                finding.id == *code || companions.contains(&finding.id.as_str()),
                "{name}: unexpected {} on {}",
                finding.id,
                resource_of(&finding.details)
            );
        }
    }
}
