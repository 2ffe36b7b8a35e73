//! A file content's verdict, computed once: the cache is keyed by what changes when the content
//! can have changed.

use std::collections::HashMap;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt as _;
use std::sync::Mutex;

/// Identifies one version of a file's content: a write changes the modification time, and
/// anything that could swap the content under the same times (a `touch -r`, a restored
/// backup) changes the inode's change time, which no unprivileged call can set back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FileKey {
    device: u64,
    inode: u64,
    size: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl FileKey {
    pub(crate) fn of(meta: &Metadata) -> FileKey {
        FileKey {
            device: meta.dev(),
            inode: meta.ino(),
            size: meta.size(),
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

/// What the content of a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ContentVerdict {
    Clean,
    /// A malware rule or hash matched: the first finding's code and title.
    Malware {
        rule: String,
        title: String,
    },
    /// Not judged, and why.
    Unscanned(String),
}

/// Verdicts by file version, bounded: emptied when full (the cost of a miss is one scan, and a
/// working set rarely nears the bound).
pub(crate) struct VerdictCache {
    entries: Mutex<HashMap<FileKey, ContentVerdict>>,
    capacity: usize,
}

impl VerdictCache {
    pub(crate) fn new(capacity: usize) -> VerdictCache {
        VerdictCache {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn get(&self, key: &FileKey) -> Option<ContentVerdict> {
        lock(&self.entries).get(key).cloned()
    }

    pub(crate) fn insert(&self, key: FileKey, verdict: ContentVerdict) {
        let mut entries = lock(&self.entries);
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(key, verdict);
    }
}

/// A poisoned lock only means another thread panicked mid-update of a cache: its content is
/// still a valid cache.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewritten_file_is_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "one").unwrap();
        let first = FileKey::of(&std::fs::metadata(&path).unwrap());
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, "two").unwrap();
        let second = FileKey::of(&std::fs::metadata(&path).unwrap());
        assert_ne!(first, second);
        let again = FileKey::of(&std::fs::metadata(&path).unwrap());
        assert_eq!(second, again, "an unchanged file keeps its key");
    }

    #[test]
    fn the_cache_stays_within_its_bound() {
        let cache = VerdictCache::new(2);
        let dir = tempfile::tempdir().unwrap();
        let keys: Vec<FileKey> = (0..3)
            .map(|i| {
                let path = dir.path().join(i.to_string());
                std::fs::write(&path, "x").unwrap();
                FileKey::of(&std::fs::metadata(&path).unwrap())
            })
            .collect();
        for key in &keys {
            cache.insert(*key, ContentVerdict::Clean);
        }
        assert!(lock(&cache.entries).len() <= 2);
        assert_eq!(cache.get(&keys[2]), Some(ContentVerdict::Clean));
    }
}
