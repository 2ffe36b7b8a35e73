//! Everything the server keeps: scans and their queue, scanned images, policies, tokens,
//! verdicts and the audit log, behind one trait with an embedded backend (SQLite, one file in
//! the data directory) and a shared one (PostgreSQL, for several replicas).
//!
//! The trait is synchronous: the SQLite backend is, and handlers call the store through
//! `spawn_blocking`, so one calling convention serves both backends.

#[cfg(test)]
mod contract;
mod postgres;
mod sqlite;

use serde::{Deserialize, Serialize};

pub(crate) use postgres::PostgresStore;
pub(crate) use sqlite::SqliteStore;

/// The schema version this build writes; a store with a newer one is refused.
pub const SCHEMA_VERSION: i64 = 6;

/// Why the store could not do what was asked. Names the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{store}: {message}")]
    Backend { store: String, message: String },
    #[error(
        "{store}: its schema is version {found}, newer than this rempart understands ({SCHEMA_VERSION}): upgrade rempart"
    )]
    NewerSchema { store: String, found: i64 },
    #[error("{0}")]
    Conflict(String),
}

/// Where a scan's image comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum ScanSource {
    /// A registry reference (`registry/repository:tag` or `…@sha256:…`).
    Registry { reference: String },
    /// An uploaded `docker save` or OCI archive, stored under the data directory by this name.
    Upload { file: String, name: String },
    /// An artifact Harbor asked to scan (its scanner adapter API), pulled from the registry
    /// Harbor named. The credentials Harbor sent are not here: only the server that accepted
    /// the request holds them, in memory (`vault.rs`).
    Harbor {
        /// `host[:port]/repository@digest`.
        reference: String,
        /// The repository as Harbor names it (`library/app`), for its report.
        repository: String,
        tag: Option<String>,
        /// The artifact's manifest media type, for its report.
        mime_type: String,
        /// The registry is reached over plain HTTP (allowed with `--insecure-registry` only).
        plain_http: bool,
        /// Harbor sent credentials with the request.
        authorized: bool,
    },
}

impl ScanSource {
    /// How reports and listings name the image: the reference, or the upload's name.
    pub(crate) fn name(&self) -> &str {
        match self {
            ScanSource::Registry { reference } | ScanSource::Harbor { reference, .. } => reference,
            ScanSource::Upload { name, .. } => name,
        }
    }
}

/// A scan as submitted, before it is queued.
#[derive(Debug, Clone)]
pub(crate) struct NewScan {
    pub(crate) id: String,
    /// Scans of the same subject while one is queued or running are one scan: the image
    /// digest when known, else the reference or the upload's digest.
    pub(crate) subject: String,
    pub(crate) source: ScanSource,
    /// The repository, for scoped tokens (empty for uploads).
    pub(crate) repository: String,
    pub(crate) digest: Option<String>,
    pub(crate) submitted_by: String,
    pub(crate) now: i64,
    /// The replica that alone can run it: the one holding the uploaded archive on its disk, or
    /// Harbor's credentials in its memory. None: any replica.
    pub(crate) pinned_to: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ScanState {
    Queued,
    Running,
    Done,
    Failed,
}

impl ScanState {
    pub(crate) fn parse(text: &str) -> Option<ScanState> {
        Some(match text {
            "queued" => ScanState::Queued,
            "running" => ScanState::Running,
            "done" => ScanState::Done,
            "failed" => ScanState::Failed,
            _ => return None,
        })
    }
}

/// A scan and where it stands.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ScanRecord {
    pub(crate) id: String,
    pub(crate) state: ScanState,
    pub(crate) source: ScanSource,
    pub(crate) repository: String,
    /// The image digest: known at submission for pinned references, after the scan otherwise.
    pub(crate) digest: Option<String>,
    pub(crate) attempts: i64,
    pub(crate) error: Option<String>,
    pub(crate) submitted_by: String,
    pub(crate) created_at: i64,
    pub(crate) started_at: Option<i64>,
    pub(crate) finished_at: Option<i64>,
}

