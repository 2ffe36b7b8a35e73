//! The OCI distribution API, pull side, with every read bounded.
//!
//! Written on `reqwest` rather than taken from `oci-client`: that crate reads manifests, token
//! responses and error bodies whole into memory and gives no way to cap them, nor to bound a
//! request's total time (a registry dripping one byte a second never trips a read timeout). A
//! scanner that pulls whatever it is told to, and a server that does so all day, must survive a
//! hostile registry, so this client owns each of those limits:
//!
//! - documents (manifests, configs, token responses) are capped while streaming;
//! - a blob is refused when its declared size is absurd, cut off at one byte past it, and its
//!   digest checked as it arrives;
//! - connect, first-byte and idle timeouts per request, a total time per document request, and
//!   a deadline for everything the image's pull does;
//! - redirects are followed to a bounded depth (reqwest drops credentials on a cross-host hop).
//!
//! Authentication follows the registry's challenge: HTTP basic, or a bearer token from the
//! token service it names (Docker's token protocol, with a refresh token when the credential
//! store holds an identity token).

use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Response, StatusCode};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt as _;

use crate::error::ImageError;

/// A token response is a small JSON object.
const MAX_TOKEN_BYTES: u64 = 1024 * 1024;
/// How much of an error response is read, to quote its start.
const MAX_ERROR_BODY_BYTES: u64 = 4096;
/// Redirects followed for one request (registries send blob pulls to object storage once).
const MAX_REDIRECTS: usize = 5;

/// Time limits for registry requests. The defaults suit a registry on the other side of the
/// world; a hung or dripping one fails within them, the error naming the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryTimeouts {
    /// TCP connection and TLS handshake.
    pub connect: Duration,
    /// From a request sent to its response's headers.
    pub first_byte: Duration,
    /// Longest wait for the next piece of a response body.
    pub idle: Duration,
    /// Whole request for a manifest, config or token (documents of at most 16 MiB).
    pub document: Duration,
    /// Everything one image's pull does, layers included.
    pub total: Duration,
}

impl Default for RegistryTimeouts {
    fn default() -> RegistryTimeouts {
        RegistryTimeouts {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(30),
            idle: Duration::from_secs(30),
            document: Duration::from_mins(1),
            total: Duration::from_mins(30),
        }
    }
}

/// What the client may present to the registry.
#[derive(Clone)]
pub(crate) enum Credentials {
    Anonymous,
    Basic {
        username: String,
        password: String,
    },
    /// An identity token from the credential store: an `OAuth2` refresh token for the token
    /// service.
    IdentityToken(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret, even in a debug log.
        f.write_str(match self {
            Credentials::Anonymous => "Anonymous",
            Credentials::Basic { .. } => "Basic(***)",
            Credentials::IdentityToken(_) => "IdentityToken(***)",
        })
    }
}

/// A client for one repository of one registry.
pub(crate) struct DistributionClient {
    http: reqwest::Client,
    /// `https://host[:port]` (or `http://` for an insecure registry).
    base: String,
    /// The registry's name, for messages.
    registry: String,
    repository: String,
    credentials: Credentials,
    /// The `Authorization` value the last challenge led to, reused for the next requests.
    authorization: std::sync::Mutex<Option<HeaderValue>>,
    timeouts: RegistryTimeouts,
    deadline: Instant,
    insecure: bool,
}

/// A document fetched from the registry.
pub(crate) struct Document {
    pub(crate) bytes: Vec<u8>,
    pub(crate) content_type: Option<String>,
}

