//! Every image source, fed the same real image files, must give the same filesystem.

mod support;

use std::collections::BTreeSet;
use std::sync::Mutex;

use rempart_core::{AnalysisOutput, FileAnalyzer, FileMeta, Interest};
use rempart_image::{
    DirOptions, DockerArchive, ImageSource, Limits, MergedFs, OciLayout, Platform, walk_dir,
    walk_layer,
};
use support::{Compression, Image, Layer, inventory, walk_source};

/// Records what it was shown: path and content.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<(String, Vec<u8>)>>,
}

impl FileAnalyzer for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn fingerprint(&self) -> String {
        "1".into()
    }
    fn interest(&self, _file: &FileMeta<'_>) -> Interest {
        Interest::Whole { max_bytes: 1024 }
    }
    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], _out: &mut AnalysisOutput) {
        self.seen
            .lock()
            .unwrap()
            .push((file.path.to_owned(), content.to_vec()));
    }
}

pub(crate) fn sample_image() -> Image {
    let base = Layer::new()
        .dir("etc")
        .file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
        .file("etc/secret.txt", "removed later")
        .dir("app")
        .file("app/old.py", "print('old')")
        .file_mode("usr/bin/tool", vec![7u8; 3000], 0o4755)
        .symlink("bin", "usr/bin")
        .hardlink("usr/bin/tool2", "usr/bin/tool");
    let top = Layer::new()
        .whiteout("etc/secret.txt")
        .opaque("app")
        .file("app/new.py", "print('new')")
        .file(
            "etc/os-release",
            "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian 12\"\n",
        );
    Image::new(vec![(base, Compression::Gzip), (top, Compression::Zstd)])
}

#[test]
fn oci_layout_and_docker_archives_agree() {
    let temp = tempfile::tempdir().unwrap();
    let image = sample_image();
    let layout = temp.path().join("layout");
    image.write_oci_layout(&layout, "v1");
    let plain = temp.path().join("image.tar");
    image.write_docker_archive(&plain, Compression::None);
    let gzipped = temp.path().join("image.tar.gz");
    image.write_docker_archive(&gzipped, Compression::Gzip);

    let oci = OciLayout::open(&layout, None, &Platform::host_linux()).unwrap();
    let tagged = OciLayout::open(&layout, Some("v1"), &Platform::host_linux()).unwrap();
    let docker = DockerArchive::open(&plain, None).unwrap();
    let docker_gz = DockerArchive::open(&gzipped, None).unwrap();

    let expected = inventory(&walk_source(&oci));
    assert_eq!(inventory(&walk_source(&tagged)), expected);
    assert_eq!(inventory(&walk_source(&docker)), expected);
    assert_eq!(inventory(&walk_source(&docker_gz)), expected);

    let paths: Vec<&str> = expected.iter().map(|(p, _, _)| p.as_str()).collect();
    assert!(paths.contains(&"app/new.py"));
    assert!(
        !paths.contains(&"app/old.py"),
        "opaque dir hides lower content"
    );
    assert!(!paths.contains(&"etc/secret.txt"), "whiteout deletes");
    assert_eq!(docker.metadata().repo_tags, ["test/image:1.0"]);
    assert_eq!(oci.metadata().env, ["PATH=/usr/bin"]);
    assert_eq!(
        oci.layers()[1].created_by.as_deref(),
        Some("/bin/sh -c #(nop) layer 1")
    );
}

#[test]
fn unpacked_root_filesystem_gives_the_same_inventory() {
    let temp = tempfile::tempdir().unwrap();
    let image = sample_image();
    let layout = temp.path().join("layout");
    image.write_oci_layout(&layout, "v1");
    let expected = inventory(&walk_source(
        &OciLayout::open(&layout, None, &Platform::host_linux()).unwrap(),
    ));

    // Unpack the final filesystem the way a container runtime would.
    let root = temp.path().join("rootfs");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("app")).unwrap();
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian 12\"\n",
    )
    .unwrap();
    std::fs::write(root.join("app/new.py"), "print('new')").unwrap();
    std::fs::write(root.join("usr/bin/tool"), vec![7u8; 3000]).unwrap();
    std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
    std::fs::hard_link(root.join("usr/bin/tool"), root.join("usr/bin/tool2")).unwrap();

    let walk = walk_dir(&root, &[], Limits::default(), &DirOptions::default()).unwrap();
    // A directory has no hard-link records and lists implicit parents: compare what both know.
    let normalize = |set: BTreeSet<(String, String, u64)>| -> BTreeSet<(String, String, u64)> {
        set.into_iter()
            .map(|(p, k, s)| {
                if k.starts_with("hardlink:") {
                    (p, "file".into(), 3000)
                } else {
                    (p, k, s)
                }
            })
            .collect()
    };
    let from_dir = normalize(inventory(std::slice::from_ref(&walk)));
    let mut from_image = normalize(expected);
    from_image.insert(("usr".into(), "dir".into(), 0));
    from_image.insert(("usr/bin".into(), "dir".into(), 0));
    assert_eq!(from_dir, from_image);
}

#[test]
fn deleted_files_are_still_shown_to_analyzers() {
    let temp = tempfile::tempdir().unwrap();
    let layout = temp.path().join("layout");
    sample_image().write_oci_layout(&layout, "v1");
    let oci = OciLayout::open(&layout, None, &Platform::host_linux()).unwrap();
    let recorder = Recorder::default();
    let analyzers: Vec<Box<dyn FileAnalyzer>> = vec![Box::new(recorder)];
    let mut walks = Vec::new();
    for index in 0..2 {
        let mut reader = oci.open_layer(index).unwrap();
        walks.push(walk_layer(&mut reader, &analyzers, Limits::default(), None).unwrap());
    }
    let merged = MergedFs::from_layers(&walks);
    assert!(walks[0].entries.iter().any(|e| e.path == "etc/secret.txt"));
    assert!(!merged.is_visible("etc/secret.txt", 0));
    assert!(merged.is_visible("etc/os-release", 1));
    assert!(
        !merged.is_visible("etc/os-release", 0),
        "replaced by layer 1"
    );
    assert_eq!(walks[1].whiteouts, ["etc/secret.txt"]);
    assert_eq!(walks[1].opaque_dirs, ["app"]);
}