/// What submitting did: a new scan, or the one already queued or running for the subject.
#[derive(Debug, Clone)]
pub(crate) struct Submitted {
    pub(crate) scan: ScanRecord,
    pub(crate) deduplicated: bool,
}

/// A scan taken from the queue by one worker, until its lease ends.
#[derive(Debug, Clone)]
pub(crate) struct Lease {
    pub(crate) scan: ScanRecord,
    pub(crate) owner: String,
}

/// A finished scan's output, stored with the image.
#[derive(Debug, Clone)]
pub(crate) struct ScannedImage {
    pub(crate) digest: String,
    pub(crate) repository: String,
    /// The reference or upload name it was scanned as.
    pub(crate) name: String,
    /// The scan result (JSON, before any policy), zstd-compressed.
    pub(crate) result: Vec<u8>,
    /// The layer inventory (JSON), zstd-compressed: re-matching needs no layer.
    pub(crate) inventory: Vec<u8>,
    pub(crate) scanned_at: i64,
    pub(crate) scan_id: String,
    /// Findings of the stored result by severity, counted once when the scan completes so
    /// that the dashboard never decodes results; None for images stored before schema 2.
    pub(crate) severities: Option<SeverityCounts>,
}

/// Findings by severity (before any policy). Info and unknown are counted together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct SeverityCounts {
    pub(crate) critical: i64,
    pub(crate) high: i64,
    pub(crate) medium: i64,
    pub(crate) low: i64,
    pub(crate) other: i64,
}

impl SeverityCounts {
    pub(crate) fn count(findings: &[rempart_core::Finding]) -> SeverityCounts {
        use rempart_core::Severity;
        let mut counts = SeverityCounts::default();
        for finding in findings {
            match finding.severity {
                Severity::Critical => counts.critical += 1,
                Severity::High => counts.high += 1,
                Severity::Medium => counts.medium += 1,
                Severity::Low => counts.low += 1,
                Severity::Unknown | Severity::Info => counts.other += 1,
            }
        }
        counts
    }

    /// The columns' values, in the order the stores write them.
    pub(crate) fn to_columns(counts: Option<SeverityCounts>) -> [Option<i64>; 5] {
        counts.map_or([None; 5], |c| {
            [
                Some(c.critical),
                Some(c.high),
                Some(c.medium),
                Some(c.low),
                Some(c.other),
            ]
        })
    }

    /// Counts read back from the columns; None when any is missing (stored before schema 2).
    pub(crate) fn from_columns(columns: [Option<i64>; 5]) -> Option<SeverityCounts> {
        let [critical, high, medium, low, other] = columns;
        Some(SeverityCounts {
            critical: critical?,
            high: high?,
            medium: medium?,
            low: low?,
            other: other?,
        })
    }
}

/// An image for the dashboard's listings: its row without blobs, its severity counts and its
/// verdict under one policy, read in one query.
#[derive(Debug, Clone)]
pub(crate) struct ImageOverview {
    pub(crate) image: ImageSummary,
    pub(crate) severities: Option<SeverityCounts>,
    pub(crate) verdict: Option<VerdictRecord>,
}

/// What completing a scan stores, all in one transaction: the image, its verdict under the
/// default policy, and the audit line saying so. A replica that dies right after leaves either
/// all of it or none (and then the scan is taken over).
#[derive(Debug, Clone)]
pub(crate) struct Completion {
    pub(crate) image: ScannedImage,
    pub(crate) verdict: Option<VerdictRecord>,
    pub(crate) audit: NewAudit,
}

/// An image's row without its blobs, for listings.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ImageSummary {
    pub(crate) digest: String,
    pub(crate) repository: String,
    pub(crate) name: String,
    pub(crate) scanned_at: i64,
    pub(crate) scan_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct PolicyRecord {
    pub(crate) name: String,
    pub(crate) version: i64,
    /// The document as written (YAML or JSON).
    pub(crate) document: String,
    pub(crate) created_at: i64,
    pub(crate) created_by: String,
}

