//! The machine under audit, as files under a root.

use std::fs::Metadata;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::Container;

/// Files larger than this are not configuration files; the audit does not read them whole.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A host's files, read under `root` (`/` for the machine itself).
#[derive(Debug, Clone)]
pub struct Host {
    root: PathBuf,
    /// The containers, read once for the checks that judge them and the report that lists them.
    containers: OnceLock<Vec<Container>>,
}

impl Host {
    pub fn new(root: impl Into<PathBuf>) -> Host {
        Host {
            root: root.into(),
            containers: OnceLock::new(),
        }
    }

    /// The containers on the host ([`crate::running_containers`]), read on first use.
    pub fn containers(&self) -> &[Container] {
        self.containers
            .get_or_init(|| crate::running_containers(self))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where an absolute host path is under the root.
    pub fn path(&self, absolute: &str) -> PathBuf {
        self.root.join(absolute.trim_start_matches('/'))
    }

    /// A regular file's text (at most 1 MiB), or `None` when it is absent, not a regular file
    /// or unreadable. Never follows a FIFO or a device: opening one could block the audit.
    pub fn read(&self, absolute: &str) -> Option<String> {
        let path = self.path(absolute);
        let metadata = std::fs::metadata(&path).ok()?;
        // Files under /proc and /sys report a size of 0 or 4096 whatever they hold: read
        // them up to the cap like any other regular file.
        if !metadata.is_file() {
            return None;
        }
        let mut text = String::new();
        std::fs::File::open(&path)
            .ok()?
            .take(MAX_FILE_BYTES)
            .read_to_string(&mut text)
            .ok()?;
        Some(text)
    }

    /// Metadata of the path itself (a socket, a file), without following a last symbolic link.
    pub fn metadata(&self, absolute: &str) -> Option<Metadata> {
        std::fs::symlink_metadata(self.path(absolute)).ok()
    }

    pub fn exists(&self, absolute: &str) -> bool {
        self.metadata(absolute).is_some()
    }
}
