//! Pulls from a misbehaving registry: an HTTP server on 127.0.0.1 started by the test that
//! answers with endless bodies, oversized blobs, silence, a slow drip, a redirect loop, or an
//! endless token. Each must end in a clear error that names the URL, within the time limits,
//! with nothing left in the blob directory. Copies use the same server: it refuses mounts, so
//! blobs are streamed into uploads, and serves blobs that do not match their digests.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rempart_image::{
    CopyRequest, ImageSource, Platform, RegistryImage, RegistryOptions, RegistryTimeouts,
    copy_image,
};
use sha2::{Digest, Sha256};

/// How the server answers one path.
#[derive(Clone)]
enum Answer {
    /// 200 with this body and content type.
    Body(Vec<u8>, &'static str),
    /// 200, then bytes as fast as the socket takes them, forever.
    Endless,
    /// Reads the request and never answers.
    Silence,
    /// 200 with headers, then one byte every 300 ms, forever.
    Drip,
    /// 302 back to the same path.
    RedirectToSelf,
    /// 401 with this `WWW-Authenticate` header, unless the request carries `Authorization`
    /// equal to the second value, in which case the third answer is given.
    Challenge(String, String, Box<Answer>),
    /// This status and these headers, with no body.
    Status(u16, Vec<(&'static str, String)>),
    /// Reads the request body (its `Content-Length`), records it in `Server::uploads`, and
    /// answers 201 once it is whole.
    Receive,
}

struct Server {
    port: u16,
    /// The target (path and query) of every request.
    requests: Arc<Mutex<Vec<String>>>,
    /// `METHOD target` of every request.
    calls: Arc<Mutex<Vec<String>>>,
    /// What `Answer::Receive` routes got: the target, the body, and whether it was whole.
    uploads: Arc<Mutex<Vec<Upload>>>,
}

#[derive(Clone, Debug)]
struct Upload {
    target: String,
    body: Vec<u8>,
    whole: bool,
}

/// What the server saw, shared with its connection threads.
#[derive(Clone, Default)]
struct Seen {
    requests: Arc<Mutex<Vec<String>>>,
    calls: Arc<Mutex<Vec<String>>>,
    uploads: Arc<Mutex<Vec<Upload>>>,
}

fn serve(routes: HashMap<String, Answer>) -> Server {
    serve_on(TcpListener::bind("127.0.0.1:0").unwrap(), routes)
}

/// Serves on a listener bound beforehand (routes may need to name its port).
fn serve_on(listener: TcpListener, routes: HashMap<String, Answer>) -> Server {
    let port = listener.local_addr().unwrap().port();
    let seen = Seen::default();
    let server = Server {
        port,
        requests: Arc::clone(&seen.requests),
        calls: Arc::clone(&seen.calls),
        uploads: Arc::clone(&seen.uploads),
    };
    let routes = Arc::new(routes);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let routes = Arc::clone(&routes);
            let seen = seen.clone();
            std::thread::spawn(move || handle(stream, &routes, &seen));
        }
    });
    server
}

