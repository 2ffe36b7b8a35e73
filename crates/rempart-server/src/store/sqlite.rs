//! The embedded store: one SQLite file in WAL mode. One connection behind a mutex: SQLite has
//! one writer at a time anyway, and every statement here is short (results are compressed
//! before they arrive).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::{
    AuditEntry, Completion, DeliveryOutcome, DeliveryRecord, DeliveryState, ImageOverview,
    ImageSummary, Lease, NewAudit, NewScan, PolicyRecord, PolicyVersion, PromotionRecord,
    PromotionState, QueuePolicy, Role, SCHEMA_VERSION, ScanRecord, ScanSource, ScanState,
    ScannedImage, SessionRecord, SeverityCounts, Store, StoreError, Submitted, TokenRecord,
    VerdictRecord,
};

/// Each version of the schema: later versions append statements; each version runs once.
const MIGRATIONS: [&str; 6] = [
    r"
CREATE TABLE scans (
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    source TEXT NOT NULL,
    repository TEXT NOT NULL,
    digest TEXT,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until INTEGER,
    error TEXT,
    submitted_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
);
-- One active scan per subject: the deduplication holds even between replicas.
CREATE UNIQUE INDEX scans_one_active ON scans(subject) WHERE state IN ('queued', 'running');
CREATE INDEX scans_queue ON scans(state, created_at);
CREATE TABLE images (
    digest TEXT PRIMARY KEY,
    repository TEXT NOT NULL,
    name TEXT NOT NULL,
    result BLOB NOT NULL,
    inventory BLOB NOT NULL,
    scanned_at INTEGER NOT NULL,
    scan_id TEXT NOT NULL
);
CREATE TABLE policies (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE verdicts (
    digest TEXT NOT NULL,
    policy TEXT NOT NULL,
    policy_version INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    reasons TEXT NOT NULL,
    findings INTEGER NOT NULL,
    suppressed INTEGER NOT NULL,
    decided_at INTEGER NOT NULL,
    PRIMARY KEY (digest, policy)
);
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    digest TEXT,
    verdict TEXT,
    detail TEXT
);
CREATE TABLE promotions (
    id TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    registry TEXT NOT NULL,
    source_repository TEXT NOT NULL,
    destination_repository TEXT NOT NULL,
    tag TEXT,
    policy TEXT NOT NULL,
    state TEXT NOT NULL,
    detail TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX promotions_by_digest ON promotions(digest, state);
-- Append-only: the database itself refuses to change or remove a line.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
",
    r"
-- Version 2: findings by severity, counted when a scan completes (NULL for older images).
ALTER TABLE images ADD COLUMN critical INTEGER;
ALTER TABLE images ADD COLUMN high INTEGER;
ALTER TABLE images ADD COLUMN medium INTEGER;
ALTER TABLE images ADD COLUMN low INTEGER;
ALTER TABLE images ADD COLUMN other INTEGER;
CREATE INDEX images_by_time ON images(scanned_at);
",
    r"
-- Version 3: webhook deliveries, queued with the audit line of the event they announce.
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    endpoint TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    last_status INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);
CREATE INDEX deliveries_by_time ON deliveries(created_at);
",
    r"
-- Version 4: scans only one replica can run (its upload, its Harbor credentials), and the
-- replicas' heartbeats that tell when such a scan's replica is gone.
ALTER TABLE scans ADD COLUMN pinned_to TEXT;
CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    instance TEXT NOT NULL,
    seen_at INTEGER NOT NULL
);
",
    r"
-- Version 5: the dashboard's sessions, shared by every replica. Keyed by the SHA-256 of the
-- session id; the token is named by its hash.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    form_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_token ON sessions(token_hash, created_at);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
",
    r"
-- Version 6: the admission policy, one document in versions (the scan policies are named and
-- live in `policies`).
CREATE TABLE admission_policies (
    version INTEGER PRIMARY KEY,
    document TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
);
",
];

pub(crate) struct SqliteStore {
    path: PathBuf,
    connection: Mutex<Connection>,
}

const SCAN_COLUMNS: &str = "id, state, source, repository, digest, attempts, error, submitted_by, created_at, started_at, finished_at";

