//! `rempart watch`: real-time protection of running containers.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use nix::sys::signal::{SigSet, Signal};
use rempart::{MalwareConfig, Scanner};
use rempart_core::EntryKind;
use rempart_host::{Container, Host, running_containers};
use rempart_malware::{IN_MEMORY_FILE_SIZE, MalwareScanner};
use rempart_runtime::{
    ContainerLabel, DefaultAction, EventSink, Mode, Target, WatchConfig, WatchEvent, WatchedAccess,
    Watcher,
};
use rempart_server::RuntimeEventForwarder;

use crate::Outcome;
use crate::cli::WatchArgs;
use crate::commands::source::{is_local_image, open_path, open_reference};
use crate::context::{cache_root, layer_cache};

/// Lines waiting to be written, at most: a reader of the events that stalls (a full pipe) must
/// never stall the decisions, so past this lines are counted and dropped.
const PENDING_LINES: usize = 10_000;

/// Events as JSON lines, written by a thread of their own and flushed one by one (a reader,
/// `jq` or a log shipper, sees them as they happen), and to the server when one is named.
struct Events {
    lines: Mutex<Option<SyncSender<String>>>,
    /// Closed by the writer when it has written everything.
    done: Mutex<Option<Receiver<()>>>,
    /// Lines queued, and lines the writer wrote: the difference was not written.
    queued: AtomicU64,
    written: Arc<AtomicU64>,
    server: Option<RuntimeEventForwarder>,
}

impl Events {
    fn start(
        mut out: Box<dyn std::io::Write + Send>,
        server: Option<RuntimeEventForwarder>,
    ) -> Result<Events> {
        let (lines, pending) = sync_channel::<String>(PENDING_LINES);
        let (finished, done) = sync_channel::<()>(0);
        let written = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&written);
        std::thread::Builder::new()
            .name("watch-events".to_owned())
            .spawn(move || {
                for line in pending {
                    // A closed reader must not stop the protection: the answer was given.
                    if writeln!(out, "{line}").and_then(|()| out.flush()).is_ok() {
                        counted.fetch_add(1, Ordering::Relaxed);
                    }
                }
                drop(finished);
            })
            .context("starting the events thread")?;
        Ok(Events {
            lines: Mutex::new(Some(lines)),
            done: Mutex::new(Some(done)),
            queued: AtomicU64::new(0),
            written,
            server,
        })
    }

    /// Lets the writer write what is pending, for a few seconds at most (a reader that stopped
    /// reading must not keep the watcher from exiting); returns how many events were not
    /// written.
    fn close(&self) -> u64 {
        drop(
            self.lines
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take(),
        );
        let done = self
            .done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(done) = done {
            let _ = done.recv_timeout(Duration::from_secs(5));
        }
        self.queued
            .load(Ordering::Relaxed)
            .saturating_sub(self.written.load(Ordering::Relaxed))
    }
}

impl EventSink for Events {
    fn event(&self, event: &WatchEvent) {
        let Ok(value) = serde_json::to_value(event) else {
            return;
        };
        self.queued.fetch_add(1, Ordering::Relaxed);
        if let Some(lines) = self
            .lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
        {
            // Full: the line is lost, and counted as not written at the end.
            let _ = lines.try_send(value.to_string());
        }
        if let Some(server) = &self.server {
            server.send(value);
        }
    }
}

