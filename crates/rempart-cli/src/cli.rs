//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "rempart",
    version,
    about = "Container security scanner: vulnerabilities, secrets, misconfigurations and SBOMs for images, root filesystems and source trees.",
    after_help = "Exit codes: 0 no findings over the threshold, 1 findings over the threshold, 2 the scan failed."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Print progress and debug logs to stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// Print nothing on stderr but errors.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// Colours in tables and messages: `auto` on a terminal unless `NO_COLOR` is set.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,
    /// Logs on stderr as text, or as JSON lines (one object per event, with its fields) for a
    /// log collector.
    #[arg(long, global = true, env = "REMPART_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream that is (or is not) a terminal.
    pub(crate) fn for_stream(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Scan a container image from a registry, an OCI layout directory or a docker-save archive.
    Image(ImageArgs),
    /// Scan an unpacked image root filesystem.
    Rootfs(DirArgs),
    /// Scan a source tree (lock files and configuration files included).
    Fs(DirArgs),
    /// Write the software bill of materials of an image or directory.
    Sbom(SbomArgs),
    /// Check Dockerfiles, Kubernetes manifests and compose files.
    Config(ConfigArgs),
    /// Manage the vulnerability database.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// List the built-in rules, or show one rule's documentation (`rempart rules MAL-REVSHELL`).
    Rules(RulesArgs),
    /// Run the scan server (API, queue, verdicts, audit log), or manage its tokens.
    Server(ServerArgs),
    /// Decide, as the admission webhooks would, whether the workloads of Kubernetes manifests
    /// may run under an admission policy (exit 1 when one would be denied).
    Admit(AdmitArgs),
    /// Verify an image's signatures and attestations against a trust policy (exit 1 when the
    /// policy is not met).
    Verify(VerifyArgs),
    /// Scan an image and attach rempart's signed verdict to it in its registry.
    Attest(AttestArgs),
    /// Audit this machine as a container host, read-only: the engine's configuration and
    /// files, the kernel's protections, the services listening (exit 1 when a check fails).
    Host(HostArgs),
    /// Protect running containers in real time (needs root): files they open or execute are
    /// judged by the malware rules, and programs they did not get from their image are drift;
    /// refused in enforce mode, reported as JSON lines.
    Watch(WatchArgs),
}

#[derive(Args, Debug)]
pub(crate) struct WatchArgs {
    /// Filesystems to watch, by mount point (a tmpfs, an overlay). Without any, the running
    /// containers' roots are watched, and those of the containers that start later.
    #[arg(value_name = "MOUNT_POINT")]
    pub(crate) paths: Vec<PathBuf>,
    /// Only the containers with this name or id (or id prefix); repeatable. Every container
    /// by default.
    #[arg(long = "container", value_name = "NAME")]
    pub(crate) containers: Vec<String>,
    /// The image the one mount point given was made from (a registry reference, an OCI layout
    /// directory or a `docker save` archive): where the filesystem is not an overlay, drift is
    /// judged against the image's files (read through the layer cache).
    #[arg(long, value_name = "IMAGE", requires = "paths")]
    pub(crate) image: Option<String>,
    /// `enforce`: malware and drift are refused (the process sees EPERM); `monitor`: they
    /// are only reported.
    #[arg(long, default_value = "enforce", value_parser = ["enforce", "monitor"])]
    pub(crate) mode: String,
    /// Which accesses are judged: `open` (every open and every execution) or `exec`
    /// (executions only).
    #[arg(long, default_value = "open", value_parser = ["open", "exec"])]
    pub(crate) on: String,
    /// The longest a process waits for a decision, in milliseconds; then the default action
    /// applies.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub(crate) budget_ms: u64,
    /// The answer when no verdict could be made: in time, or at all (over the size cap,
    /// unreadable). Monitor mode always allows.
    #[arg(long = "default", value_name = "ACTION", default_value = "allow", value_parser = ["allow", "deny"])]
    pub(crate) default_action: String,
    /// Largest file read and judged; larger files get the default action. [default: 32MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub(crate) max_file_size: Option<u64>,
    /// Do not judge drift (programs executed that were written after the container started).
    #[arg(long)]
    pub(crate) no_drift: bool,
    /// YARA rules added to the built-in malware rules: `.yar`/`.yara` files or directories of
    /// them; repeatable.
    #[arg(long, value_name = "PATH")]
    pub(crate) malware_rules: Vec<PathBuf>,
    /// Known-malware hashes: ClamAV `.hdb`/`.hsb` files or lists of MD5, SHA-1 or SHA-256
    /// digests; repeatable.
    #[arg(long, value_name = "FILE")]
    pub(crate) malware_hashes: Vec<PathBuf>,
    /// Seconds between two looks for containers that started or stopped.
    #[arg(long, value_name = "SECONDS", default_value_t = 1)]
    pub(crate) refresh_secs: u64,
    /// Stop after this many seconds (default: until stopped).
    #[arg(long, value_name = "SECONDS")]
    pub(crate) duration: Option<u64>,
    /// Write the events (JSON lines) to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Also send the events to this rempart server (`https://rempart.example:8443`), which
    /// keeps them in its audit log, counts them and announces them to its webhooks.
    #[arg(long, value_name = "URL")]
    pub(crate) server: Option<String>,
    /// A token of the server with the runtime role.
    #[arg(
        long,
        env = "REMPART_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub(crate) token: Option<String>,
    /// Certificate authorities (PEM) trusted for the server besides the system's.
    #[arg(long, value_name = "FILE")]
    pub(crate) server_ca: Option<PathBuf>,
    /// The name this node's events are recorded under. [default: the host name]
    #[arg(long, value_name = "NAME")]
    pub(crate) node: Option<String>,
    /// Where compiled malware rules, and the layer cache `--image` reads, are kept between
    /// runs.
    #[arg(long, value_name = "DIR", env = "REMPART_CACHE_DIR")]
    pub(crate) cache_dir: Option<PathBuf>,
    // How `--image` is read from its registry.
    #[command(flatten)]
    pub(crate) source: SourceArgs,
}

