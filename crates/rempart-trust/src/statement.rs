//! In-toto statements (the payload of every attestation) and cosign's simple-signing payload
//! (the payload of a classic image signature): parsed, and checked to name the image.

use serde::{Deserialize, Serialize};

/// The payload type of an in-toto statement in a DSSE envelope.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// In-toto statement versions accepted.
const STATEMENT_TYPES: [&str; 2] = [
    "https://in-toto.io/Statement/v1",
    "https://in-toto.io/Statement/v0.1",
];

/// An in-toto statement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub statement_type: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    #[serde(default)]
    pub predicate: serde_json::Value,
}

/// A statement's subject: a name and its digests by algorithm.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subject {
    #[serde(default)]
    pub name: String,
    pub digest: std::collections::BTreeMap<String, String>,
}

impl Statement {
    /// Parses a DSSE payload as a statement.
    pub fn parse(payload_type: &str, payload: &[u8]) -> Result<Statement, String> {
        if payload_type != IN_TOTO_PAYLOAD_TYPE {
            return Err(format!(
                "payload type `{payload_type}` is not an in-toto statement ({IN_TOTO_PAYLOAD_TYPE})"
            ));
        }
        let statement: Statement = serde_json::from_slice(payload)
            .map_err(|e| format!("the in-toto statement does not parse: {e}"))?;
        if !STATEMENT_TYPES.contains(&statement.statement_type.as_str()) {
            return Err(format!(
                "unknown statement type `{}`",
                statement.statement_type
            ));
        }
        Ok(statement)
    }

    /// Whether a subject carries the image digest (`sha256:<hex>`).
    pub fn names_digest(&self, digest: &str) -> bool {
        let Some((algorithm, hex)) = digest.split_once(':') else {
            return false;
        };
        self.subject.iter().any(|subject| {
            subject
                .digest
                .get(algorithm)
                .is_some_and(|value| value.eq_ignore_ascii_case(hex))
        })
    }

    /// The subjects' digests, for a message saying which image a statement is about.
    pub fn subject_digests(&self) -> String {
        let digests: Vec<String> = self
            .subject
            .iter()
            .flat_map(|s| s.digest.iter().map(|(a, h)| format!("{a}:{h}")))
            .collect();
        if digests.is_empty() {
            "no subject digest".to_owned()
        } else {
            digests.join(", ")
        }
    }
}

/// Cosign's simple-signing payload: what a classic image signature signs.
#[derive(Debug, Deserialize)]
pub struct SimpleSigning {
    pub critical: Critical,
    #[serde(default)]
    pub optional: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct Critical {
    pub identity: Identity,
    pub image: SignedImage,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Deserialize)]
pub struct Identity {
    #[serde(rename = "docker-reference", default)]
    pub docker_reference: String,
}

#[derive(Debug, Deserialize)]
pub struct SignedImage {
    #[serde(rename = "docker-manifest-digest")]
    pub docker_manifest_digest: String,
}

impl SimpleSigning {
    /// Parses a payload and checks it signs `digest`: a valid signature over a payload that
    /// names another image proves nothing about this one.
    pub fn check(payload: &[u8], digest: &str) -> Result<SimpleSigning, String> {
        let parsed: SimpleSigning = serde_json::from_slice(payload)
            .map_err(|e| format!("the simple-signing payload does not parse: {e}"))?;
        if parsed.critical.kind != "cosign container image signature"
            && parsed.critical.kind != "atomic container signature"
        {
            return Err(format!(
                "the payload's type is `{}`, not a container image signature",
                parsed.critical.kind
            ));
        }
        if parsed.critical.image.docker_manifest_digest != digest {
            return Err(format!(
                "digest mismatch: the payload signs {}, not this image ({digest})",
                parsed.critical.image.docker_manifest_digest
            ));
        }
        Ok(parsed)
    }
}

/// What a SLSA provenance predicate says about where an image came from.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SlsaFacts {
    pub builder: Option<String>,
    /// The source repository (`git+https://github.com/org/repo`).
    pub source: Option<String>,
    /// The source ref (`refs/heads/main`).
    pub source_ref: Option<String>,
}