pub(crate) fn run(args: &WatchArgs) -> Result<Outcome> {
    let stop = stop_signals()?;
    let config = WatchConfig {
        mode: if args.mode == "monitor" {
            Mode::Monitor
        } else {
            Mode::Enforce
        },
        access: if args.on == "exec" {
            WatchedAccess::Exec
        } else {
            WatchedAccess::OpenAndExec
        },
        max_file_size: args.max_file_size.unwrap_or(IN_MEMORY_FILE_SIZE),
        budget: Duration::from_millis(args.budget_ms.max(1)),
        default_action: if args.default_action == "deny" {
            DefaultAction::Deny
        } else {
            DefaultAction::Allow
        },
        drift: !args.no_drift,
        ..WatchConfig::default()
    };
    let cache = cache_root(args.cache_dir.as_deref()).ok();
    let scanner = MalwareScanner::new(&MalwareConfig {
        rule_paths: args.malware_rules.clone(),
        hash_files: args.malware_hashes.clone(),
        cache_dir: cache,
        max_file_size: config.max_file_size,
        ..MalwareConfig::default()
    })
    .context("loading the malware rules")?;
    let out: Box<dyn std::io::Write + Send> = match &args.output {
        Some(path) if path.as_os_str() != "-" => Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("{}: cannot open the events file", path.display()))?,
        ),
        _ => Box::new(std::io::stdout()),
    };
    let server = match &args.server {
        Some(url) => {
            let token = args.token.clone().context(
                "--server needs a token with the runtime role (--token or REMPART_TOKEN)",
            )?;
            let node = args.node.clone().unwrap_or_else(host_name);
            let forwarder =
                RuntimeEventForwarder::start(url, token, node, args.server_ca.as_deref())
                    .map_err(anyhow::Error::msg)?;
            Some(forwarder)
        }
        None => None,
    };
    let events = Arc::new(Events::start(out, server)?);
    let watcher = Watcher::start(
        config,
        Arc::new(scanner),
        Arc::clone(&events) as Arc<dyn EventSink>,
    )?;
    let image_files = match &args.image {
        Some(image) if args.paths.len() == 1 => Some(Arc::new(image_files(image, args)?)),
        Some(_) => bail!("--image names the image of one MOUNT_POINT: give exactly one"),
        None => None,
    };
    let mut fixed = Vec::new();
    for path in &args.paths {
        if !path.is_dir() {
            bail!("{}: not a directory", path.display());
        }
        let mut target = Target::at(path, None)?;
        target.image_files.clone_from(&image_files);
        fixed.push(target);
    }
    let watch_containers = fixed.is_empty();
    for target in fixed {
        // Said once the mark is in place: from then on every access is judged.
        let root = target.root.display().to_string();
        watcher.add(target)?;
        note(&format!("watching {root}"));
    }
    let started = Instant::now();
    let refresh = Duration::from_secs(args.refresh_secs.max(1));
    loop {
        if watch_containers {
            watch_new_containers(&watcher, &args.containers);
        }
        let wait = match args.duration.map(Duration::from_secs) {
            Some(limit) => {
                let left = limit.saturating_sub(started.elapsed());
                if left.is_zero() {
                    break;
                }
                refresh.min(left)
            }
            None => refresh,
        };
        match stop.recv_timeout(wait) {
            Ok(signal) => {
                note(&format!("{signal}: stopping"));
                break;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let stats = watcher.stop();
    let unwritten = events.close();
    if unwritten > 0 {
        note(&format!(
            "{unwritten} events not written: their reader did not keep up"
        ));
    }
    // The watcher's threads are gone: the sink is ours alone again.
    if let Some(server) = Arc::into_inner(events).and_then(|events| events.server) {
        let (sent, dropped) = server.finish();
        note(&format!(
            "{sent} events recorded by the server, {dropped} dropped"
        ));
    }
    let mean = stats
        .total_wait_micros
        .checked_div(stats.decisions)
        .unwrap_or(0);
    note(&format!(
        "{} accesses judged ({} from the cache, {} files scanned), {} denied, {} reported, {} past the budget; mean wait {mean} µs, longest {} µs",
        stats.decisions,
        stats.cache_hits,
        stats.scanned,
        stats.denied,
        stats.reported,
        stats.timeouts,
        stats.max_wait_micros
    ));
    Ok(Outcome::Clean)
}

/// SIGINT and SIGTERM, blocked in every thread (this one's mask is inherited by the threads
/// started after it) and waited for by one: the watcher then stops and says what it did.
fn stop_signals() -> Result<Receiver<Signal>> {
    let mut signals = SigSet::empty();
    signals.add(Signal::SIGINT);
    signals.add(Signal::SIGTERM);
    signals
        .thread_block()
        .context("blocking SIGINT and SIGTERM")?;
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("watch-signals".to_owned())
        .spawn(move || {
            if let Ok(signal) = signals.wait() {
                let _ = sender.send(signal);
            }
        })
        .context("starting the signal thread")?;
    Ok(receiver)
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A line for the operator on standard error (the events have standard output), unless
/// `--quiet`.
#[allow(clippy::print_stderr)]
fn note(line: &str) {
    if !crate::progress::is_quiet() {
        eprintln!("{line}");
    }
}

/// The regular files of an image, with their sizes: its final filesystem as a scan with no
/// analyzer lists it, each layer's listing from the layer cache when it was seen before.
fn image_files(image: &str, args: &WatchArgs) -> Result<HashMap<String, u64>> {
    let cache = cache_root(args.cache_dir.as_deref())?;
    let path = Path::new(image);
    let source = if is_local_image(path) {
        open_path(path, &args.source)?
    } else {
        open_reference(image, &args.source, &cache)?
    };
    let options = rempart::ScanOptions {
        cache: layer_cache(&cache),
        ..rempart::ScanOptions::default()
    };
    let scanner = Scanner::new(Vec::new(), Vec::new(), Vec::new(), options);
    let outcome = scanner
        .scan_image(source.as_ref())
        .with_context(|| format!("{image}: listing the image's files"))?;
    let path_of = |path: &str| path.trim_start_matches('/').to_owned();
    let mut files: HashMap<String, u64> = outcome
        .inventory
        .iter()
        .filter(|entry| matches!(entry.kind, EntryKind::File))
        .map(|entry| (path_of(&entry.path), entry.size))
        .collect();
    // A hard link is the same file under another name: executable under both.
    for entry in &outcome.inventory {
        if let EntryKind::HardLink { target } = &entry.kind
            && let Some(size) = files.get(&path_of(target)).copied()
        {
            files.insert(path_of(&entry.path), size);
        }
    }
    note(&format!("{image}: {} files in the image", files.len()));
    Ok(files)
}

/// Adds the roots of containers that started since the last look, and forgets those of
/// containers that stopped.
fn watch_new_containers(watcher: &Watcher, only: &[String]) {
    watcher.forget_unmounted();
    let watched: HashSet<PathBuf> = watcher.watched().iter().map(|t| t.root.clone()).collect();
    for container in running_containers(&Host::new(Path::new("/"))) {
        let wanted = only.is_empty()
            || only
                .iter()
                .any(|name| *name == container.name || container.id.starts_with(name.as_str()));
        if !wanted {
            continue;
        }
        let Some(root) = container_root(&container) else {
            continue;
        };
        let Ok(root) = root.canonicalize() else {
            continue;
        };
        if watched.contains(&root) {
            continue;
        }
        let label = ContainerLabel {
            id: container.id.clone(),
            name: container.name.clone(),
            image: container.image.clone(),
        };
        // A container whose root is not mounted (stopped, its state left behind) is looked at
        // again next time.
        let Ok(target) = Target::at(&root, Some(label)) else {
            continue;
        };
        match watcher.add(target) {
            Ok(()) => {
                note(&format!(
                    "watching container {} ({}) at {}",
                    container.name,
                    container.image.as_deref().unwrap_or("image unknown"),
                    root.display()
                ));
            }
            Err(error) => tracing::warn!("container {}: {error}", container.name),
        }
    }
}

/// The container's root filesystem, from its runtime configuration: absolute, or relative to
/// the bundle that holds the configuration.
fn container_root(container: &Container) -> Option<PathBuf> {
    let root = container.spec["root"]["path"].as_str()?;
    let root = Path::new(root);
    if root.is_absolute() {
        Some(root.to_path_buf())
    } else {
        Path::new(&container.path)
            .parent()
            .map(|bundle| bundle.join(root))
    }
}
