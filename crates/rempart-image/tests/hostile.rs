//! Hostile and broken inputs: each gives a clear error or a skip record naming the layer and
//! path, at bounded cost, and nothing is written anywhere.

mod support;

use rempart_core::{AnalysisOutput, FileAnalyzer, FileMeta, FileSink, Interest, SkipReason};
use rempart_image::{
    DirOptions, DockerArchive, ImageError, ImageSource, Limits, OciLayout, Platform, WalkError,
    walk_dir, walk_layer,
};
use support::{Compression, Image, Layer, compress};

fn walk(tar: &[u8]) -> Result<rempart_image::LayerWalk, WalkError> {
    walk_layer(&mut &tar[..], &[], Limits::default(), None)
}

fn reasons(walk: &rempart_image::LayerWalk) -> Vec<(String, SkipReason)> {
    std::iter::once(&walk.output)
        .chain(&walk.analyzer_outputs)
        .flat_map(|output| &output.skipped)
        .map(|s| (s.path.clone(), s.reason.clone()))
        .collect()
}

#[test]
fn path_traversal_is_skipped_and_absolute_paths_are_rooted() {
    let tar = Layer::new()
        .raw_file(b"../../etc/cron.d/evil", "x")
        .raw_file(b"a/../../escape", "x")
        .raw_file(b"/etc/passwd", "root:x:0:0")
        .tar();
    let result = walk(&tar).unwrap();
    let paths: Vec<&str> = result.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["etc/passwd"]);
    let skipped = reasons(&result);
    assert!(skipped.contains(&("../../etc/cron.d/evil".into(), SkipReason::UnsafePath)));
    assert!(skipped.contains(&("a/../../escape".into(), SkipReason::UnsafePath)));
}

#[test]
fn symlink_escapes_and_devices_are_recorded() {
    let tar = Layer::new()
        .symlink("etc/shadow-link", "../../../../etc/shadow")
        .symlink("ok-link", "/usr/bin")
        .device("dev/kmem")
        .hardlink("x", "../../outside")
        .tar();
    let result = walk(&tar).unwrap();
    let skipped = reasons(&result);
    assert!(skipped.contains(&("etc/shadow-link".into(), SkipReason::LinkEscapesRoot)));
    assert!(skipped.contains(&("dev/kmem".into(), SkipReason::SpecialFile)));
    assert!(skipped.contains(&("x".into(), SkipReason::LinkEscapesRoot)));
    assert!(!skipped.iter().any(|(p, _)| p == "ok-link"));
}

/// A layer of one 300 MiB file of zeros: it compresses about 1000:1.
fn gzip_bomb() -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    {
        let mut builder = tar::Builder::new(&mut encoder);
        let mut header = tar::Header::new_gnu();
        header.set_size(300 * 1024 * 1024);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(
                &mut header,
                "zeros",
                std::io::repeat(0).take_bytes(300 * 1024 * 1024),
            )
            .unwrap();
        builder.finish().unwrap();
    }
    encoder.finish().unwrap()
}

#[test]
fn gzip_bomb_is_stopped_with_a_named_error() {
    let bomb = gzip_bomb();
    let error = walk(&bomb).unwrap_err();
    assert!(matches!(error, WalkError::Bomb { .. }), "{error}");
    assert!(error.to_string().contains("decompression bomb"));
}

trait TakeBytes: std::io::Read + Sized {
    fn take_bytes(self, n: u64) -> std::io::Take<Self> {
        std::io::Read::take(self, n)
    }
}
impl<R: std::io::Read> TakeBytes for R {}

/// Wants everything whole up to a small cap, and streams everything.
struct Capped;
struct Counter(u64);

impl FileSink for Counter {
    fn write(&mut self, chunk: &[u8]) {
        self.0 += chunk.len() as u64;
    }
    fn finish(self: Box<Self>, out: &mut AnalysisOutput) {
        out.os.push((
            format!("streamed {}", self.0),
            rempart_core::OsInfo::default(),
        ));
    }
}

impl FileAnalyzer for Capped {
    fn name(&self) -> &'static str {
        "capped"
    }
    fn fingerprint(&self) -> String {
        "1".into()
    }
    fn interest(&self, file: &FileMeta<'_>) -> Interest {
        if file.path.ends_with(".stream") {
            Interest::Stream
        } else {
            Interest::Whole { max_bytes: 1024 }
        }
    }
    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], _out: &mut AnalysisOutput) {
        assert!(
            content.len() <= 1024,
            "{} given whole past the cap",
            file.path
        );
    }
    fn open_stream(&self, _file: &FileMeta<'_>) -> Option<Box<dyn FileSink + '_>> {
        Some(Box::new(Counter(0)))
    }
}

