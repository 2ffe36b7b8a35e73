//! TLS for servers under test: CAs and serving certificates made with `openssl`, a mounted
//! Secret's directory laid out and updated the way the kubelet does it, and HTTPS requests
//! with curl trusting one CA only.

use std::path::{Path, PathBuf};
use std::process::Command;

fn openssl(args: &[&str], paths: &[(&str, &Path)]) {
    let mut command = Command::new("openssl");
    command.args(args);
    for (flag, path) in paths {
        command.arg(flag).arg(path);
    }
    super::run(&mut command);
}

/// A certificate authority: its certificate and key, PEM, in a directory of its own.
pub(crate) struct TestCa {
    pub(crate) certificate: PathBuf,
    key: PathBuf,
    dir: PathBuf,
}

/// A certificate and its key, PEM.
pub(crate) struct KeyPair {
    pub(crate) certificate: PathBuf,
    pub(crate) key: PathBuf,
}

impl TestCa {
    /// A self-signed CA (`CN=<name>`, EC P-256, valid two days) in `<dir>/<name>/`.
    pub(crate) fn new(dir: &Path, name: &str) -> TestCa {
        let dir = dir.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let (certificate, key) = (dir.join("ca.crt"), dir.join("ca.key"));
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN={name}"),
            ],
            &[("-keyout", &key), ("-out", &certificate)],
        );
        TestCa {
            certificate,
            key,
            dir,
        }
    }

    /// A serving certificate signed by this CA, for `subject_alt_name` (`IP:127.0.0.1`,
    /// `DNS:rempart.rempart.svc`), in `<CA dir>/<name>.crt` and `.key`.
    pub(crate) fn issue(&self, name: &str, subject_alt_name: &str) -> KeyPair {
        let key = new_key(&self.dir, name);
        let request = self.dir.join(format!("{name}.csr"));
        let extensions = self.dir.join(format!("{name}.ext"));
        let certificate = self.dir.join(format!("{name}.crt"));
        openssl(
            &["req", "-new", "-subj", &format!("/CN={name}")],
            &[("-key", &key), ("-out", &request)],
        );
        std::fs::write(
            &extensions,
            format!("subjectAltName={subject_alt_name}\nextendedKeyUsage=serverAuth\n"),
        )
        .unwrap();
        openssl(
            &["x509", "-req", "-days", "2", "-CAcreateserial"],
            &[
                ("-in", &request),
                ("-CA", &self.certificate),
                ("-CAkey", &self.key),
                ("-extfile", &extensions),
                ("-out", &certificate),
            ],
        );
        KeyPair { certificate, key }
    }
}

/// A new EC P-256 private key in `<dir>/<name>.key` (PKCS#8 PEM), which matches no certificate
/// until one is issued for it.
pub(crate) fn new_key(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(format!("{name}.key"));
    openssl(
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ],
        &[("-out", &key)],
    );
    key
}

/// A directory laid out as the kubelet projects a Secret into a pod: each file a symlink
/// `name -> ..data/name`, `..data` a symlink to a directory holding this version's files. An
/// update writes a new directory, points a new symlink at it and renames that over `..data`,
/// so readers see the old files or the new ones, never a mix within one open.
pub(crate) struct SecretDir {
    pub(crate) path: PathBuf,
    version: usize,
}

impl SecretDir {
    pub(crate) fn new(path: &Path, files: &[(&str, &Path)]) -> SecretDir {
        std::fs::create_dir_all(path).unwrap();
        let mut secret = SecretDir {
            path: path.to_owned(),
            version: 0,
        };
        secret.update(files);
        for (name, _) in files {
            std::os::unix::fs::symlink(Path::new("..data").join(name), path.join(name)).unwrap();
        }
        secret
    }

    /// The file `name` as a pod reads it.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Replaces every file at once, the kubelet's way.
    pub(crate) fn update(&mut self, files: &[(&str, &Path)]) {
        self.version += 1;
        let version = format!(
            "..2026_01_01_00_00_{:02}.{}",
            self.version,
            std::process::id()
        );
        let dir = self.path.join(&version);
        std::fs::create_dir(&dir).unwrap();
        for (name, source) in files {
            std::fs::copy(source, dir.join(name)).unwrap();
        }
        let staged = self.path.join("..data_tmp");
        std::os::unix::fs::symlink(&version, &staged).unwrap();
        let data = self.path.join("..data");
        let old = std::fs::read_link(&data).ok();
        std::fs::rename(&staged, &data).unwrap();
        if let Some(old) = old {
            std::fs::remove_dir_all(self.path.join(old)).unwrap();
        }
    }
}

/// `GET https://127.0.0.1:<port><path>` trusting `ca` alone: the status and body, or curl's
/// error (an untrusted certificate, a refused connection).
pub(crate) fn https_get(port: u16, ca: &Path, path: &str) -> Result<(u16, String), String> {
    let output = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(ca)
        .args(["-w", "\n%{http_code}"])
        .arg(format!("https://127.0.0.1:{port}{path}"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run curl: {e}"));
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    Ok((status.trim().parse().unwrap_or(0), body.to_owned()))
}
