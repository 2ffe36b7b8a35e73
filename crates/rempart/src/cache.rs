//! Per-layer result cache: one `SQLite` file, shared safely by concurrent scans.
//!
//! A layer's results are stored in pieces: the walk's base (entries, whiteouts, the walker's own
//! skips) under a key of the diff id and the walker limits, and each file analyzer's output under
//! a key that adds the analyzer's name and fingerprint. A changed rule set then re-runs only the
//! analyzer it belongs to, and a scan that uses fewer analyzers than a cached one reads no layer.
//!
//! `SQLite` in WAL mode lets any number of processes read while one writes, and writers wait on a
//! busy timeout instead of failing, so a second scan is never blocked by a global lock of ours.
//! Values are zstd-compressed: analyzer outputs as JSON, a walk's base (its entries, the bulk of a
//! warm scan's reading) with postcard in a compact form of its own (see [`entries`]). The walk is
//! the only expensive part, and everything downstream (merging, vulnerability matching, image
//! checks) re-runs from it.

mod entries;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rempart_core::{AnalysisOutput, FileAnalyzer, InventoryEntry};
use rempart_image::LayerWalk;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ScanError;

/// Bump when the stored format changes; old rows are then simply not found.
/// 4: results follow hard links and overwrites within a layer; 5: dangling hard links recorded.
const FORMAT_VERSION: u32 = 5;

/// The layer cache.
pub struct LayerCache {
    path: PathBuf,
    connection: std::sync::Mutex<Connection>,
}

/// What a walk's base holds: [`LayerWalk`] without the analyzers' outputs, which are stored one
/// row per analyzer. Encoded with postcard, the walker's own output (findings and skips, small
/// and full of optional fields) as JSON inside it; read back as a [`StoredBase`].
#[derive(Serialize)]
struct Base<'a> {
    #[serde(serialize_with = "entries::serialize")]
    entries: &'a [InventoryEntry],
    whiteouts: &'a [String],
    opaque_dirs: &'a [String],
    files: u64,
    bytes: u64,
    output: String,
}

/// [`Base`] as read back, its strings borrowed from the row.
#[derive(Deserialize)]
struct StoredBase<'a> {
    #[serde(deserialize_with = "entries::deserialize")]
    entries: Vec<InventoryEntry>,
    whiteouts: Vec<String>,
    opaque_dirs: Vec<String>,
    files: u64,
    bytes: u64,
    #[serde(borrow)]
    output: std::borrow::Cow<'a, str>,
}

