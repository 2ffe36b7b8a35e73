//! Image sources and the one-pass layer walker.
//!
//! - [`source`]: OCI layouts, `docker save` archives, registries and directories, all giving
//!   layers as raw streams checked against their digests.
//! - [`walk_layer`] / [`walk_dir`]: read each layer once, record its entries and whiteouts, and
//!   hand file contents to the analyzers that asked for them.
//! - [`MergedFs`]: stack the layers into the final filesystem (OCI whiteout rules).
//!
//! Nothing here writes outside the cache directory it is given, and nothing extracts a layer.

mod decompress;
mod digest;
mod dispatch;
mod error;
mod limits;
mod links;
mod merge;
mod pipeline;
mod reference;
mod source;
mod walk;

pub use decompress::Compression;
pub use digest::sha256_digest;
pub use error::{ImageError, WalkError};
pub use limits::Limits;
pub use links::unread_through_directory_links;
pub use merge::MergedFs;
pub use reference::parse_reference;
pub use source::docker_archive::DockerArchive;
pub use source::oci_layout::OciLayout;
pub use source::registry::{
    CopyReport, CopyRequest, FetchedManifest, MAX_ARTIFACT_BYTES, OCI_INDEX, OCI_MANIFEST,
    Referrer, ReferrersSource, RegistryImage, RegistryOptions, RegistryRepository,
    RegistrySettings, RegistryTimeouts, blob_dir, copy_image, referrers_tag, resolve_digest,
};
pub use source::rootfs::{DirOptions, walk_dir};
pub use source::{ImageSource, LayerAccess, LayerInfo, LayerVisitor, Platform, parse_config};
pub use walk::{LayerWalk, dangling_link_target, walk_layer, walk_layer_read_ahead};

/// Parses a `WWW-Authenticate` header into its scheme and parameters, as the registry client
/// does; public for the fuzz target.
#[doc(hidden)]
pub fn parse_www_authenticate(header: &str) -> (String, Vec<(String, String)>) {
    source::registry::www_authenticate(header)
}