/// Answers one request per connection. A route is looked up as `METHOD path`, then as `path`.
fn handle(mut stream: TcpStream, routes: &HashMap<String, Answer>, seen: &Seen) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut authorization = None;
    let mut content_length = 0;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("authorization") {
                authorization = Some(value.trim().to_owned());
            } else if name.eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut words = request_line.split_whitespace();
    let method = words.next().unwrap_or("GET").to_owned();
    let target = words.next().unwrap_or("/").to_owned();
    let path = target.split('?').next().unwrap_or("/").to_owned();
    seen.requests.lock().unwrap().push(target.clone());
    seen.calls
        .lock()
        .unwrap()
        .push(format!("{method} {target}"));
    let mut answer = routes
        .get(&format!("{method} {path}"))
        .or_else(|| routes.get(&path))
        .cloned();
    while let Some(Answer::Challenge(challenge, expected, then)) = answer.clone() {
        if authorization.as_deref() == Some(expected.as_str()) {
            answer = Some(*then);
        } else {
            // The body is read first: closing a connection with unread bytes resets it, and the
            // client would then see a reset rather than this 401, depending on timing.
            let _ = std::io::copy(
                &mut std::io::Read::take(&mut reader, content_length.min(1 << 20)),
                &mut std::io::sink(),
            );
            let _ = write!(
                stream,
                "HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nWWW-Authenticate: {challenge}\r\nContent-Length: 0\r\n\r\n"
            );
            return;
        }
    }
    let _ = match answer {
        None => write!(
            stream,
            "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 9\r\n\r\nnot found"
        ),
        Some(Answer::Body(body, content_type)) => write!(
            stream,
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .and_then(|()| stream.write_all(&body)),
        Some(Answer::Endless) => {
            let _ = write!(stream, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let chunk = vec![b' '; 64 * 1024];
            while stream.write_all(&chunk).is_ok() {}
            Ok(())
        }
        Some(Answer::Silence) => {
            std::thread::sleep(Duration::from_mins(1));
            Ok(())
        }
        Some(Answer::Drip) => {
            let _ = write!(stream, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            while stream.write_all(b" ").is_ok() {
                std::thread::sleep(Duration::from_millis(300));
            }
            Ok(())
        }
        Some(Answer::RedirectToSelf) => write!(
            stream,
            "HTTP/1.1 302 Found\r\nConnection: close\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n"
        ),
        Some(Answer::Status(status, headers)) => {
            let mut lines = String::new();
            for (name, value) in &headers {
                for part in [name, ": ", value.as_str(), "\r\n"] {
                    lines.push_str(part);
                }
            }
            write!(
                stream,
                "HTTP/1.1 {status} Whatever\r\nConnection: close\r\n{lines}Content-Length: 0\r\n\r\n"
            )
        }
        Some(Answer::Receive) => {
            let mut body = Vec::new();
            let _ = std::io::Read::read_to_end(
                &mut std::io::Read::take(&mut reader, content_length),
                &mut body,
            );
            let whole = body.len() as u64 == content_length;
            seen.uploads.lock().unwrap().push(Upload {
                target,
                body,
                whole,
            });
            if whole {
                write!(
                    stream,
                    "HTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
                )
            } else {
                Ok(())
            }
        }
        Some(Answer::Challenge(..)) => unreachable!("resolved above"),
    };
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";

/// A one-layer image: its routes (manifest under tag `t`, config, layer blob) and the layer's
/// digest. `declared` replaces the layer size the manifest declares.
fn image_routes(layer: &[u8], declared: Option<i64>) -> (HashMap<String, Answer>, String) {
    let layer_digest = sha256(layer);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]},
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": declared.unwrap_or_else(|| i64::try_from(layer.len()).unwrap())}],
    }))
    .unwrap();
    let mut routes = HashMap::new();
    routes.insert(
        "/v2/x/manifests/t".into(),
        Answer::Body(manifest, MANIFEST_TYPE),
    );
    routes.insert(
        format!("/v2/x/blobs/{}", sha256(&config)),
        Answer::Body(config, "application/octet-stream"),
    );
    (routes, layer_digest)
}

fn options(blob_dir: &std::path::Path) -> RegistryOptions {
    let mut options = RegistryOptions::new(blob_dir.to_owned());
    options.insecure = true;
    options.timeouts = RegistryTimeouts {
        connect: Duration::from_secs(2),
        first_byte: Duration::from_secs(1),
        idle: Duration::from_secs(1),
        document: Duration::from_secs(3),
        total: Duration::from_secs(20),
    };
    options
}

/// Pulls `x:tag` from the server for `platform`.
fn open_as(
    server: &Server,
    tag: &str,
    platform: &Platform,
    blob_dir: &std::path::Path,
) -> Result<RegistryImage, String> {
    RegistryImage::open(
        &format!("127.0.0.1:{}/x:{tag}", server.port),
        platform,
        &options(blob_dir),
    )
    .map_err(|e| e.to_string())
}

