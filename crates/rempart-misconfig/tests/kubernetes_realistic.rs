//! Realistic manifests (Deployments, a `CronJob`, RBAC, `NetworkPolicies`, a `List`): exactly which
//! codes fire on which resource and line, and the PSS level of every workload.

use std::path::PathBuf;

use rempart_core::FindingDetails;
use rempart_misconfig::{KubeOptions, PssLevel, scan_kubernetes, scan_kubernetes_with};

fn read(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kubernetes/realistic")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `(line, code, resource)` of every finding, in report order.
fn found(name: &str, options: &KubeOptions) -> Vec<(u32, String, String)> {
    let report = scan_kubernetes_with(name, &read(name), options).unwrap();
    report
        .findings
        .into_iter()
        .map(|f| {
            assert_eq!(f.location.path, name);
            let FindingDetails::Misconfig { resource, .. } = f.details else {
                panic!("not a misconfig finding");
            };
            (f.location.line.unwrap(), f.id, resource)
        })
        .collect()
}

fn expect(rows: &[(u32, &str, &str)]) -> Vec<(u32, String, String)> {
    rows.iter()
        .map(|(line, code, resource)| (*line, (*code).to_owned(), (*resource).to_owned()))
        .collect()
}

#[test]
fn hardened_deployment_with_policy() {
    let options = KubeOptions::default();
    assert_eq!(
        found("web-deployment.yaml", &options),
        expect(&[
            (
                47,
                "K8S-IMAGE-NOT-PINNED",
                "shop/Deployment/web (container metrics)"
            ),
            (
                47,
                "K8S-NO-LIMITS",
                "shop/Deployment/web (container metrics)"
            ),
            (58, "K8S-SERVICE-EXPOSED", "shop/Service/web"),
        ])
    );
    let report = scan_kubernetes("web-deployment.yaml", &read("web-deployment.yaml")).unwrap();
    assert_eq!(report.workloads.len(), 1);
    assert_eq!(report.workloads[0].level, PssLevel::Restricted);
    assert_eq!(report.workloads[0].line, 7);
}

#[test]
fn backup_cronjob_with_host_path() {
    let c = "ops/CronJob/backup (container restic)";
    assert_eq!(
        found("cronjob-backup.yaml", &KubeOptions::default()),
        expect(&[
            (2, "K8S-NAMESPACE-NO-NETWORKPOLICY", "Namespace/ops"),
            (2, "K8S-PSS-HOSTPATH", "ops/CronJob/backup"),
            (2, "K8S-PSS-VOLUME-TYPES", "ops/CronJob/backup"),
            (2, "K8S-SA-TOKEN-AUTOMOUNT", "ops/CronJob/backup"),
            (15, "K8S-IMAGE-LATEST", c),
            (15, "K8S-IMAGE-NOT-PINNED", c),
            (15, "K8S-NO-LIMITS", c),
            (15, "K8S-NO-REQUESTS", c),
            (15, "K8S-PSS-CAPABILITIES-RESTRICTED", c),
            (15, "K8S-PSS-PRIVILEGE-ESCALATION", c),
            (15, "K8S-PSS-RUN-AS-NON-ROOT", c),
            (15, "K8S-PSS-RUN-AS-USER", c),
            (15, "K8S-PSS-SECCOMP-RESTRICTED", c),
        ])
    );
}

#[test]
fn rbac_objects() {
    assert_eq!(
        found("rbac.yaml", &KubeOptions::default()),
        expect(&[
            (7, "K8S-RBAC-SECRETS", "ClusterRole/deployer-everything"),
            (7, "K8S-RBAC-WILDCARD", "ClusterRole/deployer-everything"),
            (16, "K8S-RBAC-SECRETS", "ci/Role/secret-reader"),
            (
                40,
                "K8S-RBAC-CLUSTER-ADMIN-BINDING",
                "ClusterRoleBinding/deployer-admin"
            ),
        ])
    );
}

#[test]
fn list_of_node_agent_and_database() {
    let agent = "monitoring/DaemonSet/node-agent (container agent)";
    let init = "monitoring/StatefulSet/db (init container init-perms)";
    let db = "monitoring/StatefulSet/db (container postgres)";
    assert_eq!(
        found("node-agents-list.yaml", &KubeOptions::default()),
        expect(&[
            (2, "K8S-NAMESPACE-NO-NETWORKPOLICY", "Namespace/monitoring"),
            (
                2,
                "K8S-PSS-HOST-NAMESPACES",
                "monitoring/DaemonSet/node-agent"
            ),
            (
                2,
                "K8S-PSS-HOST-NAMESPACES",
                "monitoring/DaemonSet/node-agent"
            ),
            (
                2,
                "K8S-SA-TOKEN-AUTOMOUNT",
                "monitoring/DaemonSet/node-agent"
            ),
            (20, "K8S-PSS-CAPABILITIES-RESTRICTED", agent),
            (20, "K8S-PSS-PRIVILEGE-ESCALATION", agent),
            (20, "K8S-PSS-PRIVILEGED", agent),
            (20, "K8S-PSS-RUN-AS-NON-ROOT", agent),
            (20, "K8S-PSS-SECCOMP-RESTRICTED", agent),
            (44, "K8S-IMAGE-NOT-PINNED", init),
            (44, "K8S-PSS-CAPABILITIES-RESTRICTED", init),
            (44, "K8S-PSS-PRIVILEGE-ESCALATION", init),
            (44, "K8S-PSS-SECCOMP-RESTRICTED", init),
            (50, "K8S-IMAGE-NOT-PINNED", db),
            (50, "K8S-PSS-CAPABILITIES-RESTRICTED", db),
            (50, "K8S-PSS-SECCOMP-RESTRICTED", db),
        ])
    );
    let report = scan_kubernetes("node-agents-list.yaml", &read("node-agents-list.yaml")).unwrap();
    let levels: Vec<_> = report
        .workloads
        .iter()
        .map(|w| (w.resource.as_str(), w.namespace.as_deref(), w.level))
        .collect();
    assert_eq!(
        levels,
        vec![
            (
                "DaemonSet/node-agent",
                Some("monitoring"),
                PssLevel::Privileged
            ),
            ("StatefulSet/db", Some("monitoring"), PssLevel::Baseline),
        ]
    );
}

#[test]
fn registry_allow_list() {
    let options = KubeOptions {
        allowed_registries: vec!["ghcr.io/acme".to_owned(), "quay.io".to_owned()],
        ..KubeOptions::default()
    };
    let registry: Vec<_> = found("web-deployment.yaml", &options)
        .into_iter()
        .chain(found("node-agents-list.yaml", &options))
        .filter(|(_, code, _)| code == "K8S-IMAGE-REGISTRY")
        .map(|(_, _, resource)| resource)
        .collect();
    assert_eq!(
        registry,
        vec![
            "shop/Deployment/web (container metrics)",
            "monitoring/StatefulSet/db (init container init-perms)",
            "monitoring/StatefulSet/db (container postgres)",
        ]
    );
}

#[test]
fn container_named_like_its_workload_points_at_the_container() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: nginx\n";
    let report = scan_kubernetes("pod.yaml", text).unwrap();
    let latest = report
        .findings
        .iter()
        .find(|f| f.id == "K8S-IMAGE-LATEST")
        .unwrap();
    assert_eq!(latest.location.line, Some(7));
}