impl SqliteStore {
    /// Opens (creating) the store and brings its schema up to date.
    pub(crate) fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let fail = |message: String| StoreError::Backend {
            store: path.display().to_string(),
            message,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| fail(format!("cannot create {}: {e}", parent.display())))?;
        }
        let connection = Connection::open(path).map_err(|e| fail(e.to_string()))?;
        connection
            .busy_timeout(Duration::from_secs(10))
            .map_err(|e| fail(e.to_string()))?;
        connection
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .map_err(|e| fail(e.to_string()))?;
        let store = SqliteStore {
            path: path.to_owned(),
            connection: Mutex::new(connection),
        };
        store.migrate()?;
        Ok(store)
    }

    fn error(&self, error: &rusqlite::Error) -> StoreError {
        StoreError::Backend {
            store: self.path.display().to_string(),
            message: error.to_string(),
        }
    }

    fn with<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        // A panic while holding the lock leaves SQLite itself consistent (each statement or
        // transaction is atomic), so the connection stays usable.
        let mut connection = self
            .connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        work(&mut connection).map_err(|e| self.error(&e))
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let found: i64 = self.with(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                store: self.path.display().to_string(),
                found,
            });
        }
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            let version = i64::try_from(index).unwrap_or(i64::MAX) + 1;
            if version <= found {
                continue;
            }
            self.with(|c| {
                let transaction = c.transaction_with_behavior(TransactionBehavior::Exclusive)?;
                transaction.execute_batch(migration)?;
                transaction.pragma_update(None, "user_version", version)?;
                transaction.commit()
            })?;
        }
        Ok(())
    }
}

fn scan_from_row(row: &Row<'_>) -> rusqlite::Result<ScanRecord> {
    let state: String = row.get(1)?;
    let source: String = row.get(2)?;
    let bad = |column: usize, what: String| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, what.into())
    };
    Ok(ScanRecord {
        id: row.get(0)?,
        state: ScanState::parse(&state).ok_or_else(|| bad(1, format!("unknown state {state}")))?,
        source: serde_json::from_str::<ScanSource>(&source).map_err(|e| bad(2, e.to_string()))?,
        repository: row.get(3)?,
        digest: row.get(4)?,
        attempts: row.get(5)?,
        error: row.get(6)?,
        submitted_by: row.get(7)?,
        created_at: row.get(8)?,
        started_at: row.get(9)?,
        finished_at: row.get(10)?,
    })
}

fn image_summary_from_row(row: &Row<'_>) -> rusqlite::Result<ImageSummary> {
    Ok(ImageSummary {
        digest: row.get(0)?,
        repository: row.get(1)?,
        name: row.get(2)?,
        scanned_at: row.get(3)?,
        scan_id: row.get(4)?,
    })
}

fn policy_from_row(row: &Row<'_>) -> rusqlite::Result<PolicyRecord> {
    Ok(PolicyRecord {
        name: row.get(0)?,
        version: row.get(1)?,
        document: row.get(2)?,
        created_at: row.get(3)?,
        created_by: row.get(4)?,
    })
}

fn token_from_row(row: &Row<'_>) -> rusqlite::Result<TokenRecord> {
    let role: String = row.get(3)?;
    let scopes: String = row.get(4)?;
    let bad = |column: usize, what: String| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, what.into())
    };
    Ok(TokenRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        hash: row.get(2)?,
        role: Role::parse(&role).ok_or_else(|| bad(3, format!("unknown role {role}")))?,
        scopes: serde_json::from_str(&scopes).map_err(|e| bad(4, e.to_string()))?,
        created_at: row.get(5)?,
        created_by: row.get(6)?,
        revoked_at: row.get(7)?,
    })
}

fn verdict_from_row(row: &Row<'_>) -> rusqlite::Result<VerdictRecord> {
    verdict_from_row_at(row, 0)
}

/// A verdict from the eight columns starting at `at` (in `verdict_from_row`'s order).
fn verdict_from_row_at(row: &Row<'_>, at: usize) -> rusqlite::Result<VerdictRecord> {
    let reasons: String = row.get(at + 4)?;
    Ok(VerdictRecord {
        digest: row.get(at)?,
        policy: row.get(at + 1)?,
        policy_version: row.get(at + 2)?,
        passed: row.get::<_, i64>(at + 3)? != 0,
        reasons: serde_json::from_str(&reasons).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                at + 4,
                rusqlite::types::Type::Text,
                e.to_string().into(),
            )
        })?,
        findings: row.get(at + 6)?,
        suppressed: row.get(at + 7)?,
        decided_at: row.get(at + 5)?,
    })
}

