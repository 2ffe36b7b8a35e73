//! What is watched: filesystems, found through `/proc/self/mountinfo`.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::WatchError;
use crate::event::ContainerLabel;

/// A watched filesystem.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where it is mounted, as this process sees it.
    pub root: PathBuf,
    /// For an overlay: its upper directory, which holds everything written since it was
    /// mounted (a container's changes to its image).
    pub upper: Option<PathBuf>,
    pub container: Option<ContainerLabel>,
    /// The regular files of the image this filesystem was made from (path without the leading
    /// `/`, and size): what drift is judged against where there is no upper directory.
    pub image_files: Option<Arc<HashMap<String, u64>>>,
    /// The filesystem's device number, which every file on it reports.
    pub(crate) device: u64,
}

impl Target {
    /// The filesystem mounted at `root`; an error when `root` is not a mount point (a mark
    /// covers a whole filesystem, so watching a mere directory would watch far more).
    pub fn at(root: &Path, container: Option<ContainerLabel>) -> Result<Target, WatchError> {
        let io = |source| WatchError::Io {
            path: root.to_path_buf(),
            source,
        };
        let root = root.canonicalize().map_err(io)?;
        let device = std::fs::metadata(&root).map_err(io)?.dev();
        let mounts = read_mountinfo().map_err(|source| WatchError::Io {
            path: PathBuf::from("/proc/self/mountinfo"),
            source,
        })?;
        let mount = mounts
            .iter()
            .rev()
            .find(|m| m.point == root)
            .ok_or_else(|| WatchError::NotAMountPoint { path: root.clone() })?;
        Ok(Target {
            upper: mount.upper_dir(),
            root,
            container,
            image_files: None,
            device,
        })
    }

    /// The path of a file of this filesystem as its container sees it, from the path the kernel
    /// gives the file descriptor: a host path under the mount point, or (for the container's
    /// own mount, unreachable from here) already relative to the filesystem's root.
    pub(crate) fn container_path(&self, seen: &str) -> String {
        let relative = Path::new(seen)
            .strip_prefix(&self.root)
            .map_or_else(|_| seen.to_owned(), |p| format!("/{}", p.display()));
        if relative.starts_with('/') {
            relative
        } else {
            format!("/{relative}")
        }
    }
}

/// One line of mountinfo.
#[derive(Debug, Clone)]
pub(crate) struct Mount {
    pub(crate) point: PathBuf,
    pub(crate) fs_type: String,
    pub(crate) super_options: String,
}

impl Mount {
    fn upper_dir(&self) -> Option<PathBuf> {
        if self.fs_type != "overlay" {
            return None;
        }
        self.super_options
            .split(',')
            .find_map(|option| option.strip_prefix("upperdir="))
            .map(|dir| PathBuf::from(unescape(dir)))
    }
}

pub(crate) fn read_mountinfo() -> std::io::Result<Vec<Mount>> {
    let text = std::fs::read_to_string("/proc/self/mountinfo")?;
    Ok(text.lines().filter_map(parse_line).collect())
}

/// `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`
fn parse_line(line: &str) -> Option<Mount> {
    let (before, after) = line.split_once(" - ")?;
    let point = before.split(' ').nth(4)?;
    let mut after = after.split(' ');
    let fs_type = after.next()?.to_owned();
    let _source = after.next()?;
    let super_options = after.next().unwrap_or_default().to_owned();
    Some(Mount {
        point: PathBuf::from(unescape(point)),
        fs_type,
        super_options,
    })
}

/// mountinfo writes space, tab, newline and backslash as octal escapes (`\040`).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && let Ok(value) = std::str::from_utf8(&bytes[i + 1..i + 4])
                .map_err(|_| ())
                .and_then(|digits| u8::from_str_radix(digits, 8).map_err(|_| ()))
        {
            out.push(value);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlay_line_gives_its_mount_point_and_upper_directory() {
        let line = "50 45 0:41 / /var/lib/containers/storage/overlay/60/merged rw,relatime - overlay overlay rw,lowerdir=/var/lib/containers/storage/overlay/l/IEG,upperdir=/var/lib/containers/storage/overlay/60/diff,workdir=/var/lib/containers/storage/overlay/60/work,uuid=on";
        let mount = parse_line(line).unwrap();
        assert_eq!(
            mount.point,
            Path::new("/var/lib/containers/storage/overlay/60/merged")
        );
        assert_eq!(
            mount.upper_dir().unwrap(),
            Path::new("/var/lib/containers/storage/overlay/60/diff")
        );
    }

    #[test]
    fn escaped_spaces_in_mount_points_are_read_back() {
        let line = "36 35 98:0 / /mnt/with\\040space rw - tmpfs tmpfs rw";
        let mount = parse_line(line).unwrap();
        assert_eq!(mount.point, Path::new("/mnt/with space"));
        assert!(
            mount.upper_dir().is_none(),
            "a tmpfs has no upper directory"
        );
    }

    #[test]
    fn a_path_is_shown_as_the_container_sees_it() {
        let target = Target {
            root: PathBuf::from("/var/lib/x/merged"),
            upper: None,
            container: None,
            image_files: None,
            device: 0,
        };
        assert_eq!(
            target.container_path("/var/lib/x/merged/usr/bin/sh"),
            "/usr/bin/sh"
        );
        assert_eq!(target.container_path("/usr/bin/sh"), "/usr/bin/sh");
        assert_eq!(
            target.container_path("/var/lib/x/mergedother/a"),
            "/var/lib/x/mergedother/a"
        );
    }
}