#[derive(Args, Debug)]
pub(crate) struct HostArgs {
    /// Audit the files under this directory instead of `/` (a mounted host disk, a copy of
    /// its configuration).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub(crate) root: PathBuf,
    /// A port that may listen on non-loopback addresses (repeatable). [default: 22]
    #[arg(long = "allow-port", value_name = "PORT")]
    pub(crate) allow_ports: Vec<u16>,
    /// Output format: table or json (every check with its outcome), or sarif, junit or html
    /// (the failed checks as findings).
    #[arg(short, long, default_value = "table")]
    pub(crate) format: String,
    /// Write the report to this file instead of standard output (`-`: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Accepted findings, each with a reason (default: `.rempartignore.yaml` in the current
    /// directory, when present).
    #[arg(long, value_name = "FILE")]
    pub(crate) ignorefile: Option<PathBuf>,
    /// Only report findings of these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,
    /// UNKNOWN).
    #[arg(short, long, value_delimiter = ',')]
    pub(crate) severity: Vec<String>,
    /// Do not match the host's own OS packages (dpkg, apk, rpm) against the vulnerability
    /// database.
    #[arg(long)]
    pub(crate) skip_packages: bool,
    #[command(flatten)]
    pub(crate) db: DbLocation,
}

#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    /// The image: a registry reference, or an OCI layout directory (`DIR` or `DIR:TAG`).
    pub(crate) image: String,
    /// The trust policy (YAML): repository patterns, trusted keys and keyless identities,
    /// required attestations.
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: PathBuf,
    /// Output format: table or json (every signature and attestation found, and why each
    /// failed), or sarif, junit or html (the unmet requirements as findings).
    #[arg(short, long, default_value = "table")]
    pub(crate) format: String,
    /// Write the report to this file instead of standard output (`-`: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) source: SourceArgs,
}

#[derive(Args, Debug)]
pub(crate) struct AttestArgs {
    /// The image in a registry (`registry.example.com/app:1.2` or `…@sha256:…`).
    pub(crate) reference: String,
    /// The signing key: an unencrypted PKCS#8 PEM file (ECDSA P-256).
    #[arg(long, value_name = "FILE", required_unless_present = "key_env")]
    pub(crate) key: Option<PathBuf>,
    /// The environment variable that holds the signing key's PEM instead of a file.
    #[arg(long, value_name = "VAR", conflicts_with = "key")]
    pub(crate) key_env: Option<String>,
    /// The policy name recorded in the verdict.
    #[arg(long, default_value = "default")]
    pub(crate) policy_name: String,
    #[command(flatten)]
    pub(crate) source: SourceArgs,
    #[command(flatten)]
    pub(crate) scan: ScanArgs,
}

#[derive(Args, Debug)]
pub(crate) struct AdmitArgs {
    /// Manifest files (YAML or JSON, several documents, `List` kinds).
    #[arg(required = true)]
    pub(crate) manifests: Vec<PathBuf>,
    /// The admission policy (YAML or JSON).
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: PathBuf,
    /// Image verdicts: a JSON file `{"verdicts": [{"image", "digest", "passed", "reasons",
    /// "policy", "scanned_at"}]}` (entries as the server's verdict endpoint answers).
    #[arg(long, value_name = "FILE")]
    pub(crate) verdicts: Vec<PathBuf>,
    /// Ask a running `rempart server` for the verdicts of images pinned by digest.
    #[arg(long, value_name = "URL", requires = "token")]
    pub(crate) server: Option<String>,
    /// A viewer token for `--server`.
    #[arg(long, env = "REMPART_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// The namespace of objects that name none (as `kubectl apply -n`).
    #[arg(short, long, default_value = "default")]
    pub(crate) namespace: String,
    /// A label of a namespace, `NAMESPACE:KEY=VALUE` (repeatable); Namespace objects among the
    /// manifests give theirs too.
    #[arg(long, value_name = "NS:KEY=VALUE")]
    pub(crate) namespace_label: Vec<String>,
    /// The operation to decide on: create or update.
    #[arg(long, default_value = "create")]
    pub(crate) operation: String,
    /// The trust policy images are verified against for the rule `images.trust` (their
    /// signatures and attestations are read from their registries before deciding).
    #[arg(long, value_name = "FILE")]
    pub(crate) trust_policy: Option<PathBuf>,
    /// table or json.
    #[arg(short, long, default_value = "table")]
    pub(crate) format: String,
    #[command(flatten)]
    pub(crate) source: SourceArgs,
}

