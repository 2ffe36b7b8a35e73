//! Host checks against roots built for the tests (a check that passes, one that fails, one
//! whose file is absent) and against this machine itself.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use rempart_host::{AuditOptions, Host, HostReport, Status, audit, host_checks};

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn chmod(root: &Path, path: &str, mode: u32) {
    std::fs::set_permissions(
        root.join(path.trim_start_matches('/')),
        std::fs::Permissions::from_mode(mode),
    )
    .unwrap();
}

fn run(root: &Path) -> HostReport {
    audit(&Host::new(root), &AuditOptions::default())
}

/// `(status, detail)` of the check `code`.
fn outcome(report: &HostReport, code: &str) -> (Status, String) {
    let check = report
        .checks
        .iter()
        .find(|c| c.code == code)
        .unwrap_or_else(|| panic!("{code}: {report:#?}"));
    (check.status, check.detail.clone())
}

fn status(report: &HostReport, code: &str) -> Status {
    outcome(report, code).0
}

const DOCKER: [&str; 9] = [
    "HOST-DOCKER-ICC",
    "HOST-DOCKER-USERNS",
    "HOST-DOCKER-NO-NEW-PRIVILEGES",
    "HOST-DOCKER-LIVE-RESTORE",
    "HOST-DOCKER-USERLAND-PROXY",
    "HOST-DOCKER-INSECURE-REGISTRIES",
    "HOST-DOCKER-TCP-TLS",
    "HOST-DOCKER-SOCKET-PERMISSIONS",
    "HOST-DOCKER-CONFIG-PERMISSIONS",
];

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
}

#[test]
fn an_empty_root_is_not_applicable_never_passed() {
    let root = tempfile::tempdir().unwrap();
    let report = run(root.path());
    assert_eq!(report.checks.len(), host_checks().len());
    for check in &report.checks {
        assert_eq!(check.status, Status::NotApplicable, "{check:?}");
    }
    assert!(report.findings().is_empty());
}

#[test]
fn docker_engine_settings_hardened_defaulted_and_weakened() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    // Installed, no daemon.json: the engine's defaults apply, and they are the weak ones.
    write(root, "/usr/bin/dockerd", "");
    let defaults = run(root);
    for code in [
        "HOST-DOCKER-ICC",
        "HOST-DOCKER-USERNS",
        "HOST-DOCKER-NO-NEW-PRIVILEGES",
        "HOST-DOCKER-LIVE-RESTORE",
        "HOST-DOCKER-USERLAND-PROXY",
    ] {
        let (state, detail) = outcome(&defaults, code);
        assert_eq!(state, Status::Failed, "{code}");
        assert!(detail.contains("the engine's default"), "{code}: {detail}");
    }
    assert_eq!(
        status(&defaults, "HOST-DOCKER-INSECURE-REGISTRIES"),
        Status::Passed
    );
    assert_eq!(status(&defaults, "HOST-DOCKER-TCP-TLS"), Status::Passed);
    assert_eq!(
        status(&defaults, "HOST-DOCKER-CONFIG-PERMISSIONS"),
        Status::NotApplicable
    );
    assert_eq!(
        status(&defaults, "HOST-DOCKER-SOCKET-PERMISSIONS"),
        Status::NotApplicable
    );

    write(
        root,
        "/etc/docker/daemon.json",
        r#"{"icc": false, "userns-remap": "default", "no-new-privileges": true, "live-restore": true,
            "userland-proxy": false, "insecure-registries": ["127.0.0.0/8"],
            "hosts": ["unix:///run/docker.sock", "tcp://0.0.0.0:2376"], "tlsverify": true,
            "tlscacert": "/etc/docker/ca.pem", "tlscert": "/etc/docker/cert.pem", "tlskey": "/etc/docker/key.pem"}"#,
    );
    chmod(root, "/etc/docker/daemon.json", 0o644);
    let hardened = run(root);
    for code in &DOCKER[..7] {
        assert_eq!(
            status(&hardened, code),
            Status::Passed,
            "{code}: {hardened:#?}"
        );
    }
    assert_eq!(
        status(&hardened, "HOST-DOCKER-CONFIG-PERMISSIONS"),
        if running_as_root() {
            Status::Passed
        } else {
            Status::Failed
        }
    );

    write(
        root,
        "/etc/docker/daemon.json",
        r#"{"icc": false, "insecure-registries": ["registry.internal:5000", "localhost:5000"], "hosts": ["tcp://0.0.0.0:2375"]}"#,
    );
    chmod(root, "/etc/docker/daemon.json", 0o666);
    let weakened = run(root);
    assert_eq!(status(&weakened, "HOST-DOCKER-ICC"), Status::Passed);
    assert_eq!(
        outcome(&weakened, "HOST-DOCKER-INSECURE-REGISTRIES"),
        (
            Status::Failed,
            "insecure-registries lists registry.internal:5000".to_owned()
        )
    );
    assert_eq!(status(&weakened, "HOST-DOCKER-TCP-TLS"), Status::Failed);
    let (state, detail) = outcome(&weakened, "HOST-DOCKER-CONFIG-PERMISSIONS");
    assert_eq!(state, Status::Failed);
    assert!(detail.contains("mode 666 is wider than 644"), "{detail}");
    // The finding points at the file and cites the benchmark.
    let finding = weakened
        .findings()
        .into_iter()
        .find(|f| f.id == "HOST-DOCKER-TCP-TLS")
        .unwrap();
    assert_eq!(finding.location.path, "/etc/docker/daemon.json");
    assert_eq!(finding.severity, rempart_core::Severity::Critical);
    assert!(format!("{:?}", finding.details).contains("CIS Docker Benchmark v1.6.0, 2.8"));

    // A file that does not parse cannot pass anything.
    write(root, "/etc/docker/daemon.json", "{\"icc\": false,");
    let broken = run(root);
    let (state, detail) = outcome(&broken, "HOST-DOCKER-ICC");
    assert_eq!(state, Status::Failed);
    assert!(detail.contains("does not parse"), "{detail}");
}

