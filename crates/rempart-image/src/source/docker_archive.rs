//! A `docker save` archive: a tar holding `manifest.json`, the config and one tar per layer;
//! optionally gzip- or zstd-compressed as a whole (`docker save | gzip`).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use rempart_core::{ImageMetadata, normalize_entry_path, resolve_symlink};
use serde::Deserialize;

use crate::decompress::{Compression, LayerReader};
use crate::digest::{sha256_digest, validate_digest};
use crate::error::ImageError;
use crate::limits::Limits;
use crate::source::{
    ImageSource, LayerAccess, LayerInfo, LayerVisitor, MAX_JSON_BYTES, parse_config, read_capped,
};

/// Members of a compressed archive kept in memory during the first pass: manifests and configs
/// are small, and this bounds what a hostile archive full of small files can cost.
const SMALL_MEMBER_BYTES: u64 = 1024 * 1024;
const SMALL_MEMBERS_BUDGET: u64 = 64 * 1024 * 1024;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// The archive's members by name, and the small ones' bytes when read in one pass.
type Members = HashMap<String, Member>;
type SmallMembers = HashMap<String, Vec<u8>>;

#[derive(Debug, Clone)]
struct Member {
    offset: u64,
    size: u64,
    /// Symlink or hard link target, normalized (old `docker save` links duplicate layers).
    link: Option<String>,
}

/// An image read from a `docker save` archive.
pub struct DockerArchive {
    path: PathBuf,
    compressed: bool,
    members: HashMap<String, Member>,
    layer_members: Vec<String>,
    metadata: ImageMetadata,
    layers: Vec<LayerInfo>,
    /// The archive file as it was when opened (see [`file_identity`]).
    identity: Option<String>,
}