/// Pulls `x:t` for this machine's platform.
fn open(server: &Server, blob_dir: &std::path::Path) -> Result<RegistryImage, String> {
    open_as(server, "t", &Platform::host_linux(), blob_dir)
}

/// The error of pulling `x:tag`, which must come within `limit`.
fn pull_error(server: &Server, tag: &str, blob_dir: &std::path::Path, limit: Duration) -> String {
    within(limit, || {
        open_as(server, tag, &Platform::host_linux(), blob_dir)
    })
    .err()
    .expect("the pull must fail")
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The failure of pulling `x:tag` itself, to ask whether another try may work.
fn pull_failure(
    server: &Server,
    tag: &str,
    blob_dir: &std::path::Path,
) -> rempart_image::ImageError {
    RegistryImage::open(
        &format!("127.0.0.1:{}/x:{tag}", server.port),
        &Platform::host_linux(),
        &options(blob_dir),
    )
    .err()
    .expect("the pull must fail")
}

/// Runs `f`, requiring it to finish within `limit`, and returns its result.
fn within<T>(limit: Duration, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let result = f();
    assert!(
        started.elapsed() < limit,
        "took {:?}, more than {limit:?}",
        started.elapsed()
    );
    result
}

#[test]
fn an_endless_manifest_is_cut_at_the_document_cap() {
    let server = serve(HashMap::from([(
        "/v2/x/manifests/t".into(),
        Answer::Endless,
    )]));
    let temp = tempfile::tempdir().unwrap();
    let error = pull_error(&server, "t", temp.path(), Duration::from_secs(15));
    assert!(error.contains("/v2/x/manifests/t"), "{error}");
    assert!(
        error.contains("longer than the 16777216-byte limit")
            || error.contains("not received within"),
        "{error}"
    );
}

#[test]
fn silence_and_a_slow_drip_time_out() {
    let server = serve(HashMap::from([
        ("/v2/x/manifests/t".into(), Answer::Silence),
        ("/v2/x/manifests/drip".into(), Answer::Drip),
    ]));
    let temp = tempfile::tempdir().unwrap();
    let error = pull_error(&server, "t", temp.path(), Duration::from_secs(5));
    assert!(error.contains("no response within 1 s"), "{error}");
    assert!(
        error.contains(&format!("127.0.0.1:{}", server.port)),
        "{error}"
    );

    // One byte every 300 ms never trips the idle timeout; the document's time limit stops it.
    let error = pull_error(&server, "drip", temp.path(), Duration::from_secs(8));
    assert!(error.contains("not received within 3 s"), "{error}");
    // A slow registry may be quicker next time: both are worth another try.
    assert!(pull_failure(&server, "t", temp.path()).is_transient());
    assert!(pull_failure(&server, "drip", temp.path()).is_transient());
}

#[test]
fn busy_or_unreachable_registries_are_worth_another_try_and_refusals_are_not() {
    let server = serve(HashMap::from([
        (
            "/v2/x/manifests/busy".into(),
            Answer::Status(503, Vec::new()),
        ),
        (
            "/v2/x/manifests/limited".into(),
            Answer::Status(429, Vec::new()),
        ),
        (
            "/v2/x/manifests/gone".into(),
            Answer::Status(404, Vec::new()),
        ),
        (
            "/v2/x/manifests/broken".into(),
            Answer::Status(500, Vec::new()),
        ),
    ]));
    let temp = tempfile::tempdir().unwrap();
    for (tag, transient) in [
        ("busy", true),
        ("limited", true),
        ("gone", false),
        ("broken", false),
    ] {
        let failure = pull_failure(&server, tag, temp.path());
        assert_eq!(failure.is_transient(), transient, "{tag}: {failure}");
    }
    // Nothing listens on the port any more: the connection is refused.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let refused = RegistryImage::open(
        &format!("127.0.0.1:{closed}/x:t"),
        &Platform::host_linux(),
        &options(temp.path()),
    )
    .err()
    .unwrap();
    assert!(refused.is_transient(), "{refused}");
    assert!(refused.to_string().contains("127.0.0.1"), "{refused}");
}