#[test]
fn the_engine_socket_is_judged_by_owner_and_mode() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    std::fs::create_dir_all(root.join("run")).unwrap();
    write(root, "/etc/group", "root:x:0:\ndocker:x:998:alice\n");
    let socket = root.join("run/docker.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    chmod(root, "/run/docker.sock", 0o666);
    let (state, detail) = outcome(&run(root), "HOST-DOCKER-SOCKET-PERMISSIONS");
    assert_eq!(state, Status::Failed);
    assert!(detail.contains("mode 666 is wider than 660"), "{detail}");
    chmod(root, "/run/docker.sock", 0o660);
    assert_eq!(
        status(&run(root), "HOST-DOCKER-SOCKET-PERMISSIONS"),
        if running_as_root() {
            Status::Passed
        } else {
            Status::Failed
        }
    );
}

#[test]
fn kernel_protections() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    write(root, "/sys/kernel/.keep", "");
    write(root, "/sys/module/apparmor/parameters/enabled", "N\n");
    write(
        root,
        "/sys/fs/cgroup/unified/cgroup.controllers",
        "memory pids\n",
    );
    write(root, "/proc/sys/user/max_user_namespaces", "0\n");
    for (setting, value) in [
        ("kernel/kptr_restrict", "0"),
        ("kernel/dmesg_restrict", "1"),
        ("kernel/unprivileged_bpf_disabled", "2"),
        ("fs/protected_symlinks", "1"),
        ("fs/protected_hardlinks", "1"),
        ("fs/suid_dumpable", "2"),
    ] {
        write(root, &format!("/proc/sys/{setting}"), &format!("{value}\n"));
    }
    write(
        root,
        "/sys/kernel/security/lockdown",
        "[none] integrity confidentiality\n",
    );
    let weak = run(root);
    assert_eq!(status(&weak, "HOST-KERNEL-LSM"), Status::Failed);
    assert_eq!(
        outcome(&weak, "HOST-KERNEL-CGROUP-V2").1,
        "hybrid: v1 controllers, with v2 only at /sys/fs/cgroup/unified"
    );
    assert_eq!(status(&weak, "HOST-KERNEL-USERNS"), Status::Failed);
    // Yama is not built into this kernel: not judged, the others are.
    assert_eq!(
        outcome(&weak, "HOST-KERNEL-SYSCTL"),
        (
            Status::Failed,
            "kernel.kptr_restrict = 0 (want 1 or 2); fs.suid_dumpable = 2 (want 0)".to_owned()
        )
    );
    assert_eq!(outcome(&weak, "HOST-KERNEL-LOCKDOWN").1, "lockdown is none");

    write(root, "/sys/fs/selinux/enforce", "1\n");
    write(root, "/sys/fs/cgroup/cgroup.controllers", "memory pids\n");
    write(root, "/proc/sys/user/max_user_namespaces", "15000\n");
    write(root, "/proc/sys/kernel/kptr_restrict", "1\n");
    write(root, "/proc/sys/fs/suid_dumpable", "0\n");
    write(
        root,
        "/sys/kernel/security/lockdown",
        "none [integrity] confidentiality\n",
    );
    let hardened = run(root);
    for code in [
        "HOST-KERNEL-LSM",
        "HOST-KERNEL-CGROUP-V2",
        "HOST-KERNEL-USERNS",
        "HOST-KERNEL-SYSCTL",
        "HOST-KERNEL-LOCKDOWN",
    ] {
        assert_eq!(
            status(&hardened, code),
            Status::Passed,
            "{code}: {hardened:#?}"
        );
    }
}

