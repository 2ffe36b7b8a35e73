/// How much of a file is inspected to decide whether it is binary (as git and ripgrep do).
const SNIFF_BYTES: usize = 8 * 1024;

/// Leading bytes of formats that are binary even when their first kilobytes hold no NUL.
const MAGICS: &[&[u8]] = &[
    b"\x7fELF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"\x28\xb5\x2f\xfd",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!",
    b"%PDF-",
    b"\xca\xfe\xba\xbe",
    b"\xcf\xfa\xed\xfe",
    b"\xce\xfa\xed\xfe",
    b"OggS",
    b"RIFF",
    b"wOFF",
    b"wOF2",
    b"\x04\x22\x4d\x18",
];

/// A NUL byte among the first 8 KiB or a known binary signature. UTF-16 text counts as binary.
pub(crate) fn is_binary(content: &[u8]) -> bool {
    let head = &content[..content.len().min(SNIFF_BYTES)];
    memchr::memchr(0, head).is_some() || MAGICS.iter().any(|m| content.starts_with(m))
}

#[cfg(test)]
mod tests {
    use super::is_binary;

    #[test]
    fn detects() {
        assert!(is_binary(b"\x7fELF\x02\x01\x01"));
        assert!(is_binary(b"text\0more"));
        assert!(is_binary(b"\x1f\x8b\x08rest"));
        assert!(!is_binary(b"password = 1\n"));
        assert!(!is_binary(b""));
        let mut late_nul = vec![b'a'; 9000];
        late_nul.push(0);
        assert!(!is_binary(&late_nul));
    }
}
