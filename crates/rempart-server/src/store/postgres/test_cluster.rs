//! A real PostgreSQL server for tests: one cluster per test process, in a temporary directory,
//! on a free port of 127.0.0.1, with one fresh database per test.
//!
//! PostgreSQL refuses to run as root, and CI runs as root: the cluster then runs as the
//! `postgres` user (from Debian's package). A watchdog shell owns the server and stops it, then
//! removes the directory, once the test process is gone, however it ended.
//!
//! The server accepts TLS (a throwaway CA made with `openssl`, whose certificate `ca()` names;
//! the server's certificate is for 127.0.0.1 only) and plain connections alike.
//!
//! Uses only the standard library and the `postgres` crate, so that the command-line crate's
//! tests can include this file too.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The user the test cluster connects as (its superuser).
const USER: &str = "rempart";

pub(crate) struct Cluster {
    port: u16,
    password: String,
    dir: PathBuf,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
static DATABASES: AtomicU64 = AtomicU64::new(0);

/// The cluster of this test process, started on first use. Panics (failing the test) when it
/// cannot start: CI installs PostgreSQL, so a missing server is a broken set-up, not a skip.
pub(crate) fn cluster() -> &'static Cluster {
    match CLUSTER.get_or_init(start) {
        Ok(cluster) => cluster,
        Err(message) => panic!("cannot start the test PostgreSQL server: {message}"),
    }
}

impl Cluster {
    /// The URL of a database of this cluster.
    pub(crate) fn url(&self, database: &str) -> String {
        format!(
            "postgres://{USER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    pub(crate) fn password(&self) -> &str {
        &self.password
    }

    /// The CA (PEM) that signed the server's certificate.
    pub(crate) fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A new, empty database; returns its URL.
    pub(crate) fn create_database(&self) -> String {
        let name = format!(
            "test_{}_{}",
            std::process::id(),
            DATABASES.fetch_add(1, Ordering::Relaxed)
        );
        let mut client = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL server: {e}"));
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e:?}"));
        self.url(&name)
    }
}

/// The directory holding `initdb` and `postgres`: `REMPART_POSTGRES_BIN`, else the newest
/// version Debian's packages installed.
fn binaries() -> Result<PathBuf, String> {
    let missing = || {
        "PostgreSQL's server programs (initdb, postgres) were not found under \
         /usr/lib/postgresql/*/bin (or $REMPART_POSTGRES_BIN): run scripts/install-test-deps.sh"
            .to_owned()
    };
    if let Some(dir) = std::env::var_os("REMPART_POSTGRES_BIN") {
        let dir = PathBuf::from(dir);
        return if dir.join("initdb").is_file() {
            Ok(dir)
        } else {
            Err(missing())
        };
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| missing())?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("postgres").is_file())
                .then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(missing)
}

/// Runs a program as the cluster's owner: the `postgres` user when we are root.
fn as_owner(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) -> Result<String, String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// A CA and a server certificate for 127.0.0.1 signed by it; the key readable by its owner
/// only, as PostgreSQL demands.
fn make_certificates(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    let openssl = |args: &[&str]| {
        let mut command = Command::new("openssl");
        command.current_dir(dir).args(args);
        run(command, "openssl").map_err(|e| format!("{e} (the test cluster's certificates)"))
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=rempart test database CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ])?;
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ])?;
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n")
        .map_err(|e| e.to_string())?;
    openssl(&[
        "x509",
        "-req",
        "-days",
        "2",
        "-CAcreateserial",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-out",
        "server.pem",
        "-extfile",
        "san.ext",
    ])?;
    std::fs::set_permissions(
        dir.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .map_err(|e| e.to_string())
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn start() -> Result<Cluster, String> {
    let bin = binaries()?;
    let as_root = run(
        {
            let mut command = Command::new("id");
            command.arg("-u");
            command
        },
        "id -u",
    )? == "0";
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("rempart-pg-{}-{stamp}", std::process::id()));
    std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let password = format!("pw{stamp:x}");
    let password_file = dir.join("password");
    std::fs::write(&password_file, format!("{password}\n")).map_err(|e| e.to_string())?;
    make_certificates(&dir)?;
    if as_root {
        let mut chown = Command::new("chown");
        chown.args(["-R", "postgres:"]).arg(&dir);
        run(chown, "chown to the postgres user").map_err(|e| {
            format!("{e} (running as root, the test cluster needs the postgres user)")
        })?;
    }
    let data = dir.join("data");
    let mut initdb = as_owner(as_root, &bin.join("initdb"));
    initdb
        .current_dir(&dir)
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            USER,
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
        ])
        .arg(format!("--pwfile={}", password_file.display()));
    run(initdb, "initdb")?;
    let port = free_port()?;
    // The watchdog: starts the server, waits while the test process lives, then stops the
    // server (fast shutdown) and removes the directory.
    let script = r#"
        "$BIN/postgres" -D "$DIR/data" -k "$DIR" -p "$PORT" -c listen_addresses=127.0.0.1 \
            -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
            -c max_connections=300 -c ssl=on -c ssl_cert_file="$DIR/server.pem" \
            -c ssl_key_file="$DIR/server.key" >"$DIR/server.log" 2>&1 &
        server=$!
        while [ -e "/proc/$TEST_PID" ] && kill -0 "$server" 2>/dev/null; do sleep 1; done
        kill -INT "$server" 2>/dev/null
        wait "$server"
        rm -rf "$DIR"
    "#;
    let mut watchdog = as_owner(as_root, Path::new("/bin/sh"));
    watchdog
        .current_dir(&dir)
        .args(["-c", script])
        .env("BIN", &bin)
        .env("DIR", &dir)
        .env("PORT", port.to_string())
        .env("TEST_PID", std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // runuser passes the environment on (no --login).
    watchdog
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let cluster = Cluster {
        port,
        password,
        dir: dir.clone(),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls) {
            Ok(_) => return Ok(cluster),
            Err(error) if Instant::now() > deadline => {
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                return Err(format!("not ready after 30s ({error:?}); its log:\n{log}"));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}