#[test]
fn listening_services_beyond_the_allowed_ports() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    // Real /proc/net/tcp lines: sshd on 0.0.0.0:22, a local-only 127.0.0.1:5432, an engine
    // API on 0.0.0.0:2375, and an established connection (state 01, not listening).
    write(
        root,
        "/proc/net/tcp",
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 19334 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   108        0 21765 1 0000000000000000 100 0 0 10 0\n   2: 00000000:0947 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 100 0 0 10 0\n   3: 0A00020F:0016 0A000202:D1A4 01 00000000:00000000 02:00096DEB 00000000     0        0 41203 4 0000000000000000 20 4 29 10 -1\n",
    );
    write(
        root,
        "/proc/net/udp6",
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n  10: 00000000000000000000000000000000:14E9 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   104        0 18520 2 0000000000000000 0\n",
    );
    let report = run(root);
    assert_eq!(
        outcome(&report, "HOST-LISTENING-SERVICES"),
        (
            Status::Failed,
            "not on the allowed list: tcp 0.0.0.0:2375, udp [::]:5353".to_owned()
        )
    );
    let allowed = audit(
        &Host::new(root),
        &AuditOptions {
            allowed_ports: vec![22, 2375, 5353],
        },
    );
    assert_eq!(status(&allowed, "HOST-LISTENING-SERVICES"), Status::Passed);
}

#[test]
fn this_machine_is_audited_with_the_checks_that_apply_here() {
    let report = run(Path::new("/"));
    assert_eq!(report.root, "/");
    let codes: Vec<&str> = report.checks.iter().map(|c| c.code).collect();
    let documented: Vec<&str> = host_checks().iter().map(|c| c.code).collect();
    assert_eq!(codes, documented);
    // A Linux machine always has these files: the checks must judge them, not skip them.
    for code in [
        "HOST-KERNEL-LSM",
        "HOST-KERNEL-CGROUP-V2",
        "HOST-KERNEL-USERNS",
        "HOST-KERNEL-SYSCTL",
        "HOST-LISTENING-SERVICES",
    ] {
        assert_ne!(
            status(&report, code),
            Status::NotApplicable,
            "{code}: {report:#?}"
        );
    }
    for check in &report.checks {
        assert!(!check.detail.is_empty(), "{check:?}");
        assert!(!check.benchmark.is_empty(), "{check:?}");
    }
    assert_eq!(
        report.findings().len(),
        report.count(Status::Failed),
        "one finding per failed check"
    );
}

