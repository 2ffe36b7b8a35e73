//! Builds real image files for tests: tar layers (plain, gzip, zstd), OCI layouts and
//! `docker save` archives, including hostile entries a normal tar writer would refuse.
#![allow(dead_code, unreachable_pub)]

use std::io::Write;
use std::path::Path;

use std::collections::BTreeSet;

use rempart_core::EntryKind;
use rempart_image::{ImageSource, LayerWalk, Limits, MergedFs, walk_layer};
use sha2::{Digest, Sha256};

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

#[derive(Clone)]
enum Item {
    File {
        name: Vec<u8>,
        data: Vec<u8>,
        mode: u32,
    },
    Dir {
        name: String,
    },
    Symlink {
        name: String,
        target: String,
    },
    HardLink {
        name: String,
        target: String,
    },
    Device {
        name: String,
    },
}

/// One layer's tar entries, in order.
#[derive(Clone, Default)]
pub struct Layer {
    items: Vec<Item>,
}

impl Layer {
    pub fn new() -> Layer {
        Layer::default()
    }

    pub fn file(mut self, name: &str, data: impl AsRef<[u8]>) -> Layer {
        self.items.push(Item::File {
            name: name.as_bytes().to_vec(),
            data: data.as_ref().to_vec(),
            mode: 0o644,
        });
        self
    }

    pub fn file_mode(mut self, name: &str, data: impl AsRef<[u8]>, mode: u32) -> Layer {
        self.items.push(Item::File {
            name: name.as_bytes().to_vec(),
            data: data.as_ref().to_vec(),
            mode,
        });
        self
    }

    /// A member name written byte for byte, bypassing the tar writer's path checks.
    pub fn raw_file(mut self, name: &[u8], data: impl AsRef<[u8]>) -> Layer {
        self.items.push(Item::File {
            name: name.to_vec(),
            data: data.as_ref().to_vec(),
            mode: 0o644,
        });
        self
    }

    pub fn dir(mut self, name: &str) -> Layer {
        self.items.push(Item::Dir { name: name.into() });
        self
    }

    pub fn symlink(mut self, name: &str, target: &str) -> Layer {
        self.items.push(Item::Symlink {
            name: name.into(),
            target: target.into(),
        });
        self
    }

    pub fn hardlink(mut self, name: &str, target: &str) -> Layer {
        self.items.push(Item::HardLink {
            name: name.into(),
            target: target.into(),
        });
        self
    }

    pub fn device(mut self, name: &str) -> Layer {
        self.items.push(Item::Device { name: name.into() });
        self
    }

    pub fn whiteout(self, path: &str) -> Layer {
        let (parent, name) = path.rsplit_once('/').map_or(("", path), |(p, n)| (p, n));
        let marker = if parent.is_empty() {
            format!(".wh.{name}")
        } else {
            format!("{parent}/.wh.{name}")
        };
        self.file(&marker, b"")
    }

    pub fn opaque(self, dir: &str) -> Layer {
        self.file(&format!("{dir}/.wh..wh..opq"), b"")
    }

    /// The uncompressed tar.
    pub fn tar(&self) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for item in &self.items {
            let mut header = tar::Header::new_gnu();
            header.set_mtime(1_700_000_000);
            header.set_uid(0);
            header.set_gid(0);
            match item {
                Item::File { name, data, mode } => {
                    if name.len() >= 100 {
                        append_gnu_long_name(&mut builder, name);
                    }
                    set_raw_name(&mut header, &name[..name.len().min(99)]);
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_mode(*mode);
                    header.set_size(data.len() as u64);
                    header.set_cksum();
                    builder.append(&header, &data[..]).unwrap();
                }
                Item::Dir { name } => {
                    set_raw_name(&mut header, format!("{name}/").as_bytes());
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_mode(0o755);
                    header.set_size(0);
                    header.set_cksum();
                    builder.append(&header, &[][..]).unwrap();
                }
                Item::Symlink { name, target } | Item::HardLink { name, target } => {
                    set_raw_name(&mut header, name.as_bytes());
                    header.set_entry_type(if matches!(item, Item::Symlink { .. }) {
                        tar::EntryType::Symlink
                    } else {
                        tar::EntryType::Link
                    });
                    header.set_mode(0o777);
                    header.set_size(0);
                    let link = target.as_bytes();
                    header.as_old_mut().linkname[..link.len()].copy_from_slice(link);
                    header.set_cksum();
                    builder.append(&header, &[][..]).unwrap();
                }
                Item::Device { name } => {
                    set_raw_name(&mut header, name.as_bytes());
                    header.set_entry_type(tar::EntryType::Char);
                    header.set_mode(0o666);
                    header.set_size(0);
                    header.set_cksum();
                    builder.append(&header, &[][..]).unwrap();
                }
            }
        }
        builder.into_inner().unwrap()
    }
}

/// A GNU long-name entry (`L`) whose data is the next entry's full name, as GNU tar writes
/// names of 100 bytes or more.
fn append_gnu_long_name(builder: &mut tar::Builder<Vec<u8>>, name: &[u8]) {
    let mut header = tar::Header::new_gnu();
    set_raw_name(&mut header, b"././@LongLink");
    header.set_entry_type(tar::EntryType::GNULongName);
    header.set_mode(0o644);
    let mut data = name.to_vec();
    data.push(0);
    header.set_size(data.len() as u64);
    header.set_cksum();
    builder.append(&header, &data[..]).unwrap();
}

fn set_raw_name(header: &mut tar::Header, name: &[u8]) {
    assert!(name.len() < 100, "test names must fit the old header");
    let field = &mut header.as_old_mut().name;
    field.fill(0);
    field[..name.len()].copy_from_slice(name);
}

