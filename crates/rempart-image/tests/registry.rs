//! Pulls from and copies within a real OCI registry (Debian's `docker-registry`) bound to
//! 127.0.0.1, with TLS from a throwaway CA and htpasswd basic auth, after pushing the test images
//! with skopeo. One registry serves every test of this file; each test uses its own
//! repositories.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use rempart_image::{
    CopyReport, CopyRequest, ImageError, ImageSource, OciLayout, Platform, RegistryImage,
    RegistryOptions, copy_image, resolve_digest,
};
use support::{Compression, Image, Layer, inventory, walk_source};

const USER: &str = "scanner";
const PASSWORD: &str = "correct-horse-battery";
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";

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
    let keeper = serve(binary, d, port);
    Registry {
        _keeper: Mutex::new(keeper),
        port,
        ca: d.join("ca.pem"),
        dir,
    }
}

/// Runs the registry configured in `dir` under a shell that, when the pipe to its standard input
/// closes (this process ends, or the pipe is dropped), stops it and deletes `dir`. Returns once
/// the registry listens on `port`.
fn serve(binary: &Path, dir: &Path, port: u16) -> Child {
    let keeper = Command::new("sh")
        .args([
            "-c",
            r#""$0" serve "$1/config.yml" & registry=$!; read -r _; kill "$registry"; wait "$registry"; rm -rf "$1""#,
        ])
        .arg(binary)
        .arg(dir)
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
    keeper
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
        !error.is_transient(),
        "refused credentials stay refused: {error}"
    );
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
    assert!(
        !error.is_transient(),
        "an untrusted certificate stays untrusted: {error}"
    );

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

/// A two-layer image whose files mention `name`, so that each test pushes its own blobs.
fn test_image(name: &str) -> Image {
    Image::new(vec![
        (
            Layer::new()
                .dir("etc")
                .file("etc/os-release", "ID=debian\n")
                .file("etc/image-name", name),
            Compression::Gzip,
        ),
        (
            Layer::new().file("app/run.sh", format!("#!/bin/sh\necho {name}\n")),
            Compression::Zstd,
        ),
    ])
}

/// Writes `image` as an OCI layout and pushes it to `name` (`repository:tag`); returns the
/// manifest digest the registry gives for that tag.
fn push_image(image: &Image, name: &str) -> String {
    let registry = registry();
    let work = tempfile::tempdir().unwrap();
    image.write_oci_layout(work.path(), "v1");
    push(work.path(), registry, name, false);
    resolve_digest(
        &format!("127.0.0.1:{}/{name}", registry.port),
        &options_for_copy(),
    )
    .unwrap()
}

/// Options for copies and tag resolution, which store nothing locally.
fn options_for_copy() -> RegistryOptions {
    options(registry(), Path::new("/nonexistent"))
}

fn request<'a>(
    source: &'a str,
    digest: &'a str,
    destination: &'a str,
    tag: Option<&'a str>,
) -> CopyRequest<'a> {
    CopyRequest {
        registry: registry_name(),
        source_repository: source,
        digest,
        destination_repository: destination,
        tag,
    }
}

fn registry_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| format!("127.0.0.1:{}", registry().port))
}

/// Pulls `reference` (`repository:tag` or `repository@digest`) for `platform`.
fn pull(reference: &str, platform: &str, blob_dir: &Path) -> RegistryImage {
    RegistryImage::open(
        &format!("{}/{reference}", registry_name()),
        &platform.parse().unwrap(),
        &options(registry(), blob_dir),
    )
    .unwrap_or_else(|e| panic!("{reference}: {e}"))
}

fn layer_digests(image: &RegistryImage) -> Vec<Option<String>> {
    image.layers().iter().map(|l| l.digest.clone()).collect()
}