/// One version of a versioned document, without the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PolicyVersion {
    pub(crate) version: i64,
    pub(crate) created_at: i64,
    pub(crate) created_by: String,
}

/// A verdict as last decided for an image under a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct VerdictRecord {
    pub(crate) digest: String,
    pub(crate) policy: String,
    pub(crate) policy_version: i64,
    pub(crate) passed: bool,
    pub(crate) reasons: Vec<String>,
    /// Findings left after the policy, and findings it suppressed (ignores, VEX).
    pub(crate) findings: i64,
    pub(crate) suppressed: i64,
    pub(crate) decided_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads reports and verdicts.
    Viewer,
    /// Viewer, and submits scans.
    Scanner,
    /// Everything: policies, tokens, the audit log.
    Admin,
    /// Only the registry's notification endpoint.
    Registry,
    /// Only the Harbor scanner adapter's endpoints (`/harbor/api/v1/…`).
    Harbor,
    /// Only the runtime events endpoint: what `rempart watch` on each node reports.
    Runtime,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Scanner => "scanner",
            Role::Admin => "admin",
            Role::Registry => "registry",
            Role::Harbor => "harbor",
            Role::Runtime => "runtime",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Some(match text {
            "viewer" => Role::Viewer,
            "scanner" => Role::Scanner,
            "admin" => Role::Admin,
            "registry" => Role::Registry,
            "harbor" => Role::Harbor,
            "runtime" => Role::Runtime,
            _ => return None,
        })
    }
}

/// An API token; only its SHA-256 is stored.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TokenRecord {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(skip)]
    pub(crate) hash: String,
    pub(crate) role: Role,
    /// Repository globs the token may act on; `*` for all.
    pub(crate) scopes: Vec<String>,
    pub(crate) created_at: i64,
    pub(crate) created_by: String,
    pub(crate) revoked_at: Option<i64>,
}

/// One line of the append-only audit log.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AuditEntry {
    pub(crate) id: i64,
    pub(crate) at: i64,
    /// The token name, or `server` for the server's own decisions.
    pub(crate) actor: String,
    pub(crate) action: String,
    /// What it acted on: a scan id, a policy name, a token name, a reference.
    pub(crate) subject: String,
    pub(crate) digest: Option<String>,
    pub(crate) verdict: Option<String>,
    pub(crate) detail: Option<String>,
}

/// An audit line before it is numbered.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewAudit {
    pub(crate) at: i64,
    pub(crate) actor: String,
    pub(crate) action: String,
    pub(crate) subject: String,
    pub(crate) digest: Option<String>,
    pub(crate) verdict: Option<String>,
    pub(crate) detail: Option<String>,
    /// The webhook deliveries announcing it, queued in the same transaction as the line: an
    /// event is sent if and only if what it announces was recorded.
    pub(crate) deliveries: Vec<NewDelivery>,
}

/// A webhook delivery as queued: one event for one endpoint.
#[derive(Debug, Clone)]
pub(crate) struct NewDelivery {
    /// Also the message id the receiver sees (`webhook-id`), the same on every attempt, so
    /// that it can drop a repeat.
    pub(crate) id: String,
    /// The endpoint's name in the webhook configuration (its URL and secret stay there).
    pub(crate) endpoint: String,
    pub(crate) event: String,
    /// The JSON body sent.
    pub(crate) payload: String,
    pub(crate) created_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DeliveryState {
    /// Waiting for its next attempt (or being attempted, under a lease).
    Pending,
    Delivered,
    /// Every attempt failed: kept, listed, and sent again only when an admin asks.
    Dead,
}

impl DeliveryState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<DeliveryState> {
        Some(match text {
            "pending" => DeliveryState::Pending,
            "delivered" => DeliveryState::Delivered,
            "dead" => DeliveryState::Dead,
            _ => return None,
        })
    }
}

