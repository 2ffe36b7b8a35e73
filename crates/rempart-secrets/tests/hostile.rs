//! Inputs built to make a scanner slow: many keyword hits, unterminated multi-line matches,
//! long runs of secret-like characters. Each must finish in time linear in its size; the bound
//! below is far above the expected time and only catches quadratic blow-ups.

use std::time::{Duration, Instant};

use rempart_secrets::SecretScanner;

const SIZE: usize = 4 * 1024 * 1024;

fn repeat_to_size(unit: &str) -> Vec<u8> {
    unit.as_bytes().iter().copied().cycle().take(SIZE).collect()
}

#[test]
fn adversarial_files_scan_in_bounded_time() {
    let scanner = SecretScanner::builtin();
    let body_line = "MIIEpAIBAAKCAQEAx7Yq3kP0wLm2Rt7Yv9ZbN4cF1dG8hJ5kL6mN2pQ3rS4tU5vW\n";
    let inputs = [
        (
            "unterminated PEM blocks",
            repeat_to_size(&format!(
                "-----BEGIN RSA PRIVATE KEY-----\n{body_line}{body_line}"
            )),
        ),
        ("one PEM header then base64", {
            let mut v = b"-----BEGIN OPENSSH PRIVATE KEY-----\n".to_vec();
            v.extend(repeat_to_size(body_line));
            v
        }),
        (
            "assignments everywhere",
            repeat_to_size("password=token=secret=api_key="),
        ),
        ("a single endless token", repeat_to_size("ghp_aB3")),
        (
            "url userinfo without host",
            repeat_to_size("postgres://user:"),
        ),
        ("jwt-like segments", repeat_to_size("eyJhbGciOiJIUzI1NiJ9.")),
        (
            "keywords only",
            repeat_to_size("AKIA aws sig= Q~ :AA key- -us eyJ discord twilio "),
        ),
    ];
    for (name, input) in inputs {
        let started = Instant::now();
        let findings = scanner.scan_text("hostile", &input);
        let elapsed = started.elapsed();
        assert!(findings.len() <= 100, "{name}: {} findings", findings.len());
        assert!(elapsed < Duration::from_secs(30), "{name}: {elapsed:?}");
    }
}