const KUBELET: [&str; 5] = [
    "HOST-KUBELET-ANONYMOUS",
    "HOST-KUBELET-AUTHORIZATION",
    "HOST-KUBELET-READ-ONLY-PORT",
    "HOST-KUBELET-ROTATE-CERTIFICATES",
    "HOST-KUBELET-PROTECT-KERNEL-DEFAULTS",
];

#[test]
fn kubelet_configuration_hardened_defaulted_weakened_and_broken() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    for code in KUBELET {
        assert_eq!(status(&run(root), code), Status::NotApplicable, "{code}");
    }
    // kubeadm's file, hardened.
    write(
        root,
        "/var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  anonymous:\n    enabled: false\n  webhook:\n    enabled: true\nauthorization:\n  mode: Webhook\nreadOnlyPort: 0\nrotateCertificates: true\nprotectKernelDefaults: true\n",
    );
    for code in KUBELET {
        assert_eq!(status(&run(root), code), Status::Passed, "{code}");
    }
    // The file format's defaults: secure authentication, no rotation, no protection.
    write(
        root,
        "/var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n",
    );
    let defaults = run(root);
    assert_eq!(status(&defaults, "HOST-KUBELET-ANONYMOUS"), Status::Passed);
    assert_eq!(
        status(&defaults, "HOST-KUBELET-AUTHORIZATION"),
        Status::Passed
    );
    assert_eq!(
        status(&defaults, "HOST-KUBELET-READ-ONLY-PORT"),
        Status::Passed
    );
    let (state, detail) = outcome(&defaults, "HOST-KUBELET-ROTATE-CERTIFICATES");
    assert_eq!(state, Status::Failed);
    assert!(detail.contains("the file format's default"), "{detail}");
    // Weakened, as JSON in another distribution's place.
    std::fs::remove_file(root.join("var/lib/kubelet/config.yaml")).unwrap();
    write(
        root,
        "/etc/kubernetes/kubelet/kubelet-config.json",
        r#"{"kind": "KubeletConfiguration", "authentication": {"anonymous": {"enabled": true}}, "authorization": {"mode": "AlwaysAllow"}, "readOnlyPort": 10255}"#,
    );
    let weak = run(root);
    for code in &KUBELET[..3] {
        let (state, detail) = outcome(&weak, code);
        assert_eq!(state, Status::Failed, "{code}");
        assert!(
            detail.contains("/etc/kubernetes/kubelet/kubelet-config.json"),
            "{detail}"
        );
    }
    // A file that does not parse passes nothing.
    write(
        root,
        "/etc/kubernetes/kubelet/kubelet-config.json",
        "{\"authorization\": [",
    );
    let (state, detail) = outcome(&run(root), "HOST-KUBELET-AUTHORIZATION");
    assert_eq!(state, Status::Failed);
    assert!(detail.contains("does not parse"), "{detail}");
}

/// An OCI runtime configuration as the engines write it (trimmed to what the checks read).
fn spec(
    uid: u32,
    namespaces: &[&str],
    capabilities: &[&str],
    seccomp: bool,
    mounts: &str,
) -> String {
    let namespaces: Vec<String> = namespaces
        .iter()
        .map(|kind| format!("{{\"type\": \"{kind}\"}}"))
        .collect();
    let capabilities: Vec<String> = capabilities.iter().map(|c| format!("\"{c}\"")).collect();
    format!(
        r#"{{"ociVersion": "1.0.2", "process": {{"user": {{"uid": {uid}, "gid": {uid}}}, "args": ["/bin/app"],
            "capabilities": {{"bounding": [{caps}], "effective": [{caps}]}}}},
            "mounts": [{{"destination": "/proc", "type": "proc", "source": "proc"}},
                       {{"destination": "/etc/hosts", "type": "bind", "source": "/var/lib/containers/storage/overlay-containers/x/userdata/hosts", "options": ["bind", "rprivate"]}}{mounts}],
            "linux": {{"namespaces": [{ns}], {seccomp} "maskedPaths": ["/proc/kcore", "/proc/keys"]}}}}"#,
        caps = capabilities.join(", "),
        ns = namespaces.join(", "),
        seccomp = if seccomp {
            r#""seccomp": {"defaultAction": "SCMP_ACT_ERRNO"},"#
        } else {
            ""
        },
    )
}