#[test]
fn network_policy_in_another_file_covers_the_namespace() {
    let deployment = read("web-deployment.yaml");
    let without_policy = deployment
        .split("---\napiVersion: networking.k8s.io/v1")
        .next()
        .unwrap();
    let policy = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\n  namespace: shop\nspec:\n  podSelector: {}\n";
    let alone = scan_kubernetes("web.yaml", without_policy).unwrap();
    assert!(
        alone
            .findings
            .iter()
            .any(|f| f.id == "K8S-NAMESPACE-NO-NETWORKPOLICY")
    );
    let together = rempart_misconfig::scan_kubernetes_set(
        &[("web.yaml", without_policy), ("policies/shop.yaml", policy)],
        &KubeOptions::default(),
    )
    .unwrap();
    assert!(
        !together
            .findings
            .iter()
            .any(|f| f.id == "K8S-NAMESPACE-NO-NETWORKPOLICY")
    );
    assert_eq!(together.workloads[0].path, "web.yaml");
    assert!(
        together
            .findings
            .iter()
            .all(|f| f.location.path == "web.yaml")
    );
}

#[test]
fn literal_secrets_in_env() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n    spec:\n      containers:\n      - name: api\n        image: api:1\n        env:\n        - {name: DB_PASSWORD, value: \"s3cr3t-Pa55\"}\n        - {name: DB_PASSWORD_FILE, value: /run/secrets/db}\n        - {name: API_TOKEN, valueFrom: {secretKeyRef: {name: api, key: token}}}\n        - {name: SESSION_SECRET, value: \"\"}\n";
    let report = scan_kubernetes("api.yaml", text).unwrap();
    let secrets: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.id == "K8S-ENV-SECRET")
        .collect();
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0].location.line, Some(8));
    assert!(
        !serde_json::to_string(&report.findings)
            .unwrap()
            .contains("s3cr3t")
    );
}

#[test]
fn json_manifest_through_config_file_routing() {
    let json = r#"{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {"name": "debug", "namespace": "default"},
  "spec": {
    "hostPID": true,
    "containers": [{"name": "sh", "image": "busybox:1.36", "securityContext": {"privileged": true}}]
  }
}
"#;
    let path = std::path::Path::new("debug-pod.json");
    assert_eq!(
        rempart_misconfig::detect_kind(path, json.as_bytes()),
        Some(rempart_misconfig::ConfigKind::Kubernetes)
    );
    let findings = rempart_misconfig::scan_config_file(path, json.as_bytes()).unwrap();
    let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    assert!(ids.contains(&"K8S-PSS-HOST-NAMESPACES"), "{ids:?}");
    assert!(ids.contains(&"K8S-PSS-PRIVILEGED"), "{ids:?}");
}
