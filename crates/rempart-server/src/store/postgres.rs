//! The shared store: PostgreSQL, for several replicas on one database. Same tables and the
//! same contract as SQLite; what SQLite gets from its single writer, this backend gets from
//! row locks: the queue is claimed with `FOR UPDATE SKIP LOCKED`, deduplication rests on the
//! partial unique index, and every conditional change names its condition in its `WHERE`.
//!
//! Connections come from a pool (the trait is called from `spawn_blocking` threads, several
//! at once), over TLS as libpq's `sslmode` says (see `tls.rs`).
//!
//! The synchronous client drives each connection with its own small runtime, which must not
//! be dropped on an async thread: the server keeps the store until its runtime is gone.

mod layers;
mod pool;
mod schema;
#[cfg(test)]
mod tests;
mod tls;

use std::time::Duration;

use postgres::{Client, Row};

use super::{
    AuditEntry, Completion, DeliveryOutcome, DeliveryRecord, DeliveryState, ImageOverview,
    ImageSummary, Lease, NewAudit, NewScan, PolicyRecord, PolicyVersion, PromotionRecord,
    PromotionState, QueuePolicy, Role, ScanRecord, ScanSource, ScanState, ScannedImage,
    SessionRecord, SeverityCounts, Store, StoreError, Submitted, TokenRecord, VerdictRecord,
};

/// Connections per replica: its workers and concurrent requests; PostgreSQL's default limit
/// (100) leaves room for a dozen replicas.
const POOL_SIZE: u32 = 8;
/// How long a store call waits for a connection before it fails (the database is down).
const POOL_WAIT: Duration = Duration::from_secs(5);

/// Advisory lock classes (first key of the two-key form) serializing writers that read then
/// write a row which may not exist yet; the second key is a hash of what they write.
const POLICY_LOCK: i32 = 1;
const VERDICT_LOCK: i32 = 2;
const SESSION_LOCK: i32 = 3;

const SCAN_COLUMNS: &str = "id, state, source, repository, digest, attempts, error, submitted_by, created_at, started_at, finished_at";
const PROMOTION_COLUMNS: &str = "id, digest, registry, source_repository, destination_repository, tag, policy, state, detail, created_at, finished_at";
const TOKEN_COLUMNS: &str = "id, name, hash, role, scopes, created_at, created_by, revoked_at";
const VERDICT_COLUMNS: &str =
    "digest, policy, policy_version, passed, reasons, decided_at, findings, suppressed";
const POLICY_COLUMNS: &str = "name, version, document, created_at, created_by";

pub(crate) struct PostgresStore {
    /// The URL without its password.
    name: String,
    pool: r2d2::Pool<pool::Manager>,
}

/// Why a call failed, before it is turned into a `StoreError` naming the store.
enum Failure {
    Database(postgres::Error),
    Pool(r2d2::Error),
    /// A stored value this build cannot read (an unknown state, bad JSON).
    Decode(String),
}

impl From<postgres::Error> for Failure {
    fn from(error: postgres::Error) -> Failure {
        Failure::Database(error)
    }
}

type Outcome<T> = Result<T, Failure>;

impl PostgresStore {
    /// Connects and brings the schema up to date.
    pub(crate) fn open(location: &str) -> Result<PostgresStore, StoreError> {
        let (config, tls_settings) =
            pool::parse_config(location).map_err(|message| StoreError::Backend {
                store: "postgres".into(),
                message,
            })?;
        let name = pool::describe(&config);
        let tls = tls::connector(&tls_settings).map_err(|message| StoreError::Backend {
            store: name.clone(),
            message,
        })?;
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            // One connection at start (opening fails fast when the database is unreachable);
            // more as requests need them.
            .min_idle(Some(1))
            .connection_timeout(POOL_WAIT)
            .error_handler(Box::new(pool::LogErrors {
                store: name.clone(),
            }))
            .build(pool::Manager { config, tls })
            .map_err(|e| StoreError::Backend {
                store: name.clone(),
                message: e.to_string(),
            })?;
        let store = PostgresStore { name, pool };
        match store.with(|c| Ok(schema::migrate(c)?))? {
            schema::Outcome::Current => Ok(store),
            schema::Outcome::Newer(found) => Err(StoreError::NewerSchema {
                store: store.name.clone(),
                found,
            }),
        }
    }

    fn with<T>(&self, work: impl FnOnce(&mut Client) -> Outcome<T>) -> Result<T, StoreError> {
        let result = match self.pool.get() {
            Ok(mut connection) => work(&mut connection),
            Err(error) => Err(Failure::Pool(error)),
        };
        result.map_err(|failure| StoreError::Backend {
            store: self.name.clone(),
            message: match failure {
                Failure::Database(error) => rempart_core::error_chain(&error),
                Failure::Pool(error) => format!("no connection: {error}"),
                Failure::Decode(message) => message,
            },
        })
    }
}