#[test]
fn huge_file_is_not_buffered_but_can_be_streamed() {
    let big = vec![b'a'; 5 * 1024 * 1024];
    let tar = Layer::new()
        .file("big.bin", &big)
        .file("big.stream", &big)
        .file("small", "ok")
        .tar();
    let analyzers: Vec<Box<dyn FileAnalyzer>> = vec![Box::new(Capped)];
    let result = walk_layer(&mut &tar[..], &analyzers, Limits::default(), None).unwrap();
    let skipped = reasons(&result);
    assert!(skipped.contains(&("big.bin".into(), SkipReason::TooLarge)));
    assert_eq!(
        result.analyzer_outputs[0].os[0].0,
        format!("streamed {}", big.len())
    );
    assert_eq!(result.files, 3);
}

#[test]
fn deep_trees_are_capped() {
    let deep = (0..40)
        .map(|i| format!("d{i}"))
        .collect::<Vec<_>>()
        .join("/");
    // Old-style headers hold 100 bytes of name: use a deep tree on disk instead.
    let temp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(temp.path().join(&deep)).unwrap();
    std::fs::write(temp.path().join(&deep).join("f"), "x").unwrap();
    let limits = Limits {
        max_path_depth: 20,
        ..Limits::default()
    };
    let result = walk_dir(temp.path(), &[], limits, &DirOptions::default()).unwrap();
    assert!(
        result
            .output
            .skipped
            .iter()
            .any(|s| s.reason == SkipReason::TooDeep)
    );
    assert!(
        result
            .entries
            .iter()
            .all(|e| e.path.split('/').count() <= 20)
    );
}

#[test]
fn truncated_and_corrupt_tars_fail_with_the_entry_named() {
    let tar = Layer::new()
        .file("etc/hostname", "box")
        .file("etc/big", vec![1u8; 4096])
        .tar();
    let truncated = &tar[..tar.len() / 2 + 100];
    let error = walk(truncated).unwrap_err();
    assert!(matches!(error, WalkError::Tar { .. }), "{error}");
    assert!(error.to_string().contains("etc/"), "{error}");

    // Cut inside the content of a file that an analyzer wants whole: the walk fails, naming
    // that file.
    let small = Layer::new().file("etc/small", vec![2u8; 900]).tar();
    let analyzers: Vec<Box<dyn FileAnalyzer>> = vec![Box::new(Capped)];
    let error = walk_layer(
        &mut &small[..512 + 400],
        &analyzers,
        Limits::default(),
        None,
    )
    .unwrap_err();
    assert!(matches!(error, WalkError::Tar { .. }), "{error}");
    assert!(error.to_string().contains("etc/small"), "{error}");

    let gz = compress(&tar, Compression::Gzip);
    let error = walk(&gz[..gz.len() - 30]).unwrap_err();
    assert!(matches!(error, WalkError::Tar { .. }), "{error}");

    let mut garbage = tar.clone();
    garbage[148..156].copy_from_slice(b"99999999"); // broken header checksum
    assert!(walk(&garbage).is_err());
}

#[test]
fn tampered_blobs_are_refused() {
    let temp = tempfile::tempdir().unwrap();
    let layout = temp.path().join("layout");
    let image = Image::new(vec![(
        Layer::new().file("a", "original"),
        Compression::None,
    )]);
    image.write_oci_layout(&layout, "v1");
    let oci = OciLayout::open(&layout, None, &Platform::host_linux()).unwrap();
    let digest = oci.layers()[0].digest.clone().unwrap();
    let blob = layout.join("blobs/sha256").join(&digest[7..]);
    let mut bytes = std::fs::read(&blob).unwrap();
    let at = bytes.windows(8).position(|w| w == b"original").unwrap();
    bytes[at] = b'O';
    std::fs::write(&blob, bytes).unwrap();
    let mut reader = oci.open_layer(0).unwrap();
    let error = walk_layer(&mut reader, &[], Limits::default(), None).unwrap_err();
    assert!(matches!(error, WalkError::DigestMismatch { .. }), "{error}");

    // The config is checked when the layout is opened.
    let config = oci.metadata().config_digest.clone().unwrap();
    std::fs::write(layout.join("blobs/sha256").join(&config[7..]), b"{}").unwrap();
    let error = OciLayout::open(&layout, None, &Platform::host_linux())
        .err()
        .unwrap();
    assert!(
        matches!(error, ImageError::DigestMismatch { .. }),
        "{error}"
    );
}

#[test]
fn tampered_docker_archive_layer_fails_its_diff_id() {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("image.tar");
    Image::new(vec![(
        Layer::new().file("a", "original"),
        Compression::None,
    )])
    .write_docker_archive(&path, Compression::None);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.windows(8).position(|w| w == b"original").unwrap();
    bytes[at] = b'O';
    std::fs::write(&path, bytes).unwrap();
    let archive = DockerArchive::open(&path, None).unwrap();
    let diff_id = archive.layers()[0].diff_id.clone();
    let mut reader = archive.open_layer(0).unwrap();
    let error = walk_layer(&mut reader, &[], Limits::default(), Some(&diff_id)).unwrap_err();
    assert!(matches!(error, WalkError::DigestMismatch { .. }), "{error}");
}

