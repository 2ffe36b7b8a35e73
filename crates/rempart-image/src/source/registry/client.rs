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
//!
//! The push side serves copies between repositories of one registry (see `copy.rs`): blob
//! existence checks, cross-repository mounts, uploads streamed from a pull of the source
//! repository, and manifest pushes, under the same limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION,
    WWW_AUTHENTICATE,
};
use reqwest::{Method, Response, StatusCode};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt as _;

use crate::digest::{sha256_digest, validate_digest};
use crate::error::ImageError;

/// A token response is a small JSON object.
const MAX_TOKEN_BYTES: u64 = 1024 * 1024;
/// How much of an error response is read, to quote its start.
const MAX_ERROR_BODY_BYTES: u64 = 4096;
/// Redirects followed for one request (registries send blob pulls to object storage once).
const MAX_REDIRECTS: usize = 5;
/// Pieces of a blob in flight between its download and its upload: enough to keep both
/// connections busy, little enough that a copy holds a few hundred kilobytes at most.
const UPLOAD_CHUNKS_IN_FLIGHT: usize = 8;
/// The header in which registries give a manifest's or blob's digest.
const DOCKER_CONTENT_DIGEST: &str = "docker-content-digest";

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
    /// A bearer token already issued for this registry (Harbor hands its scanners one per
    /// scan): sent as is to a bearer challenge, never to a token service.
    RegistryToken(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret, even in a debug log.
        f.write_str(match self {
            Credentials::Anonymous => "Anonymous",
            Credentials::Basic { .. } => "Basic(***)",
            Credentials::IdentityToken(_) => "IdentityToken(***)",
            Credentials::RegistryToken(_) => "RegistryToken(***)",
        })
    }
}

/// An HTTP client with the registry client's limits; `read_timeout` is the idle limit, or none
/// for streamed uploads.
fn build_http(
    registry: &str,
    insecure: bool,
    extra_roots: &[reqwest::Certificate],
    timeouts: RegistryTimeouts,
    read_timeout: Option<Duration>,
) -> Result<reqwest::Client, ImageError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
        .user_agent(concat!("rempart/", env!("CARGO_PKG_VERSION")))
        .danger_accept_invalid_certs(insecure)
        .tls_certs_merge(extra_roots.to_vec());
    if let Some(read_timeout) = read_timeout {
        builder = builder.read_timeout(read_timeout);
    }
    builder.build().map_err(|e| ImageError::Registry {
        registry: registry.to_owned(),
        message: format!("cannot set up the HTTP client: {e}"),
    })
}

/// A client for one repository of one registry.
pub(crate) struct DistributionClient {
    http: reqwest::Client,
    /// The same client without reqwest's read timeout, for streamed uploads: that timeout
    /// starts when a request is sent and is not reset while its body goes out, so it would cut
    /// any upload longer than the idle limit. Uploads have their own idle limits instead.
    /// Built on the first upload: building a client sets up its TLS trust, which costs tens of
    /// milliseconds, and most clients never upload.
    upload_http: std::sync::OnceLock<reqwest::Client>,
    /// The certificate authorities the clients trust besides the system's, for the upload one.
    extra_roots: Vec<reqwest::Certificate>,
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
    /// Scopes asked of a token service besides those its challenge names.
    scopes: Vec<String>,
    /// Whether this client pushes (for messages: what a refusal means).
    push: bool,
}

