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
//!
//! Several machines can share their results through a second tier ([`SharedLayerResults`]; the
//! server's is its PostgreSQL store): a row missing here is looked up there and copied here, and
//! every row stored here is stored there too. The local file stays the first tier: it is always
//! there and answers without a network round trip.

mod entries;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rempart_core::{AnalysisOutput, FileAnalyzer, InventoryEntry};
use rempart_image::LayerWalk;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ScanError;

/// Bump when the stored format changes; old rows are then simply not found.
/// 4: results follow hard links and overwrites within a layer; 5: dangling hard links recorded.
const FORMAT_VERSION: u32 = 5;

/// How long the shared tier is left alone after it failed: a database that is down would
/// otherwise cost every lookup of every layer a connection timeout.
const SHARED_PAUSE: Duration = Duration::from_secs(30);

/// A second tier of the layer cache, shared by several machines. Values are the compressed rows
/// the local tier stores, under the same keys (which carry the format version); a verified fact
/// says that a walk checked the bytes named `identity` against `diff_id`.
///
/// Errors are reported, never fatal: the cache logs them and goes on without the shared tier
/// for a while. An implementation must bound the time of every call.
pub trait SharedLayerResults: Send + Sync {
    /// The row stored under `key`, if any.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String>;
    /// Stores a row; a row already stored under `key` (by another machine) is kept, not an error.
    fn put(&self, key: &str, data: &[u8]) -> Result<(), String>;
    /// True when some machine recorded, after walking them, that the bytes named `identity`
    /// have diff id `diff_id`.
    fn is_verified(&self, identity: &str, diff_id: &str) -> Result<bool, String>;
    /// Records that a walk checked the bytes named `identity` against `diff_id`.
    fn mark_verified(&self, identity: &str, diff_id: &str) -> Result<(), String>;
}

/// Which tier answered a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    Local,
    Shared,
}

