//! Whole trees through the analyzer: a clean application fixture gives nothing; a root
//! filesystem with keys made by the real tools (ssh-keygen, openssl, gpg) and planted
//! credentials gives exactly the expected findings.
//!
//! Needs `ssh-keygen` (openssh-client), `openssl` and `gpg` (gnupg) on PATH.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use rempart_core::{AnalysisOutput, FileAnalyzer, FileMeta, Interest, SkipReason};
use rempart_secrets::SecretScanner;

fn walk(root: &Path, dir: &Path, scanner: &SecretScanner, out: &mut AnalysisOutput) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            walk(root, &path, scanner, out);
        } else if meta.is_file() {
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let file = FileMeta {
                path: &relative,
                size: meta.len(),
                mode: meta.permissions().mode(),
            };
            if let Interest::Whole { max_bytes } = scanner.interest(&file)
                && meta.len() <= max_bytes
            {
                let content = std::fs::read(&path).unwrap();
                scanner.analyze(&file, &content, out);
            }
        }
    }
}

fn scan(root: &Path) -> AnalysisOutput {
    let scanner = SecretScanner::builtin();
    let mut out = AnalysisOutput::default();
    walk(root, root, &scanner, &mut out);
    out
}

fn run(program: &str, args: &[&str], env: &[(&str, &Path)]) -> Vec<u8> {
    let mut command = Command::new(program);
    command.args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed by this test: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn write(root: &Path, relative: &str, content: &[u8]) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

#[test]
fn clean_application_tree_has_no_findings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clean_app");
    let out = scan(&root);
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    assert!(out.skipped.is_empty());
}

#[test]
fn root_filesystem_with_real_keys_and_planted_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let path = |p: &str| root.join(p).to_str().unwrap().to_owned();
    for d in ["etc/ssh", "root/.ssh", "etc/ssl/private"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }

    run(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            &path("etc/ssh/ssh_host_ed25519_key"),
        ],
        &[],
    );
    run(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "rsa",
            "-b",
            "2048",
            "-m",
            "PEM",
            "-N",
            "",
            "-f",
            &path("root/.ssh/id_rsa"),
        ],
        &[],
    );
    run(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            &path("etc/ssl/private/server.key"),
        ],
        &[],
    );
    run(
        "openssl",
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            &path("etc/ssl/private/ec.pem"),
        ],
        &[],
    );
    run(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-aes256",
            "-pass",
            "pass:build",
            "-out",
            &path("etc/ssl/private/encrypted.key"),
        ],
        &[],
    );

    let gnupg = tempfile::tempdir().unwrap();
    std::fs::set_permissions(gnupg.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let gpg_env = [("GNUPGHOME", gnupg.path())];
    let gpg = ["--batch", "--pinentry-mode", "loopback", "--passphrase", ""];
    run(
        "gpg",
        &[
            &gpg[..],
            &[
                "--quick-gen-key",
                "Release Signing <release@example.org>",
                "ed25519",
                "sign",
                "never",
            ],
        ]
        .concat(),
        &gpg_env,
    );
    let armored = run(
        "gpg",
        &[&gpg[..], &["--armor", "--export-secret-keys"]].concat(),
        &gpg_env,
    );
    // The agent gpg started for this home directory.
    let _ = Command::new("gpgconf")
        .args(["--kill", "gpg-agent"])
        .env("GNUPGHOME", gnupg.path())
        .status();
    write(root, "root/signing-key.asc", &armored);

    let server_key = std::fs::read(root.join("etc/ssl/private/server.key")).unwrap();
    write(
        root,
        "root/.kube/config",
        format!(
            "users:\n- name: admin\n  user:\n    client-key-data: {}\n",
            base64(&server_key)
        )
        .as_bytes(),
    );
    let login = base64(format!("ci-bot:{}{}", "Hq8vN2", "mT5xK9wZ").as_bytes());
    write(
        root,
        "root/.docker/config.json",
        format!(r#"{{"auths":{{"registry.acme.io":{{"auth":"{login}"}}}}}}"#).as_bytes(),
    );
    write(
        root,
        "root/.aws/credentials",
        format!(
            "[default]\naws_access_key_id = {}{}\naws_secret_access_key = {}{}\n",
            "AKIA", "R7QW2XK5M3TZ4VBN", "Jw9t2Kx7Qm4Pz8Lr5Vn3", "Bc6Hs1Fd0Gy2Ua8Te4Wo"
        )
        .as_bytes(),
    );
    write(
        root,
        "srv/app/.env",
        format!(
            "DEBUG=0\nDATABASE_URL=postgresql://app:{}{}@db.internal:5432/app\n",
            "u7Gk2Lw9", "Xq4Rz8Vp"
        )
        .as_bytes(),
    );
    // A planted key under the application's own tests directory is still reported...
    write(
        root,
        "srv/app/tests/fixture.env",
        format!(
            "SLACK_BOT={}-{}-{}-{}\n",
            "xoxb", "263594206564", "2343594206564", "FGqddMF8t08v8N7Oq4i57vs1"
        )
        .as_bytes(),
    );
    // ...while one in the documentation of an OS package is not.
    write(
        root,
        "usr/share/doc/acme/example.env",
        format!("GH={}{}\n", "ghp_", "Zq3V8xL2mN5pR7tY1wK4bC6dF9gH0jS2aE4u").as_bytes(),
    );
    write(root, "usr/bin/acme", b"\x7fELF\x02\x01\x01\x00\x00\x00");

    let out = scan(root);
    let found: BTreeSet<(String, String)> = out
        .findings
        .iter()
        .map(|f| (f.location.path.clone(), f.id.clone()))
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("etc/ssh/ssh_host_ed25519_key", "SEC-PRIVATE-KEY-OPENSSH"),
        ("root/.ssh/id_rsa", "SEC-PRIVATE-KEY-RSA"),
        ("etc/ssl/private/server.key", "SEC-PRIVATE-KEY-PKCS8"),
        ("etc/ssl/private/ec.pem", "SEC-PRIVATE-KEY-EC"),
        ("etc/ssl/private/encrypted.key", "SEC-PRIVATE-KEY-ENCRYPTED"),
        ("root/signing-key.asc", "SEC-PGP-PRIVATE-KEY"),
        ("root/.kube/config", "SEC-PRIVATE-KEY-BASE64"),
        ("root/.docker/config.json", "SEC-DOCKER-CONFIG-AUTH"),
        ("root/.aws/credentials", "SEC-AWS-ACCESS-KEY-ID"),
        ("root/.aws/credentials", "SEC-AWS-SECRET-ACCESS-KEY"),
        ("srv/app/.env", "SEC-DATABASE-URL-PASSWORD"),
        ("srv/app/tests/fixture.env", "SEC-SLACK-BOT-TOKEN"),
    ]
    .into_iter()
    .map(|(p, i)| (p.to_owned(), i.to_owned()))
    .collect();
    assert_eq!(found, expected, "{:#?}", out.findings);
    assert_eq!(
        out.findings.len(),
        expected.len(),
        "duplicates: {:#?}",
        out.findings
    );
    assert_eq!(out.skipped.len(), 1);
    assert_eq!(out.skipped[0].reason, SkipReason::Binary);
    assert_eq!(out.skipped[0].path, "usr/bin/acme");
}