impl DockerArchive {
    /// Reads the archive's index. `tag` picks one image when the archive holds several: a
    /// repository tag (`name:tag`) or a position (`@1` for the first); without it, an archive
    /// holding several images is an error that lists them (scanning the first alone would pass
    /// the others over in silence).
    pub fn open(path: &Path, tag: Option<&str>) -> Result<DockerArchive, ImageError> {
        let input = path.display().to_string();
        let file = rempart_core::open_regular_file(path).map_err(|e| ImageError::io(path, e))?;
        let identity = file_identity(path, &file);
        let reader = LayerReader::new(Box::new(BufReader::new(file)), Limits::default())
            .map_err(|e| ImageError::io(path, e))?;
        let compressed = reader.compression() != Compression::None;
        let (members, small) = if compressed {
            // One pass through the stream: keep the small members (manifests, configs), since
            // getting back to them would mean decompressing again from the start.
            let mut archive = tar::Archive::new(reader);
            let entries = archive
                .entries()
                .map_err(|e| ImageError::invalid(&input, format!("not a tar archive: {e}")))?;
            index_members(entries, true, &input)?
        } else {
            // Seek from header to header: reading through the layers' bytes to find the next
            // header cost a tenth of a second per 600 MB, before any layer could start.
            drop(reader);
            let file =
                rempart_core::open_regular_file(path).map_err(|e| ImageError::io(path, e))?;
            let mut archive = tar::Archive::new(BufReader::new(file));
            let entries = archive
                .entries_with_seek()
                .map_err(|e| ImageError::invalid(&input, format!("not a tar archive: {e}")))?;
            index_members(entries, false, &input)?
        };
        let mut this = DockerArchive {
            path: path.to_owned(),
            compressed,
            members,
            layer_members: Vec::new(),
            metadata: ImageMetadata::default(),
            layers: Vec::new(),
            identity,
        };
        let read_member = |this: &DockerArchive, name: &str| -> Result<Vec<u8>, ImageError> {
            let name = this.resolve(name)?;
            if let Some(bytes) = small.get(&name) {
                return Ok(bytes.clone());
            }
            if this.compressed {
                return Err(ImageError::invalid(
                    &input,
                    format!(
                        "{name}: larger than {MAX_JSON_BYTES} bytes or over the metadata budget"
                    ),
                ));
            }
            read_capped(this.open_member(&name)?, &format!("{input}: {name}"))
        };

        let manifest_bytes = read_member(&this, "manifest.json")?;
        let manifest: Vec<ManifestEntry> =
            serde_json::from_slice(&manifest_bytes).map_err(|source| ImageError::Json {
                path: format!("{input}: manifest.json"),
                source,
            })?;
        let listing = || {
            manifest
                .iter()
                .enumerate()
                .map(|(index, m)| {
                    let tags = m.repo_tags.clone().unwrap_or_default().join(", ");
                    if tags.is_empty() {
                        format!("@{} (untagged)", index + 1)
                    } else {
                        format!("@{} ({tags})", index + 1)
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        let chosen = match tag {
            Some(position) if position.starts_with('@') => position[1..]
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|index| manifest.get(index))
                .ok_or_else(|| {
                    ImageError::invalid(
                        &input,
                        format!("no image {position} in the archive; it holds {}", listing()),
                    )
                })?,
            Some(tag) => manifest
                .iter()
                .find(|m| m.repo_tags.iter().flatten().any(|t| t == tag))
                .ok_or_else(|| {
                    ImageError::invalid(
                        &input,
                        format!(
                            "no image tagged `{tag}` in the archive; it holds {}",
                            listing()
                        ),
                    )
                })?,
            None if manifest.len() > 1 => {
                return Err(ImageError::invalid(
                    &input,
                    format!(
                        "the archive holds {} images: {}; name one as {input}:TAG or {input}:@N",
                        manifest.len(),
                        listing()
                    ),
                ));
            }
            None => manifest
                .first()
                .ok_or_else(|| ImageError::invalid(&input, "manifest.json lists no image"))?,
        };
        let config_name = normalize_entry_path(&chosen.config)
            .map_err(|e| ImageError::invalid(&input, format!("config path: {e}")))?;
        let config_bytes = read_member(&this, &config_name)?;
        let config_digest = sha256_digest(&config_bytes);
        // The config's name is its digest (`<hex>.json` or `blobs/sha256/<hex>`): check it.
        let named_hex = config_name
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".json")
            .to_owned();
        if validate_digest(&format!("sha256:{named_hex}")).is_ok()
            && config_digest != format!("sha256:{named_hex}")
        {
            return Err(ImageError::DigestMismatch {
                input: format!("{input}: {config_name}"),
                expected: format!("sha256:{named_hex}"),
                actual: config_digest,
            });
        }
        let parsed = parse_config(&config_bytes, &format!("{input}: {config_name}"))?;
        if parsed.diff_ids.len() != chosen.layers.len() {
            return Err(ImageError::invalid(
                &input,
                format!(
                    "manifest.json lists {} layers but the config has {} diff ids",
                    chosen.layers.len(),
                    parsed.diff_ids.len()
                ),
            ));
        }
        for layer in &chosen.layers {
            let name = normalize_entry_path(layer)
                .map_err(|e| ImageError::invalid(&input, format!("layer path: {e}")))?;
            this.layer_members.push(this.resolve(&name)?);
        }
        this.layers = parsed
            .diff_ids
            .into_iter()
            .zip(parsed.layer_history)
            .zip(&this.layer_members)
            .map(|((diff_id, created_by), member)| LayerInfo {
                diff_id,
                digest: None,
                media_type: None,
                size: this.members.get(member).map(|m| m.size),
                created_by,
            })
            .collect();
        this.metadata = ImageMetadata {
            name: input.clone(),
            repo_tags: chosen.repo_tags.clone().unwrap_or_default(),
            config_digest: Some(config_digest),
            ..parsed.metadata
        };
        Ok(this)
    }

    /// Follows member links (at most a few hops: real archives use one).
    fn resolve(&self, name: &str) -> Result<String, ImageError> {
        let mut current = name.to_owned();
        for _ in 0..8 {
            let member = self.members.get(&current).ok_or_else(|| {
                ImageError::invalid(
                    self.path.display().to_string(),
                    format!("missing member {name}"),
                )
            })?;
            match &member.link {
                Some(target) => current.clone_from(target),
                None => return Ok(current),
            }
        }
        Err(ImageError::invalid(
            self.path.display().to_string(),
            format!("link loop at member {name}"),
        ))
    }

    fn open_member(&self, name: &str) -> Result<impl Read + Send + use<>, ImageError> {
        let member = &self.members[name];
        let mut file = rempart_core::open_regular_file(&self.path)
            .map_err(|e| ImageError::io(&self.path, e))?;
        file.seek(SeekFrom::Start(member.offset))
            .map_err(|e| ImageError::io(&self.path, e))?;
        Ok(BufReader::with_capacity(256 * 1024, file).take(member.size))
    }
}

/// Every member's position, size and link target, and, with `keep_small`, the bytes of the small
/// ones (up to `SMALL_MEMBERS_BUDGET` in all).
#[allow(clippy::type_complexity)] // two maps by member name, built together
/// How recent a change makes an archive's identity unusable (see [`file_identity`]).
const RACY_WINDOW_SECONDS: i64 = 2;

/// The file's device, inode, size, modification and status-change times: any write to the file,
/// or its replacement, changes one of them (the status-change time cannot be set by a user).
/// `None` where the platform does not give them, and for a file changed in the last
/// [`RACY_WINDOW_SECONDS`]: file systems keep times at a granularity of their own, so a second write
/// within it could leave every field as it was.
fn file_identity(path: &Path, file: &File) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let meta = file.metadata().ok()?;
        // Nanoseconds since the epoch of the later of the two change times.
        let nanos =
            |seconds: i64, nanos: i64| i128::from(seconds) * 1_000_000_000 + i128::from(nanos);
        let changed =
            nanos(meta.mtime(), meta.mtime_nsec()).max(nanos(meta.ctime(), meta.ctime_nsec()));
        let now = i128::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_nanos(),
        )
        .ok()?;
        if now < changed + i128::from(RACY_WINDOW_SECONDS) * 1_000_000_000 {
            return None;
        }
        let canonical = std::fs::canonicalize(path).ok()?;
        Some(format!(
            "docker-archive:{}:{}:{}:{}:{}.{}:{}.{}",
            canonical.display(),
            meta.dev(),
            meta.ino(),
            meta.size(),
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ctime(),
            meta.ctime_nsec()
        ))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, file);
        None
    }
}