#[test]
fn a_redirect_loop_is_an_error() {
    let server = serve(HashMap::from([(
        "/v2/x/manifests/t".into(),
        Answer::RedirectToSelf,
    )]));
    let temp = tempfile::tempdir().unwrap();
    let error = pull_error(&server, "t", temp.path(), Duration::from_secs(10));
    assert!(error.contains("/v2/x/manifests/t"), "{error}");
    assert!(error.to_lowercase().contains("redirect"), "{error}");
    let requests = server.requests.lock().unwrap().len();
    assert!(
        requests <= 7,
        "{requests} requests: the loop must be cut short"
    );
}

#[test]
fn a_blob_longer_than_declared_is_cut_off_and_deleted() {
    let layer = vec![b'a'; 4096];
    let (mut routes, digest) = image_routes(&layer, Some(100));
    routes.insert(format!("/v2/x/blobs/{digest}"), Answer::Endless);
    let server = serve(routes);
    let temp = tempfile::tempdir().unwrap();
    let image = open(&server, temp.path()).unwrap();
    let error = within(Duration::from_secs(10), || {
        image.open_layer(0).err().unwrap()
    })
    .to_string();
    assert!(
        error.contains("longer than the 100 bytes its descriptor declares"),
        "{error}"
    );
    assert!(error.contains(&digest), "{error}");
    assert!(
        files_in(temp.path()).is_empty(),
        "{:?}",
        files_in(temp.path())
    );

    // The right blob under the right size is stored, verified.
    let (mut routes, digest) = image_routes(&layer, None);
    routes.insert(
        format!("/v2/x/blobs/{digest}"),
        Answer::Body(layer.clone(), "application/octet-stream"),
    );
    let server = serve(routes);
    let image = open(&server, temp.path()).unwrap();
    let mut read = Vec::new();
    std::io::Read::read_to_end(&mut image.open_layer(0).unwrap(), &mut read).unwrap();
    assert_eq!(read, layer);
    assert_eq!(files_in(temp.path()), [digest[7..].to_owned()]);
}

#[test]
fn absurd_declared_sizes_are_refused_before_downloading() {
    let layer = b"layer".to_vec();
    for declared in [i64::MAX, -1] {
        let (mut routes, digest) = image_routes(&layer, Some(declared));
        routes.insert(
            format!("/v2/x/blobs/{digest}"),
            Answer::Body(layer.clone(), "application/octet-stream"),
        );
        let server = serve(routes);
        let temp = tempfile::tempdir().unwrap();
        let image = open(&server, temp.path()).unwrap();
        let error = image.open_layer(0).err().unwrap().to_string();
        assert!(error.contains("refused before downloading"), "{error}");
        let blob_requests = server
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.contains(&digest))
            .count();
        assert_eq!(blob_requests, 0, "the blob was requested");
    }
}

#[test]
fn a_short_blob_or_a_wrong_digest_is_refused() {
    let layer = vec![b'a'; 100];
    let (mut routes, digest) = image_routes(&layer, None);
    routes.insert(
        format!("/v2/x/blobs/{digest}"),
        Answer::Body(vec![b'b'; 100], "application/octet-stream"),
    );
    let server = serve(routes);
    let temp = tempfile::tempdir().unwrap();
    let error = open(&server, temp.path())
        .unwrap()
        .open_layer(0)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("digest mismatch"), "{error}");
    assert!(files_in(temp.path()).is_empty());

    let (mut routes, digest) = image_routes(&layer, None);
    routes.insert(
        format!("/v2/x/blobs/{digest}"),
        Answer::Body(layer[..50].to_vec(), "application/octet-stream"),
    );
    let server = serve(routes);
    let error = open(&server, temp.path())
        .unwrap()
        .open_layer(0)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("got 50 of the 100 bytes"), "{error}");
    assert!(files_in(temp.path()).is_empty());
}