#[test]
fn garbage_inputs_name_the_file() {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("not-an-image.tar");
    std::fs::write(&path, b"this is not a tar file at all, just text").unwrap();
    let error = DockerArchive::open(&path, None).err().unwrap();
    assert!(error.to_string().contains("not-an-image.tar"), "{error}");

    let layout = temp.path().join("layout");
    std::fs::create_dir_all(&layout).unwrap();
    std::fs::write(layout.join("oci-layout"), "{}").unwrap();
    std::fs::write(layout.join("index.json"), "{ not json").unwrap();
    let error = OciLayout::open(&layout, None, &Platform::host_linux())
        .err()
        .unwrap();
    assert!(error.to_string().contains("index.json"), "{error}");
}

#[test]
fn scanning_hostile_layers_writes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let watch = temp.path().join("watched");
    std::fs::create_dir_all(&watch).unwrap();
    let hostile = Layer::new()
        .raw_file(b"../../../../../../tmp/rempart-escape-test", "x")
        .symlink("link", "/")
        .file("link/tmp/through-link", "x")
        .tar();
    walk(&hostile).unwrap();
    assert!(!std::path::Path::new("/tmp/rempart-escape-test").exists());
    assert!(!std::path::Path::new("/tmp/through-link").exists());
    assert_eq!(std::fs::read_dir(&watch).unwrap().count(), 0);
}

/// The read-ahead walker (decompression on its own thread) must fail the same way.
#[test]
fn read_ahead_walker_reports_the_same_errors() {
    use rempart_image::walk_layer_read_ahead;
    let bomb = gzip_bomb();
    let error = walk_layer_read_ahead(&mut &bomb[..], &[], Limits::default(), None).unwrap_err();
    assert!(matches!(error, WalkError::Bomb { .. }), "{error}");

    let tar = Layer::new()
        .file("etc/hostname", "box")
        .file("etc/big", vec![1u8; 4096])
        .tar();
    let wrong = support::sha256(b"something else");
    let error =
        walk_layer_read_ahead(&mut &tar[..], &[], Limits::default(), Some(&wrong)).unwrap_err();
    assert!(matches!(error, WalkError::DigestMismatch { .. }), "{error}");
    let right = support::sha256(&tar);
    let walk = walk_layer_read_ahead(&mut &tar[..], &[], Limits::default(), Some(&right)).unwrap();
    assert_eq!(walk.files, 2);

    let truncated = &tar[..tar.len() / 2 + 100];
    let error =
        walk_layer_read_ahead(&mut &truncated[..], &[], Limits::default(), None).unwrap_err();
    assert!(matches!(error, WalkError::Tar { .. }), "{error}");
}

/// Replaces the first layer blob of a layout with what `make` puts at its path.
fn layout_with_layer_blob(make: impl FnOnce(&std::path::Path)) -> (tempfile::TempDir, OciLayout) {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("layout");
    Image::new(vec![(Layer::new().file("a", "x"), Compression::Gzip)]).write_oci_layout(&dir, "v1");
    let layout = OciLayout::open(&dir, None, &Platform::host_linux()).unwrap();
    let digest = layout.layers()[0].digest.clone().unwrap();
    let blob = dir.join("blobs/sha256").join(&digest[7..]);
    std::fs::remove_file(&blob).unwrap();
    make(&blob);
    (temp, layout)
}

#[test]
fn layout_blobs_that_are_fifos_or_links_out_of_the_layout_are_refused() {
    let (_temp, layout) = layout_with_layer_blob(|blob| {
        let status = std::process::Command::new("mkfifo")
            .arg(blob)
            .status()
            .unwrap();
        assert!(status.success());
    });
    let started = std::time::Instant::now();
    let error = layout.open_layer(0).err().unwrap().to_string();
    assert!(error.contains("FIFO"), "{error}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "did not block"
    );

    let (_temp, layout) = layout_with_layer_blob(|blob| {
        std::os::unix::fs::symlink("/dev/zero", blob).unwrap();
    });
    let error = layout.open_layer(0).err().unwrap().to_string();
    assert!(error.contains("outside the layout"), "{error}");
}

#[test]
fn an_index_json_that_is_a_fifo_is_refused_without_blocking() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("layout");
    Image::new(vec![(Layer::new().file("a", "x"), Compression::Gzip)]).write_oci_layout(&dir, "v1");
    std::fs::remove_file(dir.join("index.json")).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(dir.join("index.json"))
        .status()
        .unwrap();
    assert!(status.success());
    let error = OciLayout::open(&dir, None, &Platform::host_linux())
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("index.json") && error.contains("FIFO"),
        "{error}"
    );
}

