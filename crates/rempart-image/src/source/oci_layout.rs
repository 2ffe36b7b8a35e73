//! An OCI image layout directory (`oci-layout`, `index.json`, `blobs/`), as written by skopeo,
//! umoci, buildah or `docker save` since Docker 25.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType};
use rempart_core::ImageMetadata;

use crate::digest::{VerifyingReader, sha256_digest, validate_digest};
use crate::error::ImageError;
use crate::source::platform::{self, Platform};
use crate::source::{ImageSource, LayerInfo, parse_config, read_capped};

const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";
/// Nested indexes deeper than this are refused: real images nest at most twice.
const MAX_INDEX_DEPTH: usize = 4;

/// Opens a file of the layout: a regular file (a FIFO would block the scan, a device never end),
/// reached without leaving the layout through a link.
fn open_inside(root: &Path, path: &Path) -> Result<File, ImageError> {
    let resolved = std::fs::canonicalize(path).map_err(|e| ImageError::io(path, e))?;
    let root = std::fs::canonicalize(root).map_err(|e| ImageError::io(root, e))?;
    if !resolved.starts_with(&root) {
        return Err(ImageError::invalid(
            path.display().to_string(),
            format!(
                "a link to {}, outside the layout: not followed",
                resolved.display()
            ),
        ));
    }
    rempart_core::open_regular_file(&resolved).map_err(|e| ImageError::io(path, e))
}

/// An image read from an OCI layout directory.
pub struct OciLayout {
    root: PathBuf,
    metadata: ImageMetadata,
    layers: Vec<LayerInfo>,
}

impl OciLayout {
    /// Opens the image tagged `tag` (or the only image) for `platform` in the layout at `root`.
    pub fn open(
        root: &Path,
        tag: Option<&str>,
        platform: &Platform,
    ) -> Result<OciLayout, ImageError> {
        let layout_file = root.join("oci-layout");
        if !layout_file.is_file() {
            return Err(ImageError::invalid(
                root.display().to_string(),
                "not an OCI image layout (no oci-layout file)",
            ));
        }
        let index_path = root.join("index.json");
        let index_bytes = read_capped(
            open_inside(root, &index_path)?,
            &index_path.display().to_string(),
        )?;
        let index = ImageIndex::from_reader(&index_bytes[..])
            .map_err(|e| ImageError::invalid(index_path.display().to_string(), e.to_string()))?;

        let candidates: Vec<&Descriptor> = match tag {
            Some(tag) => index
                .manifests()
                .iter()
                .filter(|d| {
                    d.annotations()
                        .as_ref()
                        .and_then(|a| a.get(REF_NAME_ANNOTATION))
                        .is_some_and(|name| name == tag)
                })
                .collect(),
            None => index.manifests().iter().collect(),
        };
        let layout = OciLayout {
            root: root.to_owned(),
            metadata: ImageMetadata::default(),
            layers: Vec::new(),
        };
        let manifest_descriptor = match candidates.as_slice() {
            [] => {
                return Err(ImageError::invalid(
                    index_path.display().to_string(),
                    match tag {
                        Some(tag) => format!("no image tagged `{tag}`"),
                        None => "the index lists no image".to_owned(),
                    },
                ));
            }
            [only] => (*only).clone(),
            many => layout.pick_platform(many, platform)?,
        };
        let (manifest, manifest_digest) =
            layout.resolve_manifest(&manifest_descriptor, platform, 0)?;
        layout.finish(&manifest, manifest_digest, tag)
    }

    fn pick_platform(
        &self,
        entries: &[&Descriptor],
        wanted: &Platform,
    ) -> Result<Descriptor, ImageError> {
        let rows: Vec<(String, String, String, Option<String>)> = entries
            .iter()
            .filter_map(|d| {
                d.platform().as_ref().map(|p| {
                    (
                        d.digest().to_string(),
                        p.os().to_string(),
                        p.architecture().to_string(),
                        p.variant().clone(),
                    )
                })
            })
            .collect();
        let picked = platform::select(
            rows.iter()
                .map(|(d, o, a, v)| (d.as_str(), o.as_str(), a.as_str(), v.as_deref())),
            wanted,
        )
        .map_err(|available| ImageError::NoMatchingPlatform {
            input: self.root.display().to_string(),
            platform: wanted.to_string(),
            available,
        })?;
        Ok(entries
            .iter()
            .find(|d| d.digest().to_string() == picked)
            .map(|d| (*d).clone())
            .expect("selected digest comes from these entries"))
    }

