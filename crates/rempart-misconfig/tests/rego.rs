//! User Rego policies over Kubernetes manifests, Dockerfiles, compose files and images: the
//! documented input shape, the finding contract, and the limits on hostile policies.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rempart_core::{FindingDetails, ImageContext, ImageMetadata, Severity};
use rempart_misconfig::{MisconfigError, RegoLimits, RegoPolicies};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn policies() -> RegoPolicies {
    let names = [
        "team_labels",
        "dockerfile_registry",
        "compose_restart",
        "image_labels",
    ];
    let paths: Vec<_> = names
        .iter()
        .map(|n| dir().join(format!("rego/{n}.rego")))
        .collect();
    RegoPolicies::from_files(&paths, RegoLimits::default()).unwrap()
}

fn evaluate(relative: &str, name: &str) -> Vec<(String, Option<u32>, String, Severity)> {
    let bytes = std::fs::read(dir().join(relative)).unwrap();
    policies()
        .evaluate_config_file(Path::new(name), &bytes)
        .unwrap()
        .into_iter()
        .map(|f| {
            let FindingDetails::Misconfig { resource, .. } = f.details else {
                panic!()
            };
            (f.id, f.location.line, resource, f.severity)
        })
        .collect()
}

#[test]
fn packages_are_listed() {
    assert_eq!(
        policies().packages(),
        [
            "data.rempart.user.team_labels",
            "data.rempart.user.base_registry",
            "data.rempart.user.compose_restart",
            "data.rempart.user.image_source",
        ]
    );
}

#[test]
fn kubernetes_documents_with_lines() {
    let mut found = evaluate(
        "kubernetes/realistic/web-deployment.yaml",
        "web-deployment.yaml",
    );
    found.extend(evaluate(
        "kubernetes/realistic/cronjob-backup.yaml",
        "cronjob-backup.yaml",
    ));
    assert_eq!(
        found,
        vec![
            (
                "USR-TEAM-LABEL".to_owned(),
                Some(7),
                "Deployment/web".to_owned(),
                Severity::Low
            ),
            (
                "USR-TEAM-LABEL".to_owned(),
                Some(2),
                "CronJob/backup".to_owned(),
                Severity::Low
            ),
        ]
    );
}

#[test]
fn dockerfile_stages_after_arg_expansion() {
    let found = evaluate("dockerfile/args-expansion.Dockerfile", "Dockerfile");
    // Stage 1 is built on stage `base` and is not reported.
    assert_eq!(
        found,
        vec![(
            "USR-BASE-REGISTRY".to_owned(),
            Some(4),
            "data.rempart.user.base_registry".to_owned(),
            Severity::High
        )]
    );
}

#[test]
fn compose_services() {
    let mut found: Vec<_> = evaluate("compose/docker-compose.yml", "docker-compose.yml")
        .into_iter()
        .map(|(code, _, resource, severity)| (code, resource, severity))
        .collect();
    found.sort();
    let names = ["builder", "monitor", "portainer", "vpn", "web"];
    let expected: Vec<_> = names
        .iter()
        .map(|n| {
            (
                "USR-COMPOSE-RESTART".to_owned(),
                (*n).to_owned(),
                Severity::Medium,
            )
        })
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn image_metadata() {
    let mut metadata = ImageMetadata {
        name: "app:1".to_owned(),
        ..ImageMetadata::default()
    };
    let context = |m: &ImageMetadata| {
        policies()
            .evaluate_image(&ImageContext {
                metadata: m,
                inventory: &[],
                os: None,
                packages: &[],
                go_symbols: &[],
            })
            .unwrap()
    };
    assert_eq!(context(&metadata).len(), 1);
    metadata.labels.insert(
        "org.opencontainers.image.source".to_owned(),
        "https://example.com/r".to_owned(),
    );
    assert!(context(&metadata).is_empty());
}

fn compile(source: &str, limits: RegoLimits) -> Result<RegoPolicies, MisconfigError> {
    RegoPolicies::from_sources(&[("p.rego".to_owned(), source.to_owned())], limits)
}

#[test]
fn bad_policies_are_errors_naming_the_policy() {
    let wrong_package = compile(
        "package other\ndeny contains 1 if { true }\n",
        RegoLimits::default(),
    );
    assert!(
        matches!(wrong_package, Err(MisconfigError::Policy { ref path, .. }) if path == "p.rego")
    );
    assert!(
        compile(
            "package rempart.user.x\ndeny[msg] { msg := 1 }\n",
            RegoLimits::default()
        )
        .is_err(),
        "Rego v0 is refused"
    );
    assert!(
        compile(
            "package rempart.user.x\ndeny contains if {\n",
            RegoLimits::default()
        )
        .is_err()
    );

    let no_code = compile(
        "package rempart.user.x\ndeny contains {\"message\": \"m\"} if { true }\n",
        RegoLimits::default(),
    )
    .unwrap();
    let error = no_code
        .evaluate_config_file(Path::new("Dockerfile"), b"FROM scratch\n")
        .unwrap_err();
    assert!(error.to_string().contains("without a code"), "{error}");
    let builtin_code = compile("package rempart.user.x\ndeny contains {\"code\": \"DF-SUDO\", \"message\": \"m\"} if { true }\n", RegoLimits::default()).unwrap();
    assert!(
        builtin_code
            .evaluate_config_file(Path::new("Dockerfile"), b"FROM scratch\n")
            .is_err()
    );
}

#[test]
fn runaway_policy_is_stopped_by_the_time_limit() {
    let source = "package rempart.user.slow\ndeny contains {\"code\": \"USR-SLOW\", \"message\": \"m\"} if {\n\tsome i in numbers.range(1, 3000)\n\tsome j in numbers.range(1, 3000)\n\ti * j == -1\n}\n";
    let limits = RegoLimits {
        eval_time: Duration::from_millis(200),
        ..RegoLimits::default()
    };
    let policies = compile(source, limits).unwrap();
    let start = Instant::now();
    let result = policies.evaluate_config_file(Path::new("Dockerfile"), b"FROM scratch\n");
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "took {:?}",
        start.elapsed()
    );
    assert!(
        matches!(result, Err(MisconfigError::Policy { .. })),
        "{result:?}"
    );
}