const ALL_NAMESPACES: [&str; 5] = ["pid", "network", "ipc", "uts", "mount"];
const DEFAULT_CAPS: [&str; 3] = ["CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_SETUID"];

#[test]
fn running_containers_are_judged_from_their_runtime_configuration() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let podman = "/var/lib/containers/storage/overlay-containers";
    let container =
        |id: &str, text: &str| write(root, &format!("{podman}/{id}/userdata/config.json"), text);
    container(
        "aaa111",
        &spec(1000, &ALL_NAMESPACES, &DEFAULT_CAPS, true, ""),
    );
    let every: Vec<String> = (0..41)
        .map(|n| format!("CAP_{n}"))
        .chain(["CAP_SYS_ADMIN".to_owned()])
        .collect();
    let every: Vec<&str> = every.iter().map(String::as_str).collect();
    container(
        "bbb222",
        &spec(0, &ALL_NAMESPACES, &every, false, "").replace(
            r#""maskedPaths": ["/proc/kcore", "/proc/keys"]"#,
            r#""maskedPaths": []"#,
        ),
    );
    container(
        "ccc333",
        &spec(
            0,
            &["pid", "ipc", "uts", "mount"],
            &["CAP_CHOWN", "CAP_SYS_ADMIN"],
            false,
            r#", {"destination": "/host-etc", "type": "bind", "source": "/etc", "options": ["rbind", "rw"]},
                {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "ro"]},
                {"destination": "/var/run/docker.sock", "type": "bind", "source": "/run/docker.sock", "options": ["bind"]}"#,
        ),
    );
    // Names and images from Podman's own lists.
    write(
        root,
        &format!("{podman}/containers.json"),
        r#"[{"id": "aaa111", "names": ["web"], "image": "i1"}, {"id": "bbb222", "names": ["debug"], "image": "i2"}, {"id": "ccc333", "names": ["agent"], "image": "i3"}]"#,
    );
    write(
        root,
        "/var/lib/containers/storage/overlay-images/images.json",
        r#"[{"id": "i1", "names": ["registry.example.com/shop/web:1.4"]}, {"id": "i2", "names": ["docker.io/library/alpine:3.20"]}]"#,
    );
    // A Kubernetes container through containerd, named by its annotations.
    write(
        root,
        "/run/containerd/io.containerd.runtime.v2.task/k8s.io/ddd444/config.json",
        &spec(0, &ALL_NAMESPACES, &DEFAULT_CAPS, true, "").replacen(
            r#""ociVersion": "1.0.2","#,
            r#""ociVersion": "1.0.2", "annotations": {"io.kubernetes.cri.container-name": "api", "io.kubernetes.cri.sandbox-name": "api-7f9c", "io.kubernetes.cri.image-name": "registry.example.com/shop/api:2.0"},"#,
            1,
        ),
    );

    // A Kata pod: its shim's annotations say it runs in a virtual machine.
    write(
        root,
        "/run/containerd/io.containerd.runtime.v2.task/k8s.io/eee555/config.json",
        &spec(1000, &ALL_NAMESPACES, &DEFAULT_CAPS, true, "").replacen(
            r#""ociVersion": "1.0.2","#,
            r#""ociVersion": "1.0.2", "annotations": {"io.kubernetes.cri.container-name": "batch", "io.kubernetes.cri.sandbox-name": "batch-1", "io.katacontainers.pkg.oci.container_type": "pod_container"},"#,
            1,
        ),
    );

    let report = run(root);
    let isolation: Vec<(String, rempart_host::Isolation)> = report
        .containers
        .iter()
        .map(|c| (c.name.clone(), c.isolation))
        .collect();
    assert_eq!(
        isolation,
        [
            (
                "api-7f9c/api".to_owned(),
                rempart_host::Isolation::SharedKernel
            ),
            (
                "batch-1/batch".to_owned(),
                rempart_host::Isolation::VirtualMachine
            ),
            ("web".to_owned(), rempart_host::Isolation::SharedKernel),
            ("debug".to_owned(), rempart_host::Isolation::SharedKernel),
            ("agent".to_owned(), rempart_host::Isolation::SharedKernel),
        ]
    );
    let offenders = |code: &str| -> Vec<String> {
        report
            .checks
            .iter()
            .find(|c| c.code == code)
            .unwrap()
            .offenders
            .iter()
            .map(|o| o.name.clone())
            .collect()
    };
    assert_eq!(offenders("HOST-CONTAINER-PRIVILEGED"), ["debug"]);
    assert_eq!(
        offenders("HOST-CONTAINER-ROOT"),
        ["api-7f9c/api", "debug", "agent"]
    );
    assert_eq!(offenders("HOST-CONTAINER-HOST-NAMESPACES"), ["agent"]);
    assert_eq!(offenders("HOST-CONTAINER-CAPABILITIES"), ["agent"]);
    assert_eq!(offenders("HOST-CONTAINER-HOST-MOUNTS"), ["agent"]);
    assert_eq!(offenders("HOST-CONTAINER-NO-SECCOMP"), ["agent"]);
    let (_, detail) = outcome(&report, "HOST-CONTAINER-HOST-MOUNTS");
    assert!(
        detail.contains("/etc on /host-etc")
            && detail.contains("/run/docker.sock on /var/run/docker.sock")
            && !detail.contains("/srv/data"),
        "{detail}"
    );
    // One finding per container, tied to its image.
    let findings = report.findings();
    let privileged = findings
        .iter()
        .find(|f| f.id == "HOST-CONTAINER-PRIVILEGED")
        .unwrap();
    assert_eq!(
        privileged.location.path,
        "/var/lib/containers/storage/overlay-containers/bbb222/userdata/config.json"
    );
    assert!(
        format!("{:?}", privileged.details)
            .contains("container debug (image docker.io/library/alpine:3.20)")
    );
    let root_findings: Vec<String> = findings
        .iter()
        .filter(|f| f.id == "HOST-CONTAINER-ROOT")
        .map(|f| format!("{:?}", f.details))
        .collect();
    assert_eq!(root_findings.len(), 3);
    assert!(
        root_findings
            .iter()
            .any(|d| d.contains("image registry.example.com/shop/api:2.0"))
    );

    // The hardened one alone passes everything.
    std::fs::remove_dir_all(root.join("run")).unwrap();
    for id in ["bbb222", "ccc333"] {
        std::fs::remove_dir_all(root.join(format!("{}/{id}", podman.trim_start_matches('/'))))
            .unwrap();
    }
    let hardened = run(root);
    for check in hardened
        .checks
        .iter()
        .filter(|c| c.code.starts_with("HOST-CONTAINER-"))
    {
        assert_eq!(check.status, Status::Passed, "{check:?}");
    }
}