fn severities_from_row(row: &Row<'_>, at: usize) -> rusqlite::Result<Option<SeverityCounts>> {
    Ok(SeverityCounts::from_columns([
        row.get(at)?,
        row.get(at + 1)?,
        row.get(at + 2)?,
        row.get(at + 3)?,
        row.get(at + 4)?,
    ]))
}

const PROMOTION_COLUMNS: &str = "id, digest, registry, source_repository, destination_repository, tag, policy, state, detail, created_at, finished_at";

fn promotion_from_row(row: &Row<'_>) -> rusqlite::Result<PromotionRecord> {
    let state: String = row.get(7)?;
    Ok(PromotionRecord {
        id: row.get(0)?,
        digest: row.get(1)?,
        registry: row.get(2)?,
        source_repository: row.get(3)?,
        destination_repository: row.get(4)?,
        tag: row.get(5)?,
        policy: row.get(6)?,
        state: PromotionState::parse(&state).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                7,
                rusqlite::types::Type::Text,
                format!("unknown promotion state {state}").into(),
            )
        })?,
        detail: row.get(8)?,
        created_at: row.get(9)?,
        finished_at: row.get(10)?,
    })
}

fn upsert_verdict(connection: &Connection, verdict: &VerdictRecord) -> rusqlite::Result<()> {
    connection.execute(
        "INSERT INTO verdicts (digest, policy, policy_version, passed, reasons, decided_at, findings, suppressed)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (digest, policy) DO UPDATE SET policy_version = excluded.policy_version,
             passed = excluded.passed, reasons = excluded.reasons, decided_at = excluded.decided_at,
             findings = excluded.findings, suppressed = excluded.suppressed",
        params![
            verdict.digest,
            verdict.policy,
            verdict.policy_version,
            i64::from(verdict.passed),
            json(&verdict.reasons),
            verdict.decided_at,
            verdict.findings,
            verdict.suppressed
        ],
    )?;
    Ok(())
}

/// Inserts an audit line and its webhook deliveries; the caller holds a transaction.
fn insert_audit(connection: &Connection, entry: &NewAudit) -> rusqlite::Result<i64> {
    connection.execute(
        "INSERT INTO audit (at, actor, action, subject, digest, verdict, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            entry.at,
            entry.actor,
            entry.action,
            entry.subject,
            entry.digest,
            entry.verdict,
            entry.detail
        ],
    )?;
    let id = connection.last_insert_rowid();
    for delivery in &entry.deliveries {
        connection.execute(
            "INSERT INTO deliveries (id, endpoint, event, payload, state, next_attempt_at, created_at)
             VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)",
            params![
                delivery.id,
                delivery.endpoint,
                delivery.event,
                delivery.payload,
                delivery.created_at
            ],
        )?;
    }
    Ok(id)
}

const DELIVERY_COLUMNS: &str = "id, endpoint, event, payload, state, attempts, next_attempt_at, last_status, last_error, created_at, delivered_at";

fn delivery_from_row(row: &Row<'_>) -> rusqlite::Result<DeliveryRecord> {
    let state: String = row.get(4)?;
    Ok(DeliveryRecord {
        id: row.get(0)?,
        endpoint: row.get(1)?,
        event: row.get(2)?,
        payload: row.get(3)?,
        state: DeliveryState::parse(&state).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                4,
                rusqlite::types::Type::Text,
                format!("unknown delivery state `{state}`").into(),
            )
        })?,
        attempts: row.get(5)?,
        next_attempt_at: row.get(6)?,
        last_status: row.get(7)?,
        last_error: row.get(8)?,
        created_at: row.get(9)?,
        delivered_at: row.get(10)?,
    })
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