#[test]
fn a_copy_mounts_every_blob_then_tags_and_a_second_copy_finds_them_present() {
    let digest = push_image(&test_image("copy"), "staging/app:build-7");
    let options = options_for_copy();

    let report = copy_image(
        &request("staging/app", &digest, "release/app", Some("1.0")),
        &options,
    )
    .unwrap();
    assert_eq!(
        report,
        CopyReport {
            digest: digest.clone(),
            manifests: 1,
            blobs_mounted: 3,
            blobs_present: 0,
            blobs_copied: 0,
        }
    );

    // The tag and the digest name the same image as the source, layer for layer.
    let blobs = tempfile::tempdir().unwrap();
    let staged = pull(
        &format!("staging/app@{digest}"),
        "linux/amd64",
        blobs.path(),
    );
    let by_digest = pull(
        &format!("release/app@{digest}"),
        "linux/amd64",
        blobs.path(),
    );
    let by_tag = pull("release/app:1.0", "linux/amd64", blobs.path());
    for copied in [&by_digest, &by_tag] {
        assert_eq!(
            copied.metadata().manifest_digest.as_deref(),
            Some(digest.as_str())
        );
        assert_eq!(layer_digests(copied), layer_digests(&staged));
        assert_eq!(
            inventory(&walk_source(copied)),
            inventory(&walk_source(&staged))
        );
    }
    assert_eq!(
        resolve_digest(&format!("{}/release/app:1.0", registry_name()), &options).unwrap(),
        digest
    );

    // Again: the destination holds every blob already.
    let again = copy_image(
        &request("staging/app", &digest, "release/app", Some("1.0")),
        &options,
    )
    .unwrap();
    assert_eq!(
        (
            again.manifests,
            again.blobs_present,
            again.blobs_mounted,
            again.blobs_copied
        ),
        (1, 3, 0, 0)
    );
}

#[test]
fn resolving_a_tag_gives_the_digest_of_its_manifest() {
    let image = test_image("resolve");
    let work = tempfile::tempdir().unwrap();
    let layout_digest = image.write_oci_layout(work.path(), "v1");
    push(work.path(), registry(), "staging/resolve:2.1", false);
    let options = options_for_copy();
    let reference = format!("{}/staging/resolve:2.1", registry_name());
    let digest = resolve_digest(&reference, &options).unwrap();
    assert_eq!(digest, layout_digest, "skopeo keeps the manifest as it is");
    let blobs = tempfile::tempdir().unwrap();
    assert_eq!(
        pull("staging/resolve:2.1", "linux/amd64", blobs.path())
            .metadata()
            .manifest_digest
            .as_deref(),
        Some(digest.as_str())
    );
    // A digest is its own answer; a missing tag is an error naming it.
    let pinned = format!("{}/staging/resolve@{digest}", registry_name());
    assert_eq!(resolve_digest(&pinned, &options).unwrap(), digest);
    let error = resolve_digest(
        &format!("{}/staging/resolve:nope", registry_name()),
        &options,
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("/manifests/nope"), "{error}");
    assert!(error.contains("404"), "{error}");
}

/// Writes an OCI layout whose `index.json` names, as `tag`, an image index of one image per
/// architecture; returns the index's digest.
fn write_index_layout(dir: &Path, images: &[(&Image, &str)], tag: &str) -> String {
    let blobs = dir.join("blobs/sha256");
    let mut entries = Vec::new();
    for (image, architecture) in images {
        // Each call adds the image's blobs; index.json is rewritten below.
        let digest = image.write_oci_layout(dir, tag);
        let size = std::fs::metadata(blobs.join(&digest[7..])).unwrap().len();
        entries.push(serde_json::json!({
            "mediaType": MANIFEST_TYPE, "digest": digest, "size": size,
            "platform": {"os": "linux", "architecture": architecture},
        }));
    }
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": entries,
    }))
    .unwrap();
    let digest = support::sha256(&index);
    std::fs::write(blobs.join(&digest[7..]), &index).unwrap();
    let top = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": INDEX_TYPE, "digest": digest, "size": index.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    digest
}

