//! Supply-chain trust: who signed an image, what its attestations say, and whether that meets
//! the trust policy; and rempart's own signed verdicts.
//!
//! - [`policy`]: the trust policy file (repository patterns, keys, keyless identities, required
//!   attestations, SLSA and base-image allow-lists).
//! - [`store`]: where signatures live: a registry repository or an OCI layout.
//! - [`discover`]: finds them, by cosign's tags (`sha256-<hex>.sig`, `.att`) and by OCI 1.1
//!   referrers (with the referrers tag fallback).
//! - [`verify`]: checks each one offline (keys, certificate chains, transparency-log proofs)
//!   and judges the image against its rule.
//! - [`sign`]: signs a manifest in cosign's `.sig` tag format (`rempart db push --key`).
//! - [`attest`]: signs a verdict or an SBOM as an in-toto statement in a Sigstore bundle and
//!   attaches it to the image.
//!
//! Cryptography is Sigstore's own Rust verifier and its crypto crate; this crate only parses
//! formats and matches policies. Nothing here reaches a transparency log or a key server:
//! everything a verdict needs is in the image's repository and the trusted root.

pub mod attest;
pub mod discover;
pub mod findings;
pub mod policy;
pub mod sign;
pub mod statement;
pub mod store;
pub mod target;
pub mod verify;

use std::path::Path;

pub use attest::{AttestOptions, SigningKey, VerdictPredicate, attach_statement};
pub use policy::{AttestationKind, DefaultAction, TrustPolicy, TrustRule};
pub use sign::{Signed, sign_manifest};
pub use store::{ArtifactStore, LayoutStore};
pub use target::{local_layout, verify_registry_image, verify_target};
pub use verify::{
    Evidence, EvidenceKind, ImageSubject, PreparedPolicy, TrustReport, TrustVerdict, verify_image,
};

/// Why verification could not run (as opposed to a signature that fails, which is a finding
/// in the [`TrustReport`]).
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("trust policy {path}: {message}")]
    Policy { path: String, message: String },
    #[error("key {path}: {message}")]
    Key { path: String, message: String },
    #[error("{input}: {message}")]
    Invalid { input: String, message: String },
    #[error(transparent)]
    Image(#[from] rempart_image::ImageError),
}

impl TrustError {
    pub(crate) fn io(path: &Path, error: &std::io::Error) -> TrustError {
        TrustError::Io {
            path: path.display().to_string(),
            message: error.to_string(),
        }
    }

    pub(crate) fn policy(path: &Path, message: String) -> TrustError {
        TrustError::Policy {
            path: path.display().to_string(),
            message,
        }
    }

    pub(crate) fn key(path: &Path, message: String) -> TrustError {
        TrustError::Key {
            path: path.display().to_string(),
            message,
        }
    }

    pub(crate) fn invalid(input: &str, message: String) -> TrustError {
        TrustError::Invalid {
            input: input.to_owned(),
            message,
        }
    }
}
