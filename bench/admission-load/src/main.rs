//! admission-load: an open-loop, fixed-rate HTTP load generator for admission webhooks.
//!
//! Request `i` is due at `t0 + i / rate`, whether or not earlier requests were answered: a
//! scheduler thread hands each request to a pool of persistent HTTP/1.1 connections at its due
//! time, and a request that finds every connection busy waits in a queue. Latency is measured
//! from the due time (what a caller sending at that rate would see, queueing included: no
//! coordinated omission) and from the moment the request went out on a connection.
//!
//! With `--check admission` (the default) every body is an `admission.k8s.io/v1`
//! `AdmissionReview` whose `request.uid` is replaced by a fresh one for each request, and every
//! answer must be HTTP 200 carrying an `AdmissionReview` whose `response.uid` is that uid, with
//! `response.allowed` (and `response.status.message` when denied). `--check status` only asks
//! for a 2xx status, for endpoints that are not admission webhooks.

use std::collections::BTreeMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Uri, Version};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc};
use tokio_rustls::TlsConnector;

#[derive(Parser)]
#[command(
    version,
    about = "Open-loop fixed-rate HTTP load generator for admission webhooks"
)]
struct Args {
    /// The endpoint, http:// or https:// (e.g. https://127.0.0.1:8443/admission/validate).
    #[arg(long)]
    url: Uri,
    /// A request body; repeat for several, used round-robin.
    #[arg(long = "body", value_name = "FILE")]
    bodies: Vec<PathBuf>,
    /// Requests per second.
    #[arg(long)]
    rate: f64,
    /// Seconds of measured load, after the warm-up.
    #[arg(long)]
    duration: f64,
    /// Seconds of load at the same rate before measuring.
    #[arg(long, default_value_t = 0.0)]
    warmup: f64,
    /// The only certificate authorities trusted for https:// (PEM).
    #[arg(long, value_name = "PEM")]
    cacert: Option<PathBuf>,
    /// Persistent connections in the pool.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// What an answer must be: an AdmissionReview for the request's uid, or any 2xx status.
    #[arg(long, value_enum, default_value_t = Check::Admission)]
    check: Check,
    /// HTTP method (admission checks need POST).
    #[arg(long, default_value = "POST")]
    method: Method,
    /// An extra request header, `NAME: VALUE`; repeat for several.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Seconds a request may take before it counts as an error; also how long the run waits
    /// for late answers once the schedule has ended.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// Print the results as one JSON line.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Check {
    Admission,
    Status,
}

impl Check {
    fn name(self) -> &'static str {
        match self {
            Check::Admission => "admission",
            Check::Status => "status",
        }
    }
}

/// Stands in for `request.uid` in a serialized body, replaced by a fresh uid for every request.
const UID_MARKER: &str = "admission-load-uid-marker-5c0e7f";

/// A body ready to send: whole, or split around the uid.
enum Template {
    Raw(Bytes),
    Review { before: String, after: String },
}

/// Where and how to send, shared by every connection.
struct Target {
    host: String,
    port: u16,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    method: Method,
    path: Uri,
    host_header: HeaderValue,
    headers: Vec<(HeaderName, HeaderValue)>,
    check: Check,
    bodies: Vec<Template>,
    /// Random per run, so that uids differ between runs.
    run: u64,
    timeout: Duration,
}

struct Job {
    index: u64,
    due: Instant,
    measured: bool,
}

#[derive(Clone, Copy)]
enum Verdict {
    Ok,
    Allowed { warned: bool },
    Denied { warned: bool },
}

/// What the measured requests gave (warm-up requests are not counted). Latencies are those of
/// the answers that passed the check.
struct Stats {
    from_due: Histogram<u64>,
    from_send: Histogram<u64>,
    /// Requests that got an HTTP answer, whatever it held.
    answered: u64,
    ok: u64,
    allowed: u64,
    denied: u64,
    warned: u64,
    errors: BTreeMap<String, u64>,
    last_answer: Option<Instant>,
}

impl Stats {
    fn new() -> Stats {
        // Microseconds, from 1 µs to one hour, 3 significant digits.
        let histogram = || Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds");
        Stats {
            from_due: histogram(),
            from_send: histogram(),
            answered: 0,
            ok: 0,
            allowed: 0,
            denied: 0,
            warned: 0,
            errors: BTreeMap::new(),
            last_answer: None,
        }
    }