/// The layer cache.
pub struct LayerCache {
    path: PathBuf,
    connection: Mutex<Connection>,
    shared: Option<Arc<dyn SharedLayerResults>>,
    /// Until when the shared tier is not asked, after it failed.
    shared_paused_until: Mutex<Option<Instant>>,
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
            connection: Mutex::new(connection),
            shared: None,
            shared_paused_until: Mutex::new(None),
        })
    }

    /// Adds a shared second tier: rows missing here are looked up there (and copied here), and
    /// rows stored here are stored there too.
    #[must_use]
    pub fn with_shared(mut self, shared: Arc<dyn SharedLayerResults>) -> LayerCache {
        self.shared = Some(shared);
        self
    }

    /// The shared tier, unless there is none or it failed a moment ago.
    fn shared(&self) -> Option<&dyn SharedLayerResults> {
        let shared = self.shared.as_deref()?;
        let paused = *self.shared_paused_until.lock().ok()?;
        match paused {
            Some(until) if Instant::now() < until => None,
            _ => Some(shared),
        }
    }

    /// A failure of the shared tier slows scans down and must not fail them: it is logged, and
    /// the tier is left alone for [`SHARED_PAUSE`].
    fn shared_failed(&self, what: &str, error: &str) {
        tracing::warn!(
            "shared layer cache: {what}: {error}; not used for the next {} s",
            SHARED_PAUSE.as_secs()
        );
        if let Ok(mut until) = self.shared_paused_until.lock() {
            *until = Some(Instant::now() + SHARED_PAUSE);
        }
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
        self.verified(identity, diff_id).is_some()
    }

    /// Which tier knows that a walk verified the bytes named `identity` to have diff id
    /// `diff_id`, if any. Only content addresses are asked of the shared tier (see
    /// [`is_content_address`]); a fact found there is copied here.
    pub(crate) fn verified(&self, identity: &str, diff_id: &str) -> Option<Tier> {
        if self.is_verified_locally(identity, diff_id) {
            return Some(Tier::Local);
        }
        if !is_content_address(identity) {
            return None;
        }
        let shared = self.shared()?;
        match shared.is_verified(identity, diff_id) {
            Ok(true) => {
                if let Err(error) = self.record_verified(identity, diff_id) {
                    tracing::debug!(%error, "could not copy a verified layer into the local cache");
                }
                Some(Tier::Shared)
            }
            Ok(false) => None,
            Err(error) => {
                self.shared_failed("checking a verified layer", &error);
                None
            }
        }
    }

    fn is_verified_locally(&self, identity: &str, diff_id: &str) -> bool {
        let Ok(connection) = self.connection.lock() else {
            return false;
        };
        connection
            .prepare_cached("SELECT 1 FROM verified_layers WHERE identity = ?1 AND diff_id = ?2")
            .and_then(|mut statement| statement.exists(params![identity, diff_id]))
            .unwrap_or(false)
    }

    /// Copies a verified fact of the shared tier here.
    fn record_verified(&self, identity: &str, diff_id: &str) -> rusqlite::Result<()> {
        let connection = self
            .connection
            .lock()
            .map_err(|_| rusqlite::Error::InvalidQuery)?;
        connection
            .prepare_cached(
                "INSERT OR IGNORE INTO verified_layers (identity, diff_id, verified_at) \
                 VALUES (?1, ?2, ?3)",
            )?
            .execute(params![identity, diff_id, now_seconds()])
            .map(|_| ())
    }

    /// A cached walk base (its `analyzer_outputs` empty), if any.
    pub fn get_base(&self, key: &str) -> Option<LayerWalk> {
        self.get_base_from(key).map(|(walk, _)| walk)
    }

    fn get_base_from(&self, key: &str) -> Option<(LayerWalk, Tier)> {
        let (row, tier) = self.get(key)?;
        let walk = postcard::from_bytes::<StoredBase<'_>>(&row)
            .ok()?
            .into_walk()?;
        Some((walk, tier))
    }

    /// One analyzer's cached output for a layer, if any.
    pub fn get_output(&self, key: &str) -> Option<AnalysisOutput> {
        self.get_output_from(key).map(|(output, _)| output)
    }

    fn get_output_from(&self, key: &str) -> Option<(AnalysisOutput, Tier)> {
        let (row, tier) = self.get(key)?;
        Some((serde_json::from_slice(&row).ok()?, tier))
    }

    /// A row, decompressed, and the tier it came from: this file, else the shared tier (the row
    /// is then copied here). A row that cannot be read or decoded is treated as absent (and will
    /// be overwritten): the cache must never make a scan fail.
    fn get(&self, key: &str) -> Option<(Vec<u8>, Tier)> {
        if let Some(row) = self
            .get_local(key)
            .and_then(|data| zstd::decode_all(&data[..]).ok())
        {
            return Some((row, Tier::Local));
        }
        let shared = self.shared()?;
        let data = match shared.get(key) {
            Ok(data) => data?,
            Err(error) => {
                self.shared_failed("reading a layer result", &error);
                return None;
            }
        };
        // Decoded before it is copied: a damaged shared row is not spread to this file.
        let row = zstd::decode_all(&data[..]).ok()?;
        if let Err(error) = self.put_local(&[(key, data)], None) {
            tracing::debug!(%error, "could not copy a shared layer result into the local cache");
        }
        Some((row, Tier::Shared))
    }

    /// A row as stored (compressed), from this file only.
    fn get_local(&self, key: &str) -> Option<Vec<u8>> {
        let connection = self.connection.lock().ok()?;
        connection
            .prepare_cached("SELECT data FROM layer_results WHERE key = ?1")
            .ok()?
            .query_row(params![key], |row| row.get(0))
            .optional()
            .ok()?
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
        drop(base);
        for (key, output) in outputs {
            let json = serde_json::to_vec(output).map_err(|e| error(e.to_string()))?;
            rows.push((key, compress(&json).map_err(&error)?));
        }
        let local = self.put_local(&rows, verified);
        // The shared tier gets the rows even when this file could not take them: the walk
        // verified them all the same.
        self.put_shared(&rows, verified);
        local
    }

    /// Stores compressed rows in this file, in one transaction, and the verified fact if any.
    fn put_local(
        &self,
        rows: &[(&str, Vec<u8>)],
        verified: Option<(&str, &str)>,
    ) -> Result<(), ScanError> {
        let error = |message: String| ScanError::Cache {
            path: self.path.clone(),
            message,
        };
        let now = now_seconds();
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
            for (key, data) in rows {
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

    /// Stores rows in the shared tier, one at a time (a row can be several MB: no batch of them
    /// is built), then the verified fact: a machine that finds the fact finds the rows too. The
    /// fact is shared only for a content address; stops at the first failure.
    fn put_shared(&self, rows: &[(&str, Vec<u8>)], verified: Option<(&str, &str)>) {
        let Some(shared) = self.shared() else {
            return;
        };
        for (key, data) in rows {
            if let Err(error) = shared.put(key, data) {
                self.shared_failed("storing a layer result", &error);
                return;
            }
        }
        if let Some((identity, diff_id)) =
            verified.filter(|(identity, _)| is_content_address(identity))
            && let Err(error) = shared.mark_verified(identity, diff_id)
        {
            self.shared_failed("recording a verified layer", &error);
        }
    }

    /// Looks up everything cached for one layer and a list of analyzers.
    pub(crate) fn lookup(
        &self,
        diff_id: &str,
        limits: &str,
        analyzers: &[Box<dyn FileAnalyzer>],
    ) -> CachedLayer {
        let mut layer = CachedLayer::keys(diff_id, limits, analyzers);
        let mut tiers = Vec::new();
        for (slot, key) in layer.outputs.iter_mut().zip(&layer.output_keys) {
            *slot = self.get_output_from(key).map(|(output, tier)| {
                tiers.push(tier);
                output
            });
        }
        // The base is only worth decoding when the layer need not be walked at all.
        if layer.outputs.iter().all(Option::is_some) {
            layer.base = self.get_base_from(&layer.base_key).map(|(base, tier)| {
                tiers.push(tier);
                base
            });
        }
        layer.from_shared = tiers.contains(&Tier::Shared);
        layer
    }
}

/// True for a content address (`sha256:` and 64 hex digits, or `sha512:` and 128): the name of
/// the same bytes on every machine. Other identities (a docker archive's device, inode and times)
/// mean something on the machine that took them only, so their verified facts stay in the local
/// tier: on another machine the same text could name other bytes.
fn is_content_address(identity: &str) -> bool {
    let hex_of = |digits: &str, length: usize| {
        digits.len() == length
            && digits
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    match identity.split_once(':') {
        Some(("sha256", digits)) => hex_of(digits, 64),
        Some(("sha512", digits)) => hex_of(digits, 128),
        _ => false,
    }
}

fn now_seconds() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(now).unwrap_or(i64::MAX)
}

/// What the cache holds for one layer, and so what a walk of it must still produce.
pub(crate) struct CachedLayer {
    pub(crate) base_key: String,
    /// One per analyzer, in the scanner's order.
    output_keys: Vec<String>,
    outputs: Vec<Option<AnalysisOutput>>,
    /// Loaded only when every analyzer's output was found too.
    base: Option<LayerWalk>,
    /// Something of it (a row, or the fact that its identity was verified) came from the shared
    /// tier.
    pub(crate) from_shared: bool,
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
            from_shared: false,
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// Records the verified facts it is given, and holds one it was given for a file identity.
    #[derive(Default)]
    struct Facts(Mutex<HashSet<(String, String)>>);

    impl SharedLayerResults for Facts {
        fn get(&self, _key: &str) -> Result<Option<Vec<u8>>, String> {
            Ok(None)
        }
        fn put(&self, _key: &str, _data: &[u8]) -> Result<(), String> {
            Ok(())
        }
        fn is_verified(&self, identity: &str, diff_id: &str) -> Result<bool, String> {
            Ok(self
                .0
                .lock()
                .unwrap()
                .contains(&(identity.to_owned(), diff_id.to_owned())))
        }
        fn mark_verified(&self, identity: &str, diff_id: &str) -> Result<(), String> {
            self.0
                .lock()
                .unwrap()
                .insert((identity.to_owned(), diff_id.to_owned()));
            Ok(())
        }
    }

    #[test]
    fn only_content_addresses_are_shared_as_verified() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        let archive = "docker-archive:/data/uploads/x.tar:2049:131:10240:1.0:1.0\nlayer.tar";
        let diff_id = format!("sha256:{}", "cd".repeat(32));
        assert!(is_content_address(&digest));
        assert!(is_content_address(&format!("sha512:{}", "0f".repeat(64))));
        for other in [
            archive,
            "sha256:AB",
            &format!("sha256:{}", "AB".repeat(32)),
            &format!("sha256:{}\n", "ab".repeat(32)),
            &format!("md5:{}", "ab".repeat(16)),
        ] {
            assert!(!is_content_address(other), "{other}");
        }

        let temp = tempfile::tempdir().unwrap();
        let facts = Arc::new(Facts::default());
        let cache = LayerCache::open(&temp.path().join("layers.sqlite"))
            .unwrap()
            .with_shared(Arc::clone(&facts) as Arc<dyn SharedLayerResults>);
        let walk = LayerWalk::default();
        cache
            .put("k1", &walk, &[], Some((archive, &diff_id)))
            .unwrap();
        cache
            .put("k2", &walk, &[], Some((&digest, &diff_id)))
            .unwrap();
        // A file's identity names other bytes on another machine: its fact stays here.
        assert_eq!(
            *facts.0.lock().unwrap(),
            HashSet::from([(digest.clone(), diff_id.clone())])
        );
        // And such a fact is never taken from the shared tier.
        let elsewhere = LayerCache::open(&temp.path().join("other.sqlite"))
            .unwrap()
            .with_shared(Arc::clone(&facts) as Arc<dyn SharedLayerResults>);
        facts.mark_verified(archive, &diff_id).unwrap();
        assert_eq!(elsewhere.verified(archive, &diff_id), None);
        assert_eq!(elsewhere.verified(&digest, &diff_id), Some(Tier::Shared));
        assert_eq!(elsewhere.verified(&digest, &diff_id), Some(Tier::Local));
    }
}