#[test]
fn bearer_tokens_are_fetched_and_an_endless_token_is_cut() {
    let layer = b"layer".to_vec();
    let (routes, _) = image_routes(&layer, None);
    for (token, expect_ok) in [
        (
            Answer::Body(br#"{"token":"sesame"}"#.to_vec(), "application/json"),
            true,
        ),
        (Answer::Endless, false),
    ] {
        // Every registry path answers with a challenge naming the token service on the same
        // server, whose port is known once the listener is bound.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let challenge = format!(
            r#"Bearer realm="http://127.0.0.1:{port}/token",service="fake",scope="repository:x:pull""#
        );
        let mut guarded: HashMap<String, Answer> = routes
            .iter()
            .map(|(path, answer)| {
                let guarded = Answer::Challenge(
                    challenge.clone(),
                    "Bearer sesame".into(),
                    Box::new(answer.clone()),
                );
                (path.clone(), guarded)
            })
            .collect();
        guarded.insert("/token".into(), token);
        let server = serve_on(listener, guarded);
        let temp = tempfile::tempdir().unwrap();
        let result = within(Duration::from_secs(10), || open(&server, temp.path()));
        if expect_ok {
            let image = result.unwrap();
            assert_eq!(image.layers().len(), 1);
            let seen = server.requests.lock().unwrap().clone();
            assert!(
                seen.iter()
                    .any(|r| r.starts_with("/token?") && r.contains("scope=repository")),
                "{seen:?}"
            );
        } else {
            let error = result.err().unwrap();
            assert!(error.contains("/token"), "{error}");
            assert!(error.contains("token response is longer"), "{error}");
        }
    }
}

#[test]
fn nested_indexes_are_followed_and_a_miss_lists_what_was_found() {
    let layer = b"layer".to_vec();
    let (mut routes, _) = image_routes(&layer, None);
    let Answer::Body(manifest, _) = routes["/v2/x/manifests/t"].clone() else {
        unreachable!()
    };
    let manifest_digest = sha256(&manifest);
    routes.insert(
        format!("/v2/x/manifests/{manifest_digest}"),
        Answer::Body(manifest.clone(), MANIFEST_TYPE),
    );
    let inner = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": INDEX_TYPE,
        "manifests": [
            {"mediaType": MANIFEST_TYPE, "digest": manifest_digest, "size": manifest.len(), "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": MANIFEST_TYPE, "digest": manifest_digest, "size": manifest.len(), "platform": {"os": "linux", "architecture": "s390x"}},
        ],
    }))
    .unwrap();
    let outer = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": INDEX_TYPE,
        "manifests": [{"mediaType": INDEX_TYPE, "digest": sha256(&inner), "size": inner.len()}],
    }))
    .unwrap();
    routes.insert(
        format!("/v2/x/manifests/{}", sha256(&inner)),
        Answer::Body(inner, INDEX_TYPE),
    );
    routes.insert("/v2/x/manifests/t".into(), Answer::Body(outer, INDEX_TYPE));
    let server = serve(routes);
    let temp = tempfile::tempdir().unwrap();
    let image = open_as(&server, "t", &"linux/amd64".parse().unwrap(), temp.path()).unwrap();
    assert_eq!(
        image.metadata().manifest_digest.as_deref(),
        Some(manifest_digest.as_str())
    );

    let error = open_as(&server, "t", &"linux/arm64".parse().unwrap(), temp.path())
        .err()
        .unwrap();
    assert!(
        error.contains("linux/amd64") && error.contains("linux/s390x"),
        "{error}"
    );
}

