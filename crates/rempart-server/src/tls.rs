//! The listener's TLS: rustls with ring, a certificate chain and key in PEM, and client
//! certificates required when a client CA is given (mutual TLS).
//!
//! The files are read again every `--tls-reload-interval`; when their bytes changed, new
//! connections get a configuration built from them, so a renewed certificate (a Secret updated
//! in Kubernetes, a file renewed by an ACME client) needs no restart. Files that cannot be used
//! (half written, a key that does not match) leave the current configuration in place.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::watch;

use crate::state::AppState;
use crate::{ServerError, TlsConfig};

/// The largest certificate, key or CA file read: a long chain takes a few KiB.
const MAX_TLS_FILE_BYTES: u64 = 1024 * 1024;

/// The TLS files' bytes, as last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    certificate: Vec<u8>,
    key: Vec<u8>,
    client_ca: Option<Vec<u8>>,
}

impl TlsFiles {
    /// Reads each file by its path, opened and closed here: Kubernetes updates a mounted Secret
    /// by pointing a `..data` symlink at a new directory, which a handle kept open would never
    /// see.
    fn read(tls: &TlsConfig) -> Result<TlsFiles, ServerError> {
        let read = |path: &Path| {
            rempart_core::read_regular_file(path, MAX_TLS_FILE_BYTES)
                .map_err(|e| ServerError::Tls(format!("{}: {e}", path.display())))
        };
        Ok(TlsFiles {
            certificate: read(&tls.certificate)?,
            key: read(&tls.key)?,
            client_ca: tls.client_ca.as_deref().map(read).transpose()?,
        })
    }
}

/// A rustls configuration and what it was built from.
pub(crate) struct Loaded {
    pub(crate) config: Arc<rustls::ServerConfig>,
    pub(crate) files: TlsFiles,
    /// The serving certificate's expiry (RFC 3339), when it can be read.
    pub(crate) not_after: Option<String>,
}

/// Reads the files and builds the listener's configuration from them.
pub(crate) fn load(tls: &TlsConfig) -> Result<Loaded, ServerError> {
    let files = TlsFiles::read(tls)?;
    let (config, not_after) = server_config(tls, &files)?;
    Ok(Loaded {
        config,
        files,
        not_after,
    })
}

fn certificates(path: &Path, bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, ServerError> {
    let certificates: Vec<_> = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| ServerError::Tls(format!("{}: {e}", path.display())))?;
    if certificates.is_empty() {
        return Err(ServerError::Tls(format!(
            "{}: no certificate in it",
            path.display()
        )));
    }
    Ok(certificates)
}

/// The certificate's expiry, RFC 3339.
fn not_after(certificate: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate).ok()?;
    parsed
        .validity()
        .not_after
        .to_datetime()
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

fn server_config(
    tls: &TlsConfig,
    files: &TlsFiles,
) -> Result<(Arc<rustls::ServerConfig>, Option<String>), ServerError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certificates(&tls.certificate, &files.certificate)?;
    let expiry = not_after(&chain[0]);
    let key = PrivateKeyDer::from_pem_slice(&files.key)
        .map_err(|e| ServerError::Tls(format!("{}: {e}", tls.key.display())))?;
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    let builder = match &tls.client_ca {
        Some(path) => {
            // Never without client certificates when a client CA is configured.
            let bytes = files
                .client_ca
                .as_deref()
                .ok_or_else(|| ServerError::Tls(format!("{}: not read", path.display())))?;
            let mut roots = rustls::RootCertStore::empty();
            for certificate in certificates(path, bytes)? {
                roots
                    .add(certificate)
                    .map_err(|e| ServerError::Tls(format!("{}: {e}", path.display())))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| ServerError::Tls(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    // rustls checks that the key is the certificate's.
    let mut config = builder.with_single_cert(chain, key).map_err(|e| {
        let why = match e {
            rustls::Error::InconsistentKeys(_) => "the key is not the certificate's".to_owned(),
            other => other.to_string(),
        };
        ServerError::Tls(format!(
            "{} and {}: {why}",
            tls.certificate.display(),
            tls.key.display()
        ))
    })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), expiry))
}

/// Reads the TLS files every `--tls-reload-interval` until the server stops, and gives new
/// connections a configuration built from them when they changed. A failure keeps the current
/// one, is logged once for as long as it stays the same, and is tried again at the next
/// interval.
pub(crate) async fn watch(
    state: Arc<AppState>,
    tls: TlsConfig,
    listener: RustlsConfig,
    mut served: TlsFiles,
    mut stop: watch::Receiver<bool>,
) {
    let every = state.config.tls_reload_interval.max(Duration::from_secs(1));
    let mut last_failure: Option<String> = None;
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        let reading = tls.clone();
        let attempt = tokio::task::spawn_blocking(move || TlsFiles::read(&reading))
            .await
            .unwrap_or_else(|e| Err(ServerError::Tls(format!("reading stopped: {e}"))))
            .and_then(|files| {
                if files == served {
                    return Ok(None);
                }
                let (config, expiry) = server_config(&tls, &files)?;
                Ok(Some((files, config, expiry)))
            });
        match attempt {
            Ok(None) => last_failure = None,
            Ok(Some((files, config, expiry))) => {
                listener.reload_from_config(config);
                served = files;
                last_failure = None;
                state.metrics.count_tls_reload(true);
                tracing::info!(
                    certificate = %tls.certificate.display(),
                    not_after = expiry.as_deref().unwrap_or("unknown"),
                    "TLS certificate reloaded: new connections get it"
                );
            }
            Err(error) => {
                state.metrics.count_tls_reload(false);
                let message = error.to_string();
                if last_failure.as_deref() != Some(message.as_str()) {
                    tracing::warn!(
                        "cannot use the TLS files, the current certificate is kept (tried again every {}s): {message}",
                        every.as_secs()
                    );
                    last_failure = Some(message);
                }
            }
        }
    }
}
