//! Reading a file the user named on the command line or in a configuration: the one place in this
//! crate that touches the file system, so that every crate reads such files the same bounded way.
//!
//! A path given by a user may name anything: `/dev/zero` (endless), a FIFO (blocks forever on
//! open or read), a directory, `/proc/self/environ` (a "regular" file of size 0 that holds the
//! process's secrets). Only regular files are read, never more than a cap, and opening never
//! blocks.

use std::io::{self, Read};
use std::path::Path;

/// Why a user-named file was refused; the caller adds the path.
fn refused(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// What kind of file this is, in words, for an error message.
fn describe(file_type: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Reads the whole of the regular file at `path` (symbolic links followed), refusing anything
/// else, and anything larger than `max_bytes`, with an error that says which.
///
/// The file is opened without blocking (a FIFO would otherwise wait for a writer forever), its
/// type checked on the opened handle (no race with a rename), and the read stops at
/// `max_bytes + 1` whatever the size the file system announced: files under `/proc` announce 0.
pub fn read_regular_file(path: &Path, max_bytes: u64) -> io::Result<Vec<u8>> {
    let file = open_regular_file(path)?;
    let metadata = file.metadata()?;
    if metadata.len() > max_bytes {
        return Err(refused(format!(
            "{} bytes, over the {max_bytes}-byte cap for this file",
            metadata.len()
        )));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(refused(format!(
            "longer than the {max_bytes}-byte cap for this file"
        )));
    }
    Ok(bytes)
}

/// Opens the regular file at `path` (symbolic links followed) for reading, without blocking, and
/// refuses anything else: for inputs read in parts (archives), where [`read_regular_file`]'s
/// whole-file read does not fit.
pub fn open_regular_file(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(refused(format!(
            "{}: only regular files are read",
            describe(metadata.file_type())
        )));
    }
    Ok(file)
}

/// Like [`read_regular_file`], for text: invalid UTF-8 is an error that says so.
pub fn read_regular_text(path: &Path, max_bytes: u64) -> io::Result<String> {
    String::from_utf8(read_regular_file(path, max_bytes)?)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("not UTF-8 text ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_regular_file_within_its_cap() {
        let dir = tempfile_dir();
        let path = dir.join("a.txt");
        std::fs::write(&path, b"hello").unwrap();
        assert_eq!(read_regular_file(&path, 5).unwrap(), b"hello");
        let error = read_regular_file(&path, 4).unwrap_err();
        assert!(error.to_string().contains("over the 4-byte cap"), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn refuses_devices_directories_and_endless_proc_files() {
        let error = read_regular_file(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(error.to_string().contains("character device"), "{error}");
        let error = read_regular_file(Path::new("/"), 1 << 20).unwrap_err();
        assert!(error.to_string().contains("directory"), "{error}");
        // /proc files announce size 0: the cap holds on what is read, not on what is announced.
        if Path::new("/proc/self/maps").exists() {
            let error = read_regular_file(Path::new("/proc/self/maps"), 16).unwrap_err();
            assert!(
                error.to_string().contains("longer than the 16-byte cap"),
                "{error}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile_dir();
        let fifo = dir.join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let error = read_regular_file(&fifo, 1 << 20).unwrap_err();
        assert!(error.to_string().contains("FIFO"), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A fresh directory under the system temp dir (this crate has no dev-dependency for it).
    fn tempfile_dir() -> std::path::PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rempart-core-input-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