/// A webhook delivery and where it stands.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DeliveryRecord {
    pub(crate) id: String,
    pub(crate) endpoint: String,
    pub(crate) event: String,
    #[serde(skip)]
    pub(crate) payload: String,
    pub(crate) state: DeliveryState,
    /// Attempts made (an attempt counts when it starts).
    pub(crate) attempts: i64,
    pub(crate) next_attempt_at: i64,
    /// The HTTP status of the last attempt, when the endpoint answered.
    pub(crate) last_status: Option<i64>,
    pub(crate) last_error: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) delivered_at: Option<i64>,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone)]
pub(crate) enum DeliveryOutcome {
    Delivered {
        status: i64,
    },
    /// Failed; tried again at `at`.
    Retry {
        at: i64,
        status: Option<i64>,
        error: String,
    },
    /// Failed for the last time: dead-lettered.
    Dead {
        status: Option<i64>,
        error: String,
    },
}

impl DeliveryOutcome {
    /// The row's new state, next attempt time (unchanged when None), last status, last error
    /// and delivery time, as both stores write them.
    pub(crate) fn columns(
        &self,
        now: i64,
    ) -> (
        &'static str,
        Option<i64>,
        Option<i64>,
        Option<&str>,
        Option<i64>,
    ) {
        match self {
            DeliveryOutcome::Delivered { status } => {
                ("delivered", None, Some(*status), None, Some(now))
            }
            DeliveryOutcome::Retry { at, status, error } => {
                ("pending", Some(*at), *status, Some(error), None)
            }
            DeliveryOutcome::Dead { status, error } => ("dead", None, *status, Some(error), None),
        }
    }
}

/// Where a promotion stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PromotionState {
    /// Waiting for the image's scan.
    Pending,
    /// Taken by a worker, copying.
    Copying,
    /// Copied into the destination repository.
    Promoted,
    /// The verdict failed: the image stays where it was pushed.
    Refused,
    /// The copy could not be made (the detail says why).
    Failed,
}

impl PromotionState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PromotionState::Pending => "pending",
            PromotionState::Copying => "copying",
            PromotionState::Promoted => "promoted",
            PromotionState::Refused => "refused",
            PromotionState::Failed => "failed",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<PromotionState> {
        Some(match text {
            "pending" => PromotionState::Pending,
            "copying" => PromotionState::Copying,
            "promoted" => PromotionState::Promoted,
            "refused" => PromotionState::Refused,
            "failed" => PromotionState::Failed,
            _ => return None,
        })
    }
}

/// A pushed image to copy into a release repository once its verdict passes.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PromotionRecord {
    pub(crate) id: String,
    pub(crate) digest: String,
    /// The registry (`host:port`) both repositories are in.
    pub(crate) registry: String,
    pub(crate) source_repository: String,
    pub(crate) destination_repository: String,
    /// The tag the image was pushed with, given to it in the destination too.
    pub(crate) tag: Option<String>,
    pub(crate) policy: String,
    pub(crate) state: PromotionState,
    pub(crate) detail: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) finished_at: Option<i64>,
}

/// A browser session of the dashboard. The session id itself is only in the browser's cookie:
/// the store keys the session by the id's SHA-256, and it stands for a token by the token's
/// hash, so a copy of the table signs no one in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionRecord {
    pub(crate) id_hash: String,
    pub(crate) token_hash: String,
    /// Put in every form and checked on every POST (with the Origin header).
    pub(crate) form_token: String,
    pub(crate) created_at: i64,
    /// Fixed at sign-in: activity does not extend a session.
    pub(crate) expires_at: i64,
}

/// How long a worker holds a scan before another may take it, and how many tries a scan gets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueuePolicy {
    pub(crate) lease_millis: i64,
    pub(crate) max_attempts: i64,
    /// A replica silent this long is gone: the scans pinned to it are failed.
    pub(crate) replica_silence_millis: i64,
}

pub(crate) trait Store: Send + Sync {
    /// A description for messages and `/readyz` (never a password).
    fn describe(&self) -> String;
    /// A cheap query that fails when the store cannot be reached.
    fn ping(&self) -> Result<(), StoreError>;

