//! Real-time protection of running containers.
//!
//! The kernel asks before a file on a watched filesystem is opened or executed (fanotify
//! permission events), and waits for the answer. rempart answers from the same malware rules and
//! hash signatures that judge images, and from the container's image itself: a program executed
//! that was written after the container started is drift. In `enforce` mode the kernel is told to
//! refuse the access (the process sees `EPERM`); in `monitor` mode it is only reported.
//!
//! The watcher never leaves a process waiting longer than its time budget: a decision not made
//! in time gets the configured default, and a file's verdict is computed once per content (the
//! cache key is its device, inode, size and change times).
//!
//! Marks are per filesystem (`FAN_MARK_FILESYSTEM`): a container's root is its own overlay
//! filesystem, mounted once on the host and again inside the container's mount namespace, and a
//! filesystem mark sees both. Needs `CAP_SYS_ADMIN` (root).

mod config;
mod decision;
mod error;
mod event;
mod mounts;
mod rules;
mod verdict;
mod watcher;

pub use config::{DefaultAction, Mode, WatchConfig, WatchedAccess};
pub use error::WatchError;
pub use event::{Access, Action, ContainerLabel, EventSink, Reason, WatchEvent};
pub use mounts::Target;
pub use rules::{RUNTIME_RULES, RuntimeRuleDoc};
pub use watcher::{Stats, Watcher};

/// The rule code of drift: a program executed that is not part of the container's image.
pub const DRIFT_RULE: &str = "RUNTIME-DRIFT";
/// The rule code of a decision not made within the time budget.
pub const TIMEOUT_RULE: &str = "RUNTIME-TIMEOUT";
/// The rule code of a file not judged: over the size cap, or unreadable.
pub const UNSCANNED_RULE: &str = "RUNTIME-UNSCANNED";