#[test]
fn audit_rules_watch_the_engine_files() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    assert_eq!(
        status(&run(root), "HOST-AUDIT-ENGINE-FILES"),
        Status::NotApplicable
    );
    write(root, "/usr/bin/dockerd", "");
    write(root, "/usr/bin/runc", "");
    write(root, "/etc/docker/daemon.json", "{}");
    let (state, detail) = outcome(&run(root), "HOST-AUDIT-ENGINE-FILES");
    assert_eq!(state, Status::Failed);
    assert!(detail.contains("not configured"), "{detail}");
    write(
        root,
        "/etc/audit/rules.d/docker.rules",
        "# engine\n-w /usr/bin/dockerd -k docker\n-a always,exit -F path=/usr/bin/runc -F perm=wa -k docker\n",
    );
    assert_eq!(
        outcome(&run(root), "HOST-AUDIT-ENGINE-FILES"),
        (Status::Failed, "not watched: /etc/docker".to_owned())
    );
    write(
        root,
        "/etc/audit/audit.rules",
        "-w /etc/docker/ -k docker\n",
    );
    assert_eq!(
        status(&run(root), "HOST-AUDIT-ENGINE-FILES"),
        Status::Passed
    );
}

const ENGINES: [&str; 7] = [
    "HOST-CONTAINERD-CONFINEMENT",
    "HOST-CONTAINERD-TCP",
    "HOST-CONTAINERD-SOCKET-PERMISSIONS",
    "HOST-CRIO-CONFINEMENT",
    "HOST-PODMAN-CONFINEMENT",
    "HOST-CONTAINERS-SIGNATURE-POLICY",
    "HOST-CONTAINERS-INSECURE-REGISTRIES",
];