impl StoredBase<'_> {
    fn into_walk(self) -> Option<LayerWalk> {
        Some(LayerWalk {
            output: serde_json::from_str(&self.output).ok()?,
            entries: self.entries,
            whiteouts: self.whiteouts,
            opaque_dirs: self.opaque_dirs,
            analyzer_outputs: Vec::new(),
            files: self.files,
            bytes: self.bytes,
        })
    }
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
        // Scans that open a new cache at the same moment race to switch it to WAL and to create
        // its tables; SQLite answers some of those races with "database is locked" at once,
        // without waiting on the busy timeout (lock upgrades, WAL recovery). Such an answer is
        // retried for a few seconds: nothing was written yet.
        let mut attempt = 0;
        let connection = loop {
            match open_connection(path) {
                Ok(connection) => break connection,
                Err(e) if is_busy(&e) && attempt < 50 => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(20 + 10 * attempt));
                }
                Err(e) => return Err(error(e.to_string())),
            }
        };
        Ok(LayerCache {
            path: path.to_owned(),
            connection: std::sync::Mutex::new(connection),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key of a layer's walk base: it depends on the layer and the walker limits only.
    pub fn base_key(diff_id: &str, limits: &str) -> String {
        key(&["base", diff_id, limits])
    }

    /// The key of one analyzer's output for a layer: any change in the analyzer's version or
    /// rules, or in the walker limits (which decide what files it is shown), gives a new key.
    pub fn analyzer_key(diff_id: &str, limits: &str, analyzer: &str, fingerprint: &str) -> String {
        key(&["analyzer", diff_id, limits, analyzer, fingerprint])
    }

    /// True when a walk has verified that the bytes named `identity` have diff id `diff_id`.
    pub fn is_verified(&self, identity: &str, diff_id: &str) -> bool {
        let Ok(connection) = self.connection.lock() else {
            return false;
        };
        connection
            .prepare_cached("SELECT 1 FROM verified_layers WHERE identity = ?1 AND diff_id = ?2")
            .and_then(|mut statement| statement.exists(params![identity, diff_id]))
            .unwrap_or(false)
    }

    /// A cached walk base (its `analyzer_outputs` empty), if any.
    pub fn get_base(&self, key: &str) -> Option<LayerWalk> {
        let row = self.get(key)?;
        postcard::from_bytes::<StoredBase<'_>>(&row)
            .ok()?
            .into_walk()
    }

    /// One analyzer's cached output for a layer, if any.
    pub fn get_output(&self, key: &str) -> Option<AnalysisOutput> {
        serde_json::from_slice(&self.get(key)?).ok()
    }

    /// A row, decompressed. A row that cannot be read or decoded is treated as absent (and will
    /// be overwritten): the cache must never make a scan fail.
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        let connection = self.connection.lock().ok()?;
        let data: Vec<u8> = connection
            .prepare_cached("SELECT data FROM layer_results WHERE key = ?1")
            .ok()?
            .query_row(params![key], |row| row.get(0))
            .optional()
            .ok()??;
        drop(connection);
        zstd::decode_all(&data[..]).ok()
    }

    /// Stores a walk's base under `base_key` (its `analyzer_outputs` are ignored) and the given
    /// analyzer outputs under their keys, in one transaction; with `verified`, also records that
    /// the walk checked the bytes of that identity against that diff id. Only walks that did
    /// check their layer's diff id may be stored.
    pub fn put(
        &self,
        base_key: &str,
        walk: &LayerWalk,
        outputs: &[(&str, &AnalysisOutput)],
        verified: Option<(&str, &str)>,
    ) -> Result<(), ScanError> {
        let error = |message: String| ScanError::Cache {
            path: self.path.clone(),
            message,
        };
        let base = Base {
            entries: &walk.entries,
            whiteouts: &walk.whiteouts,
            opaque_dirs: &walk.opaque_dirs,
            files: walk.files,
            bytes: walk.bytes,
            output: serde_json::to_string(&walk.output).map_err(|e| error(e.to_string()))?,
        };
        // Encoded before taking the lock: other threads of this scan keep reading meanwhile.
        let base = postcard::to_stdvec(&base).map_err(|e| error(e.to_string()))?;
        let mut rows = vec![(base_key, compress(&base).map_err(&error)?)];
        for (key, output) in outputs {
            let json = serde_json::to_vec(output).map_err(|e| error(e.to_string()))?;
            rows.push((key, compress(&json).map_err(&error)?));
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let mut connection = self.connection.lock().map_err(|e| error(e.to_string()))?;
        // Immediate: take the write lock up front, waiting on the busy timeout, rather than fail
        // on upgrading a read lock while another process writes.
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| error(e.to_string()))?;
        {
            let mut insert = transaction
                .prepare_cached(
                    "INSERT OR REPLACE INTO layer_results (key, stored_at, data) \
                     VALUES (?1, ?2, ?3)",
                )
                .map_err(|e| error(e.to_string()))?;
            for (key, data) in &rows {
                insert
                    .execute(params![key, now, data])
                    .map_err(|e| error(e.to_string()))?;
            }
        }
        if let Some((identity, diff_id)) = verified {
            transaction
                .prepare_cached(
                    "INSERT OR REPLACE INTO verified_layers (identity, diff_id, verified_at) \
                     VALUES (?1, ?2, ?3)",
                )
                .and_then(|mut statement| statement.execute(params![identity, diff_id, now]))
                .map_err(|e| error(e.to_string()))?;
        }
        transaction.commit().map_err(|e| error(e.to_string()))
    }

    /// Looks up everything cached for one layer and a list of analyzers.
    pub(crate) fn lookup(
        &self,
        diff_id: &str,
        limits: &str,
        analyzers: &[Box<dyn FileAnalyzer>],
    ) -> CachedLayer {
        let mut layer = CachedLayer::keys(diff_id, limits, analyzers);
        for (slot, key) in layer.outputs.iter_mut().zip(&layer.output_keys) {
            *slot = self.get_output(key);
        }
        // The base is only worth decoding when the layer need not be walked at all.
        if layer.outputs.iter().all(Option::is_some) {
            layer.base = self.get_base(&layer.base_key);
        }
        layer
    }
}

