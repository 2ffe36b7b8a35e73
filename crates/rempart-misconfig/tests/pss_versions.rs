//! The Pod Security Standards as of each version: every control that changed is checked on
//! both sides of the version that changed it, and a Namespace's `enforce-version` label pins the
//! version its workloads are judged by.

use rempart_misconfig::{
    KubeOptions, PssLevel, PssVersion, scan_kubernetes_set, scan_kubernetes_with,
};

/// A pod that meets every control except what `extra_spec`/`extra_container` change. `extra_spec`
/// lines are indented for the pod spec, `extra_container` for the container.
fn pod(extra_spec: &str, extra_container: &str, security: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n{extra_spec}  securityContext:\n    runAsNonRoot: true\n{security}  containers:\n  - name: app\n    image: registry.example.com/app:1.0\n{extra_container}"
    )
}

const SECCOMP: &str = "    seccompProfile:\n      type: RuntimeDefault\n";
const HARDENED: &str = "    securityContext:\n      allowPrivilegeEscalation: false\n      capabilities:\n        drop: [ALL]\n";

/// The PSS codes reported and the level met, as of `version`.
fn judge(manifest: &str, version: &str) -> (Vec<String>, PssLevel) {
    let options = KubeOptions {
        pss_version: PssVersion::parse(version).unwrap(),
        ..KubeOptions::default()
    };
    let report = scan_kubernetes_with("p.yaml", manifest, &options).unwrap();
    let mut codes: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.id.starts_with("K8S-PSS-"))
        .map(|f| f.id.clone())
        .collect();
    codes.dedup();
    assert_eq!(report.workloads.len(), 1);
    assert_eq!(report.workloads[0].version, version);
    (codes, report.workloads[0].level)
}

/// `code` is reported as of `after` and not as of `before`.
fn starts_at(manifest: &str, code: &str, before: &str, after: &str) {
    let (old, _) = judge(manifest, before);
    let (new, _) = judge(manifest, after);
    assert!(
        !old.contains(&code.to_owned()),
        "{code} at {before}: {old:?}\n{manifest}"
    );
    assert!(
        new.contains(&code.to_owned()),
        "{code} at {after}: {new:?}\n{manifest}"
    );
}

/// `code` is reported as of `before` and not as of `after`.
fn ends_at(manifest: &str, code: &str, before: &str, after: &str) {
    let (old, _) = judge(manifest, before);
    let (new, _) = judge(manifest, after);
    assert!(
        old.contains(&code.to_owned()),
        "{code} at {before}: {old:?}\n{manifest}"
    );
    assert!(
        !new.contains(&code.to_owned()),
        "{code} at {after}: {new:?}\n{manifest}"
    );
}

#[test]
fn restricted_controls_start_at_their_release() {
    // allowPrivilegeEscalation from 1.8, seccomp (restricted) from 1.19, capabilities
    // (restricted) from 1.22, runAsUser from 1.23.
    let bare = pod("", "", "");
    starts_at(&bare, "K8S-PSS-PRIVILEGE-ESCALATION", "v1.7", "v1.8");
    starts_at(&bare, "K8S-PSS-SECCOMP-RESTRICTED", "v1.18", "v1.19");
    starts_at(&bare, "K8S-PSS-CAPABILITIES-RESTRICTED", "v1.21", "v1.22");
    let root = pod("", HARDENED, &format!("{SECCOMP}    runAsUser: 0\n"));
    starts_at(&root, "K8S-PSS-RUN-AS-USER", "v1.22", "v1.23");
    // Before 1.8 nothing of the later restricted controls applies.
    assert_eq!(judge(&bare, "v1.7"), (vec![], PssLevel::Restricted));
}

#[test]
fn seccomp_moved_from_annotations_to_fields_in_1_19() {
    let field = pod(
        "",
        HARDENED,
        "    seccompProfile:\n      type: Unconfined\n",
    );
    starts_at(&field, "K8S-PSS-SECCOMP-BASELINE", "v1.18", "v1.19");
    let annotated = pod("", HARDENED, SECCOMP).replace(
        "  name: p\n",
        "  name: p\n  annotations:\n    seccomp.security.alpha.kubernetes.io/pod: unconfined\n    container.seccomp.security.alpha.kubernetes.io/app: runtime/default\n",
    );
    ends_at(&annotated, "K8S-PSS-SECCOMP-BASELINE", "v1.18", "v1.19");
    let (_, level) = judge(&annotated, "v1.18");
    assert_eq!(level, PssLevel::Privileged);
    // A container annotation set to an allowed value is fine at any version.
    let allowed = pod("", HARDENED, SECCOMP).replace(
        "  name: p\n",
        "  name: p\n  annotations:\n    container.seccomp.security.alpha.kubernetes.io/app: localhost/profile.json\n",
    );
    assert!(judge(&allowed, "v1.18").0.is_empty());
}

#[test]
fn windows_pods_are_exempt_from_1_25() {
    let windows = pod("  os:\n    name: windows\n", "", "");
    for code in [
        "K8S-PSS-PRIVILEGE-ESCALATION",
        "K8S-PSS-CAPABILITIES-RESTRICTED",
        "K8S-PSS-SECCOMP-RESTRICTED",
    ] {
        ends_at(&windows, code, "v1.24", "v1.25");
    }
    assert_eq!(judge(&windows, "latest").1, PssLevel::Restricted);
}