/// Where the test server opens upload sessions, instead of mounting.
const SESSION: &str = "/upload/session-1";

/// Routes for copying `x@digest` to `y`: the one-layer image of [`image_routes`] in `x`, its
/// layer served as `served`; in `y`, mounts refused with an upload session at `location`, and
/// uploads and manifest pushes received. Returns the routes, the manifest digest and bytes, and
/// the config's and layer's digests.
fn copy_routes(
    layer: &[u8],
    served: &[u8],
    location: &str,
) -> (HashMap<String, Answer>, String, Vec<u8>, [String; 2]) {
    let (mut routes, layer_digest) = image_routes(layer, None);
    let Answer::Body(manifest, _) = routes["/v2/x/manifests/t"].clone() else {
        unreachable!()
    };
    let digest = sha256(&manifest);
    let config_digest = routes
        .keys()
        .find_map(|path| path.strip_prefix("/v2/x/blobs/"))
        .unwrap()
        .to_owned();
    routes.insert(
        format!("/v2/x/manifests/{digest}"),
        Answer::Body(manifest.clone(), MANIFEST_TYPE),
    );
    routes.insert(
        format!("/v2/x/blobs/{layer_digest}"),
        Answer::Body(served.to_vec(), "application/octet-stream"),
    );
    routes.insert(
        "POST /v2/y/blobs/uploads/".into(),
        Answer::Status(202, vec![("Location", location.to_owned())]),
    );
    routes.insert(format!("PUT {SESSION}"), Answer::Receive);
    routes.insert(format!("DELETE {SESSION}"), Answer::Status(204, vec![]));
    routes.insert(format!("PUT /v2/y/manifests/{digest}"), Answer::Receive);
    routes.insert("PUT /v2/y/manifests/1.0".into(), Answer::Receive);
    (routes, digest, manifest, [config_digest, layer_digest])
}

fn copy_request<'a>(registry: &'a str, digest: &'a str) -> CopyRequest<'a> {
    CopyRequest {
        registry,
        source_repository: "x",
        digest,
        destination_repository: "y",
        tag: Some("1.0"),
    }
}

#[test]
fn a_refused_mount_streams_each_blob_into_an_upload_then_pushes_and_tags() {
    // Big enough to cross the transfer in many pieces.
    let layer: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let (routes, digest, manifest, blobs) = copy_routes(&layer, &layer, SESSION);
    let server = serve(routes);
    let registry = format!("127.0.0.1:{}", server.port);
    let temp = tempfile::tempdir().unwrap();
    let report = copy_image(&copy_request(&registry, &digest), &options(temp.path())).unwrap();
    assert_eq!(
        (
            report.manifests,
            report.blobs_copied,
            report.blobs_mounted,
            report.blobs_present
        ),
        (1, 2, 0, 0)
    );

    // Each blob whole, under its digest; then the manifest by digest, then the tag, last.
    let uploads = server.uploads.lock().unwrap().clone();
    let targets: Vec<&str> = uploads.iter().map(|u| u.target.as_str()).collect();
    assert_eq!(uploads.len(), 4, "{targets:?}");
    for (upload, blob) in uploads.iter().zip(&blobs) {
        assert!(upload.whole);
        assert_eq!(&sha256(&upload.body), blob);
        assert_eq!(
            upload.target,
            format!("{SESSION}?digest={}", blob.replace(':', "%3A"))
        );
    }
    assert_eq!(uploads[1].body, layer);
    assert_eq!(uploads[2].target, format!("/v2/y/manifests/{digest}"));
    assert_eq!(uploads[3].target, "/v2/y/manifests/1.0");
    assert!(uploads[2..].iter().all(|u| u.body == manifest));
    let calls = server.calls.lock().unwrap().clone();
    assert!(
        calls.contains(&format!(
            "POST /v2/y/blobs/uploads/?mount={}&from=x",
            blobs[1]
        )),
        "{calls:?}"
    );
    assert!(calls.iter().all(|c| !c.starts_with("DELETE")), "{calls:?}");
}