fn scan_from_row(row: &Row) -> Outcome<ScanRecord> {
    let state: String = row.try_get(1)?;
    let source: String = row.try_get(2)?;
    Ok(ScanRecord {
        id: row.try_get(0)?,
        state: ScanState::parse(&state)
            .ok_or_else(|| Failure::Decode(format!("unknown scan state {state}")))?,
        source: serde_json::from_str::<ScanSource>(&source)
            .map_err(|e| Failure::Decode(format!("scan source: {e}")))?,
        repository: row.try_get(3)?,
        digest: row.try_get(4)?,
        attempts: row.try_get(5)?,
        error: row.try_get(6)?,
        submitted_by: row.try_get(7)?,
        created_at: row.try_get(8)?,
        started_at: row.try_get(9)?,
        finished_at: row.try_get(10)?,
    })
}

fn token_from_row(row: &Row) -> Outcome<TokenRecord> {
    let role: String = row.try_get(3)?;
    let scopes: String = row.try_get(4)?;
    Ok(TokenRecord {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        hash: row.try_get(2)?,
        role: Role::parse(&role).ok_or_else(|| Failure::Decode(format!("unknown role {role}")))?,
        scopes: serde_json::from_str(&scopes)
            .map_err(|e| Failure::Decode(format!("token scopes: {e}")))?,
        created_at: row.try_get(5)?,
        created_by: row.try_get(6)?,
        revoked_at: row.try_get(7)?,
    })
}

fn upsert_verdict(
    client: &mut impl postgres::GenericClient,
    verdict: &VerdictRecord,
) -> Outcome<()> {
    client.execute(
        &format!(
            "INSERT INTO verdicts ({VERDICT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (digest, policy) DO UPDATE SET policy_version = excluded.policy_version,
                 passed = excluded.passed, reasons = excluded.reasons, decided_at = excluded.decided_at,
                 findings = excluded.findings, suppressed = excluded.suppressed"
        ),
        &[
            &verdict.digest,
            &verdict.policy,
            &verdict.policy_version,
            &verdict.passed,
            &json(&verdict.reasons),
            &verdict.decided_at,
            &verdict.findings,
            &verdict.suppressed,
        ],
    )?;
    Ok(())
}

/// Inserts an audit line and its webhook deliveries; the caller holds a transaction.
fn insert_audit(client: &mut impl postgres::GenericClient, entry: &NewAudit) -> Outcome<i64> {
    for delivery in &entry.deliveries {
        client.execute(
            "INSERT INTO deliveries (id, endpoint, event, payload, state, next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, 'pending', $5, $5)",
            &[
                &delivery.id,
                &delivery.endpoint,
                &delivery.event,
                &delivery.payload,
                &delivery.created_at,
            ],
        )?;
    }
    Ok(client
        .query_one(
            "INSERT INTO audit (at, actor, action, subject, digest, verdict, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[
                &entry.at,
                &entry.actor,
                &entry.action,
                &entry.subject,
                &entry.digest,
                &entry.verdict,
                &entry.detail,
            ],
        )?
        .try_get(0)?)
}

fn verdict_from_row(row: &Row) -> Outcome<VerdictRecord> {
    verdict_from_row_at(row, 0)
}

/// A verdict from the columns of `VERDICT_COLUMNS` starting at `at`.
fn verdict_from_row_at(row: &Row, at: usize) -> Outcome<VerdictRecord> {
    let reasons: String = row.try_get(at + 4)?;
    Ok(VerdictRecord {
        digest: row.try_get(at)?,
        policy: row.try_get(at + 1)?,
        policy_version: row.try_get(at + 2)?,
        passed: row.try_get(at + 3)?,
        reasons: serde_json::from_str(&reasons)
            .map_err(|e| Failure::Decode(format!("verdict reasons: {e}")))?,
        decided_at: row.try_get(at + 5)?,
        findings: row.try_get(at + 6)?,
        suppressed: row.try_get(at + 7)?,
    })
}

fn severities_from_row(row: &Row, at: usize) -> Outcome<Option<SeverityCounts>> {
    Ok(SeverityCounts::from_columns([
        row.try_get(at)?,
        row.try_get(at + 1)?,
        row.try_get(at + 2)?,
        row.try_get(at + 3)?,
        row.try_get(at + 4)?,
    ]))
}

fn image_summary_from_row(row: &Row) -> Outcome<ImageSummary> {
    Ok(ImageSummary {
        digest: row.try_get(0)?,
        repository: row.try_get(1)?,
        name: row.try_get(2)?,
        scanned_at: row.try_get(3)?,
        scan_id: row.try_get(4)?,
    })
}

