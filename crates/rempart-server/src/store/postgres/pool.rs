//! Connections to PostgreSQL: the connection settings, how the store is named in messages
//! (never with its password), and the pool's connection manager.
//!
//! Our own manager rather than `r2d2_postgres`: the pool keeps only the text of the last
//! connection error, and the client's errors name their cause (connection refused, password
//! refused) only in their source chain, which that text would lose.

use std::fmt::Write as _;
use std::time::Duration;

use postgres::config::Host;
use postgres::{Client, Config, NoTls};

use super::tls::{self, TlsSettings};

/// How long opening one connection may take before the server is told the store is down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Parses a `postgres://` or `postgresql://` URL (or a `key=value` connection string),
/// adding what the server needs when the URL does not say; its TLS settings apart.
pub(super) fn parse_config(location: &str) -> Result<(Config, TlsSettings), String> {
    let (rest, settings) = tls::split_settings(location)?;
    let mut config: Config = rest
        .parse()
        .map_err(|e: postgres::Error| rempart_core::error_chain(&e))?;
    config.ssl_mode(settings.mode);
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("rempart-server");
    }
    Ok((config, settings))
}

/// The store as shown in messages, logs and `/readyz`: rebuilt from the parsed settings, so
/// that a password (in the URL's user part or a `password=` parameter) cannot appear.
pub(super) fn describe(config: &Config) -> String {
    let mut text = String::from("postgres://");
    if let Some(user) = config.get_user() {
        let _ = write!(text, "{user}@");
    }
    let ports = config.get_ports();
    for (index, host) in config.get_hosts().iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        match host {
            Host::Tcp(name) => text.push_str(name),
            Host::Unix(path) => {
                let _ = write!(text, "[{}]", path.display());
            }
        }
        // One port for all hosts, or one each.
        if let Some(port) = ports.get(index).or_else(|| ports.first()) {
            let _ = write!(text, ":{port}");
        }
    }
    if let Some(name) = config.get_dbname() {
        let _ = write!(text, "/{name}");
    }
    text
}

/// A connection error whose text keeps its causes.
#[derive(Debug)]
pub(super) struct ConnectError(String);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

/// Opens connections for the pool, over TLS unless `sslmode=disable`.
pub(super) struct Manager {
    pub(super) config: Config,
    pub(super) tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Manager")
            .field("store", &describe(&self.config))
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Client;
    type Error = ConnectError;

    fn connect(&self) -> Result<Client, ConnectError> {
        let connected = match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(NoTls),
        };
        connected.map_err(|e| {
            let mut text = rempart_core::error_chain(&e);
            if text.contains("invalid peer certificate") {
                text.push_str(
                    " (give the CA that signed the database's certificate with \
                     sslrootcert=PATH, or use sslmode=require to encrypt without checking it)",
                );
            }
            ConnectError(text)
        })
    }

    fn is_valid(&self, client: &mut Client) -> Result<(), ConnectError> {
        client
            .simple_query("")
            .map(|_| ())
            .map_err(|e| ConnectError(rempart_core::error_chain(&e)))
    }

    fn has_broken(&self, client: &mut Client) -> bool {
        client.is_closed()
    }
}

/// Logs connection failures as they happen: the pool retries in the background, and the
/// caller sees only the last failure once its wait is over.
#[derive(Debug)]
pub(super) struct LogErrors {
    pub(super) store: String,
}

impl r2d2::HandleError<ConnectError> for LogErrors {
    fn handle_error(&self, error: ConnectError) {
        tracing::warn!("{}: {error}", self.store);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_never_shows_the_password() {
        for location in [
            "postgres://rempart:s3cret@db.internal:6432/rempart",
            "postgresql://rempart:s3cret@db.internal:6432/rempart?sslmode=disable",
            "host=db.internal port=6432 user=rempart password=s3cret dbname=rempart",
        ] {
            let (config, _) = parse_config(location).unwrap();
            let text = describe(&config);
            assert_eq!(text, "postgres://rempart@db.internal:6432/rempart");
            assert!(!text.contains("s3cret"));
        }
    }

    #[test]
    fn a_bad_url_is_an_error_without_the_password() {
        let error = parse_config("postgres://rempart:s3cret@db:notaport/x").unwrap_err();
        assert!(!error.contains("s3cret"), "{error}");
    }
}