#[test]
fn an_index_is_copied_with_every_image_it_lists() {
    let amd64 = test_image("index-amd64");
    let arm64 = Image::new(vec![(
        Layer::new().file("app/arm64", "arm64 build\n"),
        Compression::Gzip,
    )]);
    let work = tempfile::tempdir().unwrap();
    write_index_layout(work.path(), &[(&amd64, "amd64"), (&arm64, "arm64")], "v1");
    push(work.path(), registry(), "staging/multi:build-3", true);
    let options = options_for_copy();
    let digest = resolve_digest(
        &format!("{}/staging/multi:build-3", registry_name()),
        &options,
    )
    .unwrap();

    let report = copy_image(
        &request("staging/multi", &digest, "release/multi", Some("2.0")),
        &options,
    )
    .unwrap();
    // The index and its two images; configs and layers: 1 + 2 and 1 + 1.
    assert_eq!(
        (
            report.manifests,
            report.blobs_mounted,
            report.blobs_present,
            report.blobs_copied
        ),
        (3, 5, 0, 0)
    );
    assert_eq!(
        resolve_digest(&format!("{}/release/multi:2.0", registry_name()), &options).unwrap(),
        digest
    );
    let blobs = tempfile::tempdir().unwrap();
    for platform in ["linux/amd64", "linux/arm64"] {
        let staged = pull("staging/multi:build-3", platform, blobs.path());
        let released = pull("release/multi:2.0", platform, blobs.path());
        assert_eq!(
            released.metadata().manifest_digest,
            staged.metadata().manifest_digest
        );
        assert_eq!(layer_digests(&released), layer_digests(&staged));
        assert_eq!(
            inventory(&walk_source(&released)),
            inventory(&walk_source(&staged))
        );
    }
}

/// Asserts that `repository` has no tag `tag` and no manifest `digest`.
fn assert_absent(repository: &str, tag: &str, digest: &str) {
    for reference in [
        format!("{repository}:{tag}"),
        format!("{repository}@{digest}"),
    ] {
        let blobs = tempfile::tempdir().unwrap();
        let error = RegistryImage::open(
            &format!("{}/{reference}", registry_name()),
            &Platform::host_linux(),
            &options(registry(), blobs.path()),
        )
        .err()
        .unwrap_or_else(|| panic!("{reference} exists"));
        assert!(error.to_string().contains("404"), "{reference}: {error}");
    }
}

#[test]
fn a_failed_copy_names_the_step_and_leaves_the_tag_alone() {
    let options = options_for_copy();
    // A digest the source does not hold.
    let missing = format!("sha256:{}", "0".repeat(64));
    let error = copy_image(
        &request("staging/app", &missing, "release/missing", Some("1.0")),
        &options,
    )
    .unwrap_err();
    assert!(matches!(error, ImageError::Registry { .. }), "{error}");
    let shown = error.to_string();
    for expected in [
        registry_name(),
        "staging/app",
        "release/missing",
        &missing,
        "fetching manifest",
        "no such repository, tag or blob",
        "release/missing:1.0 left as it was",
    ] {
        assert!(shown.contains(expected), "{expected}: {shown}");
    }
    assert_absent("release/missing", "1.0", &missing);

    // A layer the source repository lost: the registry refuses to mount it, and the pull that
    // would copy it fails. No manifest is pushed, so no tag either.
    let digest = push_image(&test_image("broken"), "staging/broken:build-1");
    let blobs = tempfile::tempdir().unwrap();
    let staged = pull(
        &format!("staging/broken@{digest}"),
        "linux/amd64",
        blobs.path(),
    );
    let lost = staged.layers()[1].digest.clone().unwrap();
    let link = registry()
        .dir
        .join("storage/docker/registry/v2/repositories/staging/broken/_layers/sha256")
        .join(&lost[7..]);
    std::fs::remove_dir_all(&link).unwrap();
    let error = copy_image(
        &request("staging/broken", &digest, "release/broken", Some("1.0")),
        &options,
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains(&format!("copying blob {lost} of manifest {digest}")),
        "{error}"
    );
    assert!(error.contains("/v2/staging/broken/blobs/"), "{error}");
    assert_absent("release/broken", "1.0", &digest);
}

#[test]
fn a_copy_with_a_wrong_password_fails_clearly() {
    let digest = push_image(&test_image("password"), "staging/password:build-1");
    let mut wrong = options_for_copy();
    wrong.password = Some("not-the-password".into());
    let error = copy_image(
        &request("staging/password", &digest, "release/password", Some("1.0")),
        &wrong,
    )
    .unwrap_err();
    assert!(matches!(error, ImageError::Registry { .. }), "{error}");
    let shown = error.to_string();
    assert!(shown.contains(registry_name()), "{shown}");
    assert!(shown.contains("credentials were refused"), "{shown}");
    assert!(shown.contains("401"), "{shown}");
    assert_absent("release/password", "1.0", &digest);
}

/// A registry without TLS or authentication, of its own, stopped when dropped.
struct PlainRegistry {
    keeper: Child,
    port: u16,
}

