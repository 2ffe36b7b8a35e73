//! Layer decompression chosen by magic bytes, with a guard against decompression bombs.
//!
//! Media types lie (Docker writes `tar.gzip` for zstd layers in some pipelines, and docker-archive
//! layers have no media type at all), so the first bytes decide.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::limits::Limits;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Compression of a layer stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Counts bytes read through it into a shared counter, so the bomb guard can compare compressed
/// and uncompressed sizes while both readers are owned by the decompressor.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Marks an I/O error raised by the guard so the walker can report it as a bomb, not as a
/// corrupt tar.
#[derive(Debug)]
pub(crate) struct LimitExceeded {
    pub(crate) compressed: u64,
    pub(crate) uncompressed: u64,
    pub(crate) ratio: bool,
    pub(crate) limits: Limits,
}

impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "layer size limit exceeded")
    }
}

impl std::error::Error for LimitExceeded {}

/// The decompressed layer stream. Fails with a [`LimitExceeded`] error once the caps are crossed.
pub(crate) struct LayerReader<'a> {
    inner: Box<dyn Read + 'a>,
    compressed: Arc<AtomicU64>,
    uncompressed: u64,
    compression: Compression,
    limits: Limits,
}

impl<'a> LayerReader<'a> {
    /// Wraps a raw (possibly compressed) layer stream.
    pub(crate) fn new(raw: Box<dyn Read + 'a>, limits: Limits) -> io::Result<LayerReader<'a>> {
        let compressed = Arc::new(AtomicU64::new(0));
        let mut buffered = BufReader::with_capacity(
            256 * 1024,
            Counting {
                inner: raw,
                count: Arc::clone(&compressed),
            },
        );
        let head = buffered.fill_buf()?;
        let compression = if head.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else if head.starts_with(&ZSTD_MAGIC) {
            Compression::Zstd
        } else {
            Compression::None
        };
        let inner: Box<dyn Read + 'a> = match compression {
            // MultiGzDecoder: some tools write layers as several concatenated gzip members.
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
            Compression::None => Box::new(buffered),
        };
        Ok(LayerReader {
            inner,
            compressed,
            uncompressed: 0,
            compression,
            limits,
        })
    }

    pub(crate) fn compression(&self) -> Compression {
        self.compression
    }

    #[cfg(test)]
    pub(crate) fn uncompressed_bytes(&self) -> u64 {
        self.uncompressed
    }
}

impl Read for LayerReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.uncompressed += n as u64;
        let compressed = self.compressed.load(Ordering::Relaxed).max(1);
        let ratio_exceeded = self.compression != Compression::None
            && self.uncompressed > self.limits.ratio_threshold_bytes
            && self.uncompressed / compressed > self.limits.max_compression_ratio;
        if ratio_exceeded || self.uncompressed > self.limits.max_layer_bytes {
            return Err(io::Error::other(LimitExceeded {
                compressed,
                uncompressed: self.uncompressed,
                ratio: ratio_exceeded,
                limits: self.limits,
            }));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn detects_by_magic_not_by_name() {
        let plain = b"plain tar bytes".to_vec();
        let reader = LayerReader::new(Box::new(io::Cursor::new(plain)), Limits::default()).unwrap();
        assert_eq!(reader.compression(), Compression::None);

        let reader =
            LayerReader::new(Box::new(io::Cursor::new(gzip(b"x"))), Limits::default()).unwrap();
        assert_eq!(reader.compression(), Compression::Gzip);

        let zstd_bytes = zstd::encode_all(&b"hello"[..], 3).unwrap();
        let mut reader =
            LayerReader::new(Box::new(io::Cursor::new(zstd_bytes)), Limits::default()).unwrap();
        assert_eq!(reader.compression(), Compression::Zstd);
        let mut out = String::new();
        reader.read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello");
    }

    #[test]
    fn stops_a_gzip_bomb() {
        let bomb = gzip(&vec![0u8; 8 * 1024 * 1024]);
        let limits = Limits {
            ratio_threshold_bytes: 1024 * 1024,
            ..Limits::default()
        };
        let mut reader = LayerReader::new(Box::new(io::Cursor::new(bomb)), limits).unwrap();
        let error = io::copy(&mut reader, &mut io::sink()).unwrap_err();
        let exceeded = error
            .get_ref()
            .unwrap()
            .downcast_ref::<LimitExceeded>()
            .unwrap();
        assert!(exceeded.ratio);
        assert!(reader.uncompressed_bytes() < 8 * 1024 * 1024);
    }
}
