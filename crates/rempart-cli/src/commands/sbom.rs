//! `rempart sbom`: the package catalog as `CycloneDX` or SPDX.

use std::path::Path;

use anyhow::Result;
use rempart::{AnalyzerConfig, Scanner, build_analyzers};
use rempart_image::DirOptions;
use rempart_report::{Format, ReportOptions, write_report};

use crate::Outcome;
use crate::cli::SbomArgs;
use crate::commands::source::{is_local_image, open_path, open_reference};
use crate::context::{Output, cache_root, scan_options};

pub(crate) fn run(args: &SbomArgs) -> Result<Outcome> {
    let format: Format = args.format.parse()?;
    anyhow::ensure!(
        matches!(format, Format::CycloneDx | Format::Spdx),
        "an SBOM is written as cyclonedx or spdx-json, not {}",
        args.format
    );
    let cache = cache_root(args.common.cache_dir.as_deref())?;
    // With --attest: the key first (a bad key fails at once), and the digest the SBOM is about,
    // scanned by digest so that a tag moving meanwhile cannot mismatch them.
    let attest = if args.attest {
        let key =
            crate::commands::trust::signing_key(args.key.as_deref(), args.key_env.as_deref())?;
        let reference = match (&args.target, &args.input, args.dir) {
            (Some(target), None, false) if !is_local_image(Path::new(target)) => target,
            _ => anyhow::bail!(
                "--attest attaches the SBOM to an image in a registry: name it by reference"
            ),
        };
        let options = crate::commands::source::registry_options(&args.source, &cache);
        let (repository, target) =
            rempart_image::RegistryRepository::for_reference(reference, &options, true)?;
        let manifest = repository
            .manifest(&target)?
            .ok_or_else(|| anyhow::anyhow!("{reference}: no such image"))?;
        Some((key, repository, manifest))
    } else {
        None
    };
    let analyzers = build_analyzers(&AnalyzerConfig {
        scanners: Vec::new(),
        catalog: true,
        source_tree: args.dir,
        ..AnalyzerConfig::default()
    })?;
    let scanner = Scanner::new(
        analyzers.files,
        analyzers.images,
        Vec::new(),
        scan_options(&args.common, &cache),
    );
    let named = match (&args.target, &args.input) {
        (Some(target), _) => target.clone(),
        (None, Some(input)) => input.display().to_string(),
        (None, None) => anyhow::bail!("name an image (or a directory with --dir), or --input PATH"),
    };
    let target = Path::new(&named);
    let outcome = if let Some(input) = &args.input {
        scanner.scan_image(open_path(input, &args.source)?.as_ref())?
    } else if args.dir {
        scanner.scan_dir(
            target,
            "fs",
            &DirOptions {
                skip_dirs: vec![".git".into()],
                source_tree: true,
            },
        )?
    } else if is_local_image(target) {
        scanner.scan_image(open_path(target, &args.source)?.as_ref())?
    } else if let Some((_, repository, manifest)) = &attest {
        let pinned = format!(
            "{}/{}@{}",
            repository.registry(),
            repository.repository(),
            manifest.digest
        );
        scanner.scan_image(open_reference(&pinned, &args.source, &cache)?.as_ref())?
    } else {
        scanner.scan_image(open_reference(&named, &args.source, &cache)?.as_ref())?
    };
    let options = ReportOptions {
        timestamp: args.common.timestamp.clone(),
        serial: args.serial.clone(),
        color: false,
        width: None,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let mut bytes = Vec::new();
    write_report(&outcome.result, format, &options, &mut bytes)?;
    Output::new(args.output.as_deref()).write(&bytes)?;
    if let Some((key, repository, manifest)) = &attest {
        let predicate_type = if format == Format::Spdx {
            "https://spdx.dev/Document"
        } else {
            "https://cyclonedx.org/bom"
        };
        let referrer = crate::commands::trust::attach(
            repository,
            manifest,
            predicate_type,
            serde_json::from_slice(&bytes)?,
            key,
        )?;
        tracing::warn!("attached the signed SBOM ({predicate_type}) as {referrer}");
    }
    Ok(Outcome::Clean)
}
