//! TLS to PostgreSQL, with the meanings of libpq's `sslmode` that users know from every other
//! client: `disable`; `prefer` (the default: encrypted when the server offers it) and `require`
//! (always encrypted), neither checking the server's certificate; `verify-ca` (its chain ends
//! at a trusted CA) and `verify-full` (and it names the host). `sslrootcert=PATH` gives the CAs
//! to trust; without it, the system's trust store is used.
//!
//! The client crate parses only `disable`, `prefer` and `require`, and with a TLS connector it
//! always verifies: so these two settings are taken out of the connection string here, the
//! mode is handed to the client in its terms, and the verification is the certificate verifier
//! chosen below (rustls' own verifiers; the unverified modes still check the handshake
//! signatures with the crypto provider's functions).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use postgres::config::SslMode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// A CA file is small; a cap keeps a mistaken path from costing much.
const MAX_CA_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verification {
    /// Encrypted, but any certificate is accepted (libpq's `prefer` and `require`).
    None,
    /// The chain ends at a trusted CA; the name is not checked (`verify-ca`).
    Chain,
    /// The chain and the host name (`verify-full`).
    Full,
}

/// What the connection string asked for, in libpq's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TlsSettings {
    pub(super) mode: SslMode,
    pub(super) verification: Verification,
    pub(super) root_certificates: Option<PathBuf>,
}

/// Takes `sslmode` and `sslrootcert` out of a connection string (URL or `key=value` form) and
/// returns the rest with `sslmode` in the client's terms.
pub(super) fn split_settings(location: &str) -> Result<(String, TlsSettings), String> {
    let is_url = location.starts_with("postgres://") || location.starts_with("postgresql://");
    let mut mode_text = None;
    let mut root = None;
    let rest = if is_url {
        let (base, query) = location.split_once('?').unwrap_or((location, ""));
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = String::from_utf8_lossy(&rempart_core::percent_decode(value.as_bytes()))
                .into_owned();
            match key {
                "sslmode" => mode_text = Some(value),
                "sslrootcert" => root = Some(value),
                _ => kept.push(pair),
            }
        }
        if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        }
    } else {
        let mut kept = Vec::new();
        for pair in location.split_whitespace() {
            match pair.split_once('=') {
                Some(("sslmode", value)) => mode_text = Some(value.trim_matches('\'').to_owned()),
                Some(("sslrootcert", value)) => root = Some(value.trim_matches('\'').to_owned()),
                _ => kept.push(pair),
            }
        }
        kept.join(" ")
    };
    let (mode, verification) = match mode_text.as_deref().unwrap_or("prefer") {
        "disable" => (SslMode::Disable, Verification::None),
        "allow" | "prefer" => (SslMode::Prefer, Verification::None),
        "require" => (SslMode::Require, Verification::None),
        "verify-ca" => (SslMode::Require, Verification::Chain),
        "verify-full" => (SslMode::Require, Verification::Full),
        other => {
            return Err(format!(
                "sslmode `{other}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
            ));
        }
    };
    if root.is_some() && verification == Verification::None {
        return Err(
            "sslrootcert is used by sslmode=verify-ca or verify-full only: add one of them".into(),
        );
    }
    Ok((
        rest,
        TlsSettings {
            mode,
            verification,
            root_certificates: root.filter(|path| !path.is_empty()).map(PathBuf::from),
        },
    ))
}

/// The TLS connector for these settings (None when TLS is disabled).
pub(super) fn connector(settings: &TlsSettings) -> Result<Option<MakeRustlsConnect>, String> {
    if settings.mode == SslMode::Disable {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match settings.verification {
        Verification::None => Arc::new(AnyCertificate(Arc::clone(&provider))),
        Verification::Chain => Arc::new(IgnoreName(trusted(settings, &provider)?)),
        Verification::Full => trusted(settings, &provider)?,
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Some(MakeRustlsConnect::new(config)))
}

/// rustls' verifier over the CAs of `sslrootcert`, or the platform's over the system's.
fn trusted(
    settings: &TlsSettings,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, String> {
    match &settings.root_certificates {
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            for certificate in read_certificates(path)? {
                roots
                    .add(certificate)
                    .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
            }
            rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                Arc::clone(provider),
            )
            .build()
            .map(|verifier| verifier as Arc<dyn ServerCertVerifier>)
            .map_err(|e| format!("sslrootcert {}: {e}", path.display()))
        }
        None => rustls_platform_verifier::Verifier::new(Arc::clone(provider))
            .map(|verifier| Arc::new(verifier) as Arc<dyn ServerCertVerifier>)
            .map_err(|e| format!("the system's trust store: {e}")),
    }
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = rempart_core::read_regular_file(path, MAX_CA_BYTES)
        .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
    let certificates: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
    if certificates.is_empty() {
        return Err(format!(
            "sslrootcert {}: no certificate in it",
            path.display()
        ));
    }
    Ok(certificates)
}

/// `prefer` and `require`: any certificate, as libpq does; the handshake's signatures are
/// still checked, so the session key belongs to whoever holds the certificate's key.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must end at a trusted CA; a certificate for another name passes.
#[derive(Debug)]
struct IgnoreName(Arc<dyn ServerCertVerifier>);

impl ServerCertVerifier for IgnoreName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.0
            .verify_tls12_signature(message, certificate, signature)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.0
            .verify_tls13_signature(message, certificate, signature)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_modes_become_the_client_mode_and_a_verification() {
        let (rest, settings) = split_settings(
            "postgres://u:p@db:5432/rempart?application_name=x&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
        )
        .unwrap();
        assert_eq!(rest, "postgres://u:p@db:5432/rempart?application_name=x");
        assert_eq!(settings.mode, SslMode::Require);
        assert_eq!(settings.verification, Verification::Full);
        assert_eq!(
            settings.root_certificates.as_deref(),
            Some(Path::new("/etc/ca.pem"))
        );
        let (rest, settings) =
            split_settings("host=db user=u sslmode=verify-ca sslrootcert=/ca.pem").unwrap();
        assert_eq!(rest, "host=db user=u");
        assert_eq!(settings.verification, Verification::Chain);
        let (_, settings) = split_settings("postgres://db/x").unwrap();
        assert_eq!(
            (settings.mode, settings.verification),
            (SslMode::Prefer, Verification::None)
        );
        let (_, settings) = split_settings("postgres://db/x?sslmode=disable").unwrap();
        assert_eq!(settings.mode, SslMode::Disable);
        assert!(
            split_settings("postgres://db/x?sslmode=always")
                .unwrap_err()
                .contains("not one of")
        );
        assert!(
            split_settings("postgres://db/x?sslmode=require&sslrootcert=/ca.pem")
                .unwrap_err()
                .contains("verify-ca or verify-full")
        );
    }
}