impl SlsaFacts {
    /// Reads SLSA v1 (`runDetails.builder.id`, the first resolved dependency or the GitHub
    /// workflow parameters) and v0.2 (`builder.id`, `invocation.configSource.uri`).
    pub fn from_predicate(predicate_type: &str, predicate: &serde_json::Value) -> SlsaFacts {
        let text =
            |value: &serde_json::Value| value.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
        let (builder, uri) = if predicate_type.ends_with("/v0.2") {
            (
                text(&predicate["builder"]["id"]),
                text(&predicate["invocation"]["configSource"]["uri"]),
            )
        } else {
            (
                text(&predicate["runDetails"]["builder"]["id"]),
                text(&predicate["buildDefinition"]["resolvedDependencies"][0]["uri"]),
            )
        };
        let (mut source, mut source_ref) = match uri {
            Some(uri) => match uri.rsplit_once('@') {
                Some((source, reference)) => (Some(source.to_owned()), Some(reference.to_owned())),
                None => (Some(uri), None),
            },
            None => (None, None),
        };
        let workflow = &predicate["buildDefinition"]["externalParameters"]["workflow"];
        if source.is_none() {
            source = text(&workflow["repository"]).map(|r| format!("git+{r}"));
        }
        if source_ref.is_none() {
            source_ref = text(&workflow["ref"]);
        }
        SlsaFacts {
            builder,
            source,
            source_ref,
        }
    }
}

/// The most container images read from one provenance: a real build pulls a handful; the cap
/// bounds what a hostile statement costs.
const MAX_PROVENANCE_IMAGES: usize = 256;

/// The container images a SLSA provenance says the build pulled (its base image and any other
/// stage's), as `registry/repository[:tag][@sha256:…]`: the v0.2 `materials` and the v1
/// `buildDefinition.resolvedDependencies` whose URI is a `pkg:docker/` package URL (as `BuildKit`
/// writes them). Other materials (the source repository, files) are not images.
pub fn provenance_images(predicate_type: &str, predicate: &serde_json::Value) -> Vec<String> {
    let materials = if predicate_type.ends_with("/v0.2") {
        &predicate["materials"]
    } else {
        &predicate["buildDefinition"]["resolvedDependencies"]
    };
    let Some(materials) = materials.as_array() else {
        return Vec::new();
    };
    let mut images: Vec<String> = materials
        .iter()
        .take(MAX_PROVENANCE_IMAGES)
        .filter_map(|material| {
            let uri = material["uri"].as_str()?;
            let digest = material["digest"]["sha256"].as_str();
            docker_purl_image(uri, digest)
        })
        .collect();
    images.sort();
    images.dedup();
    images
}

/// `pkg:docker/NAME@VERSION?QUALIFIERS` as an image reference. The package URL spec puts the
/// registry in `repository_url`; `BuildKit` writes the name as Docker's short form (`alpine`,
/// `ghcr.io/org/app`) and the tag (or the digest) as the version, the digest also in `digest`.
/// Hand-written: no maintained crate parses package URLs into Docker references.
fn docker_purl_image(uri: &str, material_digest: Option<&str>) -> Option<String> {
    let rest = uri.strip_prefix("pkg:docker/")?;
    let (path, qualifiers) = rest.split_once('?').unwrap_or((rest, ""));
    let (name, version) = match path.rsplit_once('@') {
        Some((name, version)) => (name, Some(percent_decode(version))),
        None => (path, None),
    };
    let name = percent_decode(name);
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let mut registry = None;
    let mut digest = material_digest.map(|hex| format!("sha256:{hex}"));
    for pair in qualifiers.split('&') {
        match pair.split_once('=') {
            Some(("repository_url", value)) => registry = Some(percent_decode(value)),
            Some(("digest", value)) => digest = Some(percent_decode(value)),
            _ => {}
        }
    }
    let first = name.split('/').next().unwrap_or("");
    let full = match registry {
        Some(registry) => format!("{}/{name}", registry.trim_end_matches('/')),
        None if first.contains('.') || first.contains(':') || first == "localhost" => name,
        None if name.contains('/') => format!("docker.io/{name}"),
        None => format!("docker.io/library/{name}"),
    };
    // A version that is a digest pins the image by it.
    let (tag, version_digest) = match version {
        Some(version) if version.starts_with("sha256:") => (None, Some(version)),
        other => (other, None),
    };
    let digest = digest.or(version_digest);
    let mut image = full;
    if let Some(tag) = tag {
        image = format!("{image}:{tag}");
    }
    if let Some(digest) = digest.filter(|d| {
        d.strip_prefix("sha256:")
            .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
    }) {
        image = format!("{image}@{digest}");
    }
    Some(image)
}

