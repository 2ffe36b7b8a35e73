//! Per-layer result cache: one `SQLite` file, shared safely by concurrent scans.
//!
//! `SQLite` in WAL mode lets any number of processes read while one writes, and writers wait on a
//! busy timeout instead of failing, so a second scan is never blocked by a global lock of ours.
//! Values are zstd-compressed JSON of [`LayerWalk`]: the walk is the only expensive part, and
//! everything downstream (merging, vulnerability matching, image checks) re-runs from it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rempart_image::LayerWalk;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::error::ScanError;

/// Bump when the stored format changes; old rows are then simply not found.
const FORMAT_VERSION: u32 = 2;

/// The layer cache.
pub struct LayerCache {
    path: PathBuf,
    connection: std::sync::Mutex<Connection>,
}

impl LayerCache {
    /// Opens (creating if needed) the cache database at `path`.
    pub fn open(path: &Path) -> Result<LayerCache, ScanError> {
        let error = |message: String| ScanError::Cache {
            path: path.to_owned(),
            message,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| error(e.to_string()))?;
        }
        let connection = Connection::open(path).map_err(|e| error(e.to_string()))?;
        connection
            .busy_timeout(Duration::from_secs(30))
            .map_err(|e| error(e.to_string()))?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| error(e.to_string()))?;
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| error(e.to_string()))?;
        connection
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS layer_results (
                    key TEXT PRIMARY KEY,
                    stored_at INTEGER NOT NULL,
                    data BLOB NOT NULL
                )",
            )
            .map_err(|e| error(e.to_string()))?;
        Ok(LayerCache {
            path: path.to_owned(),
            connection: std::sync::Mutex::new(connection),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cache key of a layer for a set of analyzers: any change in an analyzer's version or
    /// rules, or in the walker limits, gives a new key.
    pub fn key(diff_id: &str, fingerprints: &[String], limits: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(format!("v{FORMAT_VERSION}\n{diff_id}\n{limits}\n"));
        let mut sorted = fingerprints.to_vec();
        sorted.sort();
        for fingerprint in sorted {
            hasher.update(fingerprint.as_bytes());
            hasher.update(b"\n");
        }
        hex::encode(hasher.finalize())
    }

    /// A cached walk, if any. A row that cannot be decoded is treated as absent (and will be
    /// overwritten): the cache must never make a scan fail.
    pub fn get(&self, key: &str) -> Option<LayerWalk> {
        let connection = self.connection.lock().ok()?;
        let data: Vec<u8> = connection
            .query_row(
                "SELECT data FROM layer_results WHERE key = ?1",
                params![key],
                |row| row.get(0),
            )
            .optional()
            .ok()??;
        drop(connection);
        let json = zstd::decode_all(&data[..]).ok()?;
        serde_json::from_slice(&json).ok()
    }

    pub fn put(&self, key: &str, walk: &LayerWalk) -> Result<(), ScanError> {
        let error = |message: String| ScanError::Cache {
            path: self.path.clone(),
            message,
        };
        let json = serde_json::to_vec(walk).map_err(|e| error(e.to_string()))?;
        let data = zstd::encode_all(&json[..], 3).map_err(|e| error(e.to_string()))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let connection = self.connection.lock().map_err(|e| error(e.to_string()))?;
        connection
            .execute(
                "INSERT OR REPLACE INTO layer_results (key, stored_at, data) VALUES (?1, ?2, ?3)",
                params![key, i64::try_from(now).unwrap_or(i64::MAX), data],
            )
            .map_err(|e| error(e.to_string()))?;
        Ok(())
    }
}
