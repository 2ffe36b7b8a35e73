//! Secrets planted in an image's config (ENV, labels, build history, entrypoint) are found, and
//! never printed: every output format is written, and the bytes of each are searched for every
//! planted value.

#[path = "../../rempart-image/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;

use support::{Compression, Image, Layer};

const GITHUB_TOKEN: &str = "ghp_R7mK2pX9vQ4sT8wZ1yB6nC3dF5gH0jL2aE7u";
const AWS_KEY_ID: &str = "AKIAZ7XQ4R2M5N8P3T6W";
const STRIPE_KEY: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcQ8mN2xR5";
const DB_PASSWORD: &str = "Tr0ub4dor-and-3-more-words";

fn planted_image(dir: &Path) {
    let mut image = Image::new(vec![(
        Layer::new().file("app/main.py", "print(1)\n"),
        Compression::Gzip,
    )]);
    image.config = serde_json::json!({
        "Env": [format!("AWS_ACCESS_KEY_ID={AWS_KEY_ID}"), format!("DB_PASSWORD={DB_PASSWORD}"), "PATH=/usr/bin"],
        "Labels": {"ci.stripe": STRIPE_KEY},
        "Entrypoint": ["/bin/sh", "-c", format!("curl -H 'Authorization: token {GITHUB_TOKEN}' https://example.invalid")],
        "Cmd": ["python3", "/app/main.py"],
    });
    image.history = vec![serde_json::json!({
        "created_by": format!("/bin/sh -c git clone https://x-access-token:{GITHUB_TOKEN}@github.com/acme/app.git /app"),
    })];
    image.write_oci_layout(dir, "v1");
}

#[test]
fn no_output_format_prints_a_planted_config_secret() {
    let temp = tempfile::tempdir().unwrap();
    let layout = temp.path().join("layout");
    planted_image(&layout);
    let planted = [GITHUB_TOKEN, AWS_KEY_ID, STRIPE_KEY, DB_PASSWORD];
    for scanners in ["secret,misconfig", "none"] {
        for format in [
            "json",
            "table",
            "sarif",
            "cyclonedx",
            "spdx-json",
            "junit",
            "html",
        ] {
            let output = Command::new(env!("CARGO_BIN_EXE_rempart"))
                .args([
                    "image",
                    "--input",
                    layout.to_str().unwrap(),
                    "--scanners",
                    scanners,
                    "--format",
                    format,
                    "--no-cache",
                ])
                .env("REMPART_CACHE_DIR", temp.path())
                .output()
                .unwrap();
            assert!(
                matches!(output.status.code(), Some(0 | 1)),
                "{format}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let everything = [&output.stdout[..], &output.stderr[..]].concat();
            let text = String::from_utf8_lossy(&everything);
            for secret in planted {
                assert!(
                    !text.contains(secret),
                    "--scanners {scanners} --format {format} prints {secret}"
                );
            }
            if format == "json" && scanners != "none" {
                let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
                let ids: Vec<&str> = report["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["id"].as_str().unwrap())
                    .collect();
                assert!(ids.iter().any(|id| id.starts_with("SEC-GITHUB")), "{ids:?}");
                assert!(ids.contains(&"SEC-STRIPE-SECRET-KEY"), "{ids:?}");
            }
        }
    }
}
