//! The rempart scan engine.
//!
//! [`Scanner`] drives one scan: every layer is walked once (in parallel where the source allows,
//! or loaded from the [`LayerCache`]), the per-layer results are merged into the final image, and
//! image-level analyzers (configuration checks, vulnerability matching) run on the merged view.

mod assemble;
mod cache;
mod error;
mod scanner;

pub use cache::LayerCache;
pub use error::ScanError;
pub use scanner::{ScanOptions, ScanOutcome, Scanner};