fn policy_from_row(row: &Row) -> Outcome<PolicyRecord> {
    Ok(PolicyRecord {
        name: row.try_get(0)?,
        version: row.try_get(1)?,
        document: row.try_get(2)?,
        created_at: row.try_get(3)?,
        created_by: row.try_get(4)?,
    })
}

fn promotion_from_row(row: &Row) -> Outcome<PromotionRecord> {
    let state: String = row.try_get(7)?;
    Ok(PromotionRecord {
        id: row.try_get(0)?,
        digest: row.try_get(1)?,
        registry: row.try_get(2)?,
        source_repository: row.try_get(3)?,
        destination_repository: row.try_get(4)?,
        tag: row.try_get(5)?,
        policy: row.try_get(6)?,
        state: PromotionState::parse(&state)
            .ok_or_else(|| Failure::Decode(format!("unknown promotion state {state}")))?,
        detail: row.try_get(8)?,
        created_at: row.try_get(9)?,
        finished_at: row.try_get(10)?,
    })
}

fn audit_from_row(row: &Row) -> Outcome<AuditEntry> {
    Ok(AuditEntry {
        id: row.try_get(0)?,
        at: row.try_get(1)?,
        actor: row.try_get(2)?,
        action: row.try_get(3)?,
        subject: row.try_get(4)?,
        digest: row.try_get(5)?,
        verdict: row.try_get(6)?,
        detail: row.try_get(7)?,
    })
}

const DELIVERY_COLUMNS: &str = "id, endpoint, event, payload, state, attempts, next_attempt_at, last_status, last_error, created_at, delivered_at";

fn delivery_from_row(row: &Row) -> Outcome<DeliveryRecord> {
    let state: String = row.try_get(4)?;
    Ok(DeliveryRecord {
        id: row.try_get(0)?,
        endpoint: row.try_get(1)?,
        event: row.try_get(2)?,
        payload: row.try_get(3)?,
        state: DeliveryState::parse(&state)
            .ok_or_else(|| Failure::Decode(format!("unknown delivery state {state}")))?,
        attempts: row.try_get(5)?,
        next_attempt_at: row.try_get(6)?,
        last_status: row.try_get(7)?,
        last_error: row.try_get(8)?,
        created_at: row.try_get(9)?,
        delivered_at: row.try_get(10)?,
    })
}

