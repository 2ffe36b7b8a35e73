//! The fanotify loop: one thread reads the kernel's questions, answers at once what the cache
//! knows, hands the rest to workers, and a deadline thread answers whatever is still waiting
//! when its time budget is spent.
//!
//! Each question is answered exactly once: the event (which owns the descriptor the answer
//! names) sits in a slot that whoever answers first empties.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fs::File;
use std::os::fd::AsRawFd as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Instant;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::fanotify::{
    EventFFlags, Fanotify, FanotifyEvent, FanotifyResponse, InitFlags, MarkFlags, MaskFlags,
    Response,
};
use rempart_malware::MalwareScanner;
use serde::Serialize;

use crate::config::{DefaultAction, Mode, WatchConfig, WatchedAccess};
use crate::decision::{is_drift, judge_content};
use crate::error::WatchError;
use crate::event::{Access, Action, EventSink, Reason, WatchEvent};
use crate::mounts::Target;
use crate::verdict::{ContentVerdict, FileKey, VerdictCache, lock};
use crate::{DRIFT_RULE, TIMEOUT_RULE, UNSCANNED_RULE};

/// How often the reading thread looks at the stop flag while no question comes.
const POLL_MILLIS: u16 = 100;

/// What the watcher did, counted since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Accesses answered.
    pub decisions: u64,
    pub denied: u64,
    /// Events reported (an access can be reported for several reasons).
    pub reported: u64,
    /// Answers from the verdict cache, without reading the file.
    pub cache_hits: u64,
    /// Files read and scanned.
    pub scanned: u64,
    /// Accesses answered with the default action because the budget was spent.
    pub timeouts: u64,
    /// The longest a process waited for its answer, in microseconds.
    pub max_wait_micros: u64,
    /// Sum of every wait, in microseconds (with `decisions`, the mean wait).
    pub total_wait_micros: u64,
}

#[derive(Default)]
struct Counters {
    decisions: AtomicU64,
    denied: AtomicU64,
    reported: AtomicU64,
    cache_hits: AtomicU64,
    scanned: AtomicU64,
    timeouts: AtomicU64,
    max_wait_micros: AtomicU64,
    total_wait_micros: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> Stats {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Stats {
            decisions: get(&self.decisions),
            denied: get(&self.denied),
            reported: get(&self.reported),
            cache_hits: get(&self.cache_hits),
            scanned: get(&self.scanned),
            timeouts: get(&self.timeouts),
            max_wait_micros: get(&self.max_wait_micros),
            total_wait_micros: get(&self.total_wait_micros),
        }
    }
}

struct Shared {
    config: WatchConfig,
    /// Taken out (and closed) on stop: the kernel then allows whatever is still waiting.
    fanotify: RwLock<Option<Fanotify>>,
    scanner: Arc<MalwareScanner>,
    sink: Arc<dyn EventSink>,
    /// Watched filesystems by device number.
    targets: RwLock<HashMap<u64, Arc<Target>>>,
    cache: VerdictCache,
    /// Files being scanned, with the accesses waiting for their verdict: one scan per content
    /// however many processes open it at once.
    in_flight: Mutex<HashMap<FileKey, Vec<Arc<Pending>>>>,
    stop: AtomicBool,
    counters: Counters,
    own_pid: i32,
}

/// A question not answered yet.
struct Pending {
    /// Emptied by whoever answers.
    event: Mutex<Option<FanotifyEvent>>,
    access: Access,
    path: String,
    target: Arc<Target>,
    drift: bool,
    received: Instant,
}

struct Job {
    key: FileKey,
    file: File,
    path: String,
    size: u64,
    mode: u32,
}

