//! The Dockerfiles, Kubernetes manifests and compose files an image carries are checked in the
//! same pass as its other files, each finding located in the layer that holds the file. Files
//! that only carry the name (vim's `dockerfile.vim`) are not checked.

#[path = "../../rempart-image/tests/support/mod.rs"]
mod support;

use rempart::{AnalyzerConfig, ScanOptions, Scanner, build_analyzers};
use rempart_core::ScannerKind;
use rempart_image::{OciLayout, Platform};
use support::{Compression, Image, Layer};

const DOCKERFILE: &str = "FROM debian:latest\nRUN apt-get update && apt-get install -y curl\n";
const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          image: example.org/web:1.0
          securityContext:
            privileged: true
";
const COMPOSE: &str = "services:\n  app:\n    image: example.org/app:1.0\n    privileged: true\n";
const VIM_SYNTAX: &str =
    "\" Vim syntax file\n\" Language: Dockerfile\nsyn keyword dockerfileKeyword FROM RUN\n";

#[test]
fn configuration_files_in_layers_are_checked_where_they_are() {
    let image = Image::new(vec![
        (
            Layer::new()
                .file("usr/share/vim/vim90/syntax/dockerfile.vim", VIM_SYNTAX)
                .file("etc/motd", "welcome\n"),
            Compression::Gzip,
        ),
        (
            Layer::new()
                .file("src/app/Dockerfile", DOCKERFILE)
                .file("src/app/deploy/web.yaml", DEPLOYMENT)
                .file("src/app/docker-compose.yml", COMPOSE)
                .file("src/app/values.yaml", "replicas: 2\n"),
            Compression::Gzip,
        ),
    ]);
    let temp = tempfile::tempdir().unwrap();
    image.write_oci_layout(&temp.path().join("layout"), "v1");
    let source =
        OciLayout::open(&temp.path().join("layout"), None, &Platform::host_linux()).unwrap();
    let analyzers = build_analyzers(&AnalyzerConfig {
        scanners: vec![ScannerKind::Misconfig],
        ..AnalyzerConfig::default()
    })
    .unwrap();
    let scanner = Scanner::new(
        analyzers.files,
        analyzers.images,
        vec![ScannerKind::Misconfig],
        ScanOptions::default(),
    );
    let result = scanner.scan_image(&source).unwrap().result;
    let mut files: Vec<(&str, usize)> = result
        .findings
        .iter()
        .filter(|f| !f.location.path.is_empty())
        .map(|f| {
            (
                f.location.path.as_str(),
                f.location.layer.as_ref().expect("a layer").index,
            )
        })
        .collect();
    files.dedup();
    files.sort_unstable();
    files.dedup();
    assert_eq!(
        files,
        [
            ("src/app/Dockerfile", 1),
            ("src/app/deploy/web.yaml", 1),
            ("src/app/docker-compose.yml", 1),
        ]
    );
    let ids = |path: &str| -> Vec<&str> {
        result
            .findings
            .iter()
            .filter(|f| f.location.path == path)
            .map(|f| f.id.as_str())
            .collect()
    };
    assert!(
        ids("src/app/Dockerfile").contains(&"DF-BASE-LATEST"),
        "{:?}",
        ids("src/app/Dockerfile")
    );
    assert!(
        ids("src/app/deploy/web.yaml").contains(&"K8S-PSS-PRIVILEGED"),
        "{:?}",
        ids("src/app/deploy/web.yaml")
    );
    assert!(
        ids("src/app/docker-compose.yml").contains(&"COMPOSE-PRIVILEGED"),
        "{:?}",
        ids("src/app/docker-compose.yml")
    );
}