impl Drop for PlainRegistry {
    fn drop(&mut self) {
        // Closing its standard input makes the shell stop the registry and delete its files.
        drop(self.keeper.stdin.take());
        let _ = self.keeper.wait();
    }
}

fn start_plain_registry() -> PlainRegistry {
    let dir = tempfile::tempdir().unwrap().keep();
    let port = free_port();
    let config = format!(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {root}\nhttp:\n  addr: 127.0.0.1:{port}\n",
        root = dir.join("storage").display(),
    );
    std::fs::write(dir.join("config.yml"), config).unwrap();
    let keeper = serve(Path::new("/usr/bin/docker-registry"), &dir, port);
    PlainRegistry { keeper, port }
}

/// A proxy on 127.0.0.1 in front of the registry on `upstream`, which drops the `mount`
/// parameter of blob upload requests: the registry then opens an upload session, as one that
/// refuses a mount does, and the copy must stream the blob. Each request gets its own
/// connection (`Connection: close`), so that every request line passes through the rewrite.
/// Returns the proxy's port.
fn mount_refusing_proxy(upstream: u16) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(client.try_clone().unwrap());
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if head.is_empty() && line.starts_with("POST ") && line.contains("?mount=") {
                        let target = line.split(' ').nth(1).unwrap();
                        line = line.replace(target, target.split('?').next().unwrap());
                    }
                    if !line.to_ascii_lowercase().starts_with("connection:") {
                        head.push_str(&line);
                    }
                }
                head.push_str("Connection: close\r\n\r\n");
                let mut registry = std::net::TcpStream::connect(("127.0.0.1", upstream)).unwrap();
                registry.write_all(head.as_bytes()).unwrap();
                // The request body (an upload) goes up while the answer comes down.
                let mut up = registry.try_clone().unwrap();
                std::thread::spawn(move || std::io::copy(&mut reader, &mut up));
                let _ = std::io::copy(&mut registry, &mut client);
                let _ = client.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    port
}

#[test]
fn a_refused_mount_streams_every_blob_into_the_registry() {
    let plain = start_plain_registry();
    let work = tempfile::tempdir().unwrap();
    // A layer of a few megabytes that does not compress, so that the upload takes many pieces.
    let noise: Vec<u8> = (0..4_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let image = Image::new(vec![
        (
            Layer::new().file("etc/os-release", "ID=debian\n"),
            Compression::Gzip,
        ),
        (Layer::new().file("data/noise", noise), Compression::Gzip),
    ]);
    let digest = image.write_oci_layout(work.path(), "v1");
    run(Command::new("skopeo")
        .args([
            "copy",
            "--quiet",
            "--insecure-policy",
            "--dest-tls-verify=false",
        ])
        .arg(format!("oci:{}:v1", work.path().display()))
        .arg(format!("docker://127.0.0.1:{}/staging/app", plain.port)));

    let proxy = format!("127.0.0.1:{}", mount_refusing_proxy(plain.port));
    let mut options = RegistryOptions::new(work.path().join("unused"));
    options.insecure = true;
    let report = copy_image(
        &CopyRequest {
            registry: &proxy,
            source_repository: "staging/app",
            digest: &digest,
            destination_repository: "release/app",
            tag: Some("1.0"),
        },
        &options,
    )
    .unwrap();
    assert_eq!(
        (
            report.manifests,
            report.blobs_copied,
            report.blobs_mounted,
            report.blobs_present
        ),
        (1, 3, 0, 0)
    );

    // Straight from the registry: the copy is whole, under its digest and its tag.
    let open = |reference: &str| {
        RegistryImage::open(
            &format!("127.0.0.1:{}/{reference}", plain.port),
            &Platform::host_linux(),
            &options,
        )
        .unwrap()
    };
    let staged = open(&format!("staging/app@{digest}"));
    for reference in [
        format!("release/app@{digest}"),
        "release/app:1.0".to_owned(),
    ] {
        let copied = open(&reference);
        assert_eq!(
            copied.metadata().manifest_digest.as_deref(),
            Some(digest.as_str())
        );
        assert_eq!(layer_digests(&copied), layer_digests(&staged));
        assert_eq!(
            inventory(&walk_source(&copied)),
            inventory(&walk_source(&staged))
        );
    }
}
