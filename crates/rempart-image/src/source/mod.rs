//! Where images come from. Every source gives the same thing: metadata plus layers that can be
//! read as raw (possibly compressed) streams, verified against their digests.

mod config;
pub(crate) mod docker_archive;
pub(crate) mod oci_layout;
mod platform;
pub(crate) mod registry;
pub(crate) mod rootfs;

use std::io::Read;

use rempart_core::ImageMetadata;

use crate::error::ImageError;

pub use config::parse_config;
pub use platform::Platform;

/// One layer as the source describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    /// Digest of the uncompressed tar, from the image config: the cache key.
    pub diff_id: String,
    /// Digest of the stored blob, when the source stores blobs by digest.
    pub digest: Option<String>,
    pub media_type: Option<String>,
    /// Stored size in bytes, when known.
    pub size: Option<u64>,
    /// The history line that produced the layer.
    pub created_by: Option<String>,
}

/// How a source's layers can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerAccess {
    /// Each layer can be opened on its own, so layers can be walked in parallel.
    Random,
    /// Layers come one after the other from a single stream (a compressed `docker save` archive).
    Sequential,
}

/// Visitor of layers for [`ImageSource::for_each_layer`]: gets the layer index and its raw
/// stream, and whether the stream's content must still be checked against the layer's diff id.
pub type LayerVisitor<'v> = dyn FnMut(usize, &mut dyn Read) -> Result<(), ImageError> + 'v;

/// An image: metadata and layers.
pub trait ImageSource: Send + Sync {
    fn metadata(&self) -> &ImageMetadata;

    fn layers(&self) -> &[LayerInfo];

    fn access(&self) -> LayerAccess {
        LayerAccess::Random
    }

    /// A name for the raw bytes of layer `index` that changes whenever they do, or `None` when
    /// the source has none. The layer cache reuses a layer's results only under an identity for
    /// which a walk has verified the layer's diff id: a diff id is a claim of the image config,
    /// and a hostile image could claim another layer's. Content-addressed sources (layouts,
    /// registries) name a layer by its blob digest, checked whenever the blob is read, and that
    /// no runtime or registry accepts for other bytes.
    fn layer_identity(&self, index: usize) -> Option<String> {
        self.layers().get(index)?.digest.clone()
    }

    /// Opens the raw stream of one layer. Sources with [`LayerAccess::Sequential`] may refuse.
    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send>, ImageError>;

    /// Visits the layers whose index is in `wanted`, in the order the source can deliver them.
    fn for_each_layer(
        &self,
        wanted: &[usize],
        visit: &mut LayerVisitor<'_>,
    ) -> Result<(), ImageError> {
        for &index in wanted {
            let mut reader = self.open_layer(index)?;
            visit(index, &mut reader)?;
        }
        Ok(())
    }
}

/// Reads a small JSON document (manifest, index, config) with a size cap, so a hostile image
/// cannot make us buffer gigabytes before parsing fails.
pub(crate) const MAX_JSON_BYTES: u64 = 16 * 1024 * 1024;

pub(crate) fn read_capped(mut reader: impl Read, input: &str) -> Result<Vec<u8>, ImageError> {
    let mut bytes = Vec::new();
    (&mut reader)
        .take(MAX_JSON_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| ImageError::invalid(input, error.to_string()))?;
    if bytes.len() as u64 > MAX_JSON_BYTES {
        return Err(ImageError::invalid(
            input,
            format!("larger than the {MAX_JSON_BYTES} byte cap for metadata documents"),
        ));
    }
    Ok(bytes)
}
