//! The full set of check codes: a change to it must be visible in review. Codes are never reused.

use std::collections::BTreeSet;

use rempart_misconfig::{CheckTarget, checks};

const ALL_CODES: &[&str] = &[
    "IMG-ROOT-USER",
    "IMG-ENV-SECRET",
    "IMG-EXPOSE-RISKY",
    "IMG-LATEST-TAG",
    "IMG-ADD-REMOTE",
    "IMG-SETUID",
    "IMG-WORLD-WRITABLE",
    "IMG-NO-HEALTHCHECK",
    "IMG-PKG-CACHE",
    "DF-ROOT-USER",
    "DF-NO-USER",
    "DF-BASE-NOT-PINNED",
    "DF-BASE-LATEST",
    "DF-CURL-PIPE-SHELL",
    "DF-APT-NO-RECOMMENDS",
    "DF-APT-LISTS-NOT-CLEANED",
    "DF-APK-NO-CACHE",
    "DF-PIP-NO-CACHE-DIR",
    "DF-SECRET-ARG-ENV",
    "DF-ADD-LOCAL",
    "DF-ADD-REMOTE-URL",
    "DF-SUDO",
    "DF-EXPOSE-RISKY",
    "DF-COPY-WHOLE-CONTEXT",
    "DF-MAINTAINER",
    "DF-NO-HEALTHCHECK",
    "K8S-PSS-HOST-PROCESS",
    "K8S-PSS-HOST-NAMESPACES",
    "K8S-PSS-PRIVILEGED",
    "K8S-PSS-CAPABILITIES-BASELINE",
    "K8S-PSS-HOSTPATH",
    "K8S-PSS-HOST-PORTS",
    "K8S-PSS-APPARMOR",
    "K8S-PSS-SELINUX",
    "K8S-PSS-PROC-MOUNT",
    "K8S-PSS-HOST-PROBES",
    "K8S-PSS-SECCOMP-BASELINE",
    "K8S-PSS-SYSCTLS",
    "K8S-PSS-VOLUME-TYPES",
    "K8S-PSS-PRIVILEGE-ESCALATION",
    "K8S-PSS-RUN-AS-NON-ROOT",
    "K8S-PSS-RUN-AS-USER",
    "K8S-PSS-SECCOMP-RESTRICTED",
    "K8S-PSS-CAPABILITIES-RESTRICTED",
    "K8S-PSS-PROC-MOUNT-RESTRICTED",
    "K8S-NO-LIMITS",
    "K8S-NO-REQUESTS",
    "K8S-SA-TOKEN-AUTOMOUNT",
    "K8S-IMAGE-NOT-PINNED",
    "K8S-IMAGE-LATEST",
    "K8S-IMAGE-REGISTRY",
    "K8S-ENV-SECRET",
    "K8S-NAMESPACE-NO-NETWORKPOLICY",
    "K8S-RBAC-WILDCARD",
    "K8S-RBAC-SECRETS",
    "K8S-RBAC-CLUSTER-ADMIN-BINDING",
    "K8S-SERVICE-EXPOSED",
    "K8S-NAMESPACE-PSS-LABEL",
    "COMPOSE-PRIVILEGED",
    "COMPOSE-HOST-NETWORK",
    "COMPOSE-HOST-PID-IPC",
    "COMPOSE-DOCKER-SOCKET",
    "COMPOSE-CAP-ADD",
    "COMPOSE-UNCONFINED",
    "CI-GHA-DEFAULT-PERMISSIONS",
    "CI-GHA-WRITE-ALL",
    "CI-GHA-TEMPLATE-INJECTION",
    "CI-GHA-UNTRUSTED-CHECKOUT",
    "CI-GHA-UNPINNED",
    "CI-GHA-UNSECURE-COMMANDS",
    "CI-GHA-SECRETS-INHERIT",
    "CI-GHA-SECRET-IN-LOG",
    "CI-GHA-SELF-HOSTED-PR",
    "CI-GHA-PERSIST-CREDENTIALS",
    "CI-GHA-UNUSED-WRITE",
    "CI-GHA-PUSH-WITHOUT-SCAN",
    "CI-GHA-KNOWN-BAD-ACTION",
    "CI-GHA-CACHE-POISONING",
    "CI-GHA-SECRET-TO-UNPINNED",
    "CI-GL-UNPINNED-IMAGE",
    "CI-GL-UNPINNED-INCLUDE",
    "CI-GL-DIND",
    "CI-GL-SECRET-VARIABLE",
    "CI-GL-JOB-TOKEN",
    "CI-GL-PUSH-WITHOUT-SCAN",
];

#[test]
fn the_set_of_codes_is_exactly_this() {
    let listed: Vec<&str> = checks().iter().map(|c| c.code).collect();
    assert_eq!(listed, ALL_CODES);
    let unique: BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(unique.len(), listed.len(), "duplicate code");
}

#[test]
fn every_check_is_documented() {
    for check in checks() {
        let prefix = match check.target {
            CheckTarget::Image => "IMG-",
            CheckTarget::Dockerfile => "DF-",
            CheckTarget::Kubernetes => "K8S-",
            CheckTarget::Compose => "COMPOSE-",
            CheckTarget::Workflow => "CI-",
        };
        assert!(check.code.starts_with(prefix), "{}", check.code);
        assert!(
            check
                .code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        );
        assert!(!check.title.is_empty(), "{}", check.code);
        // What, why, how to fix, and an example.
        for part in ["Why", "Fix", "Example"] {
            assert!(check.doc.contains(part), "{} doc lacks {part}", check.code);
        }
    }
}