/// What a tar error says, without the bytes it quotes: the tar reader puts the header fields
/// it could not read (and the entry's name) into its messages, and a file given as an image by
/// mistake (`/etc/passwd`) must not have its content printed in the error.
fn corrupt_tar(error: &std::io::Error) -> String {
    let text = error.to_string();
    let cause = text
        .split([':', '\n'])
        .next()
        .unwrap_or_default()
        .split(" when ")
        .next()
        .unwrap_or_default()
        .trim();
    let cause: String = cause.chars().take(80).collect();
    format!("not a readable tar archive ({cause}); a docker-save archive is a tar file")
}

fn index_members<R: Read>(
    entries: tar::Entries<'_, R>,
    keep_small: bool,
    input: &str,
) -> Result<(Members, SmallMembers), ImageError> {
    let mut members = HashMap::new();
    let mut small: HashMap<String, Vec<u8>> = HashMap::new();
    let mut budget = SMALL_MEMBERS_BUDGET;
    for entry in entries {
        let mut entry = entry.map_err(|e| ImageError::invalid(input, corrupt_tar(&e)))?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Ok(name) = normalize_entry_path(&raw) else {
            continue;
        };
        let link = match entry.header().entry_type() {
            tar::EntryType::Symlink => entry
                .link_name_bytes()
                .and_then(|t| resolve_symlink(&name, &String::from_utf8_lossy(&t)).ok()),
            tar::EntryType::Link => entry
                .link_name_bytes()
                .and_then(|t| normalize_entry_path(&String::from_utf8_lossy(&t)).ok()),
            _ => None,
        };
        let size = entry.size();
        if keep_small && link.is_none() && size <= SMALL_MEMBER_BYTES && size <= budget {
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| ImageError::invalid(input, format!("reading {name}: {e}")))?;
            budget -= size;
            small.insert(name.clone(), bytes);
        }
        members.insert(
            name,
            Member {
                offset: entry.raw_file_position(),
                size,
                link,
            },
        );
    }
    Ok((members, small))
}

impl ImageSource for DockerArchive {
    fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }

    fn layers(&self) -> &[LayerInfo] {
        &self.layers
    }

    fn access(&self) -> LayerAccess {
        if self.compressed {
            LayerAccess::Sequential
        } else {
            LayerAccess::Random
        }
    }

    /// An archive stores no digest of its layer files, and hashing them would cost a warm scan
    /// as much reading as a cold one: a layer is named by the archive file's identity (which
    /// changes with any write to it) and the member's name.
    fn layer_identity(&self, index: usize) -> Option<String> {
        let identity = self.identity.as_ref()?;
        Some(format!("{identity}\n{}", self.layer_members.get(index)?))
    }

    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send>, ImageError> {
        if self.compressed {
            return Err(ImageError::invalid(
                self.path.display().to_string(),
                "a compressed archive can only be read layer after layer",
            ));
        }
        Ok(Box::new(self.open_member(&self.layer_members[index])?))
    }

    fn for_each_layer(
        &self,
        wanted: &[usize],
        visit: &mut LayerVisitor<'_>,
    ) -> Result<(), ImageError> {
        if !self.compressed {
            for &index in wanted {
                let mut reader = self.open_layer(index)?;
                visit(index, &mut reader)?;
            }
            return Ok(());
        }
        let input = self.path.display().to_string();
        let file = rempart_core::open_regular_file(&self.path)
            .map_err(|e| ImageError::io(&self.path, e))?;
        let reader = LayerReader::new(Box::new(BufReader::new(file)), Limits::default())
            .map_err(|e| ImageError::io(&self.path, e))?;
        let mut archive = tar::Archive::new(reader);
        let entries = archive
            .entries()
            .map_err(|e| ImageError::invalid(&input, e.to_string()))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| ImageError::invalid(&input, corrupt_tar(&e)))?;
            let Ok(name) = normalize_entry_path(&String::from_utf8_lossy(&entry.path_bytes()))
            else {
                continue;
            };
            // One stored member can back several layers (identical layers are stored once).
            let indices: Vec<usize> = wanted
                .iter()
                .copied()
                .filter(|&i| self.layer_members[i] == name)
                .collect();
            match indices.as_slice() {
                [] => {}
                [index] => visit(*index, &mut entry)?,
                _ => {
                    return Err(ImageError::invalid(
                        &input,
                        format!("member {name} backs several layers; decompress the archive first"),
                    ));
                }
            }
        }
        Ok(())
    }
}