#[test]
fn containerd_crio_and_podman_hardened_defaulted_weakened_and_broken() {
    // Absent: not applicable, never passed.
    let absent = tempfile::tempdir().unwrap();
    let report = run(absent.path());
    for code in ENGINES {
        assert_eq!(status(&report, code), Status::NotApplicable, "{code}");
    }

    // Installed with no configuration file: the engines' defaults, which confine.
    let defaults = tempfile::tempdir().unwrap();
    for binary in ["/usr/bin/containerd", "/usr/bin/crio", "/usr/bin/podman"] {
        write(defaults.path(), binary, "");
    }
    let report = run(defaults.path());
    for code in [
        "HOST-CONTAINERD-CONFINEMENT",
        "HOST-CONTAINERD-TCP",
        "HOST-CRIO-CONFINEMENT",
        "HOST-PODMAN-CONFINEMENT",
    ] {
        let (status, detail) = outcome(&report, code);
        assert_eq!(status, Status::Passed, "{code}: {detail}");
    }
    assert!(
        outcome(&report, "HOST-CRIO-CONFINEMENT")
            .1
            .contains("defaults")
    );
    // Not running: its socket is absent.
    assert_eq!(
        status(&report, "HOST-CONTAINERD-SOCKET-PERMISSIONS"),
        Status::NotApplicable
    );

    // Hardened files, as distributions ship them.
    let hardened = tempfile::tempdir().unwrap();
    let root = hardened.path();
    write(
        root,
        "/etc/containerd/config.toml",
        "version = 2\n[grpc]\naddress = \"/run/containerd/containerd.sock\"\ntcp_address = \"10.0.0.5:10010\"\ntcp_tls_cert = \"/etc/containerd/tls/cert.pem\"\ntcp_tls_key = \"/etc/containerd/tls/key.pem\"\ntcp_tls_ca = \"/etc/containerd/tls/ca.pem\"\n[plugins.\"io.containerd.grpc.v1.cri\"]\nsandbox_image = \"registry.k8s.io/pause:3.9\"\ndisable_apparmor = false\n",
    );
    write(
        root,
        "/etc/crio/crio.conf",
        "[crio.runtime]\ndefault_capabilities = [\"CHOWN\", \"DAC_OVERRIDE\", \"FSETID\", \"FOWNER\", \"SETGID\", \"SETUID\", \"SETPCAP\", \"NET_BIND_SERVICE\", \"KILL\"]\nseccomp_use_default_when_empty = true\n",
    );
    write(
        root,
        "/etc/containers/containers.conf",
        "[containers]\ndefault_capabilities = [\"CHOWN\", \"KILL\"]\n",
    );
    write(
        root,
        "/etc/containers/policy.json",
        r#"{"default": [{"type": "reject"}], "transports": {"docker": {"registry.example": [{"type": "sigstoreSigned", "keyPath": "/etc/keys/k.pub"}]}}}"#,
    );
    write(
        root,
        "/etc/containers/registries.conf",
        "unqualified-search-registries = [\"docker.io\"]\n[[registry]]\nlocation = \"localhost:5000\"\ninsecure = true\n",
    );
    let report = run(root);
    for code in ENGINES {
        if code == "HOST-CONTAINERD-SOCKET-PERMISSIONS" {
            continue;
        }
        let (status, detail) = outcome(&report, code);
        assert_eq!(status, Status::Passed, "{code}: {detail}");
    }

    // Weakened: each check fails and says what.
    let weakened = tempfile::tempdir().unwrap();
    let root = weakened.path();
    write(
        root,
        "/etc/containerd/config.toml",
        "version = 3\n[grpc]\ntcp_address = \"0.0.0.0:10010\"\n[plugins.\"io.containerd.cri.v1.runtime\"]\ndisable_apparmor = true\n",
    );
    // A drop-in wins over the main file, key by key.
    write(
        root,
        "/etc/crio/crio.conf",
        "[crio.runtime]\napparmor_profile = \"crio-default\"\n",
    );
    write(
        root,
        "/etc/crio/crio.conf.d/10-debug.conf",
        "[crio.runtime]\napparmor_profile = \"unconfined\"\ndefault_capabilities = [\"CHOWN\", \"SYS_ADMIN\"]\n",
    );
    write(
        root,
        "/etc/containers/containers.conf.d/50-lab.conf",
        "[containers]\nseccomp_profile = \"unconfined\"\n",
    );
    write(root, "/usr/bin/podman", "");
    write(
        root,
        "/etc/containers/policy.json",
        r#"{"default": [{"type": "insecureAcceptAnything"}], "transports": {"docker-daemon": {"": [{"type": "insecureAcceptAnything"}]}}}"#,
    );
    write(
        root,
        "/etc/containers/registries.conf.d/lab.conf",
        "[[registry]]\nlocation = \"registry.lab.internal:5000\"\ninsecure = true\n",
    );
    let report = run(root);
    let expect = [
        ("HOST-CONTAINERD-CONFINEMENT", "disable_apparmor"),
        ("HOST-CONTAINERD-TCP", "0.0.0.0:10010 without tcp_tls_cert"),
        ("HOST-CRIO-CONFINEMENT", "apparmor_profile = \"unconfined\""),
        ("HOST-CRIO-CONFINEMENT", "SYS_ADMIN"),
        ("HOST-PODMAN-CONFINEMENT", "seccomp_profile"),
        ("HOST-CONTAINERS-SIGNATURE-POLICY", "insecureAcceptAnything"),
        (
            "HOST-CONTAINERS-INSECURE-REGISTRIES",
            "registry.lab.internal:5000",
        ),
    ];
    for (code, said) in expect {
        let (status, detail) = outcome(&report, code);
        assert_eq!(status, Status::Failed, "{code}: {detail}");
        assert!(detail.contains(said), "{code}: {detail}");
    }

    // A file that does not parse passes nothing.
    let broken = tempfile::tempdir().unwrap();
    write(
        broken.path(),
        "/etc/containerd/config.toml",
        "[grpc\ntcp_address = ",
    );
    write(
        broken.path(),
        "/etc/containers/policy.json",
        "{\"default\": ",
    );
    let report = run(broken.path());
    for code in [
        "HOST-CONTAINERD-CONFINEMENT",
        "HOST-CONTAINERD-TCP",
        "HOST-CONTAINERS-SIGNATURE-POLICY",
    ] {
        let (status, detail) = outcome(&report, code);
        assert_eq!(status, Status::Failed, "{code}: {detail}");
        assert!(detail.contains("cannot be judged"), "{code}: {detail}");
    }
}

#[test]
fn the_containerd_socket_is_judged_by_owner_and_mode() {
    let root = tempfile::tempdir().unwrap();
    let socket = root.path().join("run/containerd/containerd.sock");
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    chmod(root.path(), "/run/containerd/containerd.sock", 0o660);
    let code = "HOST-CONTAINERD-SOCKET-PERMISSIONS";
    let (state, detail) = outcome(&run(root.path()), code);
    if running_as_root() {
        assert_eq!(state, Status::Passed, "{detail}");
    } else {
        assert_eq!(state, Status::Failed, "owned by this user: {detail}");
    }
    chmod(root.path(), "/run/containerd/containerd.sock", 0o666);
    let (state, detail) = outcome(&run(root.path()), code);
    assert_eq!(state, Status::Failed);
    assert!(detail.contains("666"), "{detail}");
}