pub fn compress(data: &[u8], compression: Compression) -> Vec<u8> {
    match compression {
        Compression::None => data.to_vec(),
        Compression::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(data).unwrap();
            encoder.finish().unwrap()
        }
        Compression::Zstd => zstd::encode_all(data, 3).unwrap(),
    }
}

/// An image: layers plus the config fields tests care about.
#[derive(Clone)]
pub struct Image {
    pub layers: Vec<(Layer, Compression)>,
    pub config: serde_json::Value,
    pub history: Vec<serde_json::Value>,
    /// Diff ids the config claims instead of the layers' real ones (a lying image).
    pub claimed_diff_ids: Option<Vec<String>>,
}

impl Image {
    pub fn new(layers: Vec<(Layer, Compression)>) -> Image {
        let history = layers
            .iter()
            .enumerate()
            .map(|(i, _)| serde_json::json!({"created_by": format!("/bin/sh -c #(nop) layer {i}")}))
            .collect();
        Image {
            layers,
            config: serde_json::json!({"Env": ["PATH=/usr/bin"], "Cmd": ["/bin/sh"]}),
            history,
            claimed_diff_ids: None,
        }
    }

    /// The real diff ids of the layers.
    pub fn diff_ids(&self) -> Vec<String> {
        self.layers.iter().map(|(l, _)| sha256(&l.tar())).collect()
    }

    fn config_json(&self) -> Vec<u8> {
        let diff_ids: Vec<String> = self
            .claimed_diff_ids
            .clone()
            .unwrap_or_else(|| self.layers.iter().map(|(l, _)| sha256(&l.tar())).collect());
        serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "config": self.config,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": self.history,
        }))
        .unwrap()
    }

    /// Writes an OCI image layout; returns the manifest digest.
    pub fn write_oci_layout(&self, dir: &Path, tag: &str) -> String {
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).unwrap();
        let put = |bytes: &[u8]| -> String {
            let digest = sha256(bytes);
            std::fs::write(blobs.join(&digest[7..]), bytes).unwrap();
            digest
        };
        let config = self.config_json();
        let config_digest = put(&config);
        let layers: Vec<serde_json::Value> = self
            .layers
            .iter()
            .map(|(layer, compression)| {
                let blob = compress(&layer.tar(), *compression);
                let media_type = match compression {
                    Compression::None => "application/vnd.oci.image.layer.v1.tar",
                    Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
                    Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
                };
                serde_json::json!({"mediaType": media_type, "digest": put(&blob), "size": blob.len()})
            })
            .collect();
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": layers,
        }))
        .unwrap();
        let manifest_digest = put(&manifest);
        std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        let index = serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": manifest_digest,
                "size": manifest.len(),
                "annotations": {"org.opencontainers.image.ref.name": tag},
                "platform": {"os": "linux", "architecture": "amd64"}
            }]
        });
        std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
        manifest_digest
    }

    /// Writes a `docker save` style archive (legacy layout: `<id>/layer.tar`).
    pub fn write_docker_archive(&self, path: &Path, outer: Compression) {
        write_docker_archive_of(&[(self, "test/image:1.0")], path, outer);
    }
}

/// Writes a `docker save` archive holding several images, each with its tag (`""`: untagged).
pub fn write_docker_archive_of(images: &[(&Image, &str)], path: &Path, outer: Compression) {
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |name: &str, bytes: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_cksum();
        builder.append_data(&mut header, name, bytes).unwrap();
    };
    let mut entries = Vec::new();
    for (number, (image, tag)) in images.iter().enumerate() {
        let config = image.config_json();
        let config_name = format!("{}.json", &sha256(&config)[7..]);
        add(&config_name, &config);
        let mut layer_names = Vec::new();
        for (index, (layer, _)) in image.layers.iter().enumerate() {
            let name = format!("image{number}-layer{index}/layer.tar");
            add(&name, &layer.tar());
            layer_names.push(name);
        }
        let tags: Vec<&str> = if tag.is_empty() { vec![] } else { vec![*tag] };
        entries.push(serde_json::json!({
            "Config": config_name,
            "RepoTags": tags,
            "Layers": layer_names,
        }));
    }
    add("manifest.json", &serde_json::to_vec(&entries).unwrap());
    let tar = builder.into_inner().unwrap();
    std::fs::write(path, compress(&tar, outer)).unwrap();
}

pub fn walk_source(source: &dyn ImageSource) -> Vec<LayerWalk> {
    let mut walks = Vec::new();
    let wanted: Vec<usize> = (0..source.layers().len()).collect();
    let mut by_index = vec![None; wanted.len()];
    source
        .for_each_layer(&wanted, &mut |index, reader| {
            let diff_id = source.layers()[index].diff_id.clone();
            let walk =
                walk_layer(reader, &[], Limits::default(), Some(&diff_id)).map_err(|source| {
                    rempart_image::ImageError::Layer {
                        layer: index.to_string(),
                        source,
                    }
                })?;
            by_index[index] = Some(walk);
            Ok(())
        })
        .unwrap();
    walks.extend(by_index.into_iter().map(Option::unwrap));
    walks
}

/// Path, kind and size of every final entry: what "the same inventory" means.
pub fn inventory(walks: &[LayerWalk]) -> BTreeSet<(String, String, u64)> {
    MergedFs::from_layers(walks)
        .entries()
        .map(|e| {
            let kind = match &e.kind {
                EntryKind::File => "file".to_owned(),
                EntryKind::Dir => "dir".to_owned(),
                EntryKind::Symlink { target } => format!("symlink:{target}"),
                EntryKind::HardLink { target } => format!("hardlink:{target}"),
                EntryKind::Device => "device".to_owned(),
                EntryKind::Fifo => "fifo".to_owned(),
            };
            (e.path.clone(), kind, e.size)
        })
        .collect()
}