impl DistributionClient {
    pub(crate) fn new(
        registry: &str,
        repository: &str,
        credentials: Credentials,
        insecure: bool,
        extra_roots: Vec<reqwest::Certificate>,
        timeouts: RegistryTimeouts,
    ) -> Result<DistributionClient, ImageError> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .read_timeout(timeouts.idle)
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .user_agent(concat!("rempart/", env!("CARGO_PKG_VERSION")))
            .danger_accept_invalid_certs(insecure)
            .tls_certs_merge(extra_roots)
            .build()
            .map_err(|e| ImageError::Registry {
                registry: registry.to_owned(),
                message: format!("cannot set up the HTTP client: {e}"),
            })?;
        let scheme = if insecure { "http" } else { "https" };
        Ok(DistributionClient {
            http,
            base: format!("{scheme}://{registry}"),
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            credentials,
            authorization: std::sync::Mutex::new(None),
            timeouts,
            deadline: Instant::now() + timeouts.total,
            insecure,
        })
    }

    fn error(&self, message: String) -> ImageError {
        ImageError::Registry {
            registry: self.registry.clone(),
            message,
        }
    }

    /// The time left before the pull's deadline, or an error saying it has passed.
    fn remaining(&self, url: &str) -> Result<Duration, ImageError> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or_else(|| {
                self.error(format!(
                    "GET {url}: the pull's time limit of {} s is used up",
                    self.timeouts.total.as_secs()
                ))
            })
    }

    /// A manifest or index by tag or digest, at most `max_bytes`.
    pub(crate) async fn manifest(
        &self,
        reference: &str,
        accept: &[&str],
        max_bytes: u64,
    ) -> Result<Document, ImageError> {
        let url = format!("{}/v2/{}/manifests/{reference}", self.base, self.repository);
        self.document(&url, accept, max_bytes).await
    }

    /// A small blob (an image config) read into memory: its declared size must be within
    /// `max_bytes`, and its content must match `digest`.
    pub(crate) async fn small_blob(
        &self,
        digest: &str,
        declared_size: i64,
        max_bytes: u64,
    ) -> Result<Vec<u8>, ImageError> {
        let url = format!("{}/v2/{}/blobs/{digest}", self.base, self.repository);
        let size = self.check_declared_size(&url, declared_size, max_bytes)?;
        let document = self.document(&url, &[], max_bytes).await?;
        check_blob(&url, &document.bytes, size, digest).map_err(|m| self.error(m))?;
        Ok(document.bytes)
    }

    /// Streams a layer blob into `out`: refused before downloading when its declared size is
    /// over `max_bytes`, cut off at one byte past its declared size, and checked against
    /// `digest` at the end. On any error `out` holds a partial blob: the caller discards it.
    pub(crate) async fn blob_to_file(
        &self,
        digest: &str,
        declared_size: i64,
        max_bytes: u64,
        out: &mut tokio::fs::File,
    ) -> Result<(), ImageError> {
        let url = format!("{}/v2/{}/blobs/{digest}", self.base, self.repository);
        let size = self.check_declared_size(&url, declared_size, max_bytes)?;
        let mut response = self.send(&url, &[]).await?;
        let mut hasher = Sha256::new();
        let mut received: u64 = 0;
        while let Some(chunk) = self.next_chunk(&url, &mut response, received).await? {
            received += chunk.len() as u64;
            if received > size {
                return Err(self.error(format!(
                    "GET {url}: the blob is longer than the {size} bytes its descriptor declares"
                )));
            }
            hasher.update(&chunk);
            out.write_all(&chunk)
                .await
                .map_err(|e| self.error(format!("GET {url}: writing the blob: {e}")))?;
        }
        if received != size {
            return Err(self.error(format!(
                "GET {url}: got {received} of the {size} bytes the descriptor declares"
            )));
        }
        let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
        if actual != digest {
            return Err(ImageError::DigestMismatch {
                input: url,
                expected: digest.to_owned(),
                actual,
            });
        }
        out.flush()
            .await
            .map_err(|e| self.error(format!("GET {url}: writing the blob: {e}")))
    }

    fn check_declared_size(&self, url: &str, declared: i64, max: u64) -> Result<u64, ImageError> {
        match u64::try_from(declared) {
            Ok(size) if size <= max => Ok(size),
            _ => Err(self.error(format!(
                "GET {url}: the descriptor declares {declared} bytes; refused before downloading \
                 (the limit is {max} bytes)"
            ))),
        }
    }

    /// A whole response body of at most `max_bytes`, within the document time limit.
    async fn document(
        &self,
        url: &str,
        accept: &[&str],
        max_bytes: u64,
    ) -> Result<Document, ImageError> {
        let limit = self.timeouts.document.min(self.remaining(url)?);
        let fetch = async {
            let mut response = self.send(url, accept).await?;
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
            let bytes = self
                .read_capped(url, &mut response, max_bytes, "document")
                .await?;
            Ok(Document {
                bytes,
                content_type,
            })
        };
        tokio::time::timeout(limit, fetch).await.map_err(|_| {
            self.error(format!(
                "GET {url}: not received within {} s",
                limit.as_secs_f64().ceil()
            ))
        })?
    }

    /// Reads a body to its end, failing as soon as it passes `max_bytes`.
    async fn read_capped(
        &self,
        url: &str,
        response: &mut Response,
        max_bytes: u64,
        what: &str,
    ) -> Result<Vec<u8>, ImageError> {
        if response
            .content_length()
            .is_some_and(|length| length > max_bytes)
        {
            return Err(self.error(format!(
                "GET {url}: the {what} is announced as {} bytes, over the {max_bytes}-byte limit",
                response.content_length().unwrap_or_default()
            )));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = self.next_chunk(url, response, bytes.len() as u64).await? {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Err(self.error(format!(
                    "GET {url}: the {what} is longer than the {max_bytes}-byte limit"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// The next piece of a body, within the idle timeout and the pull's deadline.
    async fn next_chunk(
        &self,
        url: &str,
        response: &mut Response,
        received: u64,
    ) -> Result<Option<bytes::Bytes>, ImageError> {
        let wait = self.timeouts.idle.min(self.remaining(url)?);
        match tokio::time::timeout(wait, response.chunk()).await {
            Ok(Ok(chunk)) => Ok(chunk),
            // reqwest's own read timeout (the same idle limit) may fire first.
            Ok(Err(e)) if e.is_timeout() => Err(self.error(format!(
                "GET {url}: nothing received for {} s after {received} bytes",
                self.timeouts.idle.as_secs_f64().ceil()
            ))),
            Ok(Err(e)) => Err(self.error(format!(
                "GET {url}: interrupted after {received} bytes: {}",
                error_chain(&e)
            ))),
            Err(_) => Err(self.error(format!(
                "GET {url}: nothing received for {} s after {received} bytes",
                wait.as_secs_f64().ceil()
            ))),
        }
    }

    /// Sends a GET, answering one authentication challenge, and returns a successful response.
    async fn send(&self, url: &str, accept: &[&str]) -> Result<Response, ImageError> {
        let mut challenged = false;
        loop {
            let mut headers = HeaderMap::new();
            if !accept.is_empty() {
                headers.insert(
                    ACCEPT,
                    HeaderValue::from_str(&accept.join(", "))
                        .map_err(|e| self.error(format!("bad Accept header: {e}")))?,
                );
            }
            let authorization = self
                .authorization
                .lock()
                .map_err(|_| self.error("authorization state poisoned".into()))?
                .clone();
            if let Some(value) = authorization {
                headers.insert(AUTHORIZATION, value);
            }
            let response = self
                .first_byte(url, self.http.get(url).headers(headers))
                .await?;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && !challenged {
                challenged = true;
                let challenge = response
                    .headers()
                    .get(WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let value = self.answer(url, challenge.as_deref()).await?;
                *self
                    .authorization
                    .lock()
                    .map_err(|_| self.error("authorization state poisoned".into()))? = Some(value);
                continue;
            }
            if status.is_success() {
                return Ok(response);
            }
            return Err(self.status_error(url, response).await);
        }
    }

    /// Sends a request and waits for its response headers within the first-byte timeout.
    async fn first_byte(
        &self,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Response, ImageError> {
        let wait = self.timeouts.first_byte.min(self.remaining(url)?);
        match tokio::time::timeout(wait, request.send()).await {
            Ok(Ok(response)) => Ok(response),
            // reqwest's read timeout covers waiting for the headers too.
            Ok(Err(e)) if e.is_timeout() && !e.is_connect() => Err(self.error(format!(
                "GET {url}: no response within {} s",
                wait.min(self.timeouts.idle).as_secs_f64().ceil()
            ))),
            Ok(Err(e)) if e.is_connect() && e.is_timeout() => Err(self.error(format!(
                "GET {url}: could not connect within {} s",
                self.timeouts.connect.as_secs_f64().ceil()
            ))),
            Ok(Err(e)) => Err(self.error(format!("GET {url}: {}", error_chain(&e)))),
            Err(_) => Err(self.error(format!(
                "GET {url}: no response within {} s",
                wait.as_secs_f64().ceil()
            ))),
        }
    }

    /// An error for an unsuccessful response, quoting the start of its body (bounded, one line,
    /// control characters dropped: the registry may be hostile).
    async fn status_error(&self, url: &str, mut response: Response) -> ImageError {
        let status = response.status();
        let mut body = Vec::new();
        while body.len() < MAX_ERROR_BODY_BYTES as usize {
            match tokio::time::timeout(Duration::from_secs(2), response.chunk()).await {
                Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
                _ => break,
            }
        }
        let excerpt: String = String::from_utf8_lossy(&body)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(300)
            .collect();
        let hint = match status {
            StatusCode::UNAUTHORIZED => " (the credentials were refused, or none were found)",
            StatusCode::FORBIDDEN => " (these credentials may not pull this repository)",
            StatusCode::NOT_FOUND => " (no such repository, tag or blob)",
            StatusCode::TOO_MANY_REQUESTS => " (rate limited by the registry)",
            _ => "",
        };
        let excerpt = excerpt.trim();
        self.error(if excerpt.is_empty() {
            format!("GET {url}: HTTP {status}{hint}")
        } else {
            format!("GET {url}: HTTP {status}{hint}: {excerpt}")
        })
    }

    /// The `Authorization` value that answers a registry's challenge.
    async fn answer(&self, url: &str, challenge: Option<&str>) -> Result<HeaderValue, ImageError> {
        let challenge = challenge.map(parse_challenge).ok_or_else(|| {
            self.error(format!(
                "GET {url}: HTTP 401 without a WWW-Authenticate challenge"
            ))
        })?;
        match challenge.scheme.to_ascii_lowercase().as_str() {
            "basic" => match &self.credentials {
                Credentials::Basic { username, password } => {
                    header_value(&format!("Basic {}", basic(username, password)))
                        .map_err(|m| self.error(m))
                }
                _ => Err(self.error(format!(
                    "GET {url}: the registry asks for a user name and password; none were given \
                     (--username/--password, or `docker login`)"
                ))),
            },
            "bearer" => {
                let token = self.token(url, &challenge).await?;
                header_value(&format!("Bearer {token}")).map_err(|m| self.error(m))
            }
            other => Err(self.error(format!(
                "GET {url}: unsupported authentication scheme `{other}`"
            ))),
        }
    }

    /// Gets a token from the token service a bearer challenge names.
    async fn token(&self, url: &str, challenge: &Challenge) -> Result<String, ImageError> {
        let realm = challenge
            .param("realm")
            .ok_or_else(|| self.error(format!("GET {url}: bearer challenge without a realm")))?;
        let realm_url = reqwest::Url::parse(realm)
            .map_err(|e| self.error(format!("GET {url}: bad token realm `{realm}`: {e}")))?;
        let has_secret = !matches!(self.credentials, Credentials::Anonymous);
        // Credentials go to the token service only over TLS, unless the user allowed plain
        // HTTP for this registry.
        if has_secret && realm_url.scheme() != "https" && !self.insecure {
            return Err(self.error(format!(
                "GET {url}: the token service {realm} is not HTTPS; not sending credentials to it"
            )));
        }
        let default_scope = format!("repository:{}:pull", self.repository);
        let scope = challenge.param("scope").unwrap_or(&default_scope);
        let service = challenge.param("service");
        let request = match &self.credentials {
            Credentials::IdentityToken(refresh) => {
                let mut form = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.as_str()),
                    ("client_id", "rempart"),
                    ("scope", scope),
                ];
                if let Some(service) = service {
                    form.push(("service", service));
                }
                self.http.post(realm_url.clone()).form(&form)
            }
            credentials => {
                let mut query = vec![("scope", scope)];
                if let Some(service) = service {
                    query.push(("service", service));
                }
                let request = self.http.get(realm_url.clone()).query(&query);
                match credentials {
                    Credentials::Basic { username, password } => {
                        request.basic_auth(username, Some(password))
                    }
                    _ => request,
                }
            }
        };
        let shown = realm_url.as_str().to_owned();
        let limit = self.timeouts.document.min(self.remaining(&shown)?);
        let fetch = async {
            let mut response = self.first_byte(&shown, request).await?;
            if !response.status().is_success() {
                return Err(self.status_error(&shown, response).await);
            }
            self.read_capped(&shown, &mut response, MAX_TOKEN_BYTES, "token response")
                .await
        };
        let body = tokio::time::timeout(limit, fetch).await.map_err(|_| {
            self.error(format!(
                "GET {shown}: no token within {} s",
                limit.as_secs_f64().ceil()
            ))
        })??;
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| self.error(format!("GET {shown}: not a token response: {e}")))?;
        parsed
            .token
            .or(parsed.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.error(format!("GET {shown}: the token response holds no token")))
    }
}

/// A token service's answer: Docker's `token`, or `OAuth2`'s `access_token`.
#[derive(serde::Deserialize)]
struct TokenResponse {
    token: Option<String>,
    access_token: Option<String>,
}

/// Checks a small blob read whole: its length and digest.
fn check_blob(url: &str, bytes: &[u8], size: u64, digest: &str) -> Result<(), String> {
    if bytes.len() as u64 != size {
        return Err(format!(
            "GET {url}: got {} bytes, the descriptor declares {size}",
            bytes.len()
        ));
    }
    let actual = crate::digest::sha256_digest(bytes);
    if actual != digest {
        return Err(format!(
            "GET {url}: digest mismatch: expected {digest}, got {actual}"
        ));
    }
    Ok(())
}

fn basic(username: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
}

fn header_value(text: &str) -> Result<HeaderValue, String> {
    let mut value =
        HeaderValue::from_str(text).map_err(|_| "the credentials cannot be sent in a header")?;
    value.set_sensitive(true);
    Ok(value)
}

/// An error and its causes on one line: reqwest's own message is often just "error sending
/// request", with the useful part (refused, TLS, DNS, redirects) in its sources.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let shown = cause.to_string();
        if !text.contains(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        source = cause.source();
    }
    text
}

/// A `WWW-Authenticate` challenge: its scheme and parameters.
#[derive(Debug, PartialEq, Eq)]
struct Challenge {
    scheme: String,
    params: Vec<(String, String)>,
}

impl Challenge {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A challenge's scheme and parameters, for the fuzz target.
pub(crate) fn challenge_parts(header: &str) -> (String, Vec<(String, String)>) {
    let challenge = parse_challenge(header);
    (challenge.scheme, challenge.params)
}

/// Parses `Scheme key="value", key=token, …` (RFC 9110 §11.6.1); quoted values may hold commas
/// and escaped quotes. Hand-written: the header crates that parse it are unmaintained, and the
/// grammar is a dozen lines.
fn parse_challenge(header: &str) -> Challenge {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars
            .by_ref()
            .take_while(|c| *c != '=')
            .collect::<String>()
            .trim()
            .to_owned();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
            value.truncate(value.trim_end().len());
            let leading = value.len() - value.trim_start().len();
            value.drain(..leading);
        }
        params.push((key, value));
    }
    Challenge {
        scheme: scheme.to_owned(),
        params,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_hub_style_challenges() {
        let challenge = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(challenge.scheme, "Bearer");
        assert_eq!(challenge.param("realm"), Some("https://auth.example/token"));
        assert_eq!(challenge.param("SERVICE"), Some("registry.example"));
        assert_eq!(challenge.param("scope"), Some("repository:a/b:pull,push"));
        let basic = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!(basic.scheme, "Basic");
        assert_eq!(basic.param("realm"), Some("Registry Realm"));
        let odd = parse_challenge(r#"Bearer realm=unquoted, x="a \"q\" b""#);
        assert_eq!(odd.param("realm"), Some("unquoted"));
        assert_eq!(odd.param("x"), Some(r#"a "q" b"#));
        assert_eq!(parse_challenge("Bearer").params, vec![]);
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let shown = format!(
            "{:?}",
            Credentials::Basic {
                username: "u".into(),
                password: "hunter2".into()
            }
        );
        assert!(!shown.contains("hunter2"));
    }
}
