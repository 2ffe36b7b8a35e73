//! The PostgreSQL schema and its migrations. The tables and columns are SQLite's (times in
//! milliseconds as BIGINT, blobs as BYTEA); each applied version is a row of `schema_version`.
//!
//! Replicas starting at once must not both migrate: every start takes a transaction-scoped
//! advisory lock before reading the version, so the second waits for the first to commit and
//! then finds the schema up to date.

use postgres::Client;

use super::super::SCHEMA_VERSION;

/// The advisory lock key of the migration (the bytes of `rempart1` as a number): any constant,
/// unlikely to be used by another program sharing the database.
const MIGRATION_LOCK: i64 = 0x7265_6d70_6172_7431;

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
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT,
    error TEXT,
    submitted_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
-- One active scan per subject: the deduplication holds even between replicas.
CREATE UNIQUE INDEX scans_one_active ON scans(subject) WHERE state IN ('queued', 'running');
CREATE INDEX scans_queue ON scans(state, created_at);
CREATE TABLE images (
    digest TEXT PRIMARY KEY,
    repository TEXT NOT NULL,
    name TEXT NOT NULL,
    result BYTEA NOT NULL,
    inventory BYTEA NOT NULL,
    scanned_at BIGINT NOT NULL,
    scan_id TEXT NOT NULL
);
CREATE TABLE policies (
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    document TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE verdicts (
    digest TEXT NOT NULL,
    policy TEXT NOT NULL,
    policy_version BIGINT NOT NULL,
    passed BOOLEAN NOT NULL,
    reasons TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    findings BIGINT NOT NULL,
    suppressed BIGINT NOT NULL,
    PRIMARY KEY (digest, policy)
);
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at BIGINT
);
CREATE TABLE audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
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
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX promotions_by_digest ON promotions(digest, state);
-- Append-only: the database itself refuses to change, remove or truncate a line.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
",
    r"
-- Version 2: findings by severity, counted when a scan completes (NULL for older images).
ALTER TABLE images ADD COLUMN critical BIGINT, ADD COLUMN high BIGINT, ADD COLUMN medium BIGINT,
    ADD COLUMN low BIGINT, ADD COLUMN other BIGINT;
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
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_status BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
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
    seen_at BIGINT NOT NULL
);
",
    r"
-- Version 5: the dashboard's sessions, shared by every replica. Keyed by the SHA-256 of the
-- session id; the token is named by its hash.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    form_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_token ON sessions(token_hash, created_at);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
",
    r"
-- Version 6: the admission policy, one document in versions (the scan policies are named and
-- live in `policies`).
CREATE TABLE admission_policies (
    version BIGINT PRIMARY KEY,
    document TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
",
];

/// What `migrate` found: the schema is up to date (after migrating it if needed), or newer
/// than this build.
pub(super) enum Outcome {
    Current,
    Newer(i64),
}

/// Brings the schema up to date in one transaction under the migration lock.
pub(super) fn migrate(client: &mut Client) -> Result<Outcome, postgres::Error> {
    let mut transaction = client.transaction()?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    transaction.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version BIGINT PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )?;
    let found: i64 = transaction
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])?
        .get(0);
    if found > SCHEMA_VERSION {
        // Nothing was changed: the rollback only undoes the (existing) table's creation.
        transaction.rollback()?;
        return Ok(Outcome::Newer(found));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate() {
        let version = i64::try_from(index).unwrap_or(i64::MAX) + 1;
        if version <= found {
            continue;
        }
        transaction.batch_execute(migration)?;
        transaction.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&version],
        )?;
    }
    transaction.commit()?;
    Ok(Outcome::Current)
}