    fn error(&mut self, kind: String) {
        *self.errors.entry(kind).or_default() += 1;
    }

    fn merge(&mut self, other: Stats) {
        self.from_due.add(&other.from_due).expect("same bounds");
        self.from_send.add(&other.from_send).expect("same bounds");
        self.answered += other.answered;
        self.ok += other.ok;
        self.allowed += other.allowed;
        self.denied += other.denied;
        self.warned += other.warned;
        for (kind, count) in other.errors {
            *self.errors.entry(kind).or_default() += count;
        }
        self.last_answer = self.last_answer.max(other.last_answer);
    }

    fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("admission-load: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    if !(args.rate > 0.0 && args.rate.is_finite()) {
        return Err("--rate must be a positive number of requests per second".into());
    }
    if !(args.duration > 0.0 && args.duration.is_finite()) {
        return Err("--duration must be a positive number of seconds".into());
    }
    if !(args.warmup >= 0.0 && args.warmup.is_finite()) {
        return Err("--warmup must be zero or more seconds".into());
    }
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        return Err("--timeout must be a positive number of seconds".into());
    }
    if args.connections == 0 {
        return Err("--connections must be at least 1".into());
    }
    let warmup_requests = (args.rate * args.warmup).round() as u64;
    let measured_requests = ((args.rate * args.duration).round() as u64).max(1);
    let total = warmup_requests + measured_requests;
    if total > 50_000_000 {
        return Err(format!(
            "{total} requests is more than this generator keeps track of"
        ));
    }

    let target = Arc::new(target(&args)?);
    // Every connection is opened before the first request is due, so that the schedule starts
    // on a ready pool and a server that cannot be reached stops the run at once.
    let mut senders = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let sender = match tokio::time::timeout(target.timeout, connect(&target)).await {
            Ok(Ok(sender)) => sender,
            Ok(Err(error)) => return Err(format!("cannot connect to {}: {error}", args.url)),
            Err(_) => return Err(format!("cannot connect to {}: no answer", args.url)),
        };
        senders.push(sender);
    }

    let (jobs, queue) = mpsc::unbounded_channel();
    let queue = Arc::new(Mutex::new(queue));
    let start = Instant::now() + Duration::from_millis(20);
    let rate = args.rate;
    let due = move |index: u64| start + Duration::from_secs_f64(index as f64 / rate);
    let measure_start = due(warmup_requests);
    let schedule_end = due(total - 1);
    // Requests not sent by then are given up (the run ends within twice the timeout of the
    // schedule's end, however slow the server).
    let give_up = schedule_end + target.timeout;

    let workers: Vec<_> = senders
        .into_iter()
        .map(|sender| tokio::spawn(worker(target.clone(), queue.clone(), sender, give_up)))
        .collect();
    // A thread of its own keeps the schedule, so that a busy runtime does not delay it. It
    // gives how late it handed over a measured request, at worst: a late generator (a busy
    // machine) also counts in the latency from the due time.
    let scheduler = std::thread::spawn(move || {
        let mut late = Duration::ZERO;
        for index in 0..total {
            let at = due(index);
            let now = Instant::now();
            if at > now {
                std::thread::sleep(at - now);
            }
            if index >= warmup_requests {
                late = late.max(Instant::now() - at);
            }
            let job = Job {
                index,
                due: at,
                measured: index >= warmup_requests,
            };
            if jobs.send(job).is_err() {
                break;
            }
        }
        late
    });

    let mut stats = Stats::new();
    for worker in workers {
        stats.merge(
            worker
                .await
                .map_err(|error| format!("a connection task failed: {error}"))?,
        );
    }
    let late = scheduler
        .join()
        .map_err(|_| "the scheduler thread failed".to_string())?;
    report(&args, measured_requests, measure_start, late, &stats);
    Ok(())
}