    /// Follows nested indexes down to an image manifest.
    fn resolve_manifest(
        &self,
        descriptor: &Descriptor,
        platform: &Platform,
        depth: usize,
    ) -> Result<(ImageManifest, String), ImageError> {
        let digest = descriptor.digest().to_string();
        let bytes = self.read_small_blob(&digest)?;
        let is_index = matches!(descriptor.media_type(), MediaType::ImageIndex)
            || descriptor.media_type().to_string()
                == "application/vnd.docker.distribution.manifest.list.v2+json";
        if !is_index {
            let manifest = ImageManifest::from_reader(&bytes[..])
                .map_err(|e| ImageError::invalid(self.blob_name(&digest), e.to_string()))?;
            return Ok((manifest, digest));
        }
        if depth >= MAX_INDEX_DEPTH {
            return Err(ImageError::invalid(
                self.blob_name(&digest),
                "image indexes nested too deep",
            ));
        }
        let index = ImageIndex::from_reader(&bytes[..])
            .map_err(|e| ImageError::invalid(self.blob_name(&digest), e.to_string()))?;
        let entries: Vec<&Descriptor> = index.manifests().iter().collect();
        let picked = self.pick_platform(&entries, platform)?;
        self.resolve_manifest(&picked, platform, depth + 1)
    }

    fn finish(
        mut self,
        manifest: &ImageManifest,
        manifest_digest: String,
        tag: Option<&str>,
    ) -> Result<OciLayout, ImageError> {
        let config_digest = manifest.config().digest().to_string();
        let config_bytes = self.read_small_blob(&config_digest)?;
        let parsed = parse_config(&config_bytes, &self.blob_name(&config_digest))?;
        if parsed.diff_ids.len() != manifest.layers().len() {
            return Err(ImageError::invalid(
                self.blob_name(&manifest_digest),
                format!(
                    "manifest lists {} layers but the config has {} diff ids",
                    manifest.layers().len(),
                    parsed.diff_ids.len()
                ),
            ));
        }
        self.layers = manifest
            .layers()
            .iter()
            .zip(parsed.diff_ids)
            .zip(parsed.layer_history)
            .map(|((descriptor, diff_id), created_by)| LayerInfo {
                diff_id,
                digest: Some(descriptor.digest().to_string()),
                media_type: Some(descriptor.media_type().to_string()),
                size: Some(descriptor.size()),
                created_by,
            })
            .collect();
        self.metadata = ImageMetadata {
            name: self.root.display().to_string(),
            repo_tags: tag.map(|t| vec![t.to_owned()]).unwrap_or_default(),
            manifest_digest: Some(manifest_digest),
            config_digest: Some(config_digest),
            ..parsed.metadata
        };
        Ok(self)
    }

    fn blob_path(&self, digest: &str) -> Result<PathBuf, ImageError> {
        let hex = validate_digest(digest)
            .map_err(|m| ImageError::invalid(self.root.display().to_string(), m))?;
        Ok(self.root.join("blobs").join("sha256").join(hex))
    }

    fn blob_name(&self, digest: &str) -> String {
        format!("{} blob {digest}", self.root.display())
    }

    /// Reads a manifest, index or config blob and checks its digest.
    fn read_small_blob(&self, digest: &str) -> Result<Vec<u8>, ImageError> {
        let path = self.blob_path(digest)?;
        let bytes = read_capped(open_inside(&self.root, &path)?, &path.display().to_string())?;
        let actual = sha256_digest(&bytes);
        if actual != digest {
            return Err(ImageError::DigestMismatch {
                input: self.blob_name(digest),
                expected: digest.to_owned(),
                actual,
            });
        }
        Ok(bytes)
    }
}

impl ImageSource for OciLayout {
    fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }

    fn layers(&self) -> &[LayerInfo] {
        &self.layers
    }

    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send>, ImageError> {
        let digest = self.layers[index]
            .digest
            .clone()
            .expect("layout layers always have a digest");
        let path = self.blob_path(&digest)?;
        let file = open_inside(&self.root, &path)?;
        // A descriptor states the blob's size; one that disagrees with the file (an absurd
        // 2^63-1, a truncated copy) is refused before anything is read.
        if let Some(declared) = self.layers[index].size {
            let actual = file.metadata().map_err(|e| ImageError::io(&path, e))?.len();
            if actual != declared {
                return Err(ImageError::invalid(
                    self.blob_name(&digest),
                    format!("the manifest declares {declared} bytes, the blob holds {actual}"),
                ));
            }
        }
        let reader =
            VerifyingReader::new(std::io::BufReader::with_capacity(256 * 1024, file), &digest)
                .map_err(|e| ImageError::io(&path, e))?;
        Ok(Box::new(reader))
    }
}
