//! Image references (`registry.example.com:5000/team/app:1.2@sha256:…`) read into the registry
//! client's `Reference`.
//!
//! Hand-written on purpose: `oci-spec` parses references with one regular expression whose tag
//! class is Unicode-aware (`[\w][\w.-]{0,127}`), and compiling it costs about 40 ms, once per
//! process: more than the rest of a `rempart verify` against a local registry. This reader
//! follows the same grammar (the distribution project's reference grammar) with ASCII classes,
//! which is what the distribution specification allows in tags, and builds the same
//! `Reference`; a test compares the two on a corpus of valid and invalid references.

use oci_spec::distribution::Reference;

/// The longest repository name (after the registry is split off), as `oci-spec` and the
/// distribution project allow.
const NAME_TOTAL_LENGTH_MAX: usize = 255;
const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_LEGACY: &str = "index.docker.io";

/// Reads `text` as an image reference; the message says what is wrong (the same words as
/// `oci-spec`'s errors).
pub fn parse_reference(text: &str) -> Result<Reference, String> {
    if text.is_empty() {
        return Err("repository name must have at least one component".to_owned());
    }
    let invalid = || "invalid reference format".to_owned();
    // Neither a name nor a tag holds `@`: what follows the first one is the digest.
    let (name_and_tag, digest) = match text.split_once('@') {
        Some((left, digest)) => (left, Some(digest)),
        None => (text, None),
    };
    // A `:` after the last `/` starts the tag; one before it belongs to the registry's port.
    let last_slash = name_and_tag.rfind('/');
    let (name, tag) = match name_and_tag.rfind(':') {
        Some(colon) if last_slash.is_none_or(|slash| colon > slash) => {
            (&name_and_tag[..colon], Some(&name_and_tag[colon + 1..]))
        }
        _ => (name_and_tag, None),
    };
    if !valid_name(name) {
        return Err(invalid());
    }
    if let Some(tag) = tag
        && !valid_tag(tag)
    {
        return Err(invalid());
    }
    if let Some(digest) = digest {
        if !valid_digest_syntax(digest) {
            return Err(invalid());
        }
        check_digest_length(digest)?;
    }
    let (registry, repository) = split_domain(name);
    if repository.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(format!(
            "repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
        ));
    }
    Ok(match (tag, digest) {
        (Some(tag), Some(digest)) => {
            Reference::with_tag_and_digest(registry, repository, tag.to_owned(), digest.to_owned())
        }
        (None, Some(digest)) => Reference::with_digest(registry, repository, digest.to_owned()),
        (Some(tag), None) => Reference::with_tag(registry, repository, tag.to_owned()),
        (None, None) => Reference::with_tag(registry, repository, "latest".to_owned()),
    })
}

/// `[domain/]path-component(/path-component)*`: valid read either with the first component as
/// a registry, or as a path throughout.
fn valid_name(name: &str) -> bool {
    if name.split('/').all(valid_path_component) {
        return true;
    }
    match name.split_once('/') {
        Some((domain, path)) => valid_domain(domain) && path.split('/').all(valid_path_component),
        None => false,
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut index = 0;
    while index < bytes.len() {
        if alnum(bytes[index]) {
            index += 1;
            continue;
        }
        // A separator: `.`, `_`, `__`, or a run of `-`, between alphanumerics.
        let start = index;
        while index < bytes.len() && !alnum(bytes[index]) {
            index += 1;
        }
        let separator = &component[start..index];
        let allowed = separator == "."
            || separator == "_"
            || separator == "__"
            || separator.bytes().all(|b| b == b'-');
        if !allowed {
            return false;
        }
    }
    true
}

/// `label(\.label)*(:[0-9]+)?`, a label being `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?`.
fn valid_domain(domain: &str) -> bool {
    let (host, port) = match domain.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (domain, None),
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    host.split('.').all(|label| {
        let bytes = label.as_bytes();
        !bytes.is_empty()
            && bytes[0].is_ascii_alphanumeric()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    })
}

/// `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
fn valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// `algorithm:hex{32,}`, the algorithm `[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*`.
fn valid_digest_syntax(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let component_ok = |component: &str| {
        let bytes = component.as_bytes();
        !bytes.is_empty()
            && bytes[0].is_ascii_alphabetic()
            && bytes.iter().all(u8::is_ascii_alphanumeric)
    };
    hex.len() >= 32
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && algorithm.split(['-', '_', '+', '.']).all(component_ok)
}

/// The algorithms the registry client knows, each with its length.
fn check_digest_length(digest: &str) -> Result<(), String> {
    let (algorithm, hex) = digest.split_once(':').unwrap_or((digest, ""));
    let wanted = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err("unsupported digest algorithm".to_owned()),
    };
    if hex.len() == wanted {
        Ok(())
    } else {
        Err("invalid checksum digest length".to_owned())
    }
}