#[test]
fn an_image_with_too_many_layers_is_refused() {
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": vec![support::sha256(b""); 1001]},
    });
    let error = rempart_image::parse_config(&serde_json::to_vec(&config).unwrap(), "many.json")
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("many.json") && error.contains("1001 layers"),
        "{error}"
    );
}

#[test]
fn a_multi_image_archive_needs_a_choice_and_lists_its_images() {
    let temp = tempfile::tempdir().unwrap();
    let clean = Image::new(vec![(Layer::new().file("a", "clean"), Compression::None)]);
    let other = Image::new(vec![(Layer::new().file("b", "other"), Compression::None)]);
    let path = temp.path().join("two.tar");
    support::write_docker_archive_of(&[(&clean, "app:1"), (&other, "")], &path, Compression::None);

    let error = DockerArchive::open(&path, None).err().unwrap().to_string();
    assert!(error.contains("holds 2 images"), "{error}");
    assert!(
        error.contains("@1 (app:1)") && error.contains("@2 (untagged)"),
        "{error}"
    );

    let second = DockerArchive::open(&path, Some("@2")).unwrap();
    let walks = support::walk_source(&second);
    assert!(walks[0].entries.iter().any(|e| e.path == "b"));
    let first = DockerArchive::open(&path, Some("app:1")).unwrap();
    assert!(
        support::walk_source(&first)[0]
            .entries
            .iter()
            .any(|e| e.path == "a")
    );
    let error = DockerArchive::open(&path, Some("@3"))
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("no image @3"), "{error}");
}

/// The committed corpora of the image fuzz targets (`fuzz/corpus/image_config`,
/// `fuzz/corpus/registry_challenge`) run through the same calls without a nightly toolchain: no
/// input panics, and the seeds still parse.
#[test]
fn image_fuzz_corpora_never_panic_and_seeds_still_parse() {
    let corpus = |target: &str| -> Vec<(String, Vec<u8>)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus")
            .join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(p).unwrap())
            })
            .collect()
    };
    for (name, data) in corpus("image_config") {
        let parsed = rempart_image::parse_config(&data, &name);
        let escaped = rempart_core::escape_non_utf8(&data);
        let _ = rempart_core::normalize_entry_path(&escaped);
        if std::path::Path::new(&name)
            .extension()
            .is_some_and(|e| e == "json")
        {
            assert!(parsed.is_ok(), "{name}: {:?}", parsed.err());
        }
    }
    for (name, data) in corpus("registry_challenge") {
        let header = String::from_utf8(data).unwrap();
        let (scheme, params) = rempart_image::parse_www_authenticate(&header);
        if name.starts_with("seed-") {
            assert!(!scheme.is_empty() && !params.is_empty(), "{name}");
        }
    }
}

#[test]
fn a_layer_descriptor_whose_size_disagrees_with_the_blob_is_refused() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("layout");
    Image::new(vec![(Layer::new().file("a", "x"), Compression::Gzip)]).write_oci_layout(&dir, "v1");
    // Rewrite the manifest so that the layer declares 2^63-1 bytes; the index follows it.
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let manifest_digest = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    let manifest_path = dir.join("blobs/sha256").join(&manifest_digest[7..]);
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["layers"][0]["size"] = serde_json::json!(i64::MAX);
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let digest = support::sha256(&bytes);
    std::fs::write(dir.join("blobs/sha256").join(&digest[7..]), &bytes).unwrap();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest, "size": bytes.len(),
    }]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();

    let layout = OciLayout::open(&dir, None, &Platform::host_linux()).unwrap();
    let error = layout.open_layer(0).err().unwrap().to_string();
    assert!(
        error.contains(&format!("declares {} bytes", i64::MAX)),
        "{error}"
    );
}

#[test]
fn tar_entries_of_unsupported_types_are_reported() {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, kind) in [("label", b'V'), ("continued", b'M'), ("odd", b'Z')] {
        let mut header = tar::Header::new_gnu();
        header.set_path(name).unwrap();
        header.set_entry_type(tar::EntryType::new(kind));
        header.set_size(3);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append(&header, &b"abc"[..]).unwrap();
    }
    let mut header = tar::Header::new_gnu();
    header.set_path("etc/ok").unwrap();
    header.set_size(2);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append(&header, &b"ok"[..]).unwrap();
    let tar = builder.into_inner().unwrap();
    let result = walk(&tar).unwrap();
    let skipped = reasons(&result);
    for name in ["label", "continued", "odd"] {
        assert!(
            skipped.contains(&(name.to_owned(), SkipReason::SpecialFile)),
            "{name}: {skipped:?}"
        );
    }
    assert!(result.entries.iter().any(|e| e.path == "etc/ok"));
}