fn rows<T>(rows: &[Row], decode: fn(&Row) -> Outcome<T>) -> Outcome<Vec<T>> {
    rows.iter().map(decode).collect()
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

impl Store for PostgresStore {
    fn describe(&self) -> String {
        self.name.clone()
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.with(|c| Ok(c.simple_query("SELECT 1").map(|_| ())?))
    }

    fn submit_scan(&self, scan: &NewScan) -> Result<Submitted, StoreError> {
        let source = json(&scan.source);
        self.with(|c| {
            // The insert does nothing when the subject already has an active scan (waiting for
            // a concurrent insert of the same subject to commit); that scan is then returned.
            // It may finish between the two statements: then the insert is tried again.
            loop {
                let inserted = c.query_opt(
                    &format!(
                        "INSERT INTO scans (id, subject, source, repository, digest, state, submitted_by, created_at, pinned_to)
                         VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8)
                         ON CONFLICT (subject) WHERE state IN ('queued', 'running') DO NOTHING
                         RETURNING {SCAN_COLUMNS}"
                    ),
                    &[
                        &scan.id,
                        &scan.subject,
                        &source,
                        &scan.repository,
                        &scan.digest,
                        &scan.submitted_by,
                        &scan.now,
                        &scan.pinned_to,
                    ],
                )?;
                if let Some(row) = inserted {
                    return Ok(Submitted {
                        scan: scan_from_row(&row)?,
                        deduplicated: false,
                    });
                }
                let existing = c.query_opt(
                    &format!(
                        "SELECT {SCAN_COLUMNS} FROM scans WHERE subject = $1 AND state IN ('queued', 'running')"
                    ),
                    &[&scan.subject],
                )?;
                if let Some(row) = existing {
                    return Ok(Submitted {
                        scan: scan_from_row(&row)?,
                        deduplicated: true,
                    });
                }
            }
        })
    }

    fn scan(&self, id: &str) -> Result<Option<ScanRecord>, StoreError> {
        self.with(|c| {
            c.query_opt(
                &format!("SELECT {SCAN_COLUMNS} FROM scans WHERE id = $1"),
                &[&id],
            )?
            .as_ref()
            .map(scan_from_row)
            .transpose()
        })
    }

    fn recent_scans(&self, limit: i64) -> Result<Vec<ScanRecord>, StoreError> {
        self.with(|c| {
            let found = c.query(
                &format!("SELECT {SCAN_COLUMNS} FROM scans ORDER BY created_at DESC, id LIMIT $1"),
                &[&limit],
            )?;
            rows(&found, scan_from_row)
        })
    }

    fn claim_scan(
        &self,
        owner: &str,
        replica: &str,
        now: i64,
        queue: QueuePolicy,
    ) -> Result<Option<Lease>, StoreError> {
        let until = now + queue.lease_millis;
        self.with(|c| {
            let mut transaction = c.transaction()?;
            // The oldest claimable scan that no other replica is claiming right now: replicas
            // never wait on each other here, and never take the same scan. A row changed since
            // this statement began is checked again against the condition once locked.
            let claimed = transaction.query_opt(
                &format!(
                    "UPDATE scans SET state = 'running', lease_owner = $1, lease_until = $2,
                         attempts = attempts + 1, started_at = coalesce(started_at, $3)
                     WHERE id = (SELECT id FROM scans
                                 WHERE (state = 'queued'
                                        OR (state = 'running' AND lease_until < $3 AND attempts < $5))
                                     AND (pinned_to IS NULL OR pinned_to = $4)
                                 ORDER BY created_at, id LIMIT 1
                                 FOR UPDATE SKIP LOCKED)
                     RETURNING {SCAN_COLUMNS}"
                ),
                &[&owner, &until, &now, &replica, &queue.max_attempts],
            )?;
            let claimed = claimed.as_ref().map(scan_from_row).transpose()?;
            transaction.commit()?;
            Ok(claimed.map(|scan| Lease {
                scan,
                owner: owner.to_owned(),
            }))
        })
    }

    fn fail_stranded_scans(
        &self,
        replica: &str,
        now: i64,
        queue: QueuePolicy,
    ) -> Result<Vec<ScanRecord>, StoreError> {
        self.with(|c| {
            let mut transaction = c.transaction()?;
            // A scan pinned to a replica that stopped answering can never run: it fails, saying
            // why and what to do. Rows another replica is failing are skipped.
            let mut failed = transaction.query(
                &format!(
                    "UPDATE scans SET state = 'failed', finished_at = $1, lease_owner = NULL,
                         error = 'the replica holding its upload or registry credentials (' || pinned_to || ') stopped: submit it again'
                     WHERE id IN (SELECT id FROM scans
                                  WHERE pinned_to IS NOT NULL AND pinned_to <> $2
                                      AND (state = 'queued' OR (state = 'running' AND lease_until < $1))
                                      AND NOT EXISTS (SELECT 1 FROM replicas
                                                      WHERE replicas.id = scans.pinned_to AND seen_at >= $1 - $3)
                                  FOR UPDATE SKIP LOCKED)
                     RETURNING {SCAN_COLUMNS}"
                ),
                &[&now, &replica, &queue.replica_silence_millis],
            )?;
            // A scan whose worker died on its last allowed attempt fails, with the reason.
            failed.extend(transaction.query(
                &format!(
                    "UPDATE scans SET state = 'failed', finished_at = $1, lease_owner = NULL,
                         error = coalesce(error, 'the worker scanning it stopped responding') || ' (after ' || attempts || ' attempts)'
                     WHERE id IN (SELECT id FROM scans
                                  WHERE state = 'running' AND lease_until < $1 AND attempts >= $2
                                  FOR UPDATE SKIP LOCKED)
                     RETURNING {SCAN_COLUMNS}"
                ),
                &[&now, &queue.max_attempts],
            )?);
            let failed = rows(&failed, scan_from_row)?;
            transaction.commit()?;
            Ok(failed)
        })
    }

    fn replica_seen(&self, replica: &str, instance: &str, now: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO replicas (id, instance, seen_at) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET instance = excluded.instance, seen_at = excluded.seen_at",
                &[&replica, &instance, &now],
            )?;
            Ok(())
        })
    }

    fn renew_lease(&self, id: &str, owner: &str, until: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let changed = c.execute(
                "UPDATE scans SET lease_until = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
                &[&id, &owner, &until],
            )?;
            Ok(changed == 1)
        })
    }

    fn complete_scan(
        &self,
        id: &str,
        owner: &str,
        completion: &Completion,
        now: i64,
    ) -> Result<bool, StoreError> {
        let image = &completion.image;
        self.with(|c| {
            let mut transaction = c.transaction()?;
            let changed = transaction.execute(
                "UPDATE scans SET state = 'done', digest = $3, finished_at = $4, lease_owner = NULL, error = NULL
                 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
                &[&id, &owner, &image.digest, &now],
            )?;
            if changed != 1 {
                // Dropping the transaction rolls it back.
                return Ok(false);
            }
            let [critical, high, medium, low, other] = SeverityCounts::to_columns(image.severities);
            transaction.execute(
                "INSERT INTO images (digest, repository, name, result, inventory, scanned_at, scan_id,
                     critical, high, medium, low, other)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (digest) DO UPDATE SET repository = excluded.repository, name = excluded.name,
                     result = excluded.result, inventory = excluded.inventory,
                     scanned_at = excluded.scanned_at, scan_id = excluded.scan_id,
                     critical = excluded.critical, high = excluded.high, medium = excluded.medium,
                     low = excluded.low, other = excluded.other",
                &[
                    &image.digest,
                    &image.repository,
                    &image.name,
                    &image.result,
                    &image.inventory,
                    &image.scanned_at,
                    &image.scan_id,
                    &critical,
                    &high,
                    &medium,
                    &low,
                    &other,
                ],
            )?;
            if let Some(verdict) = &completion.verdict {
                upsert_verdict(&mut transaction, verdict)?;
            }
            insert_audit(&mut transaction, &completion.audit)?;
            transaction.commit()?;
            Ok(true)
        })
    }

    fn fail_scan(
        &self,
        id: &str,
        owner: &str,
        error: &str,
        retry: bool,
        now: i64,
        queue: QueuePolicy,
    ) -> Result<bool, StoreError> {
        self.with(|c| {
            let changed = c.execute(
                "UPDATE scans SET
                     state = CASE WHEN $4 AND attempts < $6 THEN 'queued' ELSE 'failed' END,
                     finished_at = CASE WHEN $4 AND attempts < $6 THEN NULL ELSE $5::BIGINT END,
                     lease_owner = NULL, lease_until = NULL, error = $3
                 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
                &[&id, &owner, &error, &retry, &now, &queue.max_attempts],
            )?;
            Ok(changed == 1)
        })
    }

    fn release_scan(&self, id: &str, owner: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            let changed = c.execute(
                "UPDATE scans SET state = 'queued', lease_owner = NULL, lease_until = NULL,
                     attempts = greatest(attempts - 1, 0)
                 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
                &[&id, &owner],
            )?;
            Ok(changed == 1)
        })
    }

    fn queue_depth(&self) -> Result<i64, StoreError> {
        self.with(|c| {
            Ok(c.query_one(
                "SELECT count(*) FROM scans WHERE state IN ('queued', 'running')",
                &[],
            )?
            .try_get(0)?)
        })
    }

    fn image(&self, digest: &str) -> Result<Option<ScannedImage>, StoreError> {
        self.with(|c| {
            let Some(row) = c.query_opt(
                "SELECT digest, repository, name, result, inventory, scanned_at, scan_id,
                     critical, high, medium, low, other FROM images WHERE digest = $1",
                &[&digest],
            )?
            else {
                return Ok(None);
            };
            Ok(Some(ScannedImage {
                digest: row.try_get(0)?,
                repository: row.try_get(1)?,
                name: row.try_get(2)?,
                result: row.try_get(3)?,
                inventory: row.try_get(4)?,
                scanned_at: row.try_get(5)?,
                scan_id: row.try_get(6)?,
                severities: severities_from_row(&row, 7)?,
            }))
        })
    }

    fn replace_image_result(
        &self,
        digest: &str,
        scan_id: &str,
        result: &[u8],
    ) -> Result<bool, StoreError> {
        self.with(|c| {
            let changed = c.execute(
                "UPDATE images SET result = $3 WHERE digest = $1 AND scan_id = $2",
                &[&digest, &scan_id, &result],
            )?;
            Ok(changed == 1)
        })
    }

    fn images(&self, limit: i64) -> Result<Vec<ImageSummary>, StoreError> {
        self.with(|c| {
            let found = c.query(
                "SELECT digest, repository, name, scanned_at, scan_id FROM images ORDER BY scanned_at DESC, digest LIMIT $1",
                &[&limit],
            )?;
            rows(&found, image_summary_from_row)
        })
    }

    fn image_summary(&self, digest: &str) -> Result<Option<ImageSummary>, StoreError> {
        self.with(|c| {
            let found = c.query_opt(
                "SELECT digest, repository, name, scanned_at, scan_id FROM images WHERE digest = $1",
                &[&digest],
            )?;
            found.as_ref().map(image_summary_from_row).transpose()
        })
    }

    fn image_overviews(&self, policy: &str, limit: i64) -> Result<Vec<ImageOverview>, StoreError> {
        self.with(|c| {
            let found = c.query(
                "SELECT i.digest, i.repository, i.name, i.scanned_at, i.scan_id,
                     i.critical, i.high, i.medium, i.low, i.other,
                     v.digest, v.policy, v.policy_version, v.passed, v.reasons, v.decided_at,
                     v.findings, v.suppressed
                 FROM images i LEFT JOIN verdicts v ON v.digest = i.digest AND v.policy = $1
                 ORDER BY i.scanned_at DESC, i.digest LIMIT $2",
                &[&policy, &limit],
            )?;
            rows(&found, |row| {
                let verdict = match row.try_get::<_, Option<String>>(10)? {
                    Some(_) => Some(verdict_from_row_at(row, 10)?),
                    None => None,
                };
                Ok(ImageOverview {
                    image: ImageSummary {
                        digest: row.try_get(0)?,
                        repository: row.try_get(1)?,
                        name: row.try_get(2)?,
                        scanned_at: row.try_get(3)?,
                        scan_id: row.try_get(4)?,
                    },
                    severities: severities_from_row(row, 5)?,
                    verdict,
                })
            })
        })
    }

    fn put_policy(
        &self,
        name: &str,
        document: &str,
        by: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        self.with(|c| {
            let mut transaction = c.transaction()?;
            // Two replicas saving the same policy at once would both pick the same next
            // version; the lock makes the second wait for the first to commit.
            transaction.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                &[&POLICY_LOCK, &name],
            )?;
            let version: i64 = transaction
                .query_one(
                    "INSERT INTO policies (name, version, document, created_at, created_by)
                     SELECT $1::TEXT, coalesce(max(version), 0) + 1, $2::TEXT, $3::BIGINT, $4::TEXT
                     FROM policies WHERE name = $1
                     RETURNING version",
                    &[&name, &document, &now, &by],
                )?
                .try_get(0)?;
            transaction.commit()?;
            Ok(version)
        })
    }

    fn policy(&self, name: &str, version: Option<i64>) -> Result<Option<PolicyRecord>, StoreError> {
        self.with(|c| {
            c.query_opt(
                &format!(
                    "SELECT {POLICY_COLUMNS} FROM policies
                     WHERE name = $1 AND ($2::BIGINT IS NULL OR version = $2) ORDER BY version DESC LIMIT 1"
                ),
                &[&name, &version],
            )?
            .as_ref()
            .map(policy_from_row)
            .transpose()
        })
    }

    fn policies(&self) -> Result<Vec<PolicyRecord>, StoreError> {
        self.with(|c| {
            let found = c.query(
                &format!(
                    "SELECT DISTINCT ON (name) {POLICY_COLUMNS} FROM policies ORDER BY name, version DESC"
                ),
                &[],
            )?;
            rows(&found, policy_from_row)
        })
    }

    fn put_admission_policy(&self, document: &str, by: &str, now: i64) -> Result<i64, StoreError> {
        self.with(|c| {
            let mut transaction = c.transaction()?;
            // As for the scan policies: two replicas saving at once wait for each other.
            transaction.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                &[&POLICY_LOCK, &"admission policy"],
            )?;
            let version: i64 = transaction
                .query_one(
                    "INSERT INTO admission_policies (version, document, created_at, created_by)
                     SELECT coalesce(max(version), 0) + 1, $1::TEXT, $2::BIGINT, $3::TEXT
                     FROM admission_policies
                     RETURNING version",
                    &[&document, &now, &by],
                )?
                .try_get(0)?;
            transaction.commit()?;
            Ok(version)
        })
    }

    fn admission_policy(&self, version: Option<i64>) -> Result<Option<PolicyRecord>, StoreError> {
        self.with(|c| {
            c.query_opt(
                "SELECT 'admission', version, document, created_at, created_by FROM admission_policies
                 WHERE ($1::BIGINT IS NULL OR version = $1) ORDER BY version DESC LIMIT 1",
                &[&version],
            )?
            .as_ref()
            .map(policy_from_row)
            .transpose()
        })
    }

    fn admission_policy_version(&self) -> Result<Option<i64>, StoreError> {
        self.with(|c| {
            Ok(
                c.query_one("SELECT max(version) FROM admission_policies", &[])?
                    .try_get(0)?,
            )
        })
    }

    fn admission_policy_history(&self, limit: i64) -> Result<Vec<PolicyVersion>, StoreError> {
        self.with(|c| {
            let found = c.query(
                "SELECT version, created_at, created_by FROM admission_policies ORDER BY version DESC LIMIT $1",
                &[&limit],
            )?;
            rows(&found, |row| {
                Ok(PolicyVersion {
                    version: row.try_get(0)?,
                    created_at: row.try_get(1)?,
                    created_by: row.try_get(2)?,
                })
            })
        })
    }

    fn record_verdict(&self, verdict: &VerdictRecord) -> Result<Option<VerdictRecord>, StoreError> {
        self.with(|c| {
            let mut transaction = c.transaction()?;
            // The verdict replaced must be the one just before this: decisions on the same
            // image and policy from two replicas are taken one after the other.
            transaction.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext($2::TEXT || ' ' || $3::TEXT))",
                &[&VERDICT_LOCK, &verdict.digest, &verdict.policy],
            )?;
            let previous = transaction
                .query_opt(
                    &format!(
                        "SELECT {VERDICT_COLUMNS} FROM verdicts WHERE digest = $1 AND policy = $2"
                    ),
                    &[&verdict.digest, &verdict.policy],
                )?
                .as_ref()
                .map(verdict_from_row)
                .transpose()?;
            upsert_verdict(&mut transaction, verdict)?;
            transaction.commit()?;
            Ok(previous)
        })
    }

    fn verdicts(&self, digest: &str) -> Result<Vec<VerdictRecord>, StoreError> {
        self.with(|c| {
            let found = c.query(
                &format!(
                    "SELECT {VERDICT_COLUMNS} FROM verdicts WHERE digest = $1 ORDER BY policy"
                ),
                &[&digest],
            )?;
            rows(&found, verdict_from_row)
        })
    }

    fn create_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        let scopes = json(&token.scopes);
        self.with(|c| {
            c.execute(
                &format!(
                    "INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                ),
                &[
                    &token.id,
                    &token.name,
                    &token.hash,
                    &token.role.as_str(),
                    &scopes,
                    &token.created_at,
                    &token.created_by,
                    &token.revoked_at,
                ],
            )?;
            Ok(())
        })
    }

    fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.with(|c| {
            c.query_opt(
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = $1 AND revoked_at IS NULL"
                ),
                &[&hash],
            )?
            .as_ref()
            .map(token_from_row)
            .transpose()
        })
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.with(|c| {
            let found = c.query(
                &format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id"),
                &[],
            )?;
            rows(&found, token_from_row)
        })
    }

    fn revoke_token(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let changed = c.execute(
                "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[&id, &now],
            )?;
            Ok(changed == 1)
        })
    }

    fn active_token_count(&self) -> Result<i64, StoreError> {
        self.with(|c| {
            Ok(
                c.query_one("SELECT count(*) FROM tokens WHERE revoked_at IS NULL", &[])?
                    .try_get(0)?,
            )
        })
    }

    fn add_promotion(&self, promotion: &PromotionRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                &format!(
                    "INSERT INTO promotions ({PROMOTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                ),
                &[
                    &promotion.id,
                    &promotion.digest,
                    &promotion.registry,
                    &promotion.source_repository,
                    &promotion.destination_repository,
                    &promotion.tag,
                    &promotion.policy,
                    &promotion.state.as_str(),
                    &promotion.detail,
                    &promotion.created_at,
                    &promotion.finished_at,
                ],
            )?;
            Ok(())
        })
    }

    fn pending_promotions(&self, digest: &str) -> Result<Vec<PromotionRecord>, StoreError> {
        self.with(|c| {
            let found = c.query(
                &format!(
                    "SELECT {PROMOTION_COLUMNS} FROM promotions WHERE digest = $1 AND state = 'pending' ORDER BY created_at, id"
                ),
                &[&digest],
            )?;
            rows(&found, promotion_from_row)
        })
    }

    fn move_promotion(
        &self,
        id: &str,
        from: PromotionState,
        to: PromotionState,
        detail: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let finished = !matches!(to, PromotionState::Pending | PromotionState::Copying);
        self.with(|c| {
            // Conditioned on `from`: of two replicas moving the same promotion, the second
            // finds it already moved (the row lock makes it re-read the state) and changes
            // nothing.
            let changed = c.execute(
                "UPDATE promotions SET state = $3, detail = coalesce($4, detail),
                     finished_at = CASE WHEN $5 THEN $6 ELSE finished_at END
                 WHERE id = $1 AND state = $2",
                &[&id, &from.as_str(), &to.as_str(), &detail, &finished, &now],
            )?;
            Ok(changed == 1)
        })
    }

    fn promotions(&self, limit: i64) -> Result<Vec<PromotionRecord>, StoreError> {
        self.with(|c| {
            let found = c.query(
                &format!(
                    "SELECT {PROMOTION_COLUMNS} FROM promotions ORDER BY created_at DESC, id LIMIT $1"
                ),
                &[&limit],
            )?;
            rows(&found, promotion_from_row)
        })
    }

    fn append_audit(&self, entry: &NewAudit) -> Result<i64, StoreError> {
        self.with(|c| {
            let mut transaction = c.transaction()?;
            let id = insert_audit(&mut transaction, entry)?;
            transaction.commit()?;
            Ok(id)
        })
    }

    fn audit(&self, limit: i64, before: Option<i64>) -> Result<Vec<AuditEntry>, StoreError> {
        self.with(|c| {
            let found = c.query(
                "SELECT id, at, actor, action, subject, digest, verdict, detail FROM audit
                 WHERE ($2::BIGINT IS NULL OR id < $2) ORDER BY id DESC LIMIT $1",
                &[&limit, &before],
            )?;
            rows(&found, audit_from_row)
        })
    }

    fn claim_delivery(
        &self,
        owner: &str,
        now: i64,
        lease_millis: i64,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        let until = now + lease_millis;
        self.with(|c| {
            // As for scans: replicas skip the rows another is claiming, never wait on them.
            let claimed = c.query_opt(
                &format!(
                    "UPDATE deliveries SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
                     WHERE id = (SELECT id FROM deliveries
                                 WHERE state = 'pending' AND next_attempt_at <= $3
                                     AND (lease_until IS NULL OR lease_until < $3)
                                 ORDER BY next_attempt_at, created_at, id LIMIT 1
                                 FOR UPDATE SKIP LOCKED)
                     RETURNING {DELIVERY_COLUMNS}"
                ),
                &[&owner, &until, &now],
            )?;
            claimed.as_ref().map(delivery_from_row).transpose()
        })
    }

    fn finish_delivery(
        &self,
        id: &str,
        owner: &str,
        outcome: &DeliveryOutcome,
        now: i64,
    ) -> Result<bool, StoreError> {
        let (state, next, status, error, delivered) = outcome.columns(now);
        self.with(|c| {
            let changed = c.execute(
                "UPDATE deliveries SET state = $3, next_attempt_at = coalesce($4, next_attempt_at),
                     last_status = $5, last_error = $6, delivered_at = $7,
                     lease_owner = NULL, lease_until = NULL
                 WHERE id = $1 AND lease_owner = $2 AND state = 'pending'",
                &[&id, &owner, &state, &next, &status, &error, &delivered],
            )?;
            Ok(changed == 1)
        })
    }

    fn deliveries(
        &self,
        state: Option<DeliveryState>,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let state = state.map(DeliveryState::as_str);
        self.with(|c| {
            let found = c.query(
                &format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE ($1::TEXT IS NULL OR state = $1)
                     ORDER BY created_at DESC, id LIMIT $2"
                ),
                &[&state, &limit],
            )?;
            rows(&found, delivery_from_row)
        })
    }

    fn delivery(&self, id: &str) -> Result<Option<DeliveryRecord>, StoreError> {
        self.with(|c| {
            let found = c.query_opt(
                &format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1"),
                &[&id],
            )?;
            found.as_ref().map(delivery_from_row).transpose()
        })
    }

    fn redeliver(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let changed = c.execute(
                "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = $2,
                     delivered_at = NULL, lease_owner = NULL, lease_until = NULL
                 WHERE id = $1 AND state IN ('dead', 'delivered')",
                &[&id, &now],
            )?;
            Ok(changed == 1)
        })
    }

    fn delivery_counts(&self) -> Result<(i64, i64), StoreError> {
        self.with(|c| {
            let row = c.query_one(
                "SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'dead')
                 FROM deliveries",
                &[],
            )?;
            Ok((row.try_get(0)?, row.try_get(1)?))
        })
    }

    fn create_session(
        &self,
        session: &SessionRecord,
        keep_per_token: i64,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            let mut transaction = c.transaction()?;
            // Sign-ins of one token on two replicas at once would each count the other's
            // session as not there yet and keep one too many; the lock makes them take turns.
            transaction.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                &[&SESSION_LOCK, &session.token_hash],
            )?;
            transaction.execute(
                "INSERT INTO sessions (id_hash, token_hash, form_token, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &session.id_hash,
                    &session.token_hash,
                    &session.form_token,
                    &session.created_at,
                    &session.expires_at,
                ],
            )?;
            transaction.execute(
                "DELETE FROM sessions WHERE id_hash IN (
                     SELECT id_hash FROM sessions WHERE token_hash = $1
                     ORDER BY created_at DESC, id_hash DESC OFFSET $2)",
                &[&session.token_hash, &keep_per_token],
            )?;
            transaction.commit()?;
            Ok(())
        })
    }

    fn session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRecord>, StoreError> {
        self.with(|c| {
            let Some(row) = c.query_opt(
                "SELECT id_hash, token_hash, form_token, created_at, expires_at FROM sessions
                 WHERE id_hash = $1 AND expires_at > $2",
                &[&id_hash, &now],
            )?
            else {
                return Ok(None);
            };
            Ok(Some(SessionRecord {
                id_hash: row.try_get(0)?,
                token_hash: row.try_get(1)?,
                form_token: row.try_get(2)?,
                created_at: row.try_get(3)?,
                expires_at: row.try_get(4)?,
            }))
        })
    }

    fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        self.with(|c| Ok(c.execute("DELETE FROM sessions WHERE id_hash = $1", &[&id_hash])? == 1))
    }

    fn prune_sessions(&self, now: i64, limit: i64) -> Result<u64, StoreError> {
        self.with(|c| {
            // Rows another replica is pruning at the same moment are skipped, not waited for.
            Ok(c.execute(
                "DELETE FROM sessions WHERE id_hash IN (
                     SELECT id_hash FROM sessions WHERE expires_at <= $1
                     LIMIT $2 FOR UPDATE SKIP LOCKED)",
                &[&now, &limit],
            )?)
        })
    }
}