/// The registry and the repository, as Docker reads a name: the first component is a registry
/// only when it holds a `.` or a `:`, or is `localhost`; Docker Hub's official images are under
/// `library/`.
fn split_domain(name: &str) -> (String, String) {
    let (mut domain, mut remainder) = match name.split_once('/') {
        Some((left, right)) if left.contains(['.', ':']) || left == "localhost" => {
            (left.to_owned(), right.to_owned())
        }
        _ => (DOCKER_HUB.to_owned(), name.to_owned()),
    };
    if domain == DOCKER_HUB_LEGACY {
        DOCKER_HUB.clone_into(&mut domain);
    }
    if domain == DOCKER_HUB && !remainder.contains('/') {
        remainder = format!("library/{remainder}");
    }
    (domain, remainder)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same answer as `oci-spec`'s parser: the same reference, or an error for both.
    #[test]
    fn agrees_with_oci_spec_on_a_corpus() {
        let sha256 = "f".repeat(64);
        let sha512 = "e".repeat(128);
        let mut corpus: Vec<String> = [
            "busybox",
            "test.com:tag",
            "test.com:5000",
            "test.com/repo:tag",
            "test:5000/repo",
            "test:5000/repo:tag",
            "lowercase:Uppercase",
            "sub-dom1.foo.com/bar/baz/quux",
            "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
            "b.gcr.io/test.example.com/my-app:test.example.com",
            "xn--n3h.com/myimage:xn--n3h.com",
            "foo_bar.com:8080",
            "foo/foo_bar.com:8080",
            "opensuse/leap:15.3",
            "localhost/app",
            "localhost:5000/team/app:1.2",
            "127.0.0.1:5000/a/b/c:v1",
            "index.docker.io/nginx",
            "index.docker.io/bitnami/redis:7",
            "docker.io/library/nginx:1.27",
            "Registry.Example.com/app",
            "registry.example.com/App",
            "a__b/c",
            "a___b/c",
            "a--b/c-d",
            "a-/b",
            "-a/b",
            "a._b/c",
            "a..b/c",
            "",
            ":tag",
            "repo:",
            "repo:-tag",
            "repo:_tag",
            "repo:.tag",
            "repo/",
            "/repo",
            "repo//name",
            "host:port/repo",
            "host:/repo",
            "ho_st.com/repo",
            "-host.com/repo",
            "host-.com/repo",
            "a/b:c:d",
            "a@b",
            "a@sha256:abc",
            "a@sha1:0123456789012345678901234567890123456789",
            "a@SHA256:ffff",
            "repo:tag@",
            "a b",
            "a\tb",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        corpus.push(format!("repo:{}", "t".repeat(128)));
        corpus.push(format!("repo:{}", "t".repeat(129)));
        corpus.push(format!("{}/x", "a".repeat(300)));
        corpus.push(format!("registry.example.com/{}", "a".repeat(255)));
        corpus.push(format!("registry.example.com/{}", "a".repeat(256)));
        corpus.push(format!("test:5000/repo@sha256:{sha256}"));
        corpus.push(format!("test:5000/repo:tag@sha256:{sha256}"));
        corpus.push(format!("xn--7o8h.com/myimage:xn--7o8h.com@sha512:{sha512}"));
        corpus.push(format!("repo@sha256:{}", "F".repeat(64)));
        corpus.push(format!("repo@sha384:{}", "a".repeat(96)));
        corpus.push(format!("repo@sha256:{}", "a".repeat(63)));
        corpus.push(format!("repo@md5:{}", "a".repeat(32)));
        corpus.push(format!("repo@sha256+b64:{sha256}"));
        for text in &corpus {
            let ours = parse_reference(text);
            let theirs: Result<Reference, _> = text.parse::<Reference>();
            match (&ours, &theirs) {
                (Ok(ours), Ok(theirs)) => assert_eq!(ours, theirs, "{text:?}"),
                (Err(ours), Err(theirs)) => assert_eq!(*ours, theirs.to_string(), "{text:?}"),
                _ => panic!("{text:?}: ours {ours:?}, oci-spec {theirs:?}"),
            }
        }
    }
}
