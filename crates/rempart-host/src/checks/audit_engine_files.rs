use super::docker_daemon::installed;
use super::{Outcome, host_check};
use crate::{AuditOptions, Host};

host_check! {
    code: "HOST-AUDIT-ENGINE-FILES",
    title: "Changes to the container engine's files are not audited",
    severity: Low,
    benchmark: "CIS Docker Benchmark v1.6.0, 1.1.3 to 1.1.18: Ensure auditing is configured for the Docker daemon and its files and directories",
    doc: "The Linux audit rules (`/etc/audit/audit.rules`, `/etc/audit/rules.d/*.rules`) do not \
watch the Docker engine's binaries, configuration and socket (`/usr/bin/dockerd`, \
`/usr/bin/containerd`, `/usr/bin/runc`, `/etc/docker`, `/var/lib/docker`, \
`/run/containerd`, `docker.service`, `docker.socket`, `/etc/containerd/config.toml`).\n\n\
Why: the engine runs as root and starts every container; a change to its binary, its \
configuration or its socket's unit is how an intruder keeps control of the host, and without \
audit records nobody can say when it happened or who did it.\n\n\
Fix: add watches (`-w /usr/bin/dockerd -k docker`, one per path) in \
`/etc/audit/rules.d/docker.rules` and load them (`augenrules --load`).\n\n\
Example: auditd installed with no rule naming `/usr/bin/dockerd`.",
}

/// The paths the benchmark asks to watch, those present on the host are judged.
const WATCHED: [&str; 11] = [
    "/usr/bin/dockerd",
    "/usr/bin/containerd",
    "/usr/bin/containerd-shim-runc-v2",
    "/usr/bin/runc",
    "/etc/docker",
    "/var/lib/docker",
    "/run/containerd",
    "/etc/containerd/config.toml",
    "/lib/systemd/system/docker.service",
    "/lib/systemd/system/docker.socket",
    "/etc/default/docker",
];

/// Every audit rule line of the host.
// `augenrules` loads `*.rules` exactly as spelt: a `.RULES` file is not loaded, so not read.
#[allow(clippy::case_sensitive_file_extension_comparisons)]
fn rules(host: &Host) -> Option<Vec<String>> {
    let mut texts: Vec<String> = host.read("/etc/audit/audit.rules").into_iter().collect();
    if let Ok(entries) = std::fs::read_dir(host.path("/etc/audit/rules.d")) {
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".rules"))
            .collect();
        names.sort();
        for name in names.into_iter().take(256) {
            if let Some(text) = host.read(&format!("/etc/audit/rules.d/{name}")) {
                texts.push(text);
            }
        }
    }
    host.exists("/etc/audit").then(|| {
        texts
            .iter()
            .flat_map(|text| text.lines().map(str::trim).map(str::to_owned))
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect()
    })
}

/// Whether a rule watches `path`: `-w PATH …`, or `-a … -F path=PATH` / `dir=PATH`.
fn watched(rules: &[String], path: &str) -> bool {
    rules.iter().any(|rule| {
        let words: Vec<&str> = rule.split_whitespace().collect();
        words
            .windows(2)
            .any(|pair| pair[0] == "-w" && pair[1].trim_end_matches('/') == path)
            || words.iter().any(|word| {
                word.strip_prefix("path=")
                    .or_else(|| word.strip_prefix("dir="))
                    .is_some_and(|watched| watched.trim_end_matches('/') == path)
            })
    })
}

pub(crate) fn run(host: &Host, _: &AuditOptions) -> Outcome {
    if !installed(host) {
        return Outcome::not_applicable("no Docker engine on this host");
    }
    let Some(rules) = rules(host) else {
        return Outcome::failed(
            "the Linux audit framework is not configured (/etc/audit is absent): nothing records changes to the engine's files",
            None,
        );
    };
    let present: Vec<&str> = WATCHED
        .into_iter()
        .filter(|path| host.exists(path))
        .collect();
    let unwatched: Vec<&str> = present
        .iter()
        .copied()
        .filter(|path| !watched(&rules, path))
        .collect();
    if unwatched.is_empty() {
        Outcome::passed(
            format!("{} engine paths watched", present.len()),
            Some("/etc/audit"),
        )
    } else {
        Outcome::failed(
            format!("not watched: {}", unwatched.join(", ")),
            Some("/etc/audit"),
        )
    }
}
