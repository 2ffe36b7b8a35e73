//! Harbor's `ScanRequest`, read and checked before anything is queued. A body that is not the
//! expected JSON (or lacks a field the scan cannot do without) is a 400; a field whose value is
//! refused is a 422, as the specification sorts them.

use serde::Deserialize;

use super::HarborError;
use super::report::Artifact;
use crate::api::check_digest;
use crate::api::registry::{valid_repository, valid_tag};
use crate::api::scans::parse_reference;
use crate::vault::PullCredentials;

pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub(crate) const SBOM_MEDIA_TYPES: [&str; 2] =
    ["application/spdx+json", "application/vnd.cyclonedx+json"];

#[derive(Deserialize)]
struct ScanRequest {
    registry: Registry,
    artifact: RequestArtifact,
    #[serde(default)]
    enabled_capabilities: Option<Vec<Capability>>,
}

#[derive(Deserialize)]
struct Registry {
    url: String,
    #[serde(default)]
    authorization: Option<String>,
}

#[derive(Deserialize)]
struct RequestArtifact {
    repository: String,
    digest: String,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    mime_type: Option<String>,
}

#[derive(Deserialize)]
struct Capability {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    parameters: Option<SbomParameters>,
}

#[derive(Deserialize)]
struct SbomParameters {
    #[serde(default)]
    sbom_media_types: Vec<String>,
}

/// A request as the scan needs it.
pub(crate) struct HarborScan {
    /// `host[:port]/repository@digest`.
    pub(crate) reference: String,
    /// `host[:port]/repository`, what token scopes are matched against.
    pub(crate) scoped_repository: String,
    pub(crate) registry: String,
    pub(crate) plain_http: bool,
    pub(crate) artifact: Artifact,
    pub(crate) credentials: Option<PullCredentials>,
}

fn invalid(message: impl Into<String>) -> HarborError {
    HarborError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, message)
}

/// serde's message, unless it may quote a value of the body (which may hold the
/// authorization): then only where the problem is.
fn body_error(error: &serde_json::Error) -> HarborError {
    let message = error.to_string();
    let shown = if message.contains("invalid type: string")
        || message.contains("invalid value")
        || message.contains("unknown variant")
    {
        format!(
            "a field has the wrong type or value at line {} column {}",
            error.line(),
            error.column()
        )
    } else {
        message
    };
    HarborError::new(
        axum::http::StatusCode::BAD_REQUEST,
        format!("the request body is not a Harbor ScanRequest: {shown}"),
    )
}

/// `http(s)://host[:port]` (a trailing `/` allowed): the registry's `host[:port]` and whether
/// it is plain HTTP. A host without a dot or port gets the scheme's port, so that it is never
/// read as a Docker Hub namespace.
fn registry_address(url: &str, plain_http_allowed: bool) -> Result<(String, bool), HarborError> {
    let shape = || {
        invalid(format!(
            "`registry.url` must be http(s)://host[:port], not `{}`",
            url.chars().take(200).collect::<String>().escape_default()
        ))
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(shape)?;
    let plain_http = match scheme.to_ascii_lowercase().as_str() {
        "https" => false,
        "http" => true,
        _ => return Err(shape()),
    };
    let host = rest.strip_suffix('/').unwrap_or(rest);
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(':') && !host.ends_with(']') => (name, Some(port)),
        _ => (host, None),
    };
    let name_ok = if let Some(inner) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
    } else {
        !name.is_empty()
            && name.len() <= 253
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
            && !name.starts_with(['.', '-'])
    };
    let port_ok = port.is_none_or(|port| {
        !port.is_empty() && port.len() <= 5 && port.parse::<u16>().is_ok_and(|p| p > 0)
    });
    if !name_ok || !port_ok {
        return Err(shape());
    }
    if plain_http && !plain_http_allowed {
        return Err(invalid(format!(
            "`registry.url` {} is plain HTTP; this server pulls over plain HTTP only when started \
             with --insecure-registry",
            url.escape_default()
        )));
    }
    let ambiguous = port.is_none() && !name.contains('.') && name != "localhost";
    let address = if ambiguous {
        format!("{name}:{}", if plain_http { 80 } else { 443 })
    } else {
        host.to_owned()
    };
    Ok((address, plain_http))
}