#[derive(Args, Debug)]
pub(crate) struct RulesArgs {
    /// A rule code from a report: shows what it detects, why it matters and how to fix it.
    pub(crate) code: Option<String>,
    /// Only the rules of these scanners (comma-separated: secret, malware, misconfig, trust),
    /// of admission control (admission), of the host audit (host) or of the runtime watcher
    /// (runtime).
    #[arg(long, value_delimiter = ',')]
    pub(crate) scanners: Vec<String>,
    /// table or json.
    #[arg(short, long, default_value = "table")]
    pub(crate) format: String,
}

#[derive(Args, Debug)]
pub(crate) struct ImageArgs {
    /// Image reference in a registry (`registry.example.com/app:1.2`, `debian@sha256:…`).
    #[arg(required_unless_present = "input", conflicts_with = "input")]
    pub(crate) reference: Option<String>,
    /// Read the image from a file instead: an OCI layout directory (optionally `DIR:TAG`) or a
    /// `docker save` archive (`.tar`, `.tar.gz`).
    #[arg(long, value_name = "PATH")]
    pub(crate) input: Option<PathBuf>,
    /// Also verify the image's signatures and attestations against this trust policy: unmet
    /// requirements are findings (`TRUST-…`) under the same gate, ignores and reports.
    #[arg(long, value_name = "TRUST_POLICY")]
    pub(crate) verify: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) source: SourceArgs,
    #[command(flatten)]
    pub(crate) scan: ScanArgs,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct SourceArgs {
    /// Platform to pick from a multi-platform image (`os/arch[/variant]`); defaults to linux on
    /// this machine's architecture.
    #[arg(long)]
    pub(crate) platform: Option<String>,
    /// Registry user name (otherwise from the Docker config and credential helpers).
    #[arg(long, env = "REMPART_USERNAME")]
    pub(crate) username: Option<String>,
    /// Registry password or token.
    #[arg(long, env = "REMPART_PASSWORD", hide_env_values = true)]
    pub(crate) password: Option<String>,
    /// Use plain HTTP and skip TLS verification for the registry.
    #[arg(long)]
    pub(crate) insecure: bool,
    /// Extra certificate authority (PEM) to trust for the registry; repeatable.
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub(crate) ca_certs: Vec<PathBuf>,
    /// Time limit for everything pulled from the registry for this image (`90s`, `10m`, `1h`).
    /// [default: 30m]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) timeout: Option<std::time::Duration>,
    /// How long one registry request may wait to connect, for its first response byte, or
    /// for the next bytes of a body (`30s`). [default: 30s; connecting: 10s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) registry_timeout: Option<std::time::Duration>,
}

