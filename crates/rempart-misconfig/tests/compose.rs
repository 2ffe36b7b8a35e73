//! docker-compose checks: exactly which codes fire on which service.

use std::path::{Path, PathBuf};

use rempart_core::FindingDetails;
use rempart_misconfig::{ConfigKind, detect_kind, scan_compose, scan_config_file};

fn read(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/compose")
            .join(name),
    )
    .unwrap()
}

fn found(name: &str) -> Vec<(u32, String, String)> {
    scan_config_file(Path::new(name), &read(name))
        .unwrap()
        .into_iter()
        .map(|f| {
            let FindingDetails::Misconfig { resource, .. } = f.details else {
                panic!()
            };
            (f.location.line.unwrap(), f.id, resource)
        })
        .collect()
}

#[test]
fn risky_stack() {
    let rows: Vec<(u32, &str, &str)> = vec![
        (9, "COMPOSE-DOCKER-SOCKET", "compose service portainer"),
        (14, "COMPOSE-CAP-ADD", "compose service monitor"),
        (14, "COMPOSE-HOST-NETWORK", "compose service monitor"),
        (14, "COMPOSE-HOST-PID-IPC", "compose service monitor"),
        (14, "COMPOSE-UNCONFINED", "compose service monitor"),
        (23, "COMPOSE-HOST-PID-IPC", "compose service builder"),
        (23, "COMPOSE-PRIVILEGED", "compose service builder"),
        (27, "COMPOSE-CAP-ADD", "compose service vpn"),
        (27, "COMPOSE-DOCKER-SOCKET", "compose service vpn"),
        (27, "COMPOSE-UNCONFINED", "compose service vpn"),
    ];
    let expected: Vec<_> = rows
        .into_iter()
        .map(|(l, c, r)| (l, c.to_owned(), r.to_owned()))
        .collect();
    assert_eq!(found("docker-compose.yml"), expected);
}

#[test]
fn hardened_service_is_clean() {
    assert_eq!(found("clean-compose.yaml"), vec![]);
}

#[test]
fn compose_detected_by_name_or_services_key() {
    let text = read("clean-compose.yaml");
    assert_eq!(
        detect_kind(Path::new("compose.yaml"), &text),
        Some(ConfigKind::Compose)
    );
    assert_eq!(
        detect_kind(Path::new("stack.yml"), &text),
        Some(ConfigKind::Compose)
    );
    assert_eq!(
        detect_kind(Path::new("values.yaml"), b"replicas: 2\n"),
        None
    );
    let manifest = b"apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {type: NodePort}\n";
    assert_eq!(
        detect_kind(Path::new("svc.yaml"), manifest),
        Some(ConfigKind::Kubernetes)
    );
    let findings = scan_config_file(Path::new("svc.yaml"), manifest).unwrap();
    assert_eq!(
        findings.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        vec!["K8S-SERVICE-EXPOSED"]
    );
}

#[test]
fn malformed_compose_is_an_error_naming_the_file() {
    let error = scan_compose("bad-compose.yml", "services:\n  a: [\n").unwrap_err();
    assert!(error.to_string().contains("bad-compose.yml"), "{error}");
}