/// Parses the URL, the CA file, the headers and the bodies.
fn target(args: &Args) -> Result<Target, String> {
    let url = &args.url;
    let https = match url.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => {
            return Err(format!(
                "{url}: the URL must start with http:// or https://"
            ));
        }
    };
    let host = url
        .host()
        .ok_or_else(|| format!("{url}: the URL has no host"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = url.port_u16().unwrap_or(if https { 443 } else { 80 });
    let authority = url
        .authority()
        .expect("a URL with a host has an authority")
        .as_str();
    let host_header = HeaderValue::from_str(authority).map_err(|error| error.to_string())?;
    let path = url
        .path_and_query()
        .map_or("/", |path| path.as_str())
        .parse::<Uri>()
        .map_err(|error| error.to_string())?;

    let tls = match (https, &args.cacert) {
        (false, None) => None,
        (false, Some(_)) => return Err("--cacert is for https:// URLs".into()),
        (true, None) => {
            return Err("an https:// URL needs --cacert (no other CA is trusted)".into());
        }
        (true, Some(cacert)) => {
            let mut roots = rustls::RootCertStore::empty();
            let certificates = CertificateDer::pem_file_iter(cacert)
                .map_err(|error| format!("{}: {error}", cacert.display()))?;
            for certificate in certificates {
                let certificate =
                    certificate.map_err(|error| format!("{}: {error}", cacert.display()))?;
                roots
                    .add(certificate)
                    .map_err(|error| format!("{}: {error}", cacert.display()))?;
            }
            if roots.is_empty() {
                return Err(format!("{}: no PEM certificate", cacert.display()));
            }
            // ring, as the server uses (rustls deprecates it only for want of post-quantum key
            // exchange, which a loopback benchmark does not need).
            #[allow(deprecated)]
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|error| error.to_string())?
                .with_root_certificates(roots)
                .with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            let name =
                ServerName::try_from(host.clone()).map_err(|error| format!("{host}: {error}"))?;
            Some((TlsConnector::from(Arc::new(config)), name))
        }
    };

    let mut headers = Vec::new();
    for line in &args.headers {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("--header {line:?}: expected NAME: VALUE"))?;
        let name =
            HeaderName::try_from(name.trim()).map_err(|error| format!("{line:?}: {error}"))?;
        let value =
            HeaderValue::try_from(value.trim()).map_err(|error| format!("{line:?}: {error}"))?;
        headers.push((name, value));
    }

    if args.check == Check::Admission && args.bodies.is_empty() {
        return Err("--check admission needs at least one --body (an AdmissionReview)".into());
    }
    if args.check == Check::Admission && args.method != Method::POST {
        return Err("--check admission sends AdmissionReviews, with POST".into());
    }
    let mut bodies = Vec::new();
    for path in &args.bodies {
        let bytes = std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))?;
        bodies.push(match args.check {
            Check::Status => Template::Raw(Bytes::from(bytes)),
            Check::Admission => {
                review_template(&bytes).map_err(|error| format!("{}: {error}", path.display()))?
            }
        });
    }

    Ok(Target {
        host,
        port,
        tls,
        method: args.method.clone(),
        path,
        host_header,
        headers,
        check: args.check,
        bodies,
        run: RandomState::new().hash_one(std::process::id()),
        timeout: Duration::from_secs_f64(args.timeout),
    })
}

/// Splits a serialized AdmissionReview around its `request.uid`.
fn review_template(bytes: &[u8]) -> Result<Template, String> {
    let mut review: Value =
        serde_json::from_slice(bytes).map_err(|error| format!("not JSON: {error}"))?;
    if review["kind"] != "AdmissionReview" || !review["request"].is_object() {
        return Err("not an AdmissionReview with a request".into());
    }
    review["request"]["uid"] = Value::String(UID_MARKER.into());
    let text = review.to_string();
    let quoted = format!("\"{UID_MARKER}\"");
    let at = text.find(&quoted).expect("the marker was just written");
    if text[at + quoted.len()..].contains(UID_MARKER) {
        return Err(format!("the body already holds {UID_MARKER}"));
    }
    Ok(Template::Review {
        before: text[..=at].to_string(),
        after: text[at + quoted.len() - 1..].to_string(),
    })
}

/// A uid shaped like a random (version 4) UUID: the run's random bits and the request's index.
fn uid(run: u64, index: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        run >> 32,
        (run >> 16) & 0xffff,
        run & 0xfff,
        0x8000 | ((index >> 48) & 0x3fff),
        index & 0xffff_ffff_ffff,
    )
}

trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// Opens one HTTP/1.1 connection (TCP, then TLS when the URL is https).
async fn connect(target: &Target) -> Result<SendRequest<Full<Bytes>>, String> {
    let tcp = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|error| error.to_string())?;
    tcp.set_nodelay(true).map_err(|error| error.to_string())?;
    let stream: Box<dyn Stream> = match &target.tls {
        None => Box::new(tcp),
        Some((connector, name)) => Box::new(
            connector
                .connect(name.clone(), tcp)
                .await
                .map_err(|error| format!("TLS: {error}"))?,
        ),
    };
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| error.to_string())?;
    tokio::spawn(async move {
        // Ends when the server closes the connection or the sender is dropped.
        let _ = connection.await;
    });
    Ok(sender)
}

