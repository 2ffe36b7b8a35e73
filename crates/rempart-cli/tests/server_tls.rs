//! `rempart server` over TLS: the serving certificate is replaced without a restart when its
//! mounted Secret is updated the way the kubelet updates it, and files that cannot be used
//! leave the current certificate served.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::tls::{SecretDir, TestCa, https_get, new_key};
use support::{eventually, free_port, keep, wait_for_port};

struct Server {
    port: u16,
    log: PathBuf,
}

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// `rempart_tls_reloads_total{outcome="…"}` as the server reports it.
fn reloads(server: &Server, ca: &Path, outcome: &str) -> u64 {
    let (status, metrics) = https_get(server.port, ca, "/metrics").unwrap();
    assert_eq!(status, 200, "{metrics}");
    let series = format!("rempart_tls_reloads_total{{outcome=\"{outcome}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&series))
        .unwrap_or_else(|| panic!("no {series}in:\n{metrics}"))
        .trim()
        .parse()
        .unwrap()
}

fn warnings(server: &Server) -> usize {
    server.log().matches("cannot use the TLS files").count()
}

#[test]
fn the_serving_certificate_is_reloaded_without_restart_and_bad_files_are_ignored() {
    let work = tempfile::tempdir().unwrap();
    let first_ca = TestCa::new(work.path(), "first-ca");
    let second_ca = TestCa::new(work.path(), "second-ca");
    let first = first_ca.issue("first", "IP:127.0.0.1");
    let second = second_ca.issue("second", "IP:127.0.0.1");
    let mut secret = SecretDir::new(
        &work.path().join("tls"),
        &[("tls.crt", &first.certificate), ("tls.key", &first.key)],
    );
    let (port, log) = (free_port(), work.path().join("server.log"));
    let mut keeper = keep(
        Path::new(env!("CARGO_BIN_EXE_rempart")),
        &[
            "server".into(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
            "--data-dir".into(),
            work.path().join("data").display().to_string(),
            "--tls-cert".into(),
            secret.file("tls.crt").display().to_string(),
            "--tls-key".into(),
            secret.file("tls.key").display().to_string(),
            "--tls-reload-interval".into(),
            "1s".into(),
        ],
        &log,
    );
    wait_for_port(port, "rempart server", &log);
    let server = Server { port, log };
    assert_eq!(
        https_get(port, &first_ca.certificate, "/healthz").map(|(status, _)| status),
        Ok(200),
        "{}",
        server.log()
    );
    assert!(https_get(port, &second_ca.certificate, "/healthz").is_err());
    assert_eq!(reloads(&server, &first_ca.certificate, "reloaded"), 0);

    // The Secret is renewed with a certificate from another CA: within a few intervals, a
    // client trusting only that CA connects, and one trusting only the first no longer does.
    secret.update(&[("tls.crt", &second.certificate), ("tls.key", &second.key)]);
    assert!(
        eventually(Duration::from_secs(10), || {
            https_get(port, &second_ca.certificate, "/healthz").is_ok()
        }),
        "the new certificate was not served:\n{}",
        server.log()
    );
    let refused = https_get(port, &first_ca.certificate, "/healthz").unwrap_err();
    assert!(refused.contains("certificate"), "{refused}");
    assert_eq!(reloads(&server, &second_ca.certificate, "reloaded"), 1);
    assert!(
        server.log().contains("TLS certificate reloaded"),
        "{}",
        server.log()
    );

    // A key that is not the certificate's: the second certificate stays, the failure is logged
    // once however many intervals it lasts, and tried again at each.
    let failed_before = reloads(&server, &second_ca.certificate, "failed");
    let warnings_before = warnings(&server);
    let stray_key = new_key(work.path(), "stray");
    secret.update(&[("tls.crt", &first.certificate), ("tls.key", &stray_key)]);
    assert!(
        eventually(Duration::from_secs(10), || {
            reloads(&server, &second_ca.certificate, "failed") >= failed_before + 3
        }),
        "the unusable files were not tried again at each interval:\n{}",
        server.log()
    );
    assert_eq!(
        https_get(port, &second_ca.certificate, "/healthz").map(|(status, _)| status),
        Ok(200)
    );
    assert!(https_get(port, &first_ca.certificate, "/healthz").is_err());
    assert_eq!(warnings(&server), warnings_before + 1, "{}", server.log());
    assert_eq!(reloads(&server, &second_ca.certificate, "reloaded"), 1);

    // Once the files are right again, they are served.
    secret.update(&[("tls.crt", &first.certificate), ("tls.key", &first.key)]);
    assert!(
        eventually(Duration::from_secs(10), || {
            https_get(port, &first_ca.certificate, "/healthz").is_ok()
        }),
        "the repaired files were not served:\n{}",
        server.log()
    );
    assert_eq!(reloads(&server, &first_ca.certificate, "reloaded"), 2);

    // The keeper stops the server when its standard input closes.
    drop(keeper.stdin.take());
    keeper.wait().unwrap();
}