/// What a cross-repository mount request led to.
pub(crate) enum Mount {
    /// The registry linked the blob into this repository.
    Mounted,
    /// The registry refused the mount and opened an upload session at this location instead.
    Upload(String),
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
        extra_roots: &[reqwest::Certificate],
        timeouts: RegistryTimeouts,
    ) -> Result<DistributionClient, ImageError> {
        let http = build_http(
            registry,
            insecure,
            extra_roots,
            timeouts,
            Some(timeouts.idle),
        )?;
        let scheme = if insecure { "http" } else { "https" };
        Ok(DistributionClient {
            http,
            upload_http: std::sync::OnceLock::new(),
            extra_roots: extra_roots.to_vec(),
            base: format!("{scheme}://{registry}"),
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            credentials,
            authorization: std::sync::Mutex::new(None),
            timeouts,
            deadline: Instant::now() + timeouts.total,
            insecure,
            scopes: vec![format!("repository:{repository}:pull")],
            push: false,
        })
    }

    /// Turns this client into the destination side of a copy: the token it asks for covers
    /// pull and push on its repository and pull on `source_repository`, the repository blobs
    /// are mounted from (a registry checks both for a mount).
    pub(crate) fn for_push(mut self, source_repository: &str) -> DistributionClient {
        self.scopes = vec![
            format!("repository:{}:pull,push", self.repository),
            format!("repository:{source_repository}:pull"),
        ];
        self.push = true;
        self
    }

    fn error(&self, message: String) -> ImageError {
        ImageError::Registry {
            registry: self.registry.clone(),
            message,
        }
    }

    /// A failure another try may not meet: the registry was unreachable, slow or busy.
    fn unavailable(&self, message: String) -> ImageError {
        ImageError::Unavailable {
            registry: self.registry.clone(),
            message,
        }
    }

    /// A request that got no answer. The connection's own failure decides: refused, reset,
    /// aborted, cut short or timed out may not happen on another try; a TLS failure (an untrusted
    /// or wrong certificate), a bad address or anything else unknown would.
    fn transport_error(&self, what: &str, error: &reqwest::Error) -> ImageError {
        use std::io::ErrorKind;
        let message = format!("{what}: {}", rempart_core::error_chain(error));
        let mut transient = error.is_timeout();
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(inner) = cause {
            if let Some(io) = inner.downcast_ref::<std::io::Error>() {
                transient |= matches!(
                    io.kind(),
                    ErrorKind::ConnectionRefused
                        | ErrorKind::ConnectionReset
                        | ErrorKind::ConnectionAborted
                        | ErrorKind::NotConnected
                        | ErrorKind::BrokenPipe
                        | ErrorKind::UnexpectedEof
                        | ErrorKind::TimedOut
                        | ErrorKind::HostUnreachable
                        | ErrorKind::NetworkUnreachable
                        | ErrorKind::NetworkDown
                );
            }
            cause = inner.source();
        }
        if transient {
            self.unavailable(message)
        } else {
            self.error(message)
        }
    }

    /// The time left before the deadline of the pull or copy, or an error saying it has passed.
    /// `what` names the request (`GET https://…`).
    fn remaining(&self, what: &str) -> Result<Duration, ImageError> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or_else(|| {
                self.unavailable(format!(
                    "{what}: the {}'s time limit of {} s is used up",
                    if self.push { "copy" } else { "pull" },
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
        let size = self.check_declared_size(&format!("GET {url}"), declared_size, max_bytes)?;
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
        let what = format!("GET {url}");
        let size = self.check_declared_size(&what, declared_size, max_bytes)?;
        let mut response = self.send(&url, &[]).await?;
        let mut hasher = Sha256::new();
        let mut received: u64 = 0;
        while let Some(chunk) = self.next_chunk(&what, &mut response, received).await? {
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

    fn check_declared_size(&self, what: &str, declared: i64, max: u64) -> Result<u64, ImageError> {
        match u64::try_from(declared) {
            Ok(size) if size <= max => Ok(size),
            _ => Err(self.error(format!(
                "{what}: the descriptor declares {declared} bytes; refused before downloading \
                 (the limit is {max} bytes)"
            ))),
        }
    }

    /// The digest of the manifest or index `reference` (a tag) names. A HEAD suffices when the
    /// registry answers it with a well-formed `Docker-Content-Digest` (registries do not count
    /// HEADs against pull rate limits); otherwise the document is fetched, at most `max_bytes`,
    /// and its bytes hashed. A registry that lies in the header only gets the wrong digest
    /// pulled or copied later, which is checked against the bytes then.
    pub(crate) async fn manifest_digest(
        &self,
        reference: &str,
        accept: &[&str],
        max_bytes: u64,
    ) -> Result<String, ImageError> {
        let url = format!("{}/v2/{}/manifests/{reference}", self.base, self.repository);
        let headers = self.accept_headers(accept)?;
        let response = self
            .small_exchange(Method::HEAD, &url, &headers, None)
            .await?;
        let status = response.status();
        if status.is_success() {
            let announced = response
                .headers()
                .get(DOCKER_CONTENT_DIGEST)
                .and_then(|value| value.to_str().ok())
                .filter(|digest| validate_digest(digest).is_ok());
            if let Some(digest) = announced {
                return Ok(digest.to_owned());
            }
        } else if status != StatusCode::METHOD_NOT_ALLOWED {
            // A missing tag or refused credentials: a GET would get the same answer.
            return Err(self.status_error(&format!("HEAD {url}"), response).await);
        }
        let document = self.manifest(reference, accept, max_bytes).await?;
        Ok(sha256_digest(&document.bytes))
    }

    /// Whether this repository holds blob `digest`.
    pub(crate) async fn blob_exists(&self, digest: &str) -> Result<bool, ImageError> {
        let url = format!("{}/v2/{}/blobs/{digest}", self.base, self.repository);
        let response = self
            .small_exchange(Method::HEAD, &url, &HeaderMap::new(), None)
            .await?;
        match response.status() {
            status if status.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self.status_error(&format!("HEAD {url}"), response).await),
        }
    }

    /// Asks the registry to link blob `digest` of repository `from` into this one, which copies
    /// nothing. A registry that refuses (the blob is not there, the credentials may not read
    /// `from`, mounts are off) opens an upload session instead, and says where.
    pub(crate) async fn mount_blob(&self, digest: &str, from: &str) -> Result<Mount, ImageError> {
        let url = format!(
            "{}/v2/{}/blobs/uploads/?mount={digest}&from={from}",
            self.base, self.repository
        );
        let what = format!("POST {url}");
        let response = self
            .small_exchange(Method::POST, &url, &HeaderMap::new(), Some(&Bytes::new()))
            .await?;
        match response.status() {
            StatusCode::CREATED => Ok(Mount::Mounted),
            StatusCode::ACCEPTED => response
                .headers()
                .get(LOCATION)
                .and_then(|value| value.to_str().ok())
                .filter(|location| !location.is_empty())
                .map(|location| Mount::Upload(location.to_owned()))
                .ok_or_else(|| {
                    self.error(format!(
                        "{what}: HTTP 202 without the Location of an upload session"
                    ))
                }),
            _ => Err(self.status_error(&what, response).await),
        }
    }

    /// The URL that finishes the upload session at `location` with blob `digest`, and whether
    /// it is on the registry itself: credentials are sent there only, since a hostile registry
    /// could name any host.
    fn upload_url(&self, location: &str, digest: &str) -> Result<(reqwest::Url, bool), ImageError> {
        let base = reqwest::Url::parse(&self.base)
            .map_err(|e| self.error(format!("bad registry address {}: {e}", self.base)))?;
        let mut url = base.join(location).map_err(|e| {
            self.error(format!(
                "the registry gave an unusable upload location `{location}`: {e}"
            ))
        })?;
        let allowed = match url.scheme() {
            "https" => true,
            "http" => self.insecure,
            _ => false,
        };
        if !allowed {
            return Err(self.error(format!(
                "the registry gave the upload location `{location}`, which is not HTTPS"
            )));
        }
        let same_origin = url.origin() == base.origin();
        url.query_pairs_mut().append_pair("digest", digest);
        Ok((url, same_origin))
    }

    /// Streams blob `digest` from `source` (a client for the source repository) into the upload
    /// session at `location`, finished by one monolithic PUT, with never more than a few pieces
    /// of it in memory. The download is refused when `declared_size` is over `max_bytes`, cut
    /// at one byte past `declared_size`, and hashed as it passes; its last piece goes out only
    /// once the whole blob has arrived and matched its digest, so that the registry never gets
    /// a complete upload of anything else, and a failed download abandons the upload. (The
    /// registry checks the digest as well; a copy does not rely on it.)
    pub(crate) async fn upload_blob(
        &self,
        source: &DistributionClient,
        location: &str,
        digest: &str,
        declared_size: i64,
        max_bytes: u64,
    ) -> Result<(), ImageError> {
        let get_url = format!("{}/v2/{}/blobs/{digest}", source.base, source.repository);
        let get_what = format!("GET {get_url}");
        let size = source.check_declared_size(&get_what, declared_size, max_bytes)?;
        let (url, same_origin) = self.upload_url(location, digest)?;
        let mut shown = url.clone();
        shown.set_query(None);
        let put_what = format!("PUT {shown} (upload of {digest})");

        let (sender, receiver) = tokio::sync::mpsc::channel::<Bytes>(UPLOAD_CHUNKS_IN_FLIGHT);
        let verified = Arc::new(AtomicBool::new(false));
        let upload_http = if let Some(client) = self.upload_http.get() {
            client
        } else {
            let client = build_http(
                &self.registry,
                self.insecure,
                &self.extra_roots,
                self.timeouts,
                None,
            )?;
            self.upload_http.get_or_init(|| client)
        };
        let mut request = upload_http
            .put(url)
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(CONTENT_LENGTH, size)
            .body(verified_body(receiver, Arc::clone(&verified)));
        if same_origin && let Some(value) = self.current_authorization()? {
            request = request.header(AUTHORIZATION, value);
        }
        // Set when the registry stops taking the body: it has answered, and that answer is the
        // error to report.
        let upload_closed = std::cell::Cell::new(false);
        let download = async {
            let mut response = source.send(&get_url, &[]).await?;
            let mut hasher = Sha256::new();
            let mut received: u64 = 0;
            // The last piece read is held back until the next arrives, and the very last one
            // until the digest is checked: once it has `Content-Length` bytes, the registry
            // takes the upload as complete, whatever the body stream says afterwards.
            let mut held: Option<Bytes> = None;
            while let Some(piece) = source
                .next_chunk(&get_what, &mut response, received)
                .await?
            {
                received += piece.len() as u64;
                if received > size {
                    return Err(source.error(format!(
                        "{get_what}: the blob is longer than the {size} bytes its descriptor \
                         declares"
                    )));
                }
                hasher.update(&piece);
                if let Some(previous) = held.replace(piece) {
                    self.forward(&sender, previous, &put_what, &upload_closed)
                        .await?;
                }
            }
            if received != size {
                return Err(source.error(format!(
                    "{get_what}: got {received} of the {size} bytes the descriptor declares"
                )));
            }
            let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
            if actual != digest {
                return Err(ImageError::DigestMismatch {
                    input: get_url.clone(),
                    expected: digest.to_owned(),
                    actual,
                });
            }
            verified.store(true, Ordering::Release);
            if let Some(last) = held {
                self.forward(&sender, last, &put_what, &upload_closed)
                    .await?;
            }
            drop(sender);
            Ok(())
        };
        let mut download = std::pin::pin!(download);
        let mut put = std::pin::pin!(request.send());
        let sent = tokio::select! {
            biased;
            sent = &mut put => sent,
            downloaded = &mut download => {
                if let Err(error) = downloaded {
                    if upload_closed.get()
                        && let Ok(Ok(response)) =
                            tokio::time::timeout(Duration::from_secs(5), &mut put).await
                        && !response.status().is_success()
                    {
                        return Err(self.status_error(&put_what, response).await);
                    }
                    // Dropping the request abandons the upload.
                    return Err(error);
                }
                let wait = self.timeouts.first_byte.min(self.remaining(&put_what)?);
                tokio::time::timeout(wait, &mut put).await.map_err(|_| {
                    self.unavailable(format!(
                        "{put_what}: no answer within {} s of the end of the upload",
                        wait.as_secs_f64().ceil()
                    ))
                })?
            }
        };
        let response = sent.map_err(|e| self.transport_error(&put_what, &e))?;
        if !response.status().is_success() {
            return Err(self.status_error(&put_what, response).await);
        }
        // A success before the whole blob went out cannot be an honest one.
        if !verified.load(Ordering::Acquire) {
            return Err(self.error(format!(
                "{put_what}: the registry accepted the upload before receiving all of it"
            )));
        }
        Ok(())
    }

    /// Hands a piece of a blob to its upload, waiting at most the idle time for the registry to
    /// take the pieces before it.
    async fn forward(
        &self,
        sender: &tokio::sync::mpsc::Sender<Bytes>,
        piece: Bytes,
        what: &str,
        upload_closed: &std::cell::Cell<bool>,
    ) -> Result<(), ImageError> {
        let wait = self.timeouts.idle.min(self.remaining(what)?);
        match tokio::time::timeout(wait, sender.send(piece)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => {
                upload_closed.set(true);
                Err(self.unavailable(format!("{what}: the registry stopped reading the upload")))
            }
            Err(_) => Err(self.unavailable(format!(
                "{what}: the registry took nothing of the upload for {} s",
                wait.as_secs_f64().ceil()
            ))),
        }
    }

    /// Abandons the upload session at `location`, so that the registry frees it now rather than
    /// when it expires. Best effort: the copy has failed already, and that error is the one to
    /// report.
    pub(crate) async fn cancel_upload(&self, location: &str) {
        let Ok(base) = reqwest::Url::parse(&self.base) else {
            return;
        };
        let Ok(url) = base.join(location) else {
            return;
        };
        if url.origin() != base.origin() {
            return;
        }
        let mut request = self.http.delete(url);
        if let Ok(Some(value)) = self.current_authorization() {
            request = request.header(AUTHORIZATION, value);
        }
        let _ = tokio::time::timeout(self.timeouts.first_byte, request.send()).await;
    }

    /// A manifest or index by tag or digest, `None` when the registry has no such manifest
    /// (a signature tag that was never pushed is an answer, not an error).
    pub(crate) async fn optional_manifest(
        &self,
        reference: &str,
        accept: &[&str],
        max_bytes: u64,
    ) -> Result<Option<Document>, ImageError> {
        let url = format!("{}/v2/{}/manifests/{reference}", self.base, self.repository);
        self.optional_document(&url, accept, max_bytes, &[StatusCode::NOT_FOUND])
            .await
    }

    /// The OCI 1.1 referrers of manifest `digest` as an image index, `None` when the registry
    /// does not implement the referrers API (it answers 404 for an unknown route, some 400 or
    /// 405): the caller then reads the referrers tag instead.
    pub(crate) async fn referrers(
        &self,
        digest: &str,
        max_bytes: u64,
    ) -> Result<Option<Document>, ImageError> {
        let url = format!("{}/v2/{}/referrers/{digest}", self.base, self.repository);
        self.optional_document(
            &url,
            &["application/vnd.oci.image.index.v1+json"],
            max_bytes,
            &[
                StatusCode::NOT_FOUND,
                StatusCode::BAD_REQUEST,
                StatusCode::METHOD_NOT_ALLOWED,
            ],
        )
        .await
        // A registry that implements the API answers with an index; anything else means none.
        .map(|document| {
            document.filter(|d| {
                d.content_type
                    .as_deref()
                    .is_none_or(|t| t == "application/vnd.oci.image.index.v1+json")
            })
        })
    }

    /// A GET whose `absent` statuses mean "nothing there" rather than an error.
    async fn optional_document(
        &self,
        url: &str,
        accept: &[&str],
        max_bytes: u64,
        absent: &[StatusCode],
    ) -> Result<Option<Document>, ImageError> {
        let what = format!("GET {url}");
        let limit = self.timeouts.document.min(self.remaining(&what)?);
        let fetch = async {
            let headers = self.accept_headers(accept)?;
            let mut response = self.exchange(Method::GET, url, &headers, None).await?;
            if absent.contains(&response.status()) {
                return Ok(None);
            }
            if !response.status().is_success() {
                return Err(self.status_error(&what, response).await);
            }
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
            let bytes = self
                .read_capped(&what, &mut response, max_bytes, "document")
                .await?;
            Ok(Some(Document {
                bytes,
                content_type,
            }))
        };
        tokio::time::timeout(limit, fetch).await.map_err(|_| {
            self.unavailable(format!(
                "{what}: not received within {} s",
                limit.as_secs_f64().ceil()
            ))
        })?
    }

    /// Uploads a small blob held in memory (a signature or an attestation), unless the
    /// repository has it already: one POST opens the session, one PUT sends it whole. An upload
    /// location on another host is refused, since the credentials would go there too.
    pub(crate) async fn push_small_blob(
        &self,
        bytes: &Bytes,
        digest: &str,
    ) -> Result<(), ImageError> {
        if self.blob_exists(digest).await? {
            return Ok(());
        }
        let url = format!("{}/v2/{}/blobs/uploads/", self.base, self.repository);
        let what = format!("POST {url}");
        let response = self
            .small_exchange(Method::POST, &url, &HeaderMap::new(), Some(&Bytes::new()))
            .await?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(self.status_error(&what, response).await);
        }
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .filter(|location| !location.is_empty())
            .ok_or_else(|| self.error(format!("{what}: HTTP 202 without an upload Location")))?
            .to_owned();
        let (put_url, same_origin) = self.upload_url(&location, digest)?;
        if !same_origin {
            return Err(self.error(format!(
                "{what}: the upload location `{location}` is on another host; small uploads \
                 are only sent to the registry itself"
            )));
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        let mut shown = put_url.clone();
        shown.set_query(None);
        let put_what = format!("PUT {shown} (upload of {digest})");
        let response = self
            .small_exchange(Method::PUT, put_url.as_str(), &headers, Some(bytes))
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(self.status_error(&put_what, response).await)
        }
    }

    /// Pushes a manifest or index to this repository under `reference` (its digest or a tag),
    /// with its own media type as the content type.
    pub(crate) async fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: &Bytes,
        digest: &str,
    ) -> Result<(), ImageError> {
        let url = format!("{}/v2/{}/manifests/{reference}", self.base, self.repository);
        let what = format!("PUT {url}");
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_str(media_type)
                .map_err(|e| self.error(format!("{what}: bad media type `{media_type}`: {e}")))?,
        );
        let response = self
            .small_exchange(Method::PUT, &url, &headers, Some(bytes))
            .await?;
        if !response.status().is_success() {
            return Err(self.status_error(&what, response).await);
        }
        if let Some(stored) = response
            .headers()
            .get(DOCKER_CONTENT_DIGEST)
            .and_then(|value| value.to_str().ok())
            && stored != digest
        {
            return Err(self.error(format!(
                "{what}: the registry stored the manifest as {stored}, not {digest}"
            )));
        }
        Ok(())
    }

    /// A whole response body of at most `max_bytes`, within the document time limit.
    async fn document(
        &self,
        url: &str,
        accept: &[&str],
        max_bytes: u64,
    ) -> Result<Document, ImageError> {
        // With no status taken for "absent", every unsuccessful answer is an error.
        self.optional_document(url, accept, max_bytes, &[])
            .await?
            .ok_or_else(|| self.error(format!("GET {url}: no document")))
    }

    /// Reads a body to its end, failing as soon as it passes `max_bytes`.
    async fn read_capped(
        &self,
        what: &str,
        response: &mut Response,
        max_bytes: u64,
        kind: &str,
    ) -> Result<Vec<u8>, ImageError> {
        if response
            .content_length()
            .is_some_and(|length| length > max_bytes)
        {
            return Err(self.error(format!(
                "{what}: the {kind} is announced as {} bytes, over the {max_bytes}-byte limit",
                response.content_length().unwrap_or_default()
            )));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = self.next_chunk(what, response, bytes.len() as u64).await? {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Err(self.error(format!(
                    "{what}: the {kind} is longer than the {max_bytes}-byte limit"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// The next piece of a body, within the idle timeout and the pull's deadline.
    async fn next_chunk(
        &self,
        what: &str,
        response: &mut Response,
        received: u64,
    ) -> Result<Option<Bytes>, ImageError> {
        let wait = self.timeouts.idle.min(self.remaining(what)?);
        match tokio::time::timeout(wait, response.chunk()).await {
            Ok(Ok(chunk)) => Ok(chunk),
            // reqwest's own read timeout (the same idle limit) may fire first.
            Ok(Err(e)) if e.is_timeout() => Err(self.unavailable(format!(
                "{what}: nothing received for {} s after {received} bytes",
                self.timeouts.idle.as_secs_f64().ceil()
            ))),
            Ok(Err(e)) => Err(self.unavailable(format!(
                "{what}: interrupted after {received} bytes: {}",
                rempart_core::error_chain(&e)
            ))),
            Err(_) => Err(self.unavailable(format!(
                "{what}: nothing received for {} s after {received} bytes",
                wait.as_secs_f64().ceil()
            ))),
        }
    }

    /// Sends a GET, answering one authentication challenge, and returns a successful response.
    async fn send(&self, url: &str, accept: &[&str]) -> Result<Response, ImageError> {
        let headers = self.accept_headers(accept)?;
        let response = self.exchange(Method::GET, url, &headers, None).await?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(self.status_error(&format!("GET {url}"), response).await)
    }

    fn accept_headers(&self, accept: &[&str]) -> Result<HeaderMap, ImageError> {
        let mut headers = HeaderMap::new();
        if !accept.is_empty() {
            headers.insert(
                ACCEPT,
                HeaderValue::from_str(&accept.join(", "))
                    .map_err(|e| self.error(format!("bad Accept header: {e}")))?,
            );
        }
        Ok(headers)
    }

    /// The `Authorization` value the last challenge led to, if any.
    fn current_authorization(&self) -> Result<Option<HeaderValue>, ImageError> {
        Ok(self
            .authorization
            .lock()
            .map_err(|_| self.error("authorization state poisoned".into()))?
            .clone())
    }

    /// Sends a request, answering one authentication challenge, and returns the response
    /// whatever its status: callers decide which answers are successes (a HEAD's 404 is an
    /// answer). The body is bytes held in memory, so that it can be sent again after the
    /// challenge.
    async fn exchange(
        &self,
        method: Method,
        url: &str,
        headers: &HeaderMap,
        body: Option<&Bytes>,
    ) -> Result<Response, ImageError> {
        let what = format!("{method} {url}");
        let mut challenged = false;
        loop {
            let mut request = self
                .http
                .request(method.clone(), url)
                .headers(headers.clone());
            if let Some(value) = self.current_authorization()? {
                request = request.header(AUTHORIZATION, value);
            }
            if let Some(body) = body {
                request = request.body(body.clone());
            }
            let response = self.first_byte(&what, request).await?;
            if response.status() == StatusCode::UNAUTHORIZED && !challenged {
                challenged = true;
                let challenge = response
                    .headers()
                    .get(WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let value = self.answer(&what, challenge.as_deref()).await?;
                *self
                    .authorization
                    .lock()
                    .map_err(|_| self.error("authorization state poisoned".into()))? = Some(value);
                continue;
            }
            return Ok(response);
        }
    }

    /// [`exchange`](Self::exchange) for a request without a large body, within the document
    /// time limit.
    async fn small_exchange(
        &self,
        method: Method,
        url: &str,
        headers: &HeaderMap,
        body: Option<&Bytes>,
    ) -> Result<Response, ImageError> {
        let what = format!("{method} {url}");
        let limit = self.timeouts.document.min(self.remaining(&what)?);
        tokio::time::timeout(limit, self.exchange(method, url, headers, body))
            .await
            .map_err(|_| {
                self.error(format!(
                    "{what}: no answer within {} s",
                    limit.as_secs_f64().ceil()
                ))
            })?
    }

    /// Sends a request and waits for its response headers within the first-byte timeout.
    async fn first_byte(
        &self,
        what: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Response, ImageError> {
        let wait = self.timeouts.first_byte.min(self.remaining(what)?);
        match tokio::time::timeout(wait, request.send()).await {
            Ok(Ok(response)) => Ok(response),
            // reqwest's read timeout covers waiting for the headers too.
            Ok(Err(e)) if e.is_timeout() && !e.is_connect() => Err(self.unavailable(format!(
                "{what}: no response within {} s",
                wait.min(self.timeouts.idle).as_secs_f64().ceil()
            ))),
            Ok(Err(e)) if e.is_connect() && e.is_timeout() => Err(self.unavailable(format!(
                "{what}: could not connect within {} s",
                self.timeouts.connect.as_secs_f64().ceil()
            ))),
            Ok(Err(e)) => Err(self.transport_error(what, &e)),
            Err(_) => Err(self.unavailable(format!(
                "{what}: no response within {} s",
                wait.as_secs_f64().ceil()
            ))),
        }
    }

    /// An error for an unsuccessful response, quoting the start of its body (bounded, one line,
    /// control characters dropped: the registry may be hostile).
    async fn status_error(&self, what: &str, mut response: Response) -> ImageError {
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
        let hint = match (status, self.push) {
            (StatusCode::UNAUTHORIZED, false) => {
                " (the credentials were refused, or none were found)".to_owned()
            }
            (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, true) => format!(
                " (the credentials were refused, or they cannot push to {})",
                self.repository
            ),
            (StatusCode::FORBIDDEN, false) => {
                " (these credentials may not pull this repository)".to_owned()
            }
            (StatusCode::NOT_FOUND, _) => " (no such repository, tag or blob)".to_owned(),
            (StatusCode::METHOD_NOT_ALLOWED, true) => {
                " (the registry does not accept pushes, or is read-only)".to_owned()
            }
            (StatusCode::TOO_MANY_REQUESTS, _) => " (rate limited by the registry)".to_owned(),
            _ => String::new(),
        };
        let excerpt = excerpt.trim();
        let message = if excerpt.is_empty() {
            format!("{what}: HTTP {status}{hint}")
        } else {
            format!("{what}: HTTP {status}{hint}: {excerpt}")
        };
        // Busy, overloaded or restarting: an answer that may change; the others would not.
        if matches!(
            status,
            StatusCode::REQUEST_TIMEOUT
                | StatusCode::TOO_MANY_REQUESTS
                | StatusCode::BAD_GATEWAY
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT
        ) {
            self.unavailable(message)
        } else {
            self.error(message)
        }
    }

    /// The `Authorization` value that answers a registry's challenge.
    async fn answer(&self, what: &str, challenge: Option<&str>) -> Result<HeaderValue, ImageError> {
        let challenge = challenge.map(parse_challenge).ok_or_else(|| {
            self.error(format!(
                "{what}: HTTP 401 without a WWW-Authenticate challenge"
            ))
        })?;
        match challenge.scheme.to_ascii_lowercase().as_str() {
            "basic" => match &self.credentials {
                Credentials::Basic { username, password } => {
                    header_value(&format!("Basic {}", basic(username, password)))
                        .map_err(|m| self.error(m))
                }
                _ => Err(self.error(format!(
                    "{what}: the registry asks for a user name and password; none were given \
                     (--username/--password, or `docker login`)"
                ))),
            },
            "bearer" => {
                if let Credentials::RegistryToken(token) = &self.credentials {
                    return header_value(&format!("Bearer {token}")).map_err(|m| self.error(m));
                }
                let token = self.token(what, &challenge).await?;
                header_value(&format!("Bearer {token}")).map_err(|m| self.error(m))
            }
            other => Err(self.error(format!(
                "{what}: unsupported authentication scheme `{other}`"
            ))),
        }
    }

    /// Gets a token from the token service a bearer challenge names, for the scopes the
    /// challenge names and those this client needs (a copy asks at once for push on the
    /// destination and pull on the source, which a blob mount needs both of).
    async fn token(&self, what: &str, challenge: &Challenge) -> Result<String, ImageError> {
        let realm = challenge
            .param("realm")
            .ok_or_else(|| self.error(format!("{what}: bearer challenge without a realm")))?;
        let realm_url = reqwest::Url::parse(realm)
            .map_err(|e| self.error(format!("{what}: bad token realm `{realm}`: {e}")))?;
        let has_secret = !matches!(self.credentials, Credentials::Anonymous);
        // Credentials go to the token service only over TLS, unless the user allowed plain
        // HTTP for this registry.
        if has_secret && realm_url.scheme() != "https" && !self.insecure {
            return Err(self.error(format!(
                "{what}: the token service {realm} is not HTTPS; not sending credentials to it"
            )));
        }
        // A challenge may name several scopes, separated by spaces.
        let mut scopes: Vec<&str> = challenge
            .param("scope")
            .map(|scope| scope.split(' ').filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        for scope in &self.scopes {
            if !scopes.contains(&scope.as_str()) {
                scopes.push(scope);
            }
        }
        let service = challenge.param("service");
        let request = match &self.credentials {
            Credentials::IdentityToken(refresh) => {
                // The OAuth2 form takes one space-separated `scope`, as Docker sends it.
                let joined = scopes.join(" ");
                let mut form = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.as_str()),
                    ("client_id", "rempart"),
                    ("scope", joined.as_str()),
                ];
                if let Some(service) = service {
                    form.push(("service", service));
                }
                self.http.post(realm_url.clone()).form(&form)
            }
            credentials => {
                // The token protocol's GET takes one `scope` parameter per scope.
                let mut query: Vec<(&str, &str)> =
                    scopes.iter().map(|scope| ("scope", *scope)).collect();
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
        let shown = format!("GET {}", realm_url.as_str());
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
                "{shown}: no token within {} s",
                limit.as_secs_f64().ceil()
            ))
        })??;
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| self.error(format!("{shown}: not a token response: {e}")))?;
        parsed
            .token
            .or(parsed.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.error(format!("{shown}: the token response holds no token")))
    }
}

/// The body of a streamed upload: the pieces the download sends, then, instead of the end, an
/// error unless the download marked the blob verified. An upload cut short by a failed download
/// must never look complete to the registry.
fn verified_body(
    receiver: tokio::sync::mpsc::Receiver<Bytes>,
    verified: Arc<AtomicBool>,
) -> reqwest::Body {
    let pieces = futures_util::stream::unfold(Some((receiver, verified)), |state| async move {
        let (mut receiver, verified) = state?;
        match receiver.recv().await {
            Some(piece) => Some((Ok(piece), Some((receiver, verified)))),
            None if verified.load(Ordering::Acquire) => None,
            None => Some((
                Err(std::io::Error::other(
                    "the download of the blob failed; upload abandoned",
                )),
                None,
            )),
        }
    });
    reqwest::Body::wrap_stream(pieces)
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
    let actual = sha256_digest(bytes);
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
        let shown = format!("{:?}", Credentials::RegistryToken("s3cret".into()));
        assert!(!shown.contains("s3cret"));
    }

    #[test]
    fn a_registry_token_answers_a_bearer_challenge_without_a_token_service() {
        super::super::install_crypto_provider();
        let client = DistributionClient::new(
            "registry.invalid",
            "team/app",
            Credentials::RegistryToken("issued".into()),
            false,
            &[],
            RegistryTimeouts::default(),
        )
        .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // The realm cannot be reached: a request to it would fail the answer.
        let bearer = runtime.block_on(client.answer(
            "GET manifest",
            Some(r#"Bearer realm="https://auth.invalid/token",service="registry""#),
        ));
        assert_eq!(bearer.unwrap(), "Bearer issued");
        let basic = runtime.block_on(client.answer("GET manifest", Some(r#"Basic realm="r""#)));
        assert!(basic.is_err());
    }
}