/// One connection of the pool: takes due requests from the queue until it is closed.
async fn worker(
    target: Arc<Target>,
    queue: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>,
    sender: SendRequest<Full<Bytes>>,
    give_up: Instant,
) -> Stats {
    let mut stats = Stats::new();
    let mut sender = Some(sender);
    loop {
        let job = queue.lock().await.recv().await;
        let Some(job) = job else { break };
        if Instant::now() > give_up {
            if job.measured {
                stats.error("not sent: the run's time was up".into());
            }
            continue;
        }
        let uid = uid(target.run, job.index);
        let request = request(&target, job.index, &uid);
        let answer = tokio::time::timeout(target.timeout, exchange(&target, &mut sender, request));
        // A failed exchange has dropped its connection (the next request opens a new one); an
        // answer that fails the check leaves it open.
        let answer = match answer.await {
            Ok(answer) => answer,
            Err(_) => Err(format!("no answer within {:?}", target.timeout)),
        };
        let done = Instant::now();
        if !job.measured {
            continue;
        }
        let (sent, response) = match answer {
            Ok(answer) => answer,
            Err(kind) => {
                stats.error(kind);
                continue;
            }
        };
        stats.answered += 1;
        stats.last_answer = stats.last_answer.max(Some(done));
        match check(&target, &response, &uid) {
            Ok(verdict) => {
                stats.from_due.saturating_record(micros(done - job.due));
                stats.from_send.saturating_record(micros(done - sent));
                match verdict {
                    Verdict::Ok => stats.ok += 1,
                    Verdict::Allowed { warned } => {
                        stats.allowed += 1;
                        stats.warned += u64::from(warned);
                    }
                    Verdict::Denied { warned } => {
                        stats.denied += 1;
                        stats.warned += u64::from(warned);
                    }
                }
            }
            Err(kind) => stats.error(kind),
        }
    }
    stats
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros())
        .unwrap_or(u64::MAX)
        .max(1)
}

fn request(target: &Target, index: u64, uid: &str) -> Request<Full<Bytes>> {
    let body = match target
        .bodies
        .get((index % target.bodies.len().max(1) as u64) as usize)
    {
        None => Bytes::new(),
        Some(Template::Raw(bytes)) => bytes.clone(),
        Some(Template::Review { before, after }) => {
            Bytes::from([before.as_str(), uid, after.as_str()].concat())
        }
    };
    let mut builder = Request::builder()
        .method(target.method.clone())
        .uri(target.path.clone())
        .header(header::HOST, target.host_header.clone())
        .header(header::USER_AGENT, "admission-load");
    if target.check == Check::Admission {
        builder = builder
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json");
    }
    for (name, value) in &target.headers {
        builder = builder.header(name, value);
    }
    builder.body(Full::new(body)).expect("a valid request")
}

/// Sends one request on the connection (opened again first when the server closed it), and
/// reads the whole answer. Gives the time the request went out.
async fn exchange(
    target: &Target,
    slot: &mut Option<SendRequest<Full<Bytes>>>,
    request: Request<Full<Bytes>>,
) -> Result<(Instant, Response<Bytes>), String> {
    let mut sender = match slot.take() {
        Some(mut sender) => match sender.ready().await {
            Ok(()) => sender,
            Err(_) => reconnect(target).await?,
        },
        None => reconnect(target).await?,
    };
    let sent = Instant::now();
    let response = sender
        .send_request(request)
        .await
        .map_err(|error| format!("request: {error}"))?;
    let keep_alive = keep_alive(&response);
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|error| format!("answer body: {error}"))?
        .to_bytes();
    if keep_alive {
        *slot = Some(sender);
    }
    Ok((sent, Response::from_parts(parts, body)))
}

async fn reconnect(target: &Target) -> Result<SendRequest<Full<Bytes>>, String> {
    connect(target)
        .await
        .map_err(|error| format!("reconnect: {error}"))
}

