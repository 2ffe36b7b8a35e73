//! Verifying an image named the way users name it: a registry reference, or an OCI layout on
//! disk (`DIR` or `DIR:TAG`).

use std::collections::BTreeMap;
use std::path::Path;

use rempart_image::{FetchedManifest, RegistryOptions, RegistryRepository};

use crate::TrustError;
use crate::store::{ArtifactStore, LayoutStore};
use crate::verify::{ImageSubject, PreparedPolicy, TrustReport, verify_image};

const BASE_NAME: &str = "org.opencontainers.image.base.name";
const BASE_DIGEST: &str = "org.opencontainers.image.base.digest";

/// `DIR` or `DIR:TAG` when that names an OCI layout on disk.
pub fn local_layout(image: &str) -> Option<(&Path, Option<&str>)> {
    let path = Path::new(image);
    if path.join("index.json").is_file() {
        return Some((path, None));
    }
    let (dir, tag) = image.rsplit_once(':')?;
    Path::new(dir)
        .join("index.json")
        .is_file()
        .then_some((Path::new(dir), Some(tag)))
}

/// Verifies `image` (a registry reference or an OCI layout) against the policy.
pub fn verify_target(
    image: &str,
    options: &RegistryOptions,
    prepared: &PreparedPolicy<'_>,
) -> Result<TrustReport, TrustError> {
    if let Some((dir, tag)) = local_layout(image) {
        let store = LayoutStore::open(dir)?;
        let manifest = store.image(tag)?;
        // A layout's content is addressed by digest on disk: what is verified is what is used.
        let subject = subject(image, &store.describe(), &manifest, true);
        return verify_image(&store, subject, prepared);
    }
    verify_registry_image(image, options, prepared)
}

/// Verifies `image`, a registry reference only: what admission verifies, where an image named
/// by a pod must never be read from the verifier's own disk.
pub fn verify_registry_image(
    image: &str,
    options: &RegistryOptions,
    prepared: &PreparedPolicy<'_>,
) -> Result<TrustReport, TrustError> {
    let (repository, target) = RegistryRepository::for_reference(image, options, false)?;
    let manifest = repository
        .manifest(&target)?
        .ok_or_else(|| TrustError::invalid(image, "no such image in the registry".to_owned()))?;
    let name = format!("{}/{}", repository.registry(), repository.repository());
    let subject = subject(image, &name, &manifest, target.starts_with("sha256:"));
    verify_image(&repository, subject, prepared)
}

fn subject(
    reference: &str,
    repository: &str,
    manifest: &FetchedManifest,
    by_digest: bool,
) -> ImageSubject {
    let annotations: BTreeMap<String, String> =
        serde_json::from_slice::<serde_json::Value>(&manifest.bytes)
            .ok()
            .and_then(|m| serde_json::from_value(m["annotations"].clone()).ok())
            .unwrap_or_default();
    ImageSubject {
        reference: reference.to_owned(),
        repository: repository.to_owned(),
        digest: manifest.digest.clone(),
        by_digest,
        base_name: annotations.get(BASE_NAME).cloned(),
        base_digest: annotations.get(BASE_DIGEST).cloned(),
    }
}