#[test]
fn the_safe_sysctls_grow_by_release() {
    for (name, before, after) in [
        ("net.ipv4.ip_local_reserved_ports", "v1.26", "v1.27"),
        ("net.ipv4.tcp_keepalive_time", "v1.28", "v1.29"),
        ("net.ipv4.tcp_fin_timeout", "v1.28", "v1.29"),
        ("net.ipv4.tcp_rmem", "v1.31", "v1.32"),
        ("net.ipv4.tcp_wmem", "v1.31", "v1.32"),
        ("net.ipv4.tcp_notsent_lowat", "v1.36", "v1.37"),
    ] {
        let manifest = pod(
            "",
            HARDENED,
            &format!("{SECCOMP}    sysctls:\n    - name: {name}\n      value: \"1\"\n"),
        );
        ends_at(&manifest, "K8S-PSS-SYSCTLS", before, after);
    }
    let always = pod(
        "",
        HARDENED,
        &format!("{SECCOMP}    sysctls:\n    - name: kernel.shm_rmid_forced\n      value: \"1\"\n"),
    );
    assert!(judge(&always, "v1.0").0.is_empty());
    let never = pod(
        "",
        HARDENED,
        &format!("{SECCOMP}    sysctls:\n    - name: kernel.msgmax\n      value: \"1\"\n"),
    );
    assert!(
        judge(&never, "latest")
            .0
            .contains(&"K8S-PSS-SYSCTLS".to_owned())
    );
}

#[test]
fn selinux_container_engine_t_from_1_31() {
    let manifest = pod(
        "",
        HARDENED,
        &format!("{SECCOMP}    seLinuxOptions:\n      type: container_engine_t\n"),
    );
    ends_at(&manifest, "K8S-PSS-SELINUX", "v1.30", "v1.31");
}

#[test]
fn host_probes_from_1_34() {
    let manifest = pod(
        "",
        &format!(
            "{HARDENED}    readinessProbe:\n      tcpSocket:\n        host: 169.254.169.254\n        port: 80\n"
        ),
        SECCOMP,
    );
    starts_at(&manifest, "K8S-PSS-HOST-PROBES", "v1.33", "v1.34");
    assert_eq!(judge(&manifest, "v1.34").1, PssLevel::Privileged);
}

#[test]
fn own_user_namespace_relaxations_from_1_35() {
    let unmasked = pod(
        "  hostUsers: false\n",
        &format!("{HARDENED}      procMount: Unmasked\n"),
        SECCOMP,
    );
    ends_at(&unmasked, "K8S-PSS-PROC-MOUNT", "v1.34", "v1.35");
    starts_at(&unmasked, "K8S-PSS-PROC-MOUNT-RESTRICTED", "v1.34", "v1.35");
    assert_eq!(judge(&unmasked, "v1.34").1, PssLevel::Privileged);
    assert_eq!(judge(&unmasked, "v1.35").1, PssLevel::Baseline);
    // In the host's user namespace nothing changed.
    let host_users = unmasked.replace("  hostUsers: false\n", "");
    assert_eq!(judge(&host_users, "latest").1, PssLevel::Privileged);

    let root = pod(
        "  hostUsers: false\n",
        HARDENED,
        &format!("{SECCOMP}    runAsUser: 0\n"),
    )
    .replace("    runAsNonRoot: true\n", "    runAsNonRoot: false\n");
    ends_at(&root, "K8S-PSS-RUN-AS-USER", "v1.34", "v1.35");
    ends_at(&root, "K8S-PSS-RUN-AS-NON-ROOT", "v1.34", "v1.35");
    assert_eq!(judge(&root, "v1.35").1, PssLevel::Restricted);
}

#[test]
fn latest_and_future_versions_are_the_newest_rules() {
    let manifest = pod(
        "",
        &format!(
            "{HARDENED}    livenessProbe:\n      httpGet:\n        host: example.org\n        port: 80\n"
        ),
        SECCOMP,
    );
    let latest = judge(&manifest, "latest");
    assert_eq!(judge(&manifest, "v1.99").0, latest.0);
    assert_eq!(judge(&manifest, "v1.37").0, latest.0);
}

#[test]
fn a_namespace_pins_the_version_of_its_workloads() {
    let probe =
        "    livenessProbe:\n      httpGet:\n        host: 169.254.169.254\n        port: 80\n";
    let workload = |name: &str, namespace: &str| {
        pod("", &format!("{HARDENED}{probe}"), SECCOMP).replace(
            "  name: p\n",
            &format!("  name: {name}\n  namespace: {namespace}\n"),
        )
    };
    let namespaces = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: legacy\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n    pod-security.kubernetes.io/enforce-version: v1.33\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: broken\n  labels:\n    pod-security.kubernetes.io/enforce-version: \"1.33\"\n    pod-security.kubernetes.io/warn: strict\n";
    let pods = format!(
        "{}\n---\n{}\n---\n{}",
        workload("old", "legacy"),
        workload("new", "apps"),
        workload("odd", "broken")
    );
    let report = scan_kubernetes_set(
        &[("namespaces.yaml", namespaces), ("pods.yaml", &pods)],
        &KubeOptions::default(),
    )
    .unwrap();
    let judged: Vec<(&str, &str, PssLevel)> = report
        .workloads
        .iter()
        .map(|w| (w.resource.as_str(), w.version.as_str(), w.level))
        .collect();
    assert_eq!(
        judged,
        [
            ("Pod/old", "v1.33", PssLevel::Restricted),
            ("Pod/new", "latest", PssLevel::Privileged),
            // An unreadable pin counts as latest, as the API server takes it.
            ("Pod/odd", "latest", PssLevel::Privileged),
        ]
    );
    let labels: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.id == "K8S-NAMESPACE-PSS-LABEL")
        .map(|f| f.location.path.as_str())
        .collect();
    assert_eq!(labels, ["namespaces.yaml", "namespaces.yaml"]);
}