/// Whether the server keeps the connection open after this answer.
fn keep_alive<B>(response: &Response<B>) -> bool {
    let connection = response
        .headers()
        .get(header::CONNECTION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if response.version() == Version::HTTP_10 {
        connection.contains("keep-alive")
    } else {
        !connection.contains("close")
    }
}

/// Judges an answer; an error names what was wrong with it.
fn check(target: &Target, response: &Response<Bytes>, uid: &str) -> Result<Verdict, String> {
    let status = response.status();
    if target.check == Check::Status {
        return if status.is_success() {
            Ok(Verdict::Ok)
        } else {
            Err(format!("HTTP {status}"))
        };
    }
    if status != StatusCode::OK {
        return Err(format!("HTTP {status}"));
    }
    let review: Value = serde_json::from_slice(response.body())
        .map_err(|_| "the answer is not JSON".to_string())?;
    if review["apiVersion"] != "admission.k8s.io/v1" || review["kind"] != "AdmissionReview" {
        return Err("the answer is not an admission.k8s.io/v1 AdmissionReview".into());
    }
    let answer = &review["response"];
    if !answer.is_object() {
        return Err("the AdmissionReview has no response".into());
    }
    if answer["uid"].as_str() != Some(uid) {
        return Err("response.uid is not the request's uid".into());
    }
    let warned = answer["warnings"]
        .as_array()
        .is_some_and(|warnings| !warnings.is_empty());
    match answer["allowed"].as_bool() {
        Some(true) => Ok(Verdict::Allowed { warned }),
        Some(false)
            if answer["status"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()) =>
        {
            Ok(Verdict::Denied { warned })
        }
        Some(false) => Err("denied without response.status.message".into()),
        None => Err("response.allowed is not a boolean".into()),
    }
}

fn report(args: &Args, requests: u64, measure_start: Instant, late: Duration, stats: &Stats) {
    let answered = stats.answered;
    // Answers per second over the measured time, or longer when the last answer came later.
    let span = stats
        .last_answer
        .map_or(0.0, |last| (last - measure_start).as_secs_f64())
        .max(args.duration);
    let achieved = answered as f64 / span;
    let quantiles = |histogram: &Histogram<u64>| {
        let ms = |micros: u64| micros as f64 / 1000.0;
        let value = |quantile: f64| {
            if histogram.is_empty() {
                Value::Null
            } else {
                json!(ms(histogram.value_at_quantile(quantile)))
            }
        };
        json!({
            "p50": value(0.5), "p90": value(0.9), "p99": value(0.99), "p99.9": value(0.999),
            "max": if histogram.is_empty() { Value::Null } else { json!(ms(histogram.max())) },
        })
    };
    let summary = json!({
        "url": args.url.to_string(),
        "method": args.method.as_str(),
        "check": args.check.name(),
        "rate": args.rate,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "connections": args.connections,
        "requests": requests,
        "answered": answered,
        "achieved_rate": (achieved * 10.0).round() / 10.0,
        "ok": stats.ok,
        "allowed": stats.allowed,
        "denied": stats.denied,
        "warned": stats.warned,
        "errors": stats.error_count(),
        "error_kinds": stats.errors,
        "latency_ms": {
            "from_schedule": quantiles(&stats.from_due),
            "from_send": quantiles(&stats.from_send),
            "schedule_late_max": (late.as_secs_f64() * 1e6).round() / 1000.0,
        },
    });
    if args.json {
        println!("{summary}");
        return;
    }
    println!(
        "{} {} at {}/s for {} s (after {} s of warm-up), {} connections",
        args.method, args.url, args.rate, args.duration, args.warmup, args.connections
    );
    let answers = match args.check {
        Check::Status => format!("{} ok", stats.ok),
        Check::Admission => format!(
            "{} allowed, {} denied, {} with warnings",
            stats.allowed, stats.denied, stats.warned
        ),
    };
    println!(
        "requests {requests}, answered {answered}, achieved {achieved:.1}/s: {answers}, {} errors",
        stats.error_count()
    );
    for (name, histogram) in [("schedule", &stats.from_due), ("send", &stats.from_send)] {
        let line = quantiles(histogram);
        let field = |key: &str| {
            line[key]
                .as_f64()
                .map_or("-".to_string(), |v| format!("{v:.3}"))
        };
        println!(
            "latency from {name:<8} (ms): p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
            field("p50"),
            field("p90"),
            field("p99"),
            field("p99.9"),
            field("max")
        );
    }
    println!(
        "the scheduler handed requests over up to {:.3} ms late",
        late.as_secs_f64() * 1000.0
    );
    for (kind, count) in &stats.errors {
        println!("error: {kind} ({count}x)");
    }
}
