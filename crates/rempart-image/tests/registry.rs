//! Pulls from a real OCI registry (Debian's `docker-registry`) bound to 127.0.0.1, with TLS from
//! a throwaway CA and htpasswd basic auth, after pushing the test images with skopeo. One registry
//! serves every test of this file; each test uses its own repositories.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use rempart_image::{ImageError, ImageSource, OciLayout, Platform, RegistryImage, RegistryOptions};
use support::{Compression, Image, Layer, inventory, walk_source};

const USER: &str = "scanner";
const PASSWORD: &str = "correct-horse-battery";

struct Registry {
    /// A shell that runs the registry and, when this process ends and the pipe to its standard
    /// input closes, stops it and deletes its directory: a shared registry lives in a static,
    /// which is never dropped.
    _keeper: Mutex<Child>,
    port: u16,
    ca: PathBuf,
    /// The registry's directory: configuration, certificates and storage.
    dir: PathBuf,
}

/// The registry every test of this file shares, started by the first test that asks.
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(start_registry)
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the registry. The binary comes from Debian's `docker-registry` package, installed by
/// scripts/install-test-deps.sh; a missing binary fails the test rather than skipping it.
fn start_registry() -> Registry {
    let binary = Path::new("/usr/bin/docker-registry");
    assert!(
        binary.exists(),
        "docker-registry is not installed: run scripts/install-test-deps.sh"
    );
    let dir = tempfile::tempdir().unwrap().keep();
    let d = dir.as_path();
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=rempart test CA",
        ])
        .arg("-keyout")
        .arg(d.join("ca.key"))
        .arg("-out")
        .arg(d.join("ca.pem")));
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .arg("-keyout")
        .arg(d.join("server.key"))
        .arg("-out")
        .arg(d.join("server.csr")));
    std::fs::write(d.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
        .arg("-in")
        .arg(d.join("server.csr"))
        .arg("-CA")
        .arg(d.join("ca.pem"))
        .arg("-CAkey")
        .arg(d.join("ca.key"))
        .arg("-out")
        .arg(d.join("server.pem"))
        .arg("-extfile")
        .arg(d.join("san.ext")));
    run(Command::new("htpasswd")
        .args(["-Bbc"])
        .arg(d.join("htpasswd"))
        .args([USER, PASSWORD]));
    let port = free_port();
    let config = format!(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {root}\nhttp:\n  addr: 127.0.0.1:{port}\n  tls:\n    certificate: {cert}\n    key: {key}\nauth:\n  htpasswd:\n    realm: rempart-test\n    path: {htpasswd}\n",
        root = d.join("storage").display(),
        cert = d.join("server.pem").display(),
        key = d.join("server.key").display(),
        htpasswd = d.join("htpasswd").display(),
    );
    std::fs::write(d.join("config.yml"), config).unwrap();
    let keeper = Command::new("sh")
        .args([
            "-c",
            r#""$0" serve "$1/config.yml" & registry=$!; read -r _; kill "$registry"; wait "$registry"; rm -rf "$1""#,
        ])
        .arg(binary)
        .arg(d)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "registry did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Registry {
        _keeper: Mutex::new(keeper),
        port,
        ca: d.join("ca.pem"),
        dir,
    }
}

/// Pushes the image (or with `all`, the index and every image it lists) tagged `v1` in an OCI
/// layout to `name` (`repository:tag`).
fn push(layout: &Path, registry: &Registry, name: &str, all: bool) {
    let certs = registry.dir.join("certs.d");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(&registry.ca, certs.join("ca.crt")).unwrap();
    let mut command = Command::new("skopeo");
    command.args([
        "copy",
        "--quiet",
        "--insecure-policy",
        "--dest-creds",
        &format!("{USER}:{PASSWORD}"),
    ]);
    if all {
        command.arg("--all");
    }
    run(command
        .arg("--dest-cert-dir")
        .arg(&certs)
        .arg(format!("oci:{}:v1", layout.display()))
        .arg(format!("docker://127.0.0.1:{}/{name}", registry.port)));
}

