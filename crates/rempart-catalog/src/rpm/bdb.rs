//! The Berkeley DB hash file `Packages` of RPM 4.15 and earlier (`CentOS` and RHEL 7 and 8, Amazon
//! Linux 2, UBI 8). Values are RPM headers keyed by instance number; rpm's headers are larger
//! than a quarter page, so Berkeley DB stores them on chains of overflow pages.
//!
//! Read without the Berkeley DB library: walk every hash page, pair keys with values, and follow
//! overflow chains with a visit bound, so a hostile file with page cycles costs at most one pass.

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
/// rpm's own cap on a header.
const MAX_VALUE: usize = 256 * 1024 * 1024;

struct Pages<'a> {
    data: &'a [u8],
    page_size: usize,
    little_endian: bool,
}

impl<'a> Pages<'a> {
    fn page(&self, number: usize) -> Option<&'a [u8]> {
        let start = number.checked_mul(self.page_size)?;
        self.data.get(start..start.checked_add(self.page_size)?)
    }

    fn u16(&self, bytes: &[u8], at: usize) -> Option<usize> {
        let b: [u8; 2] = bytes.get(at..at + 2)?.try_into().ok()?;
        Some(usize::from(if self.little_endian {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }))
    }

    fn u32(&self, bytes: &[u8], at: usize) -> Option<usize> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        usize::try_from(if self.little_endian {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
        .ok()
    }

    /// Concatenates an overflow chain starting at `first`.
    fn overflow(&self, first: usize, total: usize) -> Result<Vec<u8>, String> {
        if total > MAX_VALUE {
            return Err(format!("overflow item of {total} bytes"));
        }
        let mut value = Vec::with_capacity(total.min(self.data.len()));
        let mut number = first;
        let mut visited = std::collections::HashSet::new();
        loop {
            if !visited.insert(number) {
                break;
            }
            let page = self.page(number).ok_or("overflow page out of the file")?;
            let used = self.u16(page, 22).ok_or("truncated page")?;
            let chunk = page
                .get(PAGE_HEADER..PAGE_HEADER + used)
                .ok_or("overflow page length beyond the page")?;
            value.extend_from_slice(chunk);
            if value.len() >= total {
                value.truncate(total);
                return Ok(value);
            }
            number = self.u32(page, 16).ok_or("truncated page")?;
            if number == 0 {
                break;
            }
        }
        Err("overflow chain ends early or loops".to_owned())
    }
}

/// The header blobs stored in a Berkeley DB hash database, in page order. Items that cannot be
/// read are returned as errors so the caller can report them and go on.
pub(super) fn values(data: &[u8]) -> Result<Vec<Result<Vec<u8>, String>>, String> {
    let magic = data
        .get(12..16)
        .ok_or("file shorter than a database header")?;
    let little_endian = if u32::from_le_bytes(magic.try_into().unwrap_or_default()) == HASH_MAGIC {
        true
    } else if u32::from_be_bytes(magic.try_into().unwrap_or_default()) == HASH_MAGIC {
        false
    } else {
        return Err("not a Berkeley DB hash database".to_owned());
    };
    let mut pages = Pages {
        data,
        page_size: 512,
        little_endian,
    };
    let page_size = pages.u32(data, 20).ok_or("truncated meta page")?;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!("implausible page size {page_size}"));
    }
    pages.page_size = page_size;
    let page_count = data.len() / page_size;
    let mut values = Vec::new();
    // Every page holds part of one value only, so the values of a sound file add up to less
    // than the file; crafted entries sharing one long overflow chain would not.
    let mut budget = data.len();
    for number in 1..page_count {
        let Some(page) = pages.page(number) else {
            break;
        };
        if page[25] != P_HASH && page[25] != P_HASH_UNSORTED {
            continue;
        }
        let entries = pages.u16(page, 20).unwrap_or(0);
        // Entries alternate key, value; the index array must fit in the page.
        if PAGE_HEADER + entries * 2 > page_size {
            values.push(Err(format!("page {number}: index beyond the page")));
            continue;
        }
        for index in (1..entries).step_by(2) {
            let Some(offset) = pages.u16(page, PAGE_HEADER + index * 2) else {
                continue;
            };
            // Items are laid out from the end of the page down, in index order.
            let end = pages
                .u16(page, PAGE_HEADER + (index - 1) * 2)
                .unwrap_or(page_size);
            let Some(&kind) = page.get(offset) else {
                values.push(Err(format!("page {number}: item beyond the page")));
                continue;
            };
            match kind {
                H_OFFPAGE => {
                    let first = pages.u32(page, offset + 4);
                    let total = pages.u32(page, offset + 8);
                    if let (Some(first), Some(total)) = (first, total) {
                        if total > budget {
                            return Err("values add up to more than the file".to_owned());
                        }
                        budget -= total;
                        values.push(pages.overflow(first, total));
                    }
                }
                H_KEYDATA if end > offset => {
                    values.push(
                        page.get(offset + 1..end)
                            .map(<[u8]>::to_vec)
                            .ok_or_else(|| format!("page {number}: item beyond the page")),
                    );
                }
                _ => {}
            }
        }
    }
    Ok(values)
}
