//! What the watcher reports: one event per access it refused, or would have refused, or could
//! not judge. Clean accesses are counted, not reported.

use serde::Serialize;

use crate::config::Mode;

/// The container a watched filesystem belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerLabel {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Open,
    Exec,
}

/// The answer the kernel was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Allowed,
    Denied,
}

/// Why the access is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The content matches a malware rule or hash signature.
    Malware,
    /// A program executed that was written after the container started.
    Drift,
    /// No decision within the time budget: the default action applied.
    Timeout,
    /// The file was not judged (over the size cap, unreadable): the default action applied.
    Unscanned,
}

/// One reported access, printed as a JSON line.
#[derive(Debug, Clone, Serialize)]
pub struct WatchEvent {
    /// RFC 3339, UTC.
    pub time: String,
    pub mode: Mode,
    pub action: Action,
    pub reason: Reason,
    /// The rule code: a malware rule's, `RUNTIME-DRIFT`, `RUNTIME-TIMEOUT`, `RUNTIME-UNSCANNED`.
    pub rule: String,
    pub title: String,
    pub access: Access,
    /// The file, as the container sees it.
    pub path: String,
    /// The process that asked (its thread group).
    pub pid: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerLabel>,
    /// Where the watched filesystem is mounted on the host.
    pub filesystem: String,
}

/// Receives the events; called from the watcher's threads, so it must not block for long (a
/// slow sink delays the answers of the accesses it reports).
pub trait EventSink: Send + Sync {
    fn event(&self, event: &WatchEvent);
}
