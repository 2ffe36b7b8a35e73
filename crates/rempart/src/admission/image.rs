//! Image references as the container runtime reads them.

use rempart_misconfig::ImageRef;

/// `registry/repository` as pulled: `nginx` is `docker.io/library/nginx`, so that allow-list
/// patterns and exemptions written for the full name match the short one.
pub(crate) fn normalized(image: &str) -> String {
    let parsed = ImageRef::parse(image);
    repository_of(&parsed)
}

pub(crate) fn repository_of(parsed: &ImageRef) -> String {
    if parsed.registry == "docker.io" && !parsed.repository.contains('/') {
        format!("docker.io/library/{}", parsed.repository)
    } else {
        format!("{}/{}", parsed.registry, parsed.repository)
    }
}

/// The digest the reference pins, when it is a well-formed `sha256:` digest.
pub(crate) fn pinned_digest(parsed: &ImageRef) -> Option<&str> {
    parsed
        .digest
        .as_deref()
        .filter(|digest| is_sha256_digest(digest))
}

pub(crate) fn is_sha256_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_docker_hub_library_images() {
        assert_eq!(normalized("nginx:1.27"), "docker.io/library/nginx");
        assert_eq!(normalized("bitnami/redis"), "docker.io/bitnami/redis");
        assert_eq!(
            normalized("localhost:5000/team/app@sha256:00"),
            "localhost:5000/team/app"
        );
        assert!(is_sha256_digest(&format!("sha256:{}", "a".repeat(64))));
        assert!(!is_sha256_digest(&format!("sha256:{}", "A".repeat(64))));
        assert!(!is_sha256_digest("sha256:abc"));
    }
}