/// `%2F` → `/`; a malformed escape is kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let Some(byte) = text
                .get(index + 1..index + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provenance_images_are_read_from_buildkit_package_urls() {
        let hex = "a".repeat(64);
        let v02 = serde_json::json!({"materials": [
            {"uri": "pkg:docker/alpine@3.19?platform=linux%2Famd64", "digest": {"sha256": hex}},
            {"uri": "pkg:docker/ghcr.io/acme/builder@1.2?platform=linux%2Famd64", "digest": {"sha256": hex}},
            {"uri": "pkg:docker/bitnami/redis@7", "digest": {}},
            {"uri": "pkg:docker/app@sha256%3A{hex}?repository_url=registry.example.com%2Fteam".replace("{hex}", &hex)},
            {"uri": "https://github.com/acme/app.git#main", "digest": {"sha1": "b"}},
            {"uri": "pkg:docker/"},
        ]});
        assert_eq!(
            provenance_images("https://slsa.dev/provenance/v0.2", &v02),
            [
                "docker.io/bitnami/redis:7".to_owned(),
                format!("docker.io/library/alpine:3.19@sha256:{hex}"),
                format!("ghcr.io/acme/builder:1.2@sha256:{hex}"),
                format!("registry.example.com/team/app@sha256:{hex}"),
            ]
        );
        let v1 = serde_json::json!({"buildDefinition": {"resolvedDependencies": [
            {"uri": "pkg:docker/debian@12-slim?platform=linux%2Farm64", "digest": {"sha256": hex}},
        ]}});
        assert_eq!(
            provenance_images("https://slsa.dev/provenance/v1", &v1),
            [format!("docker.io/library/debian:12-slim@sha256:{hex}")]
        );
        assert!(provenance_images("https://slsa.dev/provenance/v1", &v02).is_empty());
    }

    const DIGEST: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn statement_names_its_subject_digest_only() {
        let payload = format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"x","digest":{{"sha256":"{}"}}}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{{}}}}"#,
            &DIGEST[7..]
        );
        let statement = Statement::parse(IN_TOTO_PAYLOAD_TYPE, payload.as_bytes()).unwrap();
        assert!(statement.names_digest(DIGEST));
        assert!(!statement.names_digest(&DIGEST.replace('a', "b")));
        assert!(Statement::parse("text/plain", payload.as_bytes()).is_err());
    }

    #[test]
    fn simple_signing_must_name_the_image() {
        let payload = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"r/x"}},"image":{{"docker-manifest-digest":"{DIGEST}"}},"type":"cosign container image signature"}},"optional":null}}"#
        );
        assert!(SimpleSigning::check(payload.as_bytes(), DIGEST).is_ok());
        let error =
            SimpleSigning::check(payload.as_bytes(), &DIGEST.replace('a', "c")).unwrap_err();
        assert!(error.starts_with("digest mismatch"), "{error}");
    }

    #[test]
    fn slsa_v1_and_v02_name_builder_source_and_ref() {
        let v1 = serde_json::json!({
            "buildDefinition": {"resolvedDependencies": [{"uri": "git+https://github.com/acme/app@refs/heads/main"}]},
            "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}}
        });
        let facts = SlsaFacts::from_predicate("https://slsa.dev/provenance/v1", &v1);
        assert_eq!(
            facts.builder.as_deref(),
            Some("https://github.com/actions/runner/github-hosted")
        );
        assert_eq!(
            facts.source.as_deref(),
            Some("git+https://github.com/acme/app")
        );
        assert_eq!(facts.source_ref.as_deref(), Some("refs/heads/main"));
        let v02 = serde_json::json!({
            "builder": {"id": "https://builder.example/b"},
            "invocation": {"configSource": {"uri": "git+https://git.example/x@refs/tags/v1"}}
        });
        let facts = SlsaFacts::from_predicate("https://slsa.dev/provenance/v0.2", &v02);
        assert_eq!(facts.builder.as_deref(), Some("https://builder.example/b"));
        assert_eq!(facts.source_ref.as_deref(), Some("refs/tags/v1"));
        assert_eq!(
            SlsaFacts::from_predicate("https://slsa.dev/provenance/v1", &serde_json::json!({})),
            SlsaFacts::default()
        );
    }
}
