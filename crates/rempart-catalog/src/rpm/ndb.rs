//! The NDB package file `Packages.db` of SUSE (openSUSE Leap and Tumbleweed, SLES 15, SLE BCI):
//! rpm's own format (`lib/backend/ndb/rpmpkg.c`), every integer little-endian.
//!
//! The file starts with slot pages of 4096 bytes. The first 32 bytes are the file header (`RpmP`,
//! format version 0, generation, number of slot pages, next package index); the rest of the slot
//! pages are 16-byte slots (`Slot`, package index, block offset, block count), free when the
//! offset is zero. Offsets and counts are in 16-byte blocks. A slot points at a blob: a 16-byte
//! head (`BlbS`, package index, generation, length), the RPM header, padding to a block, and a
//! 12-byte tail (checksum, length, `BlbE`).
//!
//! Each blob is borrowed from the file, never copied. A sound file's blobs do not overlap, so
//! slots claiming more blocks than the file holds are refused: crafted slots all pointing at one
//! large blob cannot make the headers parse many times over.

const FILE_MAGIC: &[u8; 4] = b"RpmP";
const SLOT_MAGIC: &[u8; 4] = b"Slot";
const BLOB_HEAD_MAGIC: &[u8; 4] = b"BlbS";
const BLOB_TAIL_MAGIC: &[u8; 4] = b"BlbE";
const FORMAT_VERSION: u32 = 0;
const FILE_HEADER: usize = 32;
const PAGE: usize = 4096;
const SLOT: usize = 16;
const BLOCK: usize = 16;
const BLOB_HEAD: usize = 16;
const BLOB_TAIL: usize = 12;

fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn to_usize(value: u32) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// Why a whole file is refused.
#[derive(Debug)]
pub(super) enum Refused {
    Damaged(String),
    TooManyPackages,
}

impl From<&str> for Refused {
    fn from(message: &str) -> Self {
        Refused::Damaged(message.to_owned())
    }
}

impl From<String> for Refused {
    fn from(message: String) -> Self {
        Refused::Damaged(message)
    }
}

/// The RPM header blobs of an NDB package file, in slot order. A blob that cannot be read is
/// returned as an error so the caller can report it and go on; a file whose header or slot area
/// is damaged, or with more than `max_packages` packages, is refused whole.
pub(super) fn blobs(
    data: &[u8],
    max_packages: usize,
) -> Result<Vec<Result<&[u8], String>>, Refused> {
    if data.get(..4) != Some(FILE_MAGIC) {
        return Err("not an NDB package file".into());
    }
    let version = le32(data, 4).ok_or("truncated file header")?;
    if version != FORMAT_VERSION {
        return Err(format!("unknown format version {version}").into());
    }
    let slot_pages = to_usize(le32(data, 12).ok_or("truncated file header")?);
    let slot_area = slot_pages
        .checked_mul(PAGE)
        .filter(|&end| slot_pages > 0 && end <= data.len())
        .ok_or_else(|| {
            format!(
                "{slot_pages} slot pages do not fit in a file of {} bytes",
                data.len()
            )
        })?;
    let file_blocks = data.len() / BLOCK;
    let mut slots = Vec::new();
    for (number, slot) in data[FILE_HEADER..slot_area].chunks_exact(SLOT).enumerate() {
        if &slot[..4] != SLOT_MAGIC {
            return Err(format!("slot {number}: bad magic").into());
        }
        let offset = le32(slot, 8).map_or(0, to_usize);
        if offset == 0 {
            continue;
        }
        if slots.len() == max_packages {
            return Err(Refused::TooManyPackages);
        }
        let index = le32(slot, 4).unwrap_or(0);
        let count = le32(slot, 12).map_or(0, to_usize);
        slots.push((number, index, offset, count));
    }
    // Blobs never overlap, so their blocks add up to less than the file.
    let claimed = slots
        .iter()
        .try_fold(0usize, |total, &(_, _, _, count)| total.checked_add(count));
    if claimed.is_none_or(|total| total > file_blocks) {
        return Err("slots claim more blocks than the file holds".into());
    }
    let first_blob_block = slot_area / BLOCK;
    Ok(slots
        .into_iter()
        .map(|(number, index, offset, count)| {
            if offset < first_blob_block {
                return Err(format!("slot {number}: blob inside the slot area"));
            }
            blob(data, index, offset, count)
                .map_err(|message| format!("slot {number}, package {index}: {message}"))
        })
        .collect())
}

/// The header stored in `count` blocks from block `offset`, between the blob's head and tail.
fn blob(data: &[u8], index: u32, offset: usize, count: usize) -> Result<&[u8], String> {
    let start = offset.checked_mul(BLOCK);
    let size = count.checked_mul(BLOCK);
    let stored = start
        .zip(size)
        .and_then(|(start, size)| data.get(start..start.checked_add(size)?))
        .ok_or("blob beyond the end of the file")?;
    if stored.len() < BLOB_HEAD + BLOB_TAIL || &stored[..4] != BLOB_HEAD_MAGIC {
        return Err("no blob at the slot's offset".to_owned());
    }
    if le32(stored, 4) != Some(index) {
        return Err("blob of another package".to_owned());
    }
    let declared = le32(stored, 12).unwrap_or_default();
    let length = to_usize(declared);
    // rpm pads every blob to a whole block and refuses any other size.
    let padded = length
        .checked_add(BLOB_HEAD + BLOB_TAIL)
        .map(|total| total.div_ceil(BLOCK) * BLOCK);
    if padded != Some(stored.len()) {
        return Err(format!(
            "blob length {length} does not fit its {} bytes",
            stored.len()
        ));
    }
    let tail = &stored[stored.len() - BLOB_TAIL..];
    if le32(tail, 4) != Some(declared) || &tail[8..] != BLOB_TAIL_MAGIC {
        return Err("blob tail missing or inconsistent".to_owned());
    }
    Ok(&stored[BLOB_HEAD..BLOB_HEAD + length])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_an_ndb_file() {
        let damaged = |data: &[u8]| match blobs(data, 10) {
            Err(Refused::Damaged(message)) => message,
            other => panic!("{other:?}"),
        };
        assert_eq!(damaged(b""), "not an NDB package file");
        assert_eq!(damaged(b"RpmP"), "truncated file header");
        let mut header = vec![0u8; PAGE];
        header[..4].copy_from_slice(FILE_MAGIC);
        header[12] = 2;
        assert!(damaged(&header).starts_with("2 slot pages do not fit"));
        header[12] = 0;
        assert!(damaged(&header).starts_with("0 slot pages"));
    }
}
