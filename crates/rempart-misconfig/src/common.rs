//! Facts shared by the image, Dockerfile, Kubernetes and compose checks.

/// Ports whose service is a frequent way in when exposed, with the reason shown to the user.
///
/// Chosen deliberately: remote shells and desktops (22, 23, 3389, 5900), the Docker daemon API
/// (2375 plain, 2376 TLS: either one hands out root on the host), and data stores that listen
/// without authentication by default (Redis 6379, Memcached 11211, Elasticsearch 9200, `MongoDB`
/// 27017 before 3.6 images, etcd 2379). Web ports (80, 443, 8080) are not on the list: exposing
/// them is what most images are for.
const RISKY_PORTS: &[(u16, &str)] = &[
    (
        22,
        "SSH: an SSH server in a container is a second, unmanaged way in",
    ),
    (23, "Telnet: unencrypted remote shell"),
    (
        2375,
        "Docker daemon API without TLS: full control of the host",
    ),
    (2376, "Docker daemon API: full control of the host"),
    (2379, "etcd client API: cluster state and secrets"),
    (3389, "RDP remote desktop"),
    (5900, "VNC remote desktop, often without a password"),
    (6379, "Redis: no authentication by default"),
    (
        9200,
        "Elasticsearch HTTP API: no authentication by default in older versions",
    ),
    (11211, "Memcached: no authentication"),
    (
        27017,
        "MongoDB: no authentication by default in older versions",
    ),
];

pub(crate) fn risky_port(port: u16) -> Option<&'static str> {
    RISKY_PORTS
        .iter()
        .find(|(p, _)| *p == port)
        .map(|(_, why)| *why)
}

/// Parses `22`, `22/tcp`, `8000-8002/udp`, `"22"` into the ports it names (ranges capped so a
/// hostile `1-65535` costs nothing).
pub(crate) fn parse_ports(spec: &str) -> Vec<u16> {
    let spec = spec.trim().trim_matches('"').trim_matches('\'');
    let number = spec.split('/').next().unwrap_or("");
    match number.split_once('-') {
        Some((low, high)) => match (low.parse::<u16>(), high.parse::<u16>()) {
            (Ok(low), Ok(high)) if low <= high => RISKY_PORTS
                .iter()
                .map(|(p, _)| *p)
                .filter(|p| (low..=high).contains(p))
                .collect(),
            _ => Vec::new(),
        },
        None => number.parse::<u16>().into_iter().collect(),
    }
}

/// Words that make an environment variable or build argument name look like it holds a secret.
const SECRET_NAME_PARTS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
    "PRIVATE_KEY",
    "CLIENT_SECRET",
    "CREDENTIAL",
    "AUTH_KEY",
];

/// Name parts that end in a secret word but do not hold one (`TOKEN_URL`, `PASSWORD_FILE`: a path
/// to a mounted secret is the recommended practice).
const NON_SECRET_SUFFIXES: &[&str] = &[
    "_FILE",
    "_PATH",
    "_URL",
    "_URI",
    "_ENDPOINT",
    "_HOST",
    "_PORT",
    "_DIR",
    "_NAME",
    "_LENGTH",
    "_TTL",
    "_EXPIRY",
    "_EXPIRES",
    "_TYPE",
    "_HEADER",
    "_ID",
];

pub(crate) fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_NAME_PARTS.iter().any(|part| upper.contains(part))
        && !NON_SECRET_SUFFIXES
            .iter()
            .any(|suffix| upper.ends_with(suffix))
}

/// Values that are clearly not a real secret: empty, a variable reference, or a placeholder.
pub(crate) fn is_placeholder_value(value: &str) -> bool {
    let v = value.trim().trim_matches('"').trim_matches('\'');
    let lower = v.to_ascii_lowercase();
    v.is_empty()
        || v.starts_with('$')
        || (v.starts_with('<') && v.ends_with('>'))
        || (v.starts_with("{{") && v.ends_with("}}"))
        || matches!(
            lower.as_str(),
            "changeme"
                | "change_me"
                | "change-me"
                | "placeholder"
                | "none"
                | "null"
                | "xxx"
                | "xxxx"
                | "xxxxxx"
                | "secret"
                | "password"
                | "token"
                | "example"
                | "dummy"
                | "todo"
                | "tbd"
                | "redacted"
                | "***"
                | "true"
                | "false"
        )
        || v.chars().all(|c| c == '*' || c == 'x' || c == 'X')
}

/// A parsed image reference (`registry/repo:tag@digest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `docker.io` when the reference names none.
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    pub fn parse(reference: &str) -> ImageRef {
        let (rest, digest) = match reference.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest.to_owned())),
            None => (reference, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(colon) => (
                &rest[..last_slash + colon],
                Some(rest[last_slash + colon + 1..].to_owned()),
            ),
            None => (rest, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), path.to_owned())
            }
            _ => ("docker.io".to_owned(), name.to_owned()),
        };
        ImageRef {
            registry,
            repository,
            tag,
            digest,
        }
    }

    /// The tag that will actually be pulled: `latest` when none is given.
    pub fn is_latest(&self) -> bool {
        self.digest.is_none() && self.tag.as_deref().is_none_or(|tag| tag == "latest")
    }
}

/// The 1-based number of the first line at or after index `start` that holds `needle`, or of
/// line `start` itself when none does: where a finding in a YAML file points, once its anchor
/// (a job's key) is found.
pub(crate) fn line_holding<S: AsRef<str>>(lines: &[S], start: usize, needle: &str) -> u32 {
    let found = lines
        .iter()
        .enumerate()
        .skip(start)
        .find(|(_, line)| line.as_ref().contains(needle))
        .map_or(start, |(index, _)| index);
    u32::try_from(found + 1).unwrap_or(u32::MAX)
}

/// Whether a Git reference is a full commit SHA (40 hex digits): the only reference to an
/// action, a workflow or an include that its owner cannot move.
pub(crate) fn is_commit_sha(reference: &str) -> bool {
    reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references() {
        let r = ImageRef::parse("localhost:5000/team/app:1.2@sha256:abc");
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "team/app");
        assert_eq!(r.tag.as_deref(), Some("1.2"));
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        let r = ImageRef::parse("nginx");
        assert_eq!((r.registry.as_str(), r.tag), ("docker.io", None));
        assert!(ImageRef::parse("nginx").is_latest());
        assert!(!ImageRef::parse("nginx@sha256:1").is_latest());
        assert_eq!(ImageRef::parse("ghcr.io/o/r:v1").registry, "ghcr.io");
    }

    #[test]
    fn secret_names_and_placeholders() {
        assert!(is_secret_name("DB_PASSWORD"));
        assert!(is_secret_name("github_token"));
        assert!(!is_secret_name("DB_PASSWORD_FILE"));
        assert!(!is_secret_name("PATH"));
        assert!(is_placeholder_value("${DB_PASSWORD}"));
        assert!(is_placeholder_value("changeme"));
        assert!(!is_placeholder_value("s3cr3t-Value"));
    }

    #[test]
    fn port_specs() {
        assert_eq!(parse_ports("22/tcp"), vec![22]);
        assert_eq!(parse_ports("6000-6400"), vec![6379]);
        assert!(parse_ports("http").is_empty());
    }
}
