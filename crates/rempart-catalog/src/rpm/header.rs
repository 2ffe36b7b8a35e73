//! The RPM header structure as stored in the database: a count of index entries, the size of
//! the data store, 16-byte index entries (tag, type, offset, count), then the data store.

pub(super) const NAME: u32 = 1000;
pub(super) const VERSION: u32 = 1001;
pub(super) const RELEASE: u32 = 1002;
pub(super) const EPOCH: u32 = 1003;
pub(super) const LICENSE: u32 = 1014;
pub(super) const ARCH: u32 = 1022;
pub(super) const SOURCERPM: u32 = 1044;
/// `name:stream:version:context` of the `AppStream` module stream a package was built in.
pub(super) const MODULARITYLABEL: u32 = 5096;
const DIRINDEXES: u32 = 1116;
const BASENAMES: u32 = 1117;
const DIRNAMES: u32 = 1118;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// rpm itself refuses headers with more index entries or data than this.
const MAX_INDEX_ENTRIES: usize = 0xffff;
const MAX_DATA: usize = 256 * 1024 * 1024;

#[derive(Clone, Copy)]
struct Entry {
    tag: u32,
    kind: u32,
    offset: usize,
    count: usize,
}

pub(super) struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

impl<'a> Header<'a> {
    pub(super) fn parse(blob: &'a [u8]) -> Result<Self, String> {
        let index_count = be32(blob, 0).ok_or("truncated header")? as usize;
        let data_len = be32(blob, 4).ok_or("truncated header")? as usize;
        if index_count > MAX_INDEX_ENTRIES || data_len > MAX_DATA {
            return Err(format!(
                "implausible header ({index_count} entries, {data_len} bytes)"
            ));
        }
        let data_start = 8 + index_count * 16;
        let data = blob
            .get(data_start..data_start + data_len)
            .ok_or("header shorter than its declared size")?;
        let mut entries = Vec::with_capacity(index_count);
        for index in 0..index_count {
            let at = 8 + index * 16;
            let (Some(tag), Some(kind), Some(offset), Some(count)) = (
                be32(blob, at),
                be32(blob, at + 4),
                be32(blob, at + 8),
                be32(blob, at + 12),
            ) else {
                return Err("truncated index".to_owned());
            };
            entries.push(Entry {
                tag,
                kind,
                offset: offset as usize,
                count: count as usize,
            });
        }
        Ok(Header { entries, data })
    }

    fn entry(&self, tag: u32) -> Option<Entry> {
        self.entries.iter().copied().find(|e| e.tag == tag)
    }

    fn c_string(&self, offset: usize) -> Option<(&'a str, usize)> {
        let bytes = self.data.get(offset..)?;
        let end = bytes.iter().position(|b| *b == 0)?;
        Some((std::str::from_utf8(&bytes[..end]).ok()?, offset + end + 1))
    }

    pub(super) fn string(&self, tag: u32) -> Option<&'a str> {
        let entry = self.entry(tag)?;
        match entry.kind {
            // An I18N string is an array of translations; the first is the untranslated one.
            TYPE_STRING | TYPE_I18NSTRING | TYPE_STRING_ARRAY => {
                self.c_string(entry.offset).map(|(s, _)| s)
            }
            _ => None,
        }
    }

    pub(super) fn strings(&self, tag: u32) -> Option<Vec<&'a str>> {
        let entry = self.entry(tag)?;
        if entry.kind != TYPE_STRING_ARRAY || entry.count > self.data.len() {
            return None;
        }
        let mut values = Vec::with_capacity(entry.count);
        let mut offset = entry.offset;
        for _ in 0..entry.count {
            let (value, next) = self.c_string(offset)?;
            values.push(value);
            offset = next;
        }
        Some(values)
    }

    pub(super) fn int32s(&self, tag: u32) -> Option<Vec<i32>> {
        let entry = self.entry(tag)?;
        if entry.kind != TYPE_INT32 {
            return None;
        }
        let bytes = self
            .data
            .get(entry.offset..entry.offset.checked_add(entry.count.checked_mul(4)?)?)?;
        Some(
            bytes
                .chunks_exact(4)
                .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        )
    }

    /// The package's files, relative to the root.
    pub(super) fn file_paths(&self) -> Vec<String> {
        let (Some(base), Some(dirs), Some(indexes)) = (
            self.strings(BASENAMES),
            self.strings(DIRNAMES),
            self.int32s(DIRINDEXES),
        ) else {
            return Vec::new();
        };
        base.iter()
            .zip(indexes)
            .filter_map(|(base, index)| {
                let dir = dirs.get(usize::try_from(index).ok()?)?;
                let full = format!("{dir}{base}");
                rempart_core::normalize_entry_path(&full).ok()
            })
            .collect()
    }
}
