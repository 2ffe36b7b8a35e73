//! The Docker engine's configuration as the checks read it: `/etc/docker/daemon.json`, with the
//! engine's defaults for what it does not set. Options given on `dockerd`'s command line (a
//! systemd drop-in) are not read: the checks judge the file.

use serde_json::Value;

use super::Outcome;
use crate::Host;

pub(crate) const DAEMON_JSON: &str = "/etc/docker/daemon.json";

/// Where the engine's socket is.
pub(crate) const SOCKETS: [&str; 2] = ["/run/docker.sock", "/var/run/docker.sock"];

/// The engine's configuration, or why the checks do not apply or cannot judge.
pub(crate) enum Daemon {
    /// No Docker engine on the host.
    Absent,
    /// The file does not parse: every setting is unknown.
    Unreadable(String),
    /// The settings (an empty object when the file is absent: the defaults apply).
    Config(serde_json::Map<String, Value>),
}

/// Whether the Docker engine is installed: its configuration, its binary or its socket.
pub(crate) fn installed(host: &Host) -> bool {
    host.exists(DAEMON_JSON)
        || host.exists("/usr/bin/dockerd")
        || host.exists("/usr/sbin/dockerd")
        || SOCKETS.iter().any(|socket| host.exists(socket))
}

pub(crate) fn daemon(host: &Host) -> Daemon {
    if !installed(host) {
        return Daemon::Absent;
    }
    if !host.exists(DAEMON_JSON) {
        return Daemon::Config(serde_json::Map::new());
    }
    let Some(text) = host.read(DAEMON_JSON) else {
        return Daemon::Unreadable("it is not a readable regular file".to_owned());
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Daemon::Config(map),
        Ok(_) => Daemon::Unreadable("it is not a JSON object".to_owned()),
        Err(error) => Daemon::Unreadable(format!("it does not parse: {error}")),
    }
}

/// Runs `judge` on the engine's settings, with the not-applicable and unreadable cases said
/// the same way by every check.
pub(crate) fn with_daemon(
    host: &Host,
    judge: impl FnOnce(&serde_json::Map<String, Value>) -> Outcome,
) -> Outcome {
    match daemon(host) {
        Daemon::Absent => Outcome::not_applicable("no Docker engine on this host"),
        Daemon::Unreadable(why) => Outcome::failed(
            format!("{DAEMON_JSON} cannot be judged: {why}"),
            Some(DAEMON_JSON),
        ),
        Daemon::Config(settings) => judge(&settings),
    }
}

/// A boolean setting, `default` when unset.
pub(crate) fn flag(settings: &serde_json::Map<String, Value>, key: &str, default: bool) -> bool {
    settings
        .get(key)
        .and_then(Value::as_bool)
        .unwrap_or(default)
}

/// How a setting's value was found, for messages.
pub(crate) fn shown(settings: &serde_json::Map<String, Value>, key: &str) -> String {
    match settings.get(key) {
        Some(value) => format!("`{key}: {value}` in {DAEMON_JSON}"),
        None => format!("`{key}` unset in {DAEMON_JSON} (the engine's default)"),
    }
}

/// One boolean setting's check: passed when it is `wanted` (unset, the engine's `default`).
pub(crate) fn expect_flag(host: &Host, key: &str, default: bool, wanted: bool) -> Outcome {
    with_daemon(host, |settings| {
        let detail = shown(settings, key);
        if flag(settings, key, default) == wanted {
            Outcome::passed(detail, Some(DAEMON_JSON))
        } else {
            Outcome::failed(detail, Some(DAEMON_JSON))
        }
    })
}
