//! Registry credentials Harbor sends with a scan request, held in this process's memory only:
//! never in the store, a log line or the audit log. They are kept until the scan has used them
//! or they expire. Such a scan is pinned to this replica (no other takes it); after a restart,
//! or when this replica is gone and another fails the scan, Harbor is told to scan again (see
//! [`credentials_for`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::scanning::ScanFailure;
use crate::store::ScanSource;

/// As long as Harbor's own reference adapter keeps a job: a scan still queued after this is
/// better scanned again with fresh credentials.
const KEEP_FOR: Duration = Duration::from_hours(1);

/// More scans than this waiting at once is not Harbor's normal traffic: refuse, rather than let
/// memory grow without bound.
const MAX_HELD: usize = 10_000;

/// What Harbor's `authorization` value carries.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum PullCredentials {
    Basic {
        username: String,
        password: String,
    },
    /// A token the registry issued, sent as is.
    Bearer(String),
}

impl std::fmt::Debug for PullCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret, even in a debug log.
        f.write_str(match self {
            PullCredentials::Basic { .. } => "Basic(***)",
            PullCredentials::Bearer(_) => "Bearer(***)",
        })
    }
}

impl PullCredentials {
    /// Reads an HTTP `Authorization` value: `Basic base64(user:password)` or `Bearer token`.
    pub(crate) fn parse(value: &str) -> Result<PullCredentials, String> {
        use base64::Engine as _;
        let value = value.trim();
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        let rest = rest.trim();
        let invalid = |what: &str| format!("`registry.authorization` {what}");
        if rest.is_empty() || rest.len() > 16 * 1024 || rest.chars().any(char::is_control) {
            return Err(invalid(
                "must be `Basic <base64 user:password>` or `Bearer <token>`",
            ));
        }
        match scheme.to_ascii_lowercase().as_str() {
            "basic" => {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(rest)
                    .map_err(|_| invalid("is `Basic` but not valid base64"))?;
                let text = String::from_utf8(decoded)
                    .map_err(|_| invalid("is `Basic` but not UTF-8 once decoded"))?;
                let (username, password) = text
                    .split_once(':')
                    .ok_or_else(|| invalid("is `Basic` but holds no `user:password`"))?;
                Ok(PullCredentials::Basic {
                    username: username.to_owned(),
                    password: password.to_owned(),
                })
            }
            "bearer" => Ok(PullCredentials::Bearer(rest.to_owned())),
            _ => Err(invalid(
                "must be `Basic <base64 user:password>` or `Bearer <token>`",
            )),
        }
    }
}

struct Held {
    credentials: PullCredentials,
    until: Instant,
}

/// Credentials by scan id.
#[derive(Default)]
pub(crate) struct Vault {
    held: Mutex<HashMap<String, Held>>,
}

impl Vault {
    /// Keeps `credentials` for the scan; a second request joining the same scan replaces them
    /// (both came from Harbor, the newer lives longer). False when too many are held.
    pub(crate) fn put(&self, scan_id: &str, credentials: PullCredentials) -> bool {
        let now = Instant::now();
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        held.retain(|_, entry| entry.until > now);
        if held.len() >= MAX_HELD && !held.contains_key(scan_id) {
            return false;
        }
        held.insert(
            scan_id.to_owned(),
            Held {
                credentials,
                until: now + KEEP_FOR,
            },
        );
        true
    }

    /// The scan's credentials, unless they expired (kept for another attempt).
    pub(crate) fn get(&self, scan_id: &str) -> Option<PullCredentials> {
        let held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        held.get(scan_id)
            .filter(|entry| entry.until > Instant::now())
            .map(|entry| entry.credentials.clone())
    }

    /// Drops them once the scan is over.
    pub(crate) fn forget(&self, scan_id: &str) {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(scan_id);
    }
}

/// The credentials a scan needs: none for other sources or when Harbor sent none; for a Harbor
/// scan that came with some, those held here, or a failure saying they were not kept.
pub(crate) fn credentials_for(
    vault: &Vault,
    scan_id: &str,
    source: &ScanSource,
) -> Result<Option<PullCredentials>, ScanFailure> {
    match source {
        ScanSource::Harbor {
            authorized: true, ..
        } => vault.get(scan_id).map(Some).ok_or_else(|| ScanFailure {
            message: "the registry credentials Harbor sent with this scan were not kept (they \
                      are held in memory only, by the server that accepted the request, for an \
                      hour, and that server restarted or another one took the scan): ask Harbor \
                      to scan the artifact again"
                .into(),
            retry: false,
        }),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn harbor(authorized: bool) -> ScanSource {
        ScanSource::Harbor {
            reference: "harbor.example/library/app@sha256:0".into(),
            repository: "library/app".into(),
            tag: None,
            mime_type: "application/vnd.oci.image.manifest.v1+json".into(),
            plain_http: false,
            authorized,
        }
    }

    #[test]
    fn authorization_values_are_read_and_never_shown() {
        let basic = PullCredentials::parse("Basic cm9ib3QkaGFyYm9yOnMzY3JldA==").unwrap();
        assert_eq!(
            basic,
            PullCredentials::Basic {
                username: "robot$harbor".into(),
                password: "s3cret".into()
            }
        );
        assert!(!format!("{basic:?}").contains("s3cret"));
        let bearer = PullCredentials::parse("Bearer eyJ.abc.def").unwrap();
        assert_eq!(bearer, PullCredentials::Bearer("eyJ.abc.def".into()));
        assert!(!format!("{bearer:?}").contains("eyJ"));
        for bad in [
            "",
            "Basic",
            "Basic !!!",
            "Basic bm9jb2xvbg==",
            "Digest x",
            "Bearer a\nb",
        ] {
            assert!(PullCredentials::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_harbor_scan_without_its_credentials_fails_asking_for_a_rescan() {
        let vault = Vault::default();
        let failure = credentials_for(&vault, "scan-1", &harbor(true)).unwrap_err();
        assert!(
            failure.message.contains("not kept")
                && failure.message.contains("scan the artifact again")
        );
        assert!(!failure.retry);
        assert_eq!(
            credentials_for(&vault, "scan-1", &harbor(false)).unwrap(),
            None
        );

        let credentials = PullCredentials::Bearer("t".into());
        assert!(vault.put("scan-1", credentials.clone()));
        assert_eq!(
            credentials_for(&vault, "scan-1", &harbor(true)).unwrap(),
            Some(credentials)
        );
        vault.forget("scan-1");
        assert!(credentials_for(&vault, "scan-1", &harbor(true)).is_err());
        let upload = ScanSource::Upload {
            file: "f".into(),
            name: "n".into(),
        };
        assert_eq!(credentials_for(&vault, "scan-2", &upload).unwrap(), None);
    }
}