/// Reads and checks a scan request.
pub(crate) fn parse(body: &[u8], plain_http_allowed: bool) -> Result<HarborScan, HarborError> {
    let request: ScanRequest = serde_json::from_slice(body).map_err(|e| body_error(&e))?;
    let artifact = request.artifact;
    let mime_type = artifact.mime_type.unwrap_or_default();
    if mime_type != OCI_MANIFEST && mime_type != DOCKER_MANIFEST {
        return Err(invalid(format!(
            "`artifact.mime_type` `{}` is not supported: rempart scans images ({OCI_MANIFEST} or \
             {DOCKER_MANIFEST})",
            mime_type
                .chars()
                .take(200)
                .collect::<String>()
                .escape_default()
        )));
    }
    for capability in request.enabled_capabilities.iter().flatten() {
        match capability.kind.as_str() {
            "vulnerability" => {}
            "sbom" => {
                let types = capability
                    .parameters
                    .as_ref()
                    .map_or(&[][..], |p| &p.sbom_media_types[..]);
                if let Some(other) = types
                    .iter()
                    .find(|t| !SBOM_MEDIA_TYPES.contains(&t.as_str()))
                {
                    return Err(invalid(format!(
                        "SBOM media type `{}` is not supported (only {})",
                        other.escape_default(),
                        SBOM_MEDIA_TYPES.join(", ")
                    )));
                }
            }
            other => {
                return Err(invalid(format!(
                    "capability `{}` is not one rempart has (vulnerability, sbom)",
                    other.escape_default()
                )));
            }
        }
    }
    if !valid_repository(&artifact.repository) {
        return Err(invalid(format!(
            "`artifact.repository` `{}` is not a repository name",
            artifact.repository.escape_default()
        )));
    }
    check_digest(&artifact.digest).map_err(|e| invalid(e.message))?;
    let tag = artifact.tag.filter(|tag| !tag.is_empty());
    if let Some(tag) = &tag
        && !valid_tag(tag)
    {
        return Err(invalid(format!(
            "`artifact.tag` `{}` is not a tag",
            tag.escape_default()
        )));
    }
    let (registry, plain_http) = registry_address(&request.registry.url, plain_http_allowed)?;
    let credentials = match request.registry.authorization.as_deref() {
        None | Some("") => None,
        Some(value) => Some(PullCredentials::parse(value).map_err(invalid)?),
    };
    let reference = format!("{registry}/{}@{}", artifact.repository, artifact.digest);
    let (_, scoped_repository) = parse_reference(&reference).map_err(|e| invalid(e.message))?;
    if scoped_repository != format!("{registry}/{}", artifact.repository) {
        return Err(invalid(format!(
            "`registry.url` and `artifact.repository` do not make an unambiguous reference ({})",
            reference.escape_default()
        )));
    }
    Ok(HarborScan {
        reference,
        scoped_repository,
        registry,
        plain_http,
        artifact: Artifact {
            repository: artifact.repository,
            digest: artifact.digest,
            tag,
            mime_type: Some(mime_type),
        },
        credentials,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str, authorization: &str, mime_type: &str) -> Vec<u8> {
        serde_json::json!({
            "registry": {"url": url, "authorization": authorization},
            "artifact": {"repository": "library/app", "digest": format!("sha256:{}", "a".repeat(64)),
                         "tag": "1.0", "mime_type": mime_type},
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn a_harbor_request_becomes_a_pinned_reference() {
        let scan = parse(
            &request("https://core.harbor.domain/", "Bearer t", OCI_MANIFEST),
            false,
        )
        .unwrap();
        assert_eq!(
            scan.reference,
            format!("core.harbor.domain/library/app@sha256:{}", "a".repeat(64))
        );
        assert!(!scan.plain_http);
        assert_eq!(scan.credentials, Some(PullCredentials::Bearer("t".into())));
        // A bare host name gets its port, or it would read as a Docker Hub namespace.
        let scan = parse(&request("http://harbor-core", "", DOCKER_MANIFEST), true).unwrap();
        assert_eq!(scan.registry, "harbor-core:80");
        assert!(scan.plain_http && scan.credentials.is_none());
        assert_eq!(scan.scoped_repository, "harbor-core:80/library/app");
    }

    #[test]
    fn refusals_are_422_and_malformed_bodies_400() {
        let status =
            |body: &[u8], insecure: bool| parse(body, insecure).err().unwrap().status.as_u16();
        assert_eq!(status(b"{", false), 400);
        assert_eq!(
            status(b"{\"registry\": {\"url\": \"https://h\"}}", false),
            400
        );
        let refused = parse(&request("http://h.example:5000", "", OCI_MANIFEST), false)
            .err()
            .unwrap();
        assert!(
            refused.message.contains("--insecure-registry"),
            "{}",
            refused.message
        );
        for url in [
            "ftp://h",
            "https://",
            "https://u:p@h",
            "https://h/path",
            "https://h:99999",
        ] {
            assert_eq!(status(&request(url, "", OCI_MANIFEST), true), 422, "{url}");
        }
        assert_eq!(
            status(
                &request(
                    "https://h.example",
                    "",
                    "application/vnd.oci.image.index.v1+json"
                ),
                false
            ),
            422
        );
        assert_eq!(
            status(
                &request("https://h.example", "Digest x", OCI_MANIFEST),
                false
            ),
            422
        );
        // A secret in a wrongly typed field is not quoted back.
        let echoed = parse(br#"{"registry": {"url": "https://h", "authorization": "Basic c2VjcmV0"}, "artifact": "Basic c2VjcmV0"}"#, false)
            .err()
            .unwrap();
        assert!(!echoed.message.contains("c2VjcmV0"), "{}", echoed.message);
    }
}