    /// Queues a scan, unless one of the same subject is queued or running: then that one.
    fn submit_scan(&self, scan: &NewScan) -> Result<Submitted, StoreError>;
    fn scan(&self, id: &str) -> Result<Option<ScanRecord>, StoreError>;
    fn recent_scans(&self, limit: i64) -> Result<Vec<ScanRecord>, StoreError>;
    /// Takes the oldest queued scan, or one whose lease expired with attempts left, for `owner`
    /// (a worker of `replica`), skipping scans pinned to other replicas.
    fn claim_scan(
        &self,
        owner: &str,
        replica: &str,
        now: i64,
        queue: QueuePolicy,
    ) -> Result<Option<Lease>, StoreError>;
    /// Fails the scans that can no longer run, and returns them (to be audited and announced):
    /// a scan whose lease expired after `max_attempts` tries, and a scan pinned to a replica
    /// other than `replica` silent for `replica_silence_millis`.
    fn fail_stranded_scans(
        &self,
        replica: &str,
        now: i64,
        queue: QueuePolicy,
    ) -> Result<Vec<ScanRecord>, StoreError>;
    /// Records that `replica` (its process now `instance`) is alive.
    fn replica_seen(&self, replica: &str, instance: &str, now: i64) -> Result<(), StoreError>;
    /// Extends a lease; false when the lease was lost (another worker took the scan).
    fn renew_lease(&self, id: &str, owner: &str, until: i64) -> Result<bool, StoreError>;
    /// Stores the image, its verdict and the audit line, and marks the scan done, in one
    /// transaction, only if `owner` still holds the lease: a scan completes once.
    fn complete_scan(
        &self,
        id: &str,
        owner: &str,
        completion: &Completion,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Marks the scan failed (`retry`: queued again while attempts remain).
    fn fail_scan(
        &self,
        id: &str,
        owner: &str,
        error: &str,
        retry: bool,
        now: i64,
        queue: QueuePolicy,
    ) -> Result<bool, StoreError>;
    /// Gives a scan back to the queue (shutdown), without counting the attempt.
    fn release_scan(&self, id: &str, owner: &str) -> Result<bool, StoreError>;
    /// Scans queued or running.
    fn queue_depth(&self) -> Result<i64, StoreError>;

    fn image(&self, digest: &str) -> Result<Option<ScannedImage>, StoreError>;
    /// Replaces an image's stored result after matching it again, only if it is still the
    /// result of scan `scan_id` (a newer scan's result is never overwritten by an older one's
    /// re-match).
    fn replace_image_result(
        &self,
        digest: &str,
        scan_id: &str,
        result: &[u8],
    ) -> Result<bool, StoreError>;
    fn images(&self, limit: i64) -> Result<Vec<ImageSummary>, StoreError>;
    /// An image's row without its blobs: what a verdict lookup needs.
    fn image_summary(&self, digest: &str) -> Result<Option<ImageSummary>, StoreError>;
    /// The newest images with their severity counts and their verdict under `policy` (the
    /// dashboard's listing: one query, no result decoded).
    fn image_overviews(&self, policy: &str, limit: i64) -> Result<Vec<ImageOverview>, StoreError>;

    /// Stores a new version of a policy and returns its number (1 for a new name).
    fn put_policy(&self, name: &str, document: &str, by: &str, now: i64)
    -> Result<i64, StoreError>;
    /// The latest version, or the one asked for.
    fn policy(&self, name: &str, version: Option<i64>) -> Result<Option<PolicyRecord>, StoreError>;
    /// The latest version of each policy.
    fn policies(&self) -> Result<Vec<PolicyRecord>, StoreError>;

    /// Stores a new version of the admission policy and returns its number.
    fn put_admission_policy(&self, document: &str, by: &str, now: i64) -> Result<i64, StoreError>;
    /// The admission policy's latest version, or the one asked for (named `admission`).
    fn admission_policy(&self, version: Option<i64>) -> Result<Option<PolicyRecord>, StoreError>;
    /// The admission policy's latest version number, `None` before the first (a cheap check
    /// that replicas make often, to pick up a change made on another).
    fn admission_policy_version(&self) -> Result<Option<i64>, StoreError>;
    /// The admission policy's versions, newest first.
    fn admission_policy_history(&self, limit: i64) -> Result<Vec<PolicyVersion>, StoreError>;

    /// Records a verdict and returns the one it replaces, if any.
    fn record_verdict(&self, verdict: &VerdictRecord) -> Result<Option<VerdictRecord>, StoreError>;
    fn verdicts(&self, digest: &str) -> Result<Vec<VerdictRecord>, StoreError>;

    fn create_token(&self, token: &TokenRecord) -> Result<(), StoreError>;
    /// The token with this hash, unless revoked.
    fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;
    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;
    fn revoke_token(&self, id: &str, now: i64) -> Result<bool, StoreError>;
    /// Tokens that have not been revoked.
    fn active_token_count(&self) -> Result<i64, StoreError>;

    /// Records a promotion waiting for its image's verdict (state `pending`).
    fn add_promotion(&self, promotion: &PromotionRecord) -> Result<(), StoreError>;
    /// Pending promotions of an image.
    fn pending_promotions(&self, digest: &str) -> Result<Vec<PromotionRecord>, StoreError>;
    /// Moves a promotion from `from` to `to` with a detail; false when it was not in `from`
    /// (another worker took it): each promotion is acted on once.
    fn move_promotion(
        &self,
        id: &str,
        from: PromotionState,
        to: PromotionState,
        detail: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// The newest promotions first.
    fn promotions(&self, limit: i64) -> Result<Vec<PromotionRecord>, StoreError>;

    /// Appends an audit line and queues its webhook deliveries, in one transaction.
    fn append_audit(&self, entry: &NewAudit) -> Result<i64, StoreError>;
    /// The newest entries first, before `before` (an id) when given.
    fn audit(&self, limit: i64, before: Option<i64>) -> Result<Vec<AuditEntry>, StoreError>;

    /// Takes the delivery due first (pending, its next attempt time reached, not leased by a
    /// live worker) for `owner` until `now + lease_millis`, counting the attempt.
    fn claim_delivery(
        &self,
        owner: &str,
        now: i64,
        lease_millis: i64,
    ) -> Result<Option<DeliveryRecord>, StoreError>;
    /// Records how an attempt ended; false when `owner` no longer held the delivery.
    fn finish_delivery(
        &self,
        id: &str,
        owner: &str,
        outcome: &DeliveryOutcome,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// The newest deliveries first, of one state when given.
    fn deliveries(
        &self,
        state: Option<DeliveryState>,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>, StoreError>;
    fn delivery(&self, id: &str) -> Result<Option<DeliveryRecord>, StoreError>;
    /// Queues a dead or delivered delivery again, its attempts counted from zero; false when
    /// it is pending (or unknown).
    fn redeliver(&self, id: &str, now: i64) -> Result<bool, StoreError>;
    /// Deliveries waiting, and dead ones (for `/metrics`).
    fn delivery_counts(&self) -> Result<(i64, i64), StoreError>;

    /// Stores a new session and, in the same transaction, removes the oldest sessions of its
    /// token beyond the newest `keep_per_token`: signing in again and again replaces sessions
    /// rather than adding rows.
    fn create_session(
        &self,
        session: &SessionRecord,
        keep_per_token: i64,
    ) -> Result<(), StoreError>;
    /// The session whose id has this hash, unless it has expired at `now`.
    fn session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRecord>, StoreError>;
    /// Ends a session (sign-out, or its token was revoked); false when there was none.
    fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError>;
    /// Removes at most `limit` sessions expired at `now` and returns how many went.
    fn prune_sessions(&self, now: i64, limit: i64) -> Result<u64, StoreError>;
}