/// A running watcher. Dropping it stops it.
pub struct Watcher {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Watcher {
    /// Sets up fanotify and starts the threads. Nothing is watched until [`Watcher::add`].
    pub fn start(
        config: WatchConfig,
        scanner: Arc<MalwareScanner>,
        sink: Arc<dyn EventSink>,
    ) -> Result<Watcher, WatchError> {
        // Content class: the group is asked before the file's content is read. The queue is
        // unbounded so that no question is ever dropped (a dropped permission event would
        // be an access decided without us).
        let fanotify = Fanotify::init(
            InitFlags::FAN_CLASS_CONTENT
                | InitFlags::FAN_CLOEXEC
                | InitFlags::FAN_NONBLOCK
                | InitFlags::FAN_UNLIMITED_QUEUE
                | InitFlags::FAN_UNLIMITED_MARKS,
            EventFFlags::O_RDONLY | EventFFlags::O_LARGEFILE | EventFFlags::O_CLOEXEC,
        )
        .map_err(WatchError::Init)?;
        let workers = config.workers.max(1);
        // The rules compile on first use: done now, or the first files judged would wait
        // for the compiler (seconds) and fall to the default action.
        let mut warm_up = rempart_core::AnalysisOutput::default();
        let meta = rempart_core::FileMeta {
            path: "warm-up",
            size: 1,
            mode: 0o644,
        };
        rempart_core::FileAnalyzer::analyze(&*scanner, &meta, b"\n", &mut warm_up);
        let shared = Arc::new(Shared {
            cache: VerdictCache::new(config.cache_entries),
            config,
            fanotify: RwLock::new(Some(fanotify)),
            scanner,
            sink,
            targets: RwLock::default(),
            in_flight: Mutex::default(),
            stop: AtomicBool::new(false),
            counters: Counters::default(),
            own_pid: i32::try_from(std::process::id()).unwrap_or(0),
        });
        let (jobs, job_queue) = channel::<Job>();
        let job_queue = Arc::new(Mutex::new(job_queue));
        let (deadlines, deadline_queue) = channel::<Arc<Pending>>();
        let mut threads = Vec::new();
        let spawn = |name: String, body: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name)
                .spawn(body)
                .map_err(WatchError::Thread)
        };
        for index in 0..workers {
            let shared = Arc::clone(&shared);
            let queue = Arc::clone(&job_queue);
            threads.push(spawn(
                format!("watch-worker-{index}"),
                Box::new(move || work(&shared, &queue)),
            )?);
        }
        let for_deadlines = Arc::clone(&shared);
        threads.push(spawn(
            "watch-deadlines".to_owned(),
            Box::new(move || answer_late(&for_deadlines, &deadline_queue)),
        )?);
        let for_reader = Arc::clone(&shared);
        threads.push(spawn(
            "watch-reader".to_owned(),
            Box::new(move || read_questions(&for_reader, &jobs, &deadlines)),
        )?);
        Ok(Watcher { shared, threads })
    }

    /// Watches a filesystem: from now on, opening or executing any of its files waits for the
    /// watcher's answer. Adding a filesystem again replaces its container label.
    pub fn add(&self, target: Target) -> Result<(), WatchError> {
        let mask = match self.shared.config.access {
            WatchedAccess::Exec => MaskFlags::FAN_OPEN_EXEC_PERM,
            WatchedAccess::OpenAndExec => MaskFlags::FAN_OPEN_PERM | MaskFlags::FAN_OPEN_EXEC_PERM,
        };
        let root = File::open(&target.root).map_err(|source| WatchError::Io {
            path: target.root.clone(),
            source,
        })?;
        {
            let guard = self
                .shared
                .fanotify
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let Some(fanotify) = guard.as_ref() else {
                return Ok(());
            };
            fanotify
                .mark(
                    MarkFlags::FAN_MARK_ADD | MarkFlags::FAN_MARK_FILESYSTEM,
                    mask,
                    &root,
                    None::<&Path>,
                )
                .map_err(|source| WatchError::Mark {
                    path: target.root.clone(),
                    source,
                })?;
        }
        self.shared
            .targets
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(target.device, Arc::new(target));
        Ok(())
    }

    /// The filesystems watched, by where they are mounted.
    pub fn watched(&self) -> Vec<Arc<Target>> {
        let mut targets: Vec<Arc<Target>> = self
            .shared
            .targets
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        targets.sort_by(|a, b| a.root.cmp(&b.root));
        targets
    }

    /// Forgets filesystems no longer mounted where they were (a container that stopped: the
    /// kernel removed its mark with its filesystem).
    pub fn forget_unmounted(&self) {
        self.shared
            .targets
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|device, target| {
                std::fs::metadata(&target.root).is_ok_and(|meta| meta.dev() == *device)
            });
    }

    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Stops watching: questions still waiting are allowed by the kernel as the group closes.
    pub fn stop(mut self) -> Stats {
        self.shutdown();
        self.shared.counters.snapshot()
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        drop(
            self.shared
                .fanotify
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take(),
        );
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The reading thread: waits for questions, answers the cached ones, queues the others.
fn read_questions(shared: &Arc<Shared>, jobs: &Sender<Job>, deadlines: &Sender<Arc<Pending>>) {
    while !shared.stop.load(Ordering::SeqCst) {
        let events = {
            let guard = shared
                .fanotify
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let Some(fanotify) = guard.as_ref() else {
                return;
            };
            let mut fds = [PollFd::new(
                std::os::fd::AsFd::as_fd(fanotify),
                PollFlags::POLLIN,
            )];
            match poll(&mut fds, PollTimeout::from(POLL_MILLIS)) {
                Ok(0) | Err(_) => continue,
                Ok(_) => {}
            }
            match fanotify.read_events() {
                Ok(events) => events,
                Err(_) => continue,
            }
        };
        for event in events {
            ask(shared, event, jobs, deadlines);
        }
    }
}

/// One question: answered now when it can be, else queued for a worker with its deadline.
fn ask(
    shared: &Arc<Shared>,
    event: FanotifyEvent,
    jobs: &Sender<Job>,
    deadlines: &Sender<Arc<Pending>>,
) {
    let mask = event.mask();
    if !mask.intersects(MaskFlags::FAN_OPEN_PERM | MaskFlags::FAN_OPEN_EXEC_PERM) {
        return;
    }
    let Some(fd) = event.fd() else {
        return;
    };
    // Our own reads (rule files, the cache) are never judged: waiting on ourselves would hang.
    if !event.check_version() || event.pid() == shared.own_pid {
        respond(shared, &event, false);
        return;
    }
    let access = if mask.contains(MaskFlags::FAN_OPEN_EXEC_PERM) {
        Access::Exec
    } else {
        Access::Open
    };
    let raw = fd.as_raw_fd();
    let Some((file, meta)) = fd
        .try_clone_to_owned()
        .ok()
        .map(File::from)
        .and_then(|file| file.metadata().ok().map(|meta| (file, meta)))
        .filter(|(_, meta)| meta.is_file())
    else {
        respond(shared, &event, false);
        return;
    };
    let target = shared
        .targets
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&meta.dev())
        .cloned();
    let Some(target) = target else {
        respond(shared, &event, false);
        return;
    };
    let seen = std::fs::read_link(format!("/proc/self/fd/{raw}"))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path = target.container_path(&seen);
    let drift =
        access == Access::Exec && shared.config.drift && is_drift(&target, &path, meta.len());
    let pending = Arc::new(Pending {
        event: Mutex::new(Some(event)),
        access,
        path,
        target,
        drift,
        received: Instant::now(),
    });
    let key = FileKey::of(&meta);
    if meta.len() == 0 {
        decide(shared, &pending, Some(&ContentVerdict::Clean));
        return;
    }
    if let Some(verdict) = shared.cache.get(&key) {
        shared.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
        decide(shared, &pending, Some(&verdict));
        return;
    }
    if meta.len() > shared.config.max_file_size {
        let verdict = ContentVerdict::Unscanned(format!(
            "{} bytes, over the {}-byte cap",
            meta.len(),
            shared.config.max_file_size
        ));
        shared.cache.insert(key, verdict.clone());
        decide(shared, &pending, Some(&verdict));
        return;
    }
    // Joins the scan of the same content in flight, or starts one (the lock is released
    // before the job is queued).
    let first = match lock(&shared.in_flight).entry(key) {
        Entry::Occupied(mut waiting) => {
            waiting.get_mut().push(Arc::clone(&pending));
            false
        }
        Entry::Vacant(slot) => {
            slot.insert(vec![Arc::clone(&pending)]);
            true
        }
    };
    if first {
        let job = Job {
            key,
            file,
            path: pending.path.clone(),
            size: meta.len(),
            mode: meta.mode(),
        };
        // No worker left (the watcher is stopping): the deadline answers.
        let _ = jobs.send(job);
    }
    let _ = deadlines.send(pending);
}

