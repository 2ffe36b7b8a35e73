//! The rempart scan engine.
//!
//! [`Scanner`] drives one scan: every layer is walked once (in parallel where the source allows,
//! or loaded from the [`LayerCache`]), the per-layer results are merged into the final image, and
//! image-level analyzers (configuration checks, vulnerability matching) run on the merged view.
//! [`build_analyzers`] turns what the user asked for into analyzers; [`Policy`] filters findings.

mod admission;
mod analyzers;
mod assemble;
mod cache;
mod database;
mod db_artifact;
mod db_update;
mod default_db;
mod document;
mod error;
mod ignore;
mod policy;
mod policy_document;
mod redact;
mod rule_docs;
mod scanner;
mod selection;
mod vex;

pub use admission::{
    AdmissionPolicy, AdmissionPolicyError, AdmissionRequest, AdmissionRuleDoc, AllowedImagesRule,
    ContainerImage, ContainerKind, ContainerRef, Decision, ExemptedReason, Exemption, ImageTrust,
    ImageVerdict, MAX_ADMISSION_POLICY_BYTES, NoVerdicts, ObjectRef, Operation, PodSecurityRule,
    PssProfile, Reason, RuleMode, RuleSet, SimpleRule, TrustLookup, TrustQuery, UnscannedMode,
    VerdictLookup, VerdictMap, VerdictQuery, VerdictRule, VerdictSource, admission_rules,
    containers_of, fetch_server_verdicts, is_workload_kind,
};
pub use analyzers::{AnalyzerConfig, AnalyzerError, Analyzers, build_analyzers, load_policies};
pub use cache::{LayerCache, SharedLayerResults};
pub use database::{
    DatabaseError, STALE_AFTER, ensure_database, format_date, newest_snapshot, utc_today,
    vulnerability_data,
};
pub use db_artifact::{
    DB_ARTIFACT_TYPE, DB_LAYER_TYPE, DbArtifact, DbArtifactError, PullChecks, pull_database,
    push_database,
};
pub use db_update::{FeedConfig, UpdateError, update_database};
pub use default_db::{DEFAULT_ADVISORIES_NAME, install_default_database};
pub use document::DocumentError;
pub use error::ScanError;
pub use ignore::{IgnoreEntry, IgnoreList};
pub use policy::{Policy, PolicyOutcome, Suppression, Verdict};
pub use policy_document::{MAX_POLICY_DOCUMENT_BYTES, PolicyDocument};
pub use rempart_malware::{DEFAULT_MAX_FILE_SIZE as MALWARE_DEFAULT_MAX_FILE_SIZE, MalwareConfig};
pub use rule_docs::{RuleDoc, RuleFamily, rule_docs};
pub use scanner::{LayerSource, Progress, ProgressFn, ScanOptions, ScanOutcome, Scanner};
pub use selection::{
    SelectionError, SeverityLists, parse_scanners, parse_severities, parse_statuses,
};
pub use vex::{VexStatement, load_vex};