#[derive(Args, Debug)]
pub(crate) struct DirArgs {
    /// The directory to scan.
    pub(crate) dir: PathBuf,
    #[command(flatten)]
    pub(crate) scan: ScanArgs,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct ScanArgs {
    /// Settings file (YAML, the same names as these options); flags given here override it.
    /// Default: `rempart.yaml` in the current directory, when present.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Scanners to run, comma-separated: vuln, secret, malware, misconfig; `none` only lists
    /// packages and files. [default: vuln,secret,malware,misconfig]
    #[arg(long, value_delimiter = ',')]
    pub(crate) scanners: Option<Vec<String>>,
    /// Output format: table, json, sarif, cyclonedx, spdx-json, junit, html. [default: table]
    #[arg(short, long)]
    pub(crate) format: Option<String>,
    /// Write the report to this file instead of standard output (`-`: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Only report findings of these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,
    /// UNKNOWN,INFO). `SCANNER=SEVERITY` items give a scanner its own list instead:
    /// `vuln=CRITICAL,vuln=HIGH` keeps only critical and high vulnerabilities. A vulnerability
    /// no record rates is UNKNOWN: it passes a list without UNKNOWN unless `--unknown-as` says
    /// what it counts as.
    #[arg(short, long, value_delimiter = ',')]
    pub(crate) severity: Vec<String>,
    /// The severity an UNKNOWN vulnerability counts as for `--severity` and the exit code
    /// (`HIGH`: an unrated vulnerability fails a CRITICAL,HIGH gate). It is still shown as
    /// UNKNOWN.
    #[arg(long, value_name = "SEVERITY")]
    pub(crate) unknown_as: Option<String>,
    /// Do not report vulnerabilities that have no fixed version yet.
    #[arg(long)]
    pub(crate) ignore_unfixed: bool,
    /// Do not report vulnerabilities in these states (comma-separated): `affected`,
    /// `will_not_fix`, `fix_deferred`, `end_of_life`, `under_investigation`, `fixed`.
    #[arg(long, value_delimiter = ',', value_name = "STATUS")]
    pub(crate) ignore_status: Vec<String>,
    /// Vulnerabilities in CISA's Known Exploited Vulnerabilities catalogue are reported, and
    /// fail the scan, whatever `--severity` says.
    #[arg(long)]
    pub(crate) fail_on_kev: bool,
    /// Vulnerabilities whose EPSS score (the probability of exploitation in the next 30 days,
    /// 0 to 1) is at least this are reported, and fail the scan, whatever `--severity` says.
    #[arg(long, value_name = "PROBABILITY", value_parser = parse_probability)]
    pub(crate) epss_threshold: Option<f64>,
    /// Do not report vulnerabilities whose vulnerable functions are not in the Go binary (they
    /// are shown as `not reachable` otherwise).
    #[arg(long)]
    pub(crate) ignore_unreachable: bool,
    /// Exit code when findings remain after filtering (0 never fails the build; 2 is kept for
    /// errors). [default: 1]
    #[arg(long, value_parser = parse_exit_code)]
    pub(crate) exit_code: Option<u8>,
    /// Accepted findings, each with a reason and an optional expiry (default:
    /// `.rempartignore.yaml` in the current directory, when present).
    #[arg(long, value_name = "FILE")]
    pub(crate) ignorefile: Option<PathBuf>,
    /// `OpenVEX` or `CycloneDX` VEX document; `not_affected` statements suppress findings.
    /// Repeatable.
    #[arg(long, value_name = "FILE")]
    pub(crate) vex: Vec<PathBuf>,
    /// Secret rules and allowlists file (YAML).
    #[arg(long, value_name = "FILE")]
    pub(crate) secret_config: Option<PathBuf>,
    /// User policies in Rego (v1): `.rego` files or directories; repeatable. Their `deny`
    /// results are reported as misconfigurations (codes `USR-…`).
    #[arg(long = "policy", value_name = "PATH")]
    pub(crate) policies: Vec<PathBuf>,
    /// YARA rules added to the built-in malware rules: `.yar`/`.yara` files or directories of
    /// them; repeatable.
    #[arg(long, value_name = "PATH")]
    pub(crate) malware_rules: Vec<PathBuf>,
    /// Known-malware hashes: ClamAV `.hdb`/`.hsb` files or lists of MD5, SHA-1 or SHA-256
    /// digests (one per line, `sha256sum` output works); repeatable.
    #[arg(long, value_name = "FILE")]
    pub(crate) malware_hashes: Vec<PathBuf>,
    /// Also write the final filesystem listing (path, type, size, mode, owner, layer) as JSON.
    #[arg(long, value_name = "FILE")]
    pub(crate) inventory_output: Option<PathBuf>,
    /// Largest file the secret scanner reads (`10MiB`, `1G`, bytes); files over 10 MiB are
    /// read in overlapping windows. Larger files are reported as skipped. [default: 256MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub(crate) secret_max_size: Option<u64>,
    /// Largest file the malware scanner reads; files over 32 MiB are scanned through a
    /// temporary copy, without opening their archive members. [default: 256MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub(crate) malware_max_size: Option<u64>,
    /// Pod Security Standards version Kubernetes manifests are judged by (`latest`, `v1.30`),
    /// unless their Namespace pins one. [default: latest]
    #[arg(long, value_name = "VERSION", value_parser = parse_pss_version)]
    pub(crate) pss_version: Option<rempart_misconfig::PssVersion>,
    /// Fail (the --exit-code) when content could not be inspected: files over a size cap,
    /// unreadable files, archive members past a cap, scans that timed out.
    #[arg(long)]
    pub(crate) fail_on_skipped: bool,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct CommonArgs {
    /// Cache directory (layer results, downloaded blobs, the vulnerability database).
    #[arg(long, env = "REMPART_CACHE_DIR", value_name = "DIR")]
    pub(crate) cache_dir: Option<PathBuf>,
    /// Do not read or write the layer cache.
    #[arg(long)]
    pub(crate) no_cache: bool,
    /// Vulnerability database file (default: DB under the cache directory).
    #[arg(long, env = "REMPART_DB", value_name = "FILE")]
    pub(crate) db: Option<PathBuf>,
    /// Layers analysed at the same time, 1 to 256 (default: number of CPUs).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) parallel: Option<u16>,
    /// Fix the timestamp written into SBOM and SARIF documents and shown as the HTML report's scan
    /// time (RFC 3339), for reproducible output.
    #[arg(long, value_name = "RFC3339", value_parser = parse_timestamp)]
    pub(crate) timestamp: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct SbomArgs {
    /// An image reference, an OCI layout directory, a docker-save archive, or a directory with
    /// `--dir`.
    #[arg(required_unless_present = "input", conflicts_with = "input")]
    pub(crate) target: Option<String>,
    /// Read the image from a file, as `rempart image --input` does: an OCI layout directory
    /// (optionally `DIR:TAG`) or a `docker save` archive.
    #[arg(long, value_name = "PATH")]
    pub(crate) input: Option<PathBuf>,
    /// Treat TARGET as a directory to catalog (a source tree).
    #[arg(long)]
    pub(crate) dir: bool,
    /// cyclonedx or spdx-json.
    #[arg(short, long, default_value = "cyclonedx")]
    pub(crate) format: String,
    /// Write the SBOM to this file instead of standard output (`-`: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Serial number / namespace suffix to write instead of the one derived from the image.
    #[arg(long)]
    pub(crate) serial: Option<String>,
    /// Also sign the SBOM as an in-toto attestation and attach it to the image in its registry
    /// (needs --key or --key-env, and push rights).
    #[arg(long)]
    pub(crate) attest: bool,
    /// The signing key for --attest: an unencrypted PKCS#8 PEM file (ECDSA P-256).
    #[arg(
        long,
        value_name = "FILE",
        requires = "attest",
        conflicts_with = "key_env"
    )]
    pub(crate) key: Option<PathBuf>,
    /// The environment variable that holds the signing key's PEM, for --attest.
    #[arg(long, value_name = "VAR", requires = "attest")]
    pub(crate) key_env: Option<String>,
    #[command(flatten)]
    pub(crate) source: SourceArgs,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

#[derive(Args, Debug)]
pub(crate) struct ConfigArgs {
    /// Files or directories to check.
    #[arg(required = true)]
    pub(crate) paths: Vec<PathBuf>,
    /// Output format: table, json, sarif, cyclonedx, spdx-json, junit, html.
    #[arg(short, long, default_value = "table")]
    pub(crate) format: String,
    /// Write the report to this file instead of standard output (`-`: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Only report findings of these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,
    /// UNKNOWN,INFO).
    #[arg(short, long, value_delimiter = ',')]
    pub(crate) severity: Vec<String>,
    /// Exit code when findings remain after filtering (0 never fails the build; 2 is kept for
    /// errors).
    #[arg(long, default_value_t = 1, value_parser = parse_exit_code)]
    pub(crate) exit_code: u8,
    /// User policies in Rego (v1): `.rego` files or directories; repeatable.
    #[arg(long = "policy", value_name = "PATH")]
    pub(crate) policies: Vec<PathBuf>,
    /// Pod Security Standards version Kubernetes workloads are judged by (`latest`, `v1.30`),
    /// unless their Namespace among the manifests pins one (`pod-security.kubernetes.io/
    /// enforce-version`). [default: latest]
    #[arg(long, value_name = "VERSION", value_parser = parse_pss_version)]
    pub(crate) pss_version: Option<rempart_misconfig::PssVersion>,
    /// Accepted findings, each with a reason and an optional expiry (default:
    /// `.rempartignore.yaml` in the current directory, when present), as for scans.
    #[arg(long, value_name = "FILE")]
    pub(crate) ignorefile: Option<PathBuf>,
}

/// Where the database is: `--db`, else `db/vuln.sqlite` under the cache directory.
#[derive(Args, Debug)]
pub(crate) struct DbLocation {
    #[arg(long, env = "REMPART_DB", value_name = "FILE")]
    pub(crate) db: Option<PathBuf>,
    #[arg(long, env = "REMPART_CACHE_DIR", value_name = "DIR")]
    pub(crate) cache_dir: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum DbCommand {
    /// Show what the database holds and how old it is.
    Status {
        #[command(flatten)]
        location: DbLocation,
    },
    /// Push the database to a registry as one OCI artifact (schema version, build time and
    /// source dates in its annotations), for air-gapped sites and fleets of servers.
    Push {
        /// Where: `registry/repository:tag`.
        reference: String,
        /// Sign the pushed artifact with this key (an unencrypted PKCS#8 PEM file, ECDSA
        /// P-256), in cosign's signature format (the `sha256-<hex>.sig` tag), which
        /// `db pull --trust-policy` checks.
        #[arg(long, value_name = "FILE", conflicts_with = "key_env")]
        key: Option<PathBuf>,
        /// The environment variable that holds the signing key's PEM instead of a file.
        #[arg(long, value_name = "VAR")]
        key_env: Option<String>,
        #[command(flatten)]
        location: DbLocation,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Pull a database pushed by `db push` and put it in place, only when it is whole, of this
    /// rempart's schema and not older than the database in place.
    Pull {
        /// Where: `registry/repository:tag` or `@sha256:…`.
        reference: String,
        /// Take it even when it is older than the database in place.
        #[arg(long)]
        force: bool,
        /// Refuse the artifact unless it meets this trust policy's rule for its repository
        /// (signed by a trusted key or identity), checked on the digest that is downloaded.
        #[arg(long, value_name = "FILE")]
        trust_policy: Option<PathBuf>,
        #[command(flatten)]
        location: DbLocation,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Download the advisory feeds (OSV exports, the Debian security tracker, Red Hat's and
    /// Ubuntu's VEX data, CISA KEV, EPSS), check them, and rebuild the database; on any failure
    /// the old database stays as it was.
    Update {
        /// Base URL of the OSV exports (`{base}/{ecosystem}/all.zip`), for a mirror.
        #[arg(long, value_name = "URL")]
        osv_base: Option<String>,
        /// OSV ecosystems to download (repeatable; default: all the scanner matches).
        #[arg(long = "ecosystem", value_name = "NAME")]
        ecosystems: Vec<String>,
        /// URL of the Debian security tracker JSON; `none` skips it.
        #[arg(long, value_name = "URL")]
        debian_tracker: Option<String>,
        /// Base URL of Red Hat's CSAF VEX data (`archive_latest.txt` and the archive it names);
        /// `none` skips it.
        #[arg(long, value_name = "URL")]
        redhat_csaf: Option<String>,
        /// URL of Canonical's OpenVEX data for Ubuntu (`vex-all.tar.xz`); `none` skips it.
        #[arg(long, value_name = "URL")]
        ubuntu_vex: Option<String>,
        /// URL of CISA's Known Exploited Vulnerabilities catalogue (JSON); `none` skips it.
        #[arg(long, value_name = "URL")]
        kev: Option<String>,
        /// URL of FIRST's EPSS scores (gzipped CSV); `none` skips them.
        #[arg(long, value_name = "URL")]
        epss: Option<String>,
        #[command(flatten)]
        location: DbLocation,
    },
    /// Build the database from local advisory files: OSV all.zip exports or directories of OSV
    /// JSON, Alpine secdb YAML, Debian security-tracker JSON, Red Hat CSAF VEX documents,
    /// Ubuntu OpenVEX documents, CISA's KEV catalogue, FIRST's EPSS scores, an end-of-life
    /// table. Replaces the database atomically.
    Import {
        /// OSV `all.zip` exports or JSON directories, Alpine secdb YAML, the Debian security
        /// tracker JSON, Red Hat CSAF VEX JSON (files, directories or the `.tar.zst` archive),
        /// Ubuntu OpenVEX JSON (files, directories or `vex-all.tar.xz`), the KEV catalogue
        /// JSON, EPSS `.csv`/`.csv.gz`, an end-of-life table in the format of rempart's
        /// `os-eol.json`.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Replace the database even when the new one holds no advisory, or fewer than half
        /// of the current one's.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        location: DbLocation,
    },
}

/// An exit code for findings: any byte but 2, which means the scan itself failed (a gate must
/// be able to tell "findings" from "could not scan").
fn parse_probability(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|value| (0.0..=1.0).contains(value))
        .ok_or_else(|| format!("`{text}` is not a probability from 0 to 1 (0.1 is 10%)"))
}

fn parse_exit_code(text: &str) -> Result<u8, String> {
    let code: u8 = text
        .parse()
        .map_err(|_| format!("`{text}` is not an exit code (0 to 255)"))?;
    if code == 2 {
        return Err("2 is the exit code of a failed scan; choose another (0 never fails)".into());
    }
    Ok(code)
}

/// A Pod Security Standards version as namespaces label it.
fn parse_pss_version(text: &str) -> Result<rempart_misconfig::PssVersion, String> {
    rempart_misconfig::PssVersion::parse(text)
        .ok_or_else(|| format!("`{text}` is not a Pod Security Standards version (latest, v1.30)"))
}

/// A size in bytes, with an optional unit: `1048576`, `512KiB`, `10MiB`, `1G` (units are powers
/// of 1024, with or without the `i` and the `B`). At most 1 GiB.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (examples: 1048576, 512KiB, 10MiB, 1G)"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}` (use KiB, MiB or GiB)"
            ));
        }
    };
    let size = number
        .checked_mul(factor)
        .filter(|size| (1..=1 << 30).contains(size))
        .ok_or_else(|| format!("`{text}`: a size from 1 byte to 1GiB"))?;
    Ok(size)
}

