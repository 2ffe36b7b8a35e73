use std::path::PathBuf;

/// Why the watcher could not start or could not watch a path.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(
        "fanotify could not be set up: {0} (rempart watch needs root, or CAP_SYS_ADMIN, and a kernel with fanotify permission events)"
    )]
    Init(nix::Error),
    #[error(
        "{path}: not a mount point; rempart watch marks whole filesystems (a container's root, a tmpfs, an overlay)"
    )]
    NotAMountPoint { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: the filesystem could not be marked: {source}")]
    Mark { path: PathBuf, source: nix::Error },
    #[error("the watcher's threads could not be started: {0}")]
    Thread(std::io::Error),
}