impl Store for SqliteStore {
    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.with(|c| c.query_row("SELECT 1", [], |_| Ok(())))
    }

    fn submit_scan(&self, scan: &NewScan) -> Result<Submitted, StoreError> {
        self.with(|c| {
            let transaction = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let existing = transaction
                .query_row(
                    &format!("SELECT {SCAN_COLUMNS} FROM scans WHERE subject = ?1 AND state IN ('queued', 'running')"),
                    params![scan.subject],
                    scan_from_row,
                )
                .optional()?;
            if let Some(existing) = existing {
                return Ok(Submitted {
                    scan: existing,
                    deduplicated: true,
                });
            }
            transaction.execute(
                "INSERT INTO scans (id, subject, source, repository, digest, state, submitted_by, created_at, pinned_to)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7, ?8)",
                params![
                    scan.id,
                    scan.subject,
                    json(&scan.source),
                    scan.repository,
                    scan.digest,
                    scan.submitted_by,
                    scan.now,
                    scan.pinned_to
                ],
            )?;
            let record = transaction.query_row(
                &format!("SELECT {SCAN_COLUMNS} FROM scans WHERE id = ?1"),
                params![scan.id],
                scan_from_row,
            )?;
            transaction.commit()?;
            Ok(Submitted {
                scan: record,
                deduplicated: false,
            })
        })
    }

    fn scan(&self, id: &str) -> Result<Option<ScanRecord>, StoreError> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {SCAN_COLUMNS} FROM scans WHERE id = ?1"),
                params![id],
                scan_from_row,
            )
            .optional()
        })
    }

    fn recent_scans(&self, limit: i64) -> Result<Vec<ScanRecord>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(&format!(
                "SELECT {SCAN_COLUMNS} FROM scans ORDER BY created_at DESC, id LIMIT ?1"
            ))?;
            statement
                .query_map(params![limit], scan_from_row)?
                .collect()
        })
    }

    fn claim_scan(
        &self,
        owner: &str,
        replica: &str,
        now: i64,
        queue: QueuePolicy,
    ) -> Result<Option<Lease>, StoreError> {
        self.with(|c| {
            let transaction = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let until = now + queue.lease_millis;
            let claimed = transaction
                .query_row(
                    &format!(
                        "UPDATE scans SET state = 'running', lease_owner = ?1, lease_until = ?2,
                             attempts = attempts + 1, started_at = coalesce(started_at, ?3)
                         WHERE id = (SELECT id FROM scans
                                     WHERE (state = 'queued'
                                            OR (state = 'running' AND lease_until < ?3 AND attempts < ?5))
                                         AND (pinned_to IS NULL OR pinned_to = ?4)
                                     ORDER BY created_at, id LIMIT 1)
                         RETURNING {SCAN_COLUMNS}"
                    ),
                    params![owner, until, now, replica, queue.max_attempts],
                    scan_from_row,
                )
                .optional()?;
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
            let transaction = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut failed = Vec::new();
            {
                // A scan pinned to a replica that stopped answering can never run: it fails,
                // saying why and what to do.
                let mut pinned = transaction.prepare(&format!(
                    "UPDATE scans SET state = 'failed', finished_at = ?1, lease_owner = NULL,
                         error = 'the replica holding its upload or registry credentials (' || pinned_to || ') stopped: submit it again'
                     WHERE pinned_to IS NOT NULL AND pinned_to <> ?2
                         AND (state = 'queued' OR (state = 'running' AND lease_until < ?1))
                         AND NOT EXISTS (SELECT 1 FROM replicas
                                         WHERE replicas.id = scans.pinned_to AND seen_at >= ?1 - ?3)
                     RETURNING {SCAN_COLUMNS}"
                ))?;
                for scan in pinned.query_map(
                    params![now, replica, queue.replica_silence_millis],
                    scan_from_row,
                )? {
                    failed.push(scan?);
                }
                // A scan whose worker died on its last allowed attempt fails, with the reason.
                let mut exhausted = transaction.prepare(&format!(
                    "UPDATE scans SET state = 'failed', finished_at = ?1, lease_owner = NULL,
                         error = coalesce(error, 'the worker scanning it stopped responding') || ' (after ' || attempts || ' attempts)'
                     WHERE state = 'running' AND lease_until < ?1 AND attempts >= ?2
                     RETURNING {SCAN_COLUMNS}"
                ))?;
                for scan in exhausted.query_map(params![now, queue.max_attempts], scan_from_row)? {
                    failed.push(scan?);
                }
            }
            transaction.commit()?;
            Ok(failed)
        })
    }

    fn replica_seen(&self, replica: &str, instance: &str, now: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO replicas (id, instance, seen_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET instance = excluded.instance, seen_at = excluded.seen_at",
                params![replica, instance, now],
            )
            .map(|_| ())
        })
    }

    fn renew_lease(&self, id: &str, owner: &str, until: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE scans SET lease_until = ?3 WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'",
                params![id, owner, until],
            )
            .map(|changed| changed == 1)
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
            let transaction = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let changed = transaction.execute(
                "UPDATE scans SET state = 'done', digest = ?3, finished_at = ?4, lease_owner = NULL, error = NULL
                 WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'",
                params![id, owner, image.digest, now],
            )?;
            if changed != 1 {
                return Ok(false);
            }
            let [critical, high, medium, low, other] = SeverityCounts::to_columns(image.severities);
            transaction.execute(
                "INSERT INTO images (digest, repository, name, result, inventory, scanned_at, scan_id,
                     critical, high, medium, low, other)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT (digest) DO UPDATE SET repository = excluded.repository, name = excluded.name,
                     result = excluded.result, inventory = excluded.inventory,
                     scanned_at = excluded.scanned_at, scan_id = excluded.scan_id,
                     critical = excluded.critical, high = excluded.high, medium = excluded.medium,
                     low = excluded.low, other = excluded.other",
                params![
                    image.digest,
                    image.repository,
                    image.name,
                    image.result,
                    image.inventory,
                    image.scanned_at,
                    image.scan_id,
                    critical,
                    high,
                    medium,
                    low,
                    other
                ],
            )?;
            if let Some(verdict) = &completion.verdict {
                upsert_verdict(&transaction, verdict)?;
            }
            insert_audit(&transaction, &completion.audit)?;
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
            c.execute(
                "UPDATE scans SET
                     state = CASE WHEN ?4 AND attempts < ?6 THEN 'queued' ELSE 'failed' END,
                     finished_at = CASE WHEN ?4 AND attempts < ?6 THEN NULL ELSE ?5 END,
                     lease_owner = NULL, lease_until = NULL, error = ?3
                 WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'",
                params![id, owner, error, retry, now, queue.max_attempts],
            )
            .map(|changed| changed == 1)
        })
    }

    fn release_scan(&self, id: &str, owner: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE scans SET state = 'queued', lease_owner = NULL, lease_until = NULL,
                     attempts = max(attempts - 1, 0)
                 WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'",
                params![id, owner],
            )
            .map(|changed| changed == 1)
        })
    }

    fn queue_depth(&self) -> Result<i64, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT count(*) FROM scans WHERE state IN ('queued', 'running')",
                [],
                |r| r.get(0),
            )
        })
    }

    fn image(&self, digest: &str) -> Result<Option<ScannedImage>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT digest, repository, name, result, inventory, scanned_at, scan_id,
                     critical, high, medium, low, other FROM images WHERE digest = ?1",
                params![digest],
                |row| {
                    Ok(ScannedImage {
                        digest: row.get(0)?,
                        repository: row.get(1)?,
                        name: row.get(2)?,
                        result: row.get(3)?,
                        inventory: row.get(4)?,
                        scanned_at: row.get(5)?,
                        scan_id: row.get(6)?,
                        severities: severities_from_row(row, 7)?,
                    })
                },
            )
            .optional()
        })
    }

    fn replace_image_result(
        &self,
        digest: &str,
        scan_id: &str,
        result: &[u8],
    ) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE images SET result = ?3 WHERE digest = ?1 AND scan_id = ?2",
                params![digest, scan_id, result],
            )
            .map(|changed| changed == 1)
        })
    }

    fn images(&self, limit: i64) -> Result<Vec<ImageSummary>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(
                "SELECT digest, repository, name, scanned_at, scan_id FROM images ORDER BY scanned_at DESC, digest LIMIT ?1",
            )?;
            statement
                .query_map(params![limit], image_summary_from_row)?
                .collect()
        })
    }

    fn image_summary(&self, digest: &str) -> Result<Option<ImageSummary>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT digest, repository, name, scanned_at, scan_id FROM images WHERE digest = ?1",
                params![digest],
                image_summary_from_row,
            )
            .optional()
        })
    }

    fn image_overviews(&self, policy: &str, limit: i64) -> Result<Vec<ImageOverview>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(
                "SELECT i.digest, i.repository, i.name, i.scanned_at, i.scan_id,
                     i.critical, i.high, i.medium, i.low, i.other,
                     v.digest, v.policy, v.policy_version, v.passed, v.reasons, v.decided_at,
                     v.findings, v.suppressed
                 FROM images i LEFT JOIN verdicts v ON v.digest = i.digest AND v.policy = ?1
                 ORDER BY i.scanned_at DESC, i.digest LIMIT ?2",
            )?;
            statement
                .query_map(params![policy, limit], |row| {
                    let verdict = match row.get::<_, Option<String>>(10)? {
                        Some(_) => Some(verdict_from_row_at(row, 10)?),
                        None => None,
                    };
                    Ok(ImageOverview {
                        image: ImageSummary {
                            digest: row.get(0)?,
                            repository: row.get(1)?,
                            name: row.get(2)?,
                            scanned_at: row.get(3)?,
                            scan_id: row.get(4)?,
                        },
                        severities: severities_from_row(row, 5)?,
                        verdict,
                    })
                })?
                .collect()
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
            let transaction = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let version: i64 = transaction.query_row(
                "SELECT coalesce(max(version), 0) + 1 FROM policies WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )?;
            transaction.execute(
                "INSERT INTO policies (name, version, document, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, version, document, now, by],
            )?;
            transaction.commit()?;
            Ok(version)
        })
    }

    fn policy(&self, name: &str, version: Option<i64>) -> Result<Option<PolicyRecord>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT name, version, document, created_at, created_by FROM policies
                 WHERE name = ?1 AND (?2 IS NULL OR version = ?2) ORDER BY version DESC LIMIT 1",
                params![name, version],
                policy_from_row,
            )
            .optional()
        })
    }

    fn policies(&self) -> Result<Vec<PolicyRecord>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(
                "SELECT name, version, document, created_at, created_by FROM policies p
                 WHERE version = (SELECT max(version) FROM policies q WHERE q.name = p.name) ORDER BY name",
            )?;
            statement
                .query_map([], policy_from_row)?
                .collect()
        })
    }

    fn put_admission_policy(&self, document: &str, by: &str, now: i64) -> Result<i64, StoreError> {
        self.with(|c| {
            let transaction = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let version: i64 = transaction.query_row(
                "SELECT coalesce(max(version), 0) + 1 FROM admission_policies",
                [],
                |r| r.get(0),
            )?;
            transaction.execute(
                "INSERT INTO admission_policies (version, document, created_at, created_by) VALUES (?1, ?2, ?3, ?4)",
                params![version, document, now, by],
            )?;
            transaction.commit()?;
            Ok(version)
        })
    }

    fn admission_policy(&self, version: Option<i64>) -> Result<Option<PolicyRecord>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT 'admission', version, document, created_at, created_by FROM admission_policies
                 WHERE (?1 IS NULL OR version = ?1) ORDER BY version DESC LIMIT 1",
                params![version],
                policy_from_row,
            )
            .optional()
        })
    }

    fn admission_policy_version(&self) -> Result<Option<i64>, StoreError> {
        self.with(|c| {
            c.query_row("SELECT max(version) FROM admission_policies", [], |r| {
                r.get(0)
            })
        })
    }

    fn admission_policy_history(&self, limit: i64) -> Result<Vec<PolicyVersion>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(
                "SELECT version, created_at, created_by FROM admission_policies ORDER BY version DESC LIMIT ?1",
            )?;
            statement
                .query_map(params![limit], |r| {
                    Ok(PolicyVersion {
                        version: r.get(0)?,
                        created_at: r.get(1)?,
                        created_by: r.get(2)?,
                    })
                })?
                .collect()
        })
    }

    fn record_verdict(&self, verdict: &VerdictRecord) -> Result<Option<VerdictRecord>, StoreError> {
        self.with(|c| {
            let transaction = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let previous = transaction
                .query_row(
                    "SELECT digest, policy, policy_version, passed, reasons, decided_at, findings, suppressed FROM verdicts WHERE digest = ?1 AND policy = ?2",
                    params![verdict.digest, verdict.policy],
                    verdict_from_row,
                )
                .optional()?;
            upsert_verdict(&transaction, verdict)?;
            transaction.commit()?;
            Ok(previous)
        })
    }

    fn verdicts(&self, digest: &str) -> Result<Vec<VerdictRecord>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(
                "SELECT digest, policy, policy_version, passed, reasons, decided_at, findings, suppressed FROM verdicts WHERE digest = ?1 ORDER BY policy",
            )?;
            statement.query_map(params![digest], verdict_from_row)?.collect()
        })
    }

    fn create_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO tokens (id, name, hash, role, scopes, created_at, created_by, revoked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    token.id,
                    token.name,
                    token.hash,
                    token.role.as_str(),
                    json(&token.scopes),
                    token.created_at,
                    token.created_by,
                    token.revoked_at
                ],
            )
            .map(|_| ())
        })
    }

    fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT id, name, hash, role, scopes, created_at, created_by, revoked_at FROM tokens
                 WHERE hash = ?1 AND revoked_at IS NULL",
                params![hash],
                token_from_row,
            )
            .optional()
        })
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(
                "SELECT id, name, hash, role, scopes, created_at, created_by, revoked_at FROM tokens ORDER BY created_at, id",
            )?;
            statement.query_map([], token_from_row)?.collect()
        })
    }

    fn revoke_token(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, now],
            )
            .map(|changed| changed == 1)
        })
    }

    fn active_token_count(&self) -> Result<i64, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT count(*) FROM tokens WHERE revoked_at IS NULL",
                [],
                |r| r.get(0),
            )
        })
    }

    fn add_promotion(&self, promotion: &PromotionRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                &format!("INSERT INTO promotions ({PROMOTION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
                params![
                    promotion.id,
                    promotion.digest,
                    promotion.registry,
                    promotion.source_repository,
                    promotion.destination_repository,
                    promotion.tag,
                    promotion.policy,
                    promotion.state.as_str(),
                    promotion.detail,
                    promotion.created_at,
                    promotion.finished_at
                ],
            )
            .map(|_| ())
        })
    }

    fn pending_promotions(&self, digest: &str) -> Result<Vec<PromotionRecord>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(&format!(
                "SELECT {PROMOTION_COLUMNS} FROM promotions WHERE digest = ?1 AND state = 'pending' ORDER BY created_at, id"
            ))?;
            statement.query_map(params![digest], promotion_from_row)?.collect()
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
            c.execute(
                "UPDATE promotions SET state = ?3, detail = coalesce(?4, detail),
                     finished_at = CASE WHEN ?5 THEN ?6 ELSE finished_at END
                 WHERE id = ?1 AND state = ?2",
                params![id, from.as_str(), to.as_str(), detail, finished, now],
            )
            .map(|changed| changed == 1)
        })
    }

    fn promotions(&self, limit: i64) -> Result<Vec<PromotionRecord>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(&format!(
                "SELECT {PROMOTION_COLUMNS} FROM promotions ORDER BY created_at DESC, id LIMIT ?1"
            ))?;
            statement
                .query_map(params![limit], promotion_from_row)?
                .collect()
        })
    }

    fn append_audit(&self, entry: &NewAudit) -> Result<i64, StoreError> {
        self.with(|c| {
            let transaction = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = insert_audit(&transaction, entry)?;
            transaction.commit()?;
            Ok(id)
        })
    }

    fn audit(&self, limit: i64, before: Option<i64>) -> Result<Vec<AuditEntry>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(
                "SELECT id, at, actor, action, subject, digest, verdict, detail FROM audit
                 WHERE (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?1",
            )?;
            statement
                .query_map(params![limit, before], |row| {
                    Ok(AuditEntry {
                        id: row.get(0)?,
                        at: row.get(1)?,
                        actor: row.get(2)?,
                        action: row.get(3)?,
                        subject: row.get(4)?,
                        digest: row.get(5)?,
                        verdict: row.get(6)?,
                        detail: row.get(7)?,
                    })
                })?
                .collect()
        })
    }

    fn claim_delivery(
        &self,
        owner: &str,
        now: i64,
        lease_millis: i64,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        self.with(|c| {
            c.query_row(
                &format!(
                    "UPDATE deliveries SET lease_owner = ?1, lease_until = ?2, attempts = attempts + 1
                     WHERE id = (SELECT id FROM deliveries
                                 WHERE state = 'pending' AND next_attempt_at <= ?3
                                     AND (lease_until IS NULL OR lease_until < ?3)
                                 ORDER BY next_attempt_at, created_at, id LIMIT 1)
                     RETURNING {DELIVERY_COLUMNS}"
                ),
                params![owner, now + lease_millis, now],
                delivery_from_row,
            )
            .optional()
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
            c.execute(
                "UPDATE deliveries SET state = ?3, next_attempt_at = coalesce(?4, next_attempt_at),
                     last_status = ?5, last_error = ?6, delivered_at = ?7,
                     lease_owner = NULL, lease_until = NULL
                 WHERE id = ?1 AND lease_owner = ?2 AND state = 'pending'",
                params![id, owner, state, next, status, error, delivered],
            )
            .map(|changed| changed == 1)
        })
    }

    fn deliveries(
        &self,
        state: Option<DeliveryState>,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare_cached(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE (?1 IS NULL OR state = ?1)
                 ORDER BY created_at DESC, id LIMIT ?2"
            ))?;
            statement
                .query_map(
                    params![state.map(DeliveryState::as_str), limit],
                    delivery_from_row,
                )?
                .collect()
        })
    }

    fn delivery(&self, id: &str) -> Result<Option<DeliveryRecord>, StoreError> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?1"),
                params![id],
                delivery_from_row,
            )
            .optional()
        })
    }

    fn redeliver(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?2,
                     delivered_at = NULL, lease_owner = NULL, lease_until = NULL
                 WHERE id = ?1 AND state IN ('dead', 'delivered')",
                params![id, now],
            )
            .map(|changed| changed == 1)
        })
    }

    fn delivery_counts(&self) -> Result<(i64, i64), StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'dead')
                 FROM deliveries",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
    }

    fn create_session(
        &self,
        session: &SessionRecord,
        keep_per_token: i64,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            let transaction = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            transaction.execute(
                "INSERT INTO sessions (id_hash, token_hash, form_token, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    session.id_hash,
                    session.token_hash,
                    session.form_token,
                    session.created_at,
                    session.expires_at
                ],
            )?;
            transaction.execute(
                "DELETE FROM sessions WHERE id_hash IN (
                     SELECT id_hash FROM sessions WHERE token_hash = ?1
                     ORDER BY created_at DESC, id_hash DESC LIMIT -1 OFFSET ?2)",
                params![session.token_hash, keep_per_token],
            )?;
            transaction.commit()
        })
    }

    fn session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRecord>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT id_hash, token_hash, form_token, created_at, expires_at FROM sessions
                 WHERE id_hash = ?1 AND expires_at > ?2",
                params![id_hash, now],
                |row| {
                    Ok(SessionRecord {
                        id_hash: row.get(0)?,
                        token_hash: row.get(1)?,
                        form_token: row.get(2)?,
                        created_at: row.get(3)?,
                        expires_at: row.get(4)?,
                    })
                },
            )
            .optional()
        })
    }

    fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute("DELETE FROM sessions WHERE id_hash = ?1", params![id_hash])
                .map(|changed| changed == 1)
        })
    }

    fn prune_sessions(&self, now: i64, limit: i64) -> Result<u64, StoreError> {
        self.with(|c| {
            c.execute(
                "DELETE FROM sessions WHERE id_hash IN (
                     SELECT id_hash FROM sessions WHERE expires_at <= ?1 LIMIT ?2)",
                params![now, limit],
            )
            .map(|changed| u64::try_from(changed).unwrap_or(u64::MAX))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqlite_store_keeps_the_store_contract() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("store.sqlite")).unwrap();
        super::super::contract::check_all(&store);
    }

    #[test]
    fn the_audit_log_cannot_be_changed_or_emptied() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("store.sqlite")).unwrap();
        store
            .append_audit(&NewAudit {
                actor: "a".into(),
                action: "x".into(),
                ..NewAudit::default()
            })
            .unwrap();
        let update = store.with(|c| c.execute("UPDATE audit SET actor = 'b'", []));
        assert!(update.unwrap_err().to_string().contains("append-only"));
        let delete = store.with(|c| c.execute("DELETE FROM audit", []));
        assert!(delete.unwrap_err().to_string().contains("append-only"));
    }

    #[test]
    fn a_store_from_a_newer_release_is_refused_and_reopening_migrates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        drop(SqliteStore::open(&path).unwrap());
        // Reopening an up-to-date store keeps its data.
        let store = SqliteStore::open(&path).unwrap();
        store.put_policy("p", "{}", "a", 1).unwrap();
        drop(store);
        assert!(
            SqliteStore::open(&path)
                .unwrap()
                .policy("p", None)
                .unwrap()
                .is_some()
        );
        let connection = Connection::open(&path).unwrap();
        connection
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(connection);
        let error = SqliteStore::open(&path).err().unwrap().to_string();
        assert!(error.contains("newer than this rempart"), "{error}");
    }
}