/// A report timestamp, checked before any work (`2024-06-12T08:30:00Z`).
fn parse_timestamp(text: &str) -> Result<String, String> {
    if rempart_report::is_report_timestamp(text) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not an RFC 3339 UTC time such as 2024-06-12T08:30:00Z"
        ))
    }
}

/// `90s`, `10m`, `1h30m`, `500ms`, or a plain number of seconds; at least one second in all.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let total = rempart_core::parse_duration(text)?;
    if total < std::time::Duration::from_secs(1) {
        return Err(format!(
            "`{text}`: a time limit must be at least one second"
        ));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::{parse_duration, parse_exit_code};
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_mins(90)));
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("500ms").is_err());
        assert!(parse_duration("10 minutes").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn exit_codes() {
        assert_eq!(parse_exit_code("0"), Ok(0));
        assert_eq!(parse_exit_code("3"), Ok(3));
        assert!(parse_exit_code("2").is_err());
        assert!(parse_exit_code("256").is_err());
    }
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct ServerArgs {
    #[command(subcommand)]
    pub(crate) command: Option<ServerCommand>,
    #[command(flatten)]
    pub(crate) run: ServerRunArgs,
}

#[derive(Subcommand, Debug)]
pub(crate) enum ServerCommand {
    /// Manage API tokens without a running server (the first admin token, a lost one).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Print the cluster's admission webhook configuration for the server (YAML, for
    /// `kubectl apply -f -`).
    WebhookConfig(WebhookConfigArgs),
}

#[derive(Args, Debug)]
pub(crate) struct WebhookConfigArgs {
    /// The namespace the server runs in: its Service's, and never covered by the webhooks.
    #[arg(long, value_name = "NS", default_value = "rempart")]
    pub(crate) namespace: String,
    /// The server's Service, in that namespace.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "rempart",
        conflicts_with = "url"
    )]
    pub(crate) service: String,
    /// The Service's port.
    #[arg(long, default_value_t = 443, value_parser = clap::value_parser!(u16).range(1..), conflicts_with = "url")]
    pub(crate) port: u16,
    /// The base URL of a server outside the cluster (https), instead of a Service; the
    /// webhooks call `<URL>/admission/validate` and `<URL>/admission/mutate`.
    #[arg(long, value_name = "URL")]
    pub(crate) url: Option<String>,
    /// The CA certificate (PEM) that signed the server's serving certificate; several while
    /// the CA is rotated. Only the certificates of the file are copied.
    #[arg(long, value_name = "PEM")]
    pub(crate) ca_bundle: PathBuf,
    /// When the server cannot answer: `Fail` refuses the request (nothing unvetted runs, an
    /// outage blocks changes), `Ignore` admits it unchecked.
    #[arg(long, value_enum, ignore_case = true, default_value_t = FailurePolicyArg::Fail)]
    pub(crate) failure_policy: FailurePolicyArg,
    /// How long the API server waits for an answer, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=30))]
    pub(crate) timeout: u32,
    /// The configurations' name (the webhooks are `validate.<NAME>.rempart.dev` and
    /// `mutate.<NAME>.rempart.dev`).
    #[arg(long, default_value = "rempart")]
    pub(crate) name: String,
    /// Another namespace the webhooks leave alone (`kube-system` and the server's own always
    /// are); repeat for several.
    #[arg(long = "exclude-namespace", value_name = "NS")]
    pub(crate) exclude_namespaces: Vec<String>,
    /// Also the mutating webhook, for a server run with `--admission-mutate`.
    #[arg(long)]
    pub(crate) mutating: bool,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailurePolicyArg {
    #[value(name = "Fail")]
    Fail,
    #[value(name = "Ignore")]
    Ignore,
}