/// What the cache holds for one layer, and so what a walk of it must still produce.
pub(crate) struct CachedLayer {
    pub(crate) base_key: String,
    /// One per analyzer, in the scanner's order.
    output_keys: Vec<String>,
    outputs: Vec<Option<AnalysisOutput>>,
    /// Loaded only when every analyzer's output was found too.
    base: Option<LayerWalk>,
}

impl CachedLayer {
    /// Keys only, nothing loaded: for scans without a cache.
    pub(crate) fn keys(
        diff_id: &str,
        limits: &str,
        analyzers: &[Box<dyn FileAnalyzer>],
    ) -> CachedLayer {
        CachedLayer {
            base_key: LayerCache::base_key(diff_id, limits),
            output_keys: analyzers
                .iter()
                .map(|a| LayerCache::analyzer_key(diff_id, limits, a.name(), &a.fingerprint()))
                .collect(),
            outputs: vec![None; analyzers.len()],
            base: None,
        }
    }

    /// Complete in the cache: the layer need not be opened.
    pub(crate) fn is_complete(&self) -> bool {
        self.base.is_some()
    }

    /// The analyzers (by index) whose output is missing: the ones a walk of this layer must run.
    pub(crate) fn missing(&self) -> Vec<usize> {
        (0..self.outputs.len())
            .filter(|&index| self.outputs[index].is_none())
            .collect()
    }

    /// The keys under which a walk's outputs (one per [`CachedLayer::missing`] analyzer, in that
    /// order) are stored.
    pub(crate) fn missing_keys(&self) -> impl Iterator<Item = &str> {
        self.missing()
            .into_iter()
            .map(|index| self.output_keys[index].as_str())
    }

    /// The whole walk, every analyzer's output in order: from the cache alone, or with `walked`
    /// (a walk that ran the missing analyzers) filling the gaps. `None` when something is missing.
    pub(crate) fn complete(self, walked: Option<LayerWalk>) -> Option<LayerWalk> {
        let (mut walk, fresh) = match walked {
            Some(mut walk) => {
                let fresh = std::mem::take(&mut walk.analyzer_outputs);
                (walk, fresh)
            }
            None => (self.base?, Vec::new()),
        };
        let mut fresh = fresh.into_iter();
        walk.analyzer_outputs = self
            .outputs
            .into_iter()
            .map(|cached| cached.or_else(|| fresh.next()))
            .collect::<Option<_>>()?;
        Some(walk)
    }
}

/// Opens the cache file, in WAL mode, with its tables.
fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(Duration::from_secs(30))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    // One immediate transaction: the write lock is taken up front, waiting on the busy timeout.
    connection.execute_batch(
        "BEGIN IMMEDIATE;
        CREATE TABLE IF NOT EXISTS layer_results (
            key TEXT PRIMARY KEY,
            stored_at INTEGER NOT NULL,
            data BLOB NOT NULL
        );
        -- Layers whose bytes a walk has checked against their diff id: the identity is the
        -- source's name for the bytes (a blob digest, an archive member).
        CREATE TABLE IF NOT EXISTS verified_layers (
            identity TEXT NOT NULL,
            diff_id TEXT NOT NULL,
            verified_at INTEGER NOT NULL,
            PRIMARY KEY (identity, diff_id)
        ) WITHOUT ROWID;
        COMMIT;",
    )?;
    Ok(connection)
}

fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Each part is length-prefixed, so that no two lists of parts hash the same text.
fn key(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("v{FORMAT_VERSION}\n"));
    for part in parts {
        hasher.update(format!("{}:", part.len()));
        hasher.update(part.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

fn compress(bytes: &[u8]) -> Result<Vec<u8>, String> {
    zstd::encode_all(bytes, 3).map_err(|e| e.to_string())
}