#[test]
fn a_blob_that_does_not_match_its_digest_is_never_completed_nor_tagged() {
    let layer = vec![b'a'; 200_000];
    let mut tampered = layer.clone();
    tampered[199_999] = b'b';
    let (routes, digest, _, blobs) = copy_routes(&layer, &tampered, SESSION);
    let server = serve(routes);
    let registry = format!("127.0.0.1:{}", server.port);
    let temp = tempfile::tempdir().unwrap();
    let error = within(Duration::from_secs(15), || {
        copy_image(&copy_request(&registry, &digest), &options(temp.path()))
    })
    .unwrap_err()
    .to_string();
    assert!(error.contains("digest mismatch"), "{error}");
    assert!(
        error.contains(&format!("copying blob {} of manifest {digest}", blobs[1])),
        "{error}"
    );
    assert!(error.contains("y:1.0 left as it was"), "{error}");

    // The config went up whole; the layer's upload was cut short of its last piece, then its
    // session abandoned; no manifest was pushed. The server records the cut upload when it sees
    // the connection close, which may come after the copy has returned.
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.uploads.lock().unwrap().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let uploads = server.uploads.lock().unwrap().clone();
    assert_eq!(uploads.len(), 2);
    assert!(uploads[0].whole);
    assert!(!uploads[1].whole, "the tampered blob was sent whole");
    assert!(uploads[1].body.len() < layer.len());
    let calls = server.calls.lock().unwrap().clone();
    assert!(calls.contains(&format!("DELETE {SESSION}")), "{calls:?}");
    assert!(
        calls.iter().all(|c| !c.starts_with("PUT /v2/y/manifests")),
        "{calls:?}"
    );
}

#[test]
fn a_copy_asks_for_push_and_pull_scopes_and_keeps_credentials_on_the_registry() {
    let layer = b"layer".to_vec();
    for location in [
        SESSION.to_owned(),
        format!("http://localhost:{{port}}{SESSION}"),
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let location = location.replace("{port}", &port.to_string());
        let (routes, digest, _, _) = copy_routes(&layer, &layer, &location);
        let challenge = format!(r#"Bearer realm="http://127.0.0.1:{port}/token",service="fake""#);
        let mut guarded: HashMap<String, Answer> = routes
            .into_iter()
            .map(|(path, answer)| {
                let guarded =
                    Answer::Challenge(challenge.clone(), "Bearer sesame".into(), Box::new(answer));
                (path, guarded)
            })
            .collect();
        guarded.insert(
            "/token".into(),
            Answer::Body(br#"{"token":"sesame"}"#.to_vec(), "application/json"),
        );
        let server = serve_on(listener, guarded);
        let registry = format!("127.0.0.1:{port}");
        let temp = tempfile::tempdir().unwrap();
        let result = copy_image(&copy_request(&registry, &digest), &options(temp.path()));
        let tokens: Vec<String> = server
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.starts_with("/token?"))
            .map(|r| r.replace("%3A", ":").replace("%2C", ","))
            .collect();
        // The source is read with a pull token; the destination's token covers the mount too.
        assert!(
            tokens
                .iter()
                .any(|t| t.contains("scope=repository:x:pull&") && !t.contains("push")),
            "{tokens:?}"
        );
        assert!(
            tokens
                .iter()
                .any(|t| t
                    .contains("scope=repository:y:pull,push&scope=repository:x:pull&service=fake")),
            "{tokens:?}"
        );
        if location.starts_with('/') {
            result.unwrap();
        } else {
            // The upload session is on another host: it gets no credentials, and refuses.
            let error = result.unwrap_err().to_string();
            assert!(error.contains(&format!("PUT http://localhost:{port}{SESSION}")));
            assert!(error.contains("401"), "{error}");
        }
    }
}
