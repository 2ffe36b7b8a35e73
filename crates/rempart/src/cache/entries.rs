//! The stored form of a layer's entries: the bulk of a cached walk, and what a warm scan spends
//! its time decoding.
//!
//! Each entry is a JSON array instead of an object: `[shared, "rest", kind, size, mode, uid, gid]`
//! (plus the link target for links), where the path is the previous entry's first `shared` bytes
//! followed by `rest`. Tar order keeps a directory's entries together, so most paths share a long
//! prefix with the one before. Compared with the entries' own serde form (a flattened, tagged
//! `kind`, which serde can only read through a buffered map), this reads about three times faster
//! and stores about half the text. Hand-written because it is a private cache format: no crate
//! front-codes a list of serde values.

use rempart_core::{EntryKind, InventoryEntry};
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserializer, Serializer};

const FILE: u8 = 0;
const DIR: u8 = 1;
const SYMLINK: u8 = 2;
const HARD_LINK: u8 = 3;
const DEVICE: u8 = 4;
const FIFO: u8 = 5;

/// One stored entry, fields in the order they are written.
type Stored<'a> = (usize, &'a str, u8, u64, u32, u64, u64, Option<&'a str>);

pub(super) fn serialize<S: Serializer>(
    entries: &[InventoryEntry],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut seq = serializer.serialize_seq(Some(entries.len()))?;
    let mut previous = "";
    for entry in entries {
        let path = entry.path.as_str();
        let shared = shared_prefix(previous, path);
        let (kind, target) = match &entry.kind {
            EntryKind::File => (FILE, None),
            EntryKind::Dir => (DIR, None),
            EntryKind::Symlink { target } => (SYMLINK, Some(target.as_str())),
            EntryKind::HardLink { target } => (HARD_LINK, Some(target.as_str())),
            EntryKind::Device => (DEVICE, None),
            EntryKind::Fifo => (FIFO, None),
        };
        let stored: Stored<'_> = (
            shared,
            &path[shared..],
            kind,
            entry.size,
            entry.mode,
            entry.uid,
            entry.gid,
            target,
        );
        if target.is_some() {
            seq.serialize_element(&stored)?;
        } else {
            let (shared, rest, kind, size, mode, uid, gid, _) = stored;
            seq.serialize_element(&(shared, rest, kind, size, mode, uid, gid))?;
        }
        previous = path;
    }
    seq.end()
}

pub(super) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<InventoryEntry>, D::Error> {
    deserializer.deserialize_seq(EntriesVisitor)
}

/// The longest common prefix of two paths, in bytes, ending on a character boundary.
fn shared_prefix(a: &str, b: &str) -> usize {
    let mut shared = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    while !b.is_char_boundary(shared) {
        shared -= 1;
    }
    shared
}

struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = Vec<InventoryEntry>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of stored entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut entries: Vec<InventoryEntry> = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(stored) = seq.next_element::<StoredOwned<'de>>()? {
            let previous = entries.last().map_or("", |e| e.path.as_str());
            let prefix = previous
                .get(..stored.shared)
                .ok_or_else(|| de::Error::custom("shared prefix longer than the previous path"))?;
            let mut path = String::with_capacity(stored.shared + stored.rest.len());
            path.push_str(prefix);
            path.push_str(&stored.rest);
            let target = || {
                stored
                    .target
                    .as_deref()
                    .map(str::to_owned)
                    .ok_or_else(|| de::Error::custom("link without a target"))
            };
            let kind = match stored.kind {
                FILE => EntryKind::File,
                DIR => EntryKind::Dir,
                SYMLINK => EntryKind::Symlink { target: target()? },
                HARD_LINK => EntryKind::HardLink { target: target()? },
                DEVICE => EntryKind::Device,
                FIFO => EntryKind::Fifo,
                other => return Err(de::Error::custom(format!("unknown entry kind {other}"))),
            };
            entries.push(InventoryEntry {
                path,
                kind,
                size: stored.size,
                mode: stored.mode,
                uid: stored.uid,
                gid: stored.gid,
                layer: 0,
            });
        }
        Ok(entries)
    }
}

/// A stored entry as read: the strings borrowed from the input when they hold no escapes.
#[derive(serde::Deserialize)]
struct StoredOwned<'a> {
    shared: usize,
    #[serde(borrow)]
    rest: std::borrow::Cow<'a, str>,
    kind: u8,
    size: u64,
    mode: u32,
    uid: u64,
    gid: u64,
    #[serde(borrow, default)]
    target: Option<std::borrow::Cow<'a, str>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Wrapper {
        #[serde(serialize_with = "serialize", deserialize_with = "deserialize")]
        entries: Vec<InventoryEntry>,
    }

    fn entry(path: &str, kind: EntryKind) -> InventoryEntry {
        InventoryEntry {
            path: path.into(),
            kind,
            size: 7,
            mode: 0o4755,
            uid: 1000,
            gid: 50,
            layer: 0,
        }
    }

    #[test]
    fn round_trips_every_kind_and_paths_with_shared_multibyte_prefixes() {
        let entries = vec![
            entry("usr", EntryKind::Dir),
            entry("usr/bin/ls", EntryKind::File),
            entry(
                "usr/bin/sh",
                EntryKind::Symlink {
                    target: "dash".into(),
                },
            ),
            entry(
                "usr/bin/ln",
                EntryKind::HardLink {
                    target: "usr/bin/ls".into(),
                },
            ),
            entry("dev/null", EntryKind::Device),
            entry("run/fifo", EntryKind::Fifo),
            // Share the first byte of a two-byte character only: the prefix stops before it.
            entry("données/é", EntryKind::File),
            entry("données/è\"quoted\\", EntryKind::File),
        ];
        let json = serde_json::to_string(&Wrapper {
            entries: entries.clone(),
        })
        .unwrap();
        let back: Wrapper = serde_json::from_str(&json).unwrap();
        assert_eq!(back.entries, entries);
        assert!(
            json.contains(r#"[8,"sh",2,7,2541,1000,50,"dash"]"#),
            "{json}"
        );
    }

    #[test]
    fn rejects_a_prefix_longer_than_the_previous_path_and_unknown_kinds() {
        for json in [
            r#"{"entries":[[3,"x",0,0,0,0,0]]}"#,
            r#"{"entries":[[0,"x",9,0,0,0,0]]}"#,
            r#"{"entries":[[0,"x",2,0,0,0,0]]}"#,
        ] {
            assert!(serde_json::from_str::<Wrapper>(json).is_err(), "{json}");
        }
    }
}
