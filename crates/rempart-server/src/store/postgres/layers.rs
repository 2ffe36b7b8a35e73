//! The layer cache's shared tier on the store's PostgreSQL database: replicas find there the
//! per-layer results another replica stored, and the facts that a walk verified a blob to hold
//! a diff id (without which no replica trusts those results).
//!
//! Its tables are a cache, not part of the store's data: they are created here when the server
//! starts (`CREATE TABLE IF NOT EXISTS`), outside the versioned migrations, and a format change
//! needs no migration either, since the keys carry the cache's format version (old rows are
//! simply not found). Rows are written once: two replicas storing the same layer at once both
//! succeed (`ON CONFLICT DO NOTHING`), and the first row stays.
//!
//! Every call uses a connection of the store's pool (waiting at most the pool's timeout for
//! one) and runs under a statement timeout, so a slow database slows a scan down by a bounded
//! time; the engine's cache logs a failure and leaves the tier alone for a while.

use std::time::Duration;

use postgres::Transaction;

use super::{PostgresStore, pool};
use crate::store::StoreError;

/// The advisory lock key of the table creation (the bytes of `rmplayr1`): replicas starting
/// together would otherwise race on PostgreSQL's catalog, where `IF NOT EXISTS` is not enough.
const TABLES_LOCK: i64 = 0x726d_706c_6179_7231;

/// The longest one statement may run: the biggest rows are walk bases of a few MB.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS layer_cache_results (
    key TEXT PRIMARY KEY,
    stored_at BIGINT NOT NULL,
    data BYTEA NOT NULL
);
-- Blob digests whose bytes a walk checked against a diff id.
CREATE TABLE IF NOT EXISTS layer_cache_verified (
    identity TEXT NOT NULL,
    diff_id TEXT NOT NULL,
    verified_at BIGINT NOT NULL,
    PRIMARY KEY (identity, diff_id)
);
";

/// The shared tier: a handle on the store's connection pool.
pub(crate) struct SharedLayers {
    /// The store as named in messages (without its password).
    name: String,
    pool: r2d2::Pool<pool::Manager>,
}

impl PostgresStore {
    /// The layer cache's shared tier on this store's database, its tables created if needed.
    pub(crate) fn shared_layers(&self) -> Result<SharedLayers, StoreError> {
        self.with(|client| {
            let mut transaction = client.transaction()?;
            transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&TABLES_LOCK])?;
            transaction.batch_execute(TABLES)?;
            transaction.commit()?;
            Ok(())
        })?;
        Ok(SharedLayers {
            name: self.name.clone(),
            pool: self.pool.clone(),
        })
    }
}

impl SharedLayers {
    /// Runs `work` in a transaction bounded by [`STATEMENT_TIMEOUT`].
    fn with<T>(
        &self,
        work: impl FnOnce(&mut Transaction<'_>) -> Result<T, postgres::Error>,
    ) -> Result<T, String> {
        let mut client = self
            .pool
            .get()
            .map_err(|e| format!("{}: no connection: {e}", self.name))?;
        let run = |client: &mut postgres::Client| -> Result<T, postgres::Error> {
            let mut transaction = client.transaction()?;
            // Local to the transaction: the pool's connections serve the store too.
            transaction.batch_execute(&format!(
                "SET LOCAL statement_timeout = {}",
                STATEMENT_TIMEOUT.as_millis()
            ))?;
            let value = work(&mut transaction)?;
            transaction.commit()?;
            Ok(value)
        };
        run(&mut client).map_err(|e| format!("{}: {}", self.name, rempart_core::error_chain(&e)))
    }
}

impl rempart::SharedLayerResults for SharedLayers {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.with(|transaction| {
            transaction
                .query_opt(
                    "SELECT data FROM layer_cache_results WHERE key = $1",
                    &[&key],
                )?
                .map(|row| row.try_get(0))
                .transpose()
        })
    }

    fn put(&self, key: &str, data: &[u8]) -> Result<(), String> {
        let now = crate::clock::now_millis();
        self.with(|transaction| {
            transaction.execute(
                "INSERT INTO layer_cache_results (key, stored_at, data) VALUES ($1, $2, $3)
                 ON CONFLICT (key) DO NOTHING",
                &[&key, &now, &data],
            )?;
            Ok(())
        })
    }

    fn is_verified(&self, identity: &str, diff_id: &str) -> Result<bool, String> {
        self.with(|transaction| {
            Ok(transaction
                .query_opt(
                    "SELECT 1 FROM layer_cache_verified WHERE identity = $1 AND diff_id = $2",
                    &[&identity, &diff_id],
                )?
                .is_some())
        })
    }

    fn mark_verified(&self, identity: &str, diff_id: &str) -> Result<(), String> {
        let now = crate::clock::now_millis();
        self.with(|transaction| {
            transaction.execute(
                "INSERT INTO layer_cache_verified (identity, diff_id, verified_at)
                 VALUES ($1, $2, $3) ON CONFLICT (identity, diff_id) DO NOTHING",
                &[&identity, &diff_id, &now],
            )?;
            Ok(())
        })
    }
}