/// A worker: scans files whose verdict is not cached and answers everyone waiting for it.
fn work(shared: &Arc<Shared>, queue: &Mutex<Receiver<Job>>) {
    loop {
        let Ok(job) = lock(queue).recv() else {
            return;
        };
        let verdict = judge_content(&shared.scanner, &job.file, &job.path, job.size, job.mode);
        shared.counters.scanned.fetch_add(1, Ordering::Relaxed);
        shared.cache.insert(job.key, verdict.clone());
        let waiting = lock(&shared.in_flight).remove(&job.key).unwrap_or_default();
        for pending in waiting {
            decide(shared, &pending, Some(&verdict));
        }
    }
}

/// The deadline thread: budgets are equal, so deadlines come in the order questions did.
fn answer_late(shared: &Arc<Shared>, queue: &Receiver<Arc<Pending>>) {
    while let Ok(pending) = queue.recv() {
        let deadline = pending.received + shared.config.budget;
        let now = Instant::now();
        if deadline > now {
            std::thread::sleep(deadline - now);
        }
        if lock(&pending.event).is_some() {
            decide(shared, &pending, None);
        }
    }
}

/// Answers a question from its content's verdict (`None`: the budget ran out) and reports why
/// when there is something to say.
fn decide(shared: &Shared, pending: &Pending, verdict: Option<&ContentVerdict>) {
    let Some(event) = lock(&pending.event).take() else {
        return;
    };
    let config = &shared.config;
    let default_denies = config.default_action == DefaultAction::Deny;
    let mut reasons: Vec<(Reason, String, String, bool)> = Vec::new();
    match verdict {
        None => reasons.push((
            Reason::Timeout,
            TIMEOUT_RULE.to_owned(),
            format!(
                "No verdict within {} ms: the default action applied",
                config.budget.as_millis()
            ),
            default_denies,
        )),
        Some(ContentVerdict::Clean) => {}
        Some(ContentVerdict::Malware { rule, title }) => {
            reasons.push((Reason::Malware, rule.clone(), title.clone(), true));
        }
        Some(ContentVerdict::Unscanned(why)) => reasons.push((
            Reason::Unscanned,
            UNSCANNED_RULE.to_owned(),
            format!("Not judged ({why}): the default action applied"),
            default_denies,
        )),
    }
    if pending.drift {
        reasons.push((
            Reason::Drift,
            DRIFT_RULE.to_owned(),
            "Executed a file written after the container started: it is not part of its image"
                .to_owned(),
            true,
        ));
    }
    let deny = config.mode == Mode::Enforce && reasons.iter().any(|(_, _, _, denies)| *denies);
    let pid = event.pid();
    respond(shared, &event, deny);
    drop(event);
    let waited = u64::try_from(pending.received.elapsed().as_micros()).unwrap_or(u64::MAX);
    let counters = &shared.counters;
    counters.decisions.fetch_add(1, Ordering::Relaxed);
    counters
        .total_wait_micros
        .fetch_add(waited, Ordering::Relaxed);
    counters
        .max_wait_micros
        .fetch_max(waited, Ordering::Relaxed);
    if deny {
        counters.denied.fetch_add(1, Ordering::Relaxed);
    }
    if verdict.is_none() {
        counters.timeouts.fetch_add(1, Ordering::Relaxed);
    }
    if reasons.is_empty() {
        return;
    }
    let time = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let process = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|name| name.trim_end().to_owned());
    for (reason, rule, title, _) in reasons {
        counters.reported.fetch_add(1, Ordering::Relaxed);
        shared.sink.event(&WatchEvent {
            time: time.clone(),
            mode: config.mode,
            action: if deny {
                Action::Denied
            } else {
                Action::Allowed
            },
            reason,
            rule,
            title,
            access: pending.access,
            path: pending.path.clone(),
            pid,
            process: process.clone(),
            container: pending.target.container.clone(),
            filesystem: pending.target.root.display().to_string(),
        });
    }
}

fn respond(shared: &Shared, event: &FanotifyEvent, deny: bool) {
    let Some(fd) = event.fd() else {
        return;
    };
    let guard = shared
        .fanotify
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(fanotify) = guard.as_ref() {
        let response = if deny {
            Response::FAN_DENY
        } else {
            Response::FAN_ALLOW
        };
        // An answer that cannot be written is moot: the group is closing, and the kernel
        // allows what it still holds.
        let _ = fanotify.write_response(FanotifyResponse::new(fd, response));
    }
}
