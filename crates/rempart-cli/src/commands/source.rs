//! Turns what the user typed into an image source.

use std::path::Path;

use anyhow::{Context, Result};
use rempart_image::{
    DockerArchive, ImageSource, OciLayout, Platform, RegistryImage, RegistrySettings,
};

use crate::cli::SourceArgs;

fn platform(args: &SourceArgs) -> Result<Platform> {
    match &args.platform {
        Some(text) => text.parse::<Platform>().map_err(anyhow::Error::msg),
        None => Ok(Platform::host_linux()),
    }
}

/// `layout:tag`, the way skopeo and umoci name an image inside a layout directory.
fn layout_and_tag(input: &Path) -> Option<(&Path, &str)> {
    let (dir, tag) = input.to_str()?.rsplit_once(':')?;
    Path::new(dir).is_dir().then_some((Path::new(dir), tag))
}

/// `archive.tar:name:tag` or `archive.tar:@2`: an image inside a multi-image docker archive.
/// Tags hold colons themselves, so the archive is the shortest prefix that is a file.
fn archive_and_tag(input: &Path) -> Option<(&Path, &str)> {
    let text = input.to_str()?;
    text.match_indices(':').find_map(|(at, _)| {
        let (file, tag) = (&text[..at], &text[at + 1..]);
        (Path::new(file).is_file() && !tag.is_empty()).then_some((Path::new(file), tag))
    })
}

/// True if `input` names an image on disk rather than in a registry.
pub(crate) fn is_local_image(input: &Path) -> bool {
    input.exists() || layout_and_tag(input).is_some() || archive_and_tag(input).is_some()
}

/// A local path: an OCI layout directory (`DIR` or `DIR:TAG`) or a docker-save archive.
pub(crate) fn open_path(input: &Path, args: &SourceArgs) -> Result<Box<dyn ImageSource>> {
    let platform = platform(args)?;
    if input.is_dir() {
        return Ok(Box::new(OciLayout::open(input, None, &platform)?));
    }
    if input.is_file() {
        return Ok(Box::new(DockerArchive::open(input, None)?));
    }
    if let Some((dir, tag)) = layout_and_tag(input) {
        return Ok(Box::new(OciLayout::open(dir, Some(tag), &platform)?));
    }
    if let Some((archive, tag)) = archive_and_tag(input) {
        return Ok(Box::new(DockerArchive::open(archive, Some(tag))?));
    }
    if std::fs::metadata(input).is_ok() {
        anyhow::bail!(
            "{}: not an image: --input takes an OCI layout directory (`DIR` or `DIR:TAG`) or a docker-save archive (a regular file)",
            input.display()
        )
    }
    anyhow::bail!("{}: no such file or directory", input.display())
}

pub(crate) fn open_reference(
    reference: &str,
    args: &SourceArgs,
    cache: &Path,
) -> Result<Box<dyn ImageSource>> {
    let options = registry_options(args, cache);
    let image = RegistryImage::open(reference, &platform(args)?, &options)
        .with_context(|| format!("cannot pull {reference}"))?;
    Ok(Box::new(image))
}

/// The registry options the flags give, blobs stored under the cache.
pub(crate) fn registry_options(args: &SourceArgs, cache: &Path) -> rempart_image::RegistryOptions {
    RegistrySettings {
        username: args.username.clone(),
        password: args.password.clone(),
        insecure: args.insecure,
        ca_certificates: args.ca_certs.clone(),
        pull_timeout: args.timeout,
        request_timeout: args.registry_timeout,
    }
    .options(rempart_image::blob_dir(cache))
}
