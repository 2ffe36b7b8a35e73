//! Secret scanning for rempart.
//!
//! [`SecretScanner`] finds credentials (cloud keys, forge and chat tokens, payment keys, `SaaS` API
//! keys, private keys, JWTs, passwords in URLs, `password = "…"` assignments) in the files of
//! each layer, as a [`rempart_core::FileAnalyzer`], and in the image config's environment, labels
//! and build history, as a [`rempart_core::ImageAnalyzer`].
//!
//! Each rule has keywords; one Aho-Corasick pass over a file finds which keywords occur, and only
//! the rules they enable run their regex. A match becomes a finding only if the secret is not a
//! known placeholder, reaches the rule's entropy bound, passes the rule's validator and is not
//! allowlisted. Findings show the first characters of a secret and never the secret itself.

mod allow;
mod binary;
mod builtin;
mod config;
mod docs;
mod entropy;
mod error;
mod keywords;
mod redact;
mod rule;
mod scanner;

pub use config::{AllowConfig, CustomRule, DEFAULT_MAX_FILE_SIZE, SecretConfig};
pub use error::SecretError;
pub use rule::RuleInfo;
pub use scanner::SecretScanner;

/// The built-in rules with their docs, for generated documentation.
pub fn builtin_rules() -> Vec<RuleInfo> {
    SecretScanner::builtin().rules()
}

/// The built-in path allowlist: `(glob, reason)` pairs, for documentation.
pub fn builtin_allowed_paths() -> &'static [(&'static str, &'static str)] {
    allow::BUILTIN_ALLOWED_PATHS
}