fn options(registry: &Registry, blob_dir: &Path) -> RegistryOptions {
    let mut options = RegistryOptions::new(blob_dir.to_owned());
    options.username = Some(USER.into());
    options.password = Some(PASSWORD.into());
    options.ca_certificates = vec![registry.ca.clone()];
    options
}

#[test]
fn registry_pulls_match_the_layout_and_errors_are_clear() {
    let registry = registry();
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("layout");
    let image = Image::new(vec![
        (
            Layer::new()
                .dir("etc")
                .file("etc/os-release", "ID=debian\n")
                .file("etc/secret", "x"),
            Compression::Gzip,
        ),
        (
            Layer::new()
                .whiteout("etc/secret")
                .file("app/run.sh", "#!/bin/sh\n"),
            Compression::Zstd,
        ),
    ]);
    image.write_oci_layout(&layout, "v1");
    push(&layout, registry, "team/app:1.0", false);
    let expected = inventory(&walk_source(
        &OciLayout::open(&layout, None, &Platform::host_linux()).unwrap(),
    ));

    let cache = work.path().join("cache");
    let blob_dir = cache.join("blobs/sha256");
    let reference = format!("127.0.0.1:{}/team/app:1.0", registry.port);
    let pulled = RegistryImage::open(
        &reference,
        &Platform::host_linux(),
        &options(registry, &blob_dir),
    )
    .unwrap();
    assert_eq!(inventory(&walk_source(&pulled)), expected);
    assert_eq!(pulled.metadata().requested_tag.as_deref(), Some("1.0"));
    assert!(!pulled.metadata().pinned_by_digest);

    // By digest: the manifest digest is checked against the reference.
    let digest = pulled.metadata().manifest_digest.clone().unwrap();
    let by_digest = format!("127.0.0.1:{}/team/app@{digest}", registry.port);
    let pinned = RegistryImage::open(
        &by_digest,
        &Platform::host_linux(),
        &options(registry, &blob_dir),
    )
    .unwrap();
    assert!(pinned.metadata().pinned_by_digest);
    assert_eq!(inventory(&walk_source(&pinned)), expected);

    // Only verified blobs, only in the blob directory.
    for entry in std::fs::read_dir(&blob_dir).unwrap() {
        let path = entry.unwrap().path();
        let hex = path.file_name().unwrap().to_str().unwrap().to_owned();
        assert_eq!(
            support::sha256(&std::fs::read(&path).unwrap()),
            format!("sha256:{hex}")
        );
    }
    assert_eq!(
        std::fs::read_dir(&cache).unwrap().count(),
        1,
        "nothing but blobs/ in the cache"
    );

    // Wrong password: an error naming the registry.
    let mut wrong = options(registry, &blob_dir);
    wrong.password = Some("not-the-password".into());
    let error = RegistryImage::open(&reference, &Platform::host_linux(), &wrong)
        .err()
        .unwrap();
    assert!(matches!(error, ImageError::Registry { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains(&format!("127.0.0.1:{}", registry.port)),
        "{error}"
    );

    // TLS is verified by default: without the CA the pull fails.
    let mut untrusted = options(registry, &blob_dir);
    untrusted.ca_certificates.clear();
    let error = RegistryImage::open(&reference, &Platform::host_linux(), &untrusted)
        .err()
        .unwrap();
    assert!(matches!(error, ImageError::Registry { .. }), "{error}");

    // A tag that does not exist.
    let missing = format!("127.0.0.1:{}/team/app:nope", registry.port);
    let error = RegistryImage::open(
        &missing,
        &Platform::host_linux(),
        &options(registry, &blob_dir),
    )
    .err()
    .unwrap();
    assert!(error.to_string().contains("nope"), "{error}");
}