#[derive(Subcommand, Debug)]
pub(crate) enum TokenCommand {
    /// Create a token and print it (it is shown this once; only its hash is stored).
    Create {
        /// A name for the token, shown in the audit log.
        #[arg(long)]
        name: String,
        /// viewer (read reports), scanner (and submit scans), admin (and policies, tokens,
        /// audit log), registry (only the registry's notifications), harbor (only the
        /// Harbor scanner adapter's endpoints), or runtime (only `rempart watch`'s events).
        #[arg(long, default_value = "viewer")]
        role: String,
        /// Repository globs the token may act on (`registry.example/team-a/*`); repeat for
        /// several. Every repository by default.
        #[arg(long = "scope", default_value = "*")]
        scopes: Vec<String>,
        #[command(flatten)]
        store: ServerStoreArgs,
    },
}

#[derive(Args, Debug, Clone)]
pub(crate) struct ServerStoreArgs {
    /// Where the server keeps uploads, its layer cache and (by default) its store.
    /// Default: `$XDG_DATA_HOME/rempart/server` or `~/.local/share/rempart/server`.
    #[arg(long, env = "REMPART_DATA_DIR", value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// The store: a SQLite file path (default `<data dir>/rempart.sqlite`), or a
    /// `postgres://user:password@host:port/database` URL for replicas sharing one store.
    #[arg(long, env = "REMPART_STORE", value_name = "LOCATION")]
    pub(crate) store: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct ServerRunArgs {
    #[command(flatten)]
    pub(crate) store: ServerStoreArgs,
    /// Address and port to listen on.
    #[arg(long, env = "REMPART_LISTEN", default_value = "127.0.0.1:8080")]
    pub(crate) listen: std::net::SocketAddr,
    /// The vulnerability database (default `<data dir>/vuln.sqlite`, the built-in sample set
    /// on the first start).
    #[arg(long, env = "REMPART_DB", value_name = "PATH")]
    pub(crate) db: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (and --tls-key).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
    /// Require client certificates signed by these CAs (mutual TLS).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub(crate) client_ca: Option<PathBuf>,
    /// How often the certificate, key and client CA files are read again; when they changed,
    /// new connections get the new ones (a renewed Secret needs no restart).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s")]
    pub(crate) tls_reload_interval: std::time::Duration,
    /// The registry gate (YAML): the registry whose push notifications are accepted at
    /// `/v1/registry/events`, and per repository prefix `scan` or `promote` (see the README).
    #[arg(long, value_name = "FILE")]
    pub(crate) gate: Option<PathBuf>,
    /// Webhooks (YAML): endpoints that receive events (scan completed or failed, verdict
    /// changed, promotion done, refused or failed), signed with HMAC-SHA256 (see the README).
    #[arg(long, env = "REMPART_WEBHOOKS", value_name = "FILE")]
    pub(crate) webhooks: Option<PathBuf>,
    /// The admission policy (YAML or JSON, as `rempart admit --policy` reads it) for the
    /// Kubernetes admission webhooks: checked at start and stored as a new version when it
    /// differs from the latest stored one (which `PUT /v1/admission/policy` also changes).
    #[arg(long, env = "REMPART_ADMISSION_POLICY", value_name = "FILE")]
    pub(crate) admission_policy: Option<PathBuf>,
    /// A trust policy (as `rempart verify --policy` reads it): every registry image is
    /// verified after its scan, and unmet requirements are findings (`TRUST-…`) under the scan
    /// policies, so verdicts, the registry gate and admission can require signatures.
    #[arg(long, env = "REMPART_TRUST_POLICY", value_name = "FILE")]
    pub(crate) trust_policy: Option<PathBuf>,
    /// The longest an admission decision may take, synchronous scans (`unscanned: scan`) and
    /// tag resolutions included; keep it under the webhook's `timeoutSeconds` (default 8s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) admission_budget: Option<std::time::Duration>,
    /// Serve the mutating webhook at /admission/mutate: image tags are pinned to the digests
    /// that passed their scan policy.
    #[arg(long)]
    pub(crate) admission_mutate: bool,
    /// Read namespace labels from the Kubernetes API for admission decisions (selections by
    /// label, the Pod Security labels): `in-cluster` (the pod's service account, which needs
    /// `get` and `list` on namespaces) or an https URL with --kubernetes-token-file and
    /// --kubernetes-ca. Without it, only `kubernetes.io/metadata.name` is known.
    #[arg(long, env = "REMPART_KUBERNETES_API", value_name = "in-cluster|URL")]
    pub(crate) kubernetes_api: Option<String>,
    /// The bearer token file for --kubernetes-api URL.
    #[arg(long, value_name = "FILE", requires = "kubernetes_api")]
    pub(crate) kubernetes_token_file: Option<PathBuf>,
    /// The CA certificates (PEM) of the API server for --kubernetes-api URL.
    #[arg(long, value_name = "PEM", requires = "kubernetes_api")]
    pub(crate) kubernetes_ca: Option<PathBuf>,
    /// How often the vulnerability database file is checked for a change; a change makes the
    /// server match every stored image again.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) db_check_interval: Option<std::time::Duration>,
    /// Update the vulnerability database from the feeds this often (`24h`); off by default.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) db_update_interval: Option<std::time::Duration>,
    /// With `--db-update-interval`: pull the database pushed by `rempart db push` from this
    /// reference (with the registry settings below) instead of downloading the feeds.
    #[arg(long, value_name = "REFERENCE")]
    pub(crate) db_pull: Option<String>,
    /// With `--db-pull`: take only a database artifact that meets this trust policy's rule
    /// for its repository (signed with `db push --key`, or by cosign).
    #[arg(long, value_name = "FILE", requires = "db_pull")]
    pub(crate) db_pull_trust_policy: Option<PathBuf>,
    /// Base URL of the OSV exports for the scheduled updates (a mirror).
    #[arg(long, value_name = "URL")]
    pub(crate) osv_base: Option<String>,
    /// Scans this process runs at once.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) concurrent_scans: u16,
    /// How long a scan is held without a heartbeat before another worker may take it.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) lease: Option<std::time::Duration>,
    /// Tries per scan before it is failed.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i64).range(1..=100))]
    pub(crate) max_attempts: i64,
    /// The largest uploaded archive (`8GiB` by default).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub(crate) max_upload_size: Option<u64>,
    /// Requests per second each token may make.
    #[arg(long, default_value_t = 200)]
    pub(crate) rate_limit: u32,
    /// How long shutdown waits for running scans before giving them back to the queue.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) shutdown_grace: Option<std::time::Duration>,
    /// Registry credentials for the images the server pulls (else the Docker configuration).
    #[arg(long, env = "REMPART_REGISTRY_USERNAME")]
    pub(crate) registry_username: Option<String>,
    #[arg(long, env = "REMPART_REGISTRY_PASSWORD", hide_env_values = true)]
    pub(crate) registry_password: Option<String>,
    /// Extra CA certificates (PEM) for registries.
    #[arg(long = "registry-ca", value_name = "PEM")]
    pub(crate) registry_ca: Vec<PathBuf>,
    /// Plain HTTP and unverified TLS for registries (test set-ups only).
    #[arg(long)]
    pub(crate) insecure_registry: bool,
    /// The time limit for one whole pull.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) pull_timeout: Option<std::time::Duration>,
    /// The time limit for connecting to a registry, for the first byte of its answer and
    /// between two bytes.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) registry_timeout: Option<std::time::Duration>,
}
