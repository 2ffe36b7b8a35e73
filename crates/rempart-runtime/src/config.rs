use std::time::Duration;

/// Whether the watcher refuses what it finds or only reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Malware and drift are refused: the process sees `EPERM`.
    Enforce,
    /// Everything is allowed; what enforce mode would refuse is reported.
    Monitor,
}

/// The answer given when no verdict could be made: in time, or at all (a file over the size
/// cap, unreadable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultAction {
    Allow,
    Deny,
}

/// Which accesses are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchedAccess {
    /// Executions only: cheapest, and drift is judged on executions anyway.
    Exec,
    /// Every open and every execution.
    OpenAndExec,
}

/// How the watcher decides.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    pub mode: Mode,
    pub access: WatchedAccess,
    /// Files larger than this are not read; the default action applies to them.
    pub max_file_size: u64,
    /// The longest a process waits for a decision once the watcher has read the question;
    /// then the default action applies. (The kernel's queue is read as fast as questions come:
    /// cached answers take microseconds.)
    pub budget: Duration,
    pub default_action: DefaultAction,
    /// Report (and in enforce mode refuse) programs executed that the container wrote after it
    /// started.
    pub drift: bool,
    /// Threads reading and scanning files whose verdict is not cached.
    pub workers: usize,
    /// Verdicts remembered; the cache is emptied when it holds more.
    pub cache_entries: usize,
}

impl Default for WatchConfig {
    fn default() -> WatchConfig {
        WatchConfig {
            mode: Mode::Enforce,
            access: WatchedAccess::OpenAndExec,
            max_file_size: rempart_malware::IN_MEMORY_FILE_SIZE,
            budget: Duration::from_millis(500),
            default_action: DefaultAction::Allow,
            drift: true,
            workers: std::thread::available_parallelism().map_or(2, usize::from),
            cache_entries: 65_536,
        }
    }
}
