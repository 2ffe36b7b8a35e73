//! Content addressing: every blob read from an image is checked against its digest.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

/// Raised (inside an `io::Error`) when a stream's content does not match its digest.
#[derive(Debug)]
pub(crate) struct DigestMismatch {
    pub(crate) expected: String,
    pub(crate) actual: String,
}

impl std::fmt::Display for DigestMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "digest mismatch: expected {}, got {}",
            self.expected, self.actual
        )
    }
}

impl std::error::Error for DigestMismatch {}

/// Hashes what passes through and fails at end of stream if the digest differs, so a consumer
/// that reads to the end cannot miss a tampered blob.
pub(crate) struct VerifyingReader<R> {
    inner: R,
    hasher: Sha256,
    expected: String,
    done: bool,
}

impl<R: Read> VerifyingReader<R> {
    /// `expected` is an OCI digest string; only `sha256:` is accepted.
    pub(crate) fn new(inner: R, expected: &str) -> io::Result<VerifyingReader<R>> {
        if !expected.starts_with("sha256:") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unsupported digest algorithm in `{expected}` (only sha256 is supported)"),
            ));
        }
        Ok(VerifyingReader {
            inner,
            hasher: Sha256::new(),
            expected: expected.to_owned(),
            done: false,
        })
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.hasher.update(&buf[..n]);
        } else if !buf.is_empty() && !self.done {
            self.done = true;
            let actual = format!("sha256:{}", hex::encode(self.hasher.clone().finalize()));
            if actual != self.expected {
                return Err(io::Error::other(DigestMismatch {
                    expected: self.expected.clone(),
                    actual,
                }));
            }
        }
        Ok(n)
    }
}

/// `sha256:<hex>` of a byte slice.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Checks that a digest is `sha256:` followed by 64 lowercase hex digits, so it is safe to use
/// as a file name under `blobs/sha256/`.
pub(crate) fn validate_digest(digest: &str) -> Result<&str, String> {
    let hex = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| format!("unsupported digest `{digest}` (only sha256 is supported)"))?;
    if hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(hex)
    } else {
        Err(format!("malformed digest `{digest}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_matching_content_and_fails_tampered() {
        let digest = sha256_digest(b"layer");
        let mut ok = VerifyingReader::new(&b"layer"[..], &digest).unwrap();
        io::copy(&mut ok, &mut io::sink()).unwrap();
        let mut bad = VerifyingReader::new(&b"tampered"[..], &digest).unwrap();
        let error = io::copy(&mut bad, &mut io::sink()).unwrap_err();
        assert!(error.to_string().contains("digest mismatch"));
    }

    #[test]
    fn refuses_path_like_digests() {
        assert!(validate_digest("sha256:../../etc/passwd").is_err());
        assert!(validate_digest("md5:abc").is_err());
        assert!(validate_digest(&sha256_digest(b"")).is_ok());
    }
}
