//! The PostgreSQL store against a real server (`test_cluster`): the store contract, and what
//! only a shared store has to hold, replicas racing on one database.

#[path = "test_cluster.rs"]
mod test_cluster;

use std::collections::HashSet;
use std::sync::{Arc, Barrier};

use super::super::{NewScan, SCHEMA_VERSION};
use super::*;

fn open_fresh() -> (PostgresStore, String) {
    let url = test_cluster::cluster().create_database();
    (PostgresStore::open(&url).unwrap(), url)
}

fn new_scan(id: &str, subject: &str, now: i64) -> NewScan {
    NewScan {
        id: id.to_owned(),
        subject: subject.to_owned(),
        source: ScanSource::Upload {
            file: format!("{id}.tar"),
            name: "app".into(),
        },
        repository: String::new(),
        digest: None,
        submitted_by: "test".into(),
        now,
        pinned_to: None,
    }
}

const QUEUE: QueuePolicy = QueuePolicy {
    lease_millis: 60_000,
    max_attempts: 3,
    replica_silence_millis: 180_000,
};

#[test]
fn the_postgres_store_keeps_the_store_contract() {
    let (store, _) = open_fresh();
    super::super::contract::check_all(&store);
}

#[test]
fn the_audit_log_cannot_be_changed_emptied_or_truncated() {
    let (store, _) = open_fresh();
    store
        .append_audit(&NewAudit {
            actor: "a".into(),
            action: "x".into(),
            ..NewAudit::default()
        })
        .unwrap();
    for statement in [
        "UPDATE audit SET actor = 'b'",
        "DELETE FROM audit",
        "TRUNCATE audit",
    ] {
        let error = store
            .with(|c| Ok(c.batch_execute(statement)?))
            .unwrap_err()
            .to_string();
        assert!(error.contains("append-only"), "{statement}: {error}");
    }
    assert_eq!(store.audit(10, None).unwrap().len(), 1);
}

#[test]
fn replicas_submitting_the_same_subject_at_once_make_one_scan() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 50;
    let (first, url) = open_fresh();
    let stores = [
        Arc::new(first),
        Arc::new(PostgresStore::open(&url).unwrap()),
    ];
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|thread| {
            let store = Arc::clone(&stores[thread % 2]);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                (0..ROUNDS)
                    .map(|round| {
                        // Every thread submits the round's subject at the same moment.
                        barrier.wait();
                        let submitted = store
                            .submit_scan(&new_scan(
                                &format!("scan-{round}-{thread}"),
                                &format!("sha256:{round}"),
                                1,
                            ))
                            .unwrap();
                        (round, submitted.scan.id, submitted.deduplicated)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<_> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    for round in 0..ROUNDS {
        let of_round: Vec<_> = results.iter().filter(|(r, _, _)| *r == round).collect();
        let ids: HashSet<_> = of_round.iter().map(|(_, id, _)| id).collect();
        assert_eq!(ids.len(), 1, "round {round}: {of_round:?}");
        let new = of_round.iter().filter(|(_, _, dedup)| !dedup).count();
        assert_eq!(new, 1, "round {round}: {of_round:?}");
    }
    assert_eq!(
        stores[0].queue_depth().unwrap(),
        i64::try_from(ROUNDS).unwrap()
    );
    assert_eq!(stores[1].recent_scans(1_000).unwrap().len(), ROUNDS);
}

#[test]
fn workers_of_several_replicas_never_claim_the_same_scan() {
    const SCANS: usize = 120;
    const WORKERS: usize = 6;
    let (first, url) = open_fresh();
    let stores = [
        Arc::new(first),
        Arc::new(PostgresStore::open(&url).unwrap()),
    ];
    for n in 0..SCANS {
        let now = i64::try_from(n).unwrap();
        stores[0]
            .submit_scan(&new_scan(&format!("scan-{n:03}"), &format!("s{n}"), now))
            .unwrap();
    }
    let barrier = Arc::new(Barrier::new(WORKERS));
    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| {
            let store = Arc::clone(&stores[worker % 2]);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                let owner = format!("worker-{worker}");
                let mut claimed = Vec::new();
                while let Some(lease) = store.claim_scan(&owner, "replica-1", 1_000, QUEUE).unwrap()
                {
                    assert_eq!(lease.scan.attempts, 1);
                    claimed.push(lease.scan.id);
                }
                claimed
            })
        })
        .collect();
    let claims: Vec<Vec<String>> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let all: Vec<&String> = claims.iter().flatten().collect();
    let distinct: HashSet<&&String> = all.iter().collect();
    assert_eq!(all.len(), SCANS, "every scan claimed once");
    assert_eq!(distinct.len(), SCANS, "no scan claimed twice");
    // Each worker took its scans oldest first.
    for taken in &claims {
        assert!(taken.windows(2).all(|pair| pair[0] < pair[1]), "{taken:?}");
    }
    assert!(
        stores[1]
            .claim_scan("late", "replica-1", 1_000, QUEUE)
            .unwrap()
            .is_none()
    );
}

#[test]
fn replicas_starting_at_once_on_a_fresh_database_migrate_it_once() {
    const REPLICAS: usize = 4;
    let url = test_cluster::cluster().create_database();
    let barrier = Arc::new(Barrier::new(REPLICAS));
    let opened: Vec<_> = (0..REPLICAS)
        .map(|_| {
            let url = url.clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                PostgresStore::open(&url).map(|_| ())
            })
        })
        .collect();
    for replica in opened {
        replica.join().unwrap().unwrap();
    }
    let store = PostgresStore::open(&url).unwrap();
    let versions: Vec<i64> = store
        .with(|c| {
            Ok(c.query("SELECT version FROM schema_version", &[])?
                .iter()
                .map(|row| row.get(0))
                .collect())
        })
        .unwrap();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    super::super::contract::check_all(&store);
}

#[test]
fn a_store_from_a_newer_release_is_refused() {
    let (store, url) = open_fresh();
    store.put_policy("p", "{}", "a", 1).unwrap();
    drop(store);
    // Reopening an up-to-date store keeps its data.
    let store = PostgresStore::open(&url).unwrap();
    assert!(store.policy("p", None).unwrap().is_some());
    store
        .with(|c| {
            Ok(c.execute(
                "INSERT INTO schema_version (version) VALUES ($1)",
                &[&(SCHEMA_VERSION + 1)],
            )?)
        })
        .unwrap();
    drop(store);
    let error = PostgresStore::open(&url).err().unwrap();
    assert!(
        matches!(error, StoreError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("newer than this rempart"), "{message}");
    assert!(
        !message.contains(test_cluster::cluster().password()),
        "{message}"
    );
}

#[test]
fn a_database_that_goes_away_gives_errors_naming_the_store_not_panics() {
    let (store, url) = open_fresh();
    store.ping().unwrap();
    let database = url.rsplit('/').next().unwrap().to_owned();
    let mut admin =
        postgres::Client::connect(&test_cluster::cluster().url("postgres"), postgres::NoTls)
            .unwrap();
    admin
        .batch_execute(&format!("DROP DATABASE {database} WITH (FORCE)"))
        .unwrap();
    let error = store.ping().unwrap_err().to_string();
    assert!(error.starts_with(&store.describe()), "{error}");
    assert!(
        !error.contains(test_cluster::cluster().password()),
        "{error}"
    );
    assert!(store.queue_depth().is_err());
}

#[test]
fn an_unreachable_server_is_an_error_without_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = PostgresStore::open(&format!(
        "postgres://rempart:s3cret@127.0.0.1:{port}/rempart"
    ))
    .err()
    .unwrap()
    .to_string();
    assert!(
        error.starts_with(&format!("postgres://rempart@127.0.0.1:{port}/rempart: ")),
        "{error}"
    );
    assert!(error.contains("refused"), "{error}");
    assert!(!error.contains("s3cret"), "{error}");
}

#[test]
fn replicas_share_layer_results_and_the_first_row_of_a_key_stays() {
    use rempart::SharedLayerResults as _;

    let (first, url) = open_fresh();
    let second = PostgresStore::open(&url).unwrap();
    // Both replicas start at once: the tables are created once, and neither fails.
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| first.shared_layers());
        let b = scope.spawn(|| second.shared_layers());
        (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
    });
    assert_eq!(a.get("key").unwrap(), None);
    a.put("key", b"from a").unwrap();
    // The same layer stored by another replica meanwhile: no error, the first row stays.
    b.put("key", b"from b").unwrap();
    assert_eq!(b.get("key").unwrap().as_deref(), Some(&b"from a"[..]));

    assert!(!b.is_verified("sha256:blob", "sha256:diff").unwrap());
    a.mark_verified("sha256:blob", "sha256:diff").unwrap();
    a.mark_verified("sha256:blob", "sha256:diff").unwrap();
    assert!(b.is_verified("sha256:blob", "sha256:diff").unwrap());
    assert!(!b.is_verified("sha256:blob", "sha256:other").unwrap());
    // Outside the versioned migrations: the schema version is untouched.
    assert_eq!(
        first
            .with(|c| Ok(c
                .query_one("SELECT max(version) FROM schema_version", &[])?
                .get::<_, i64>(0)))
            .unwrap(),
        SCHEMA_VERSION
    );
}

/// Whether the store's own connection is encrypted, as the server sees it.
fn encrypted(store: &PostgresStore) -> bool {
    store
        .with(|c| {
            Ok(c.query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )?
            .try_get(0)?)
        })
        .unwrap()
}

#[test]
fn connections_follow_libpq_sslmode_and_verify_when_asked() {
    let cluster = test_cluster::cluster();
    let url = cluster.create_database();
    let ca = cluster.ca().display().to_string();
    // The default (prefer) and require encrypt without checking the certificate.
    assert!(encrypted(&PostgresStore::open(&url).unwrap()));
    assert!(encrypted(
        &PostgresStore::open(&format!("{url}?sslmode=require")).unwrap()
    ));
    assert!(!encrypted(
        &PostgresStore::open(&format!("{url}?sslmode=disable")).unwrap()
    ));
    // verify-full: the test CA signed a certificate for 127.0.0.1.
    let verified = format!("{url}?sslmode=verify-full&sslrootcert={ca}");
    assert!(encrypted(&PostgresStore::open(&verified).unwrap()));
    // Without that CA the certificate is not trusted, and the error says what to do.
    let untrusted = PostgresStore::open(&format!("{url}?sslmode=verify-full"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        untrusted.contains("invalid peer certificate") && untrusted.contains("sslrootcert"),
        "{untrusted}"
    );
    // By another name for the same host, verify-full refuses and verify-ca accepts.
    let by_name = url.replace("127.0.0.1", "localhost");
    let wrong_name =
        PostgresStore::open(&format!("{by_name}?sslmode=verify-full&sslrootcert={ca}"))
            .err()
            .unwrap()
            .to_string();
    assert!(wrong_name.contains("certificate"), "{wrong_name}");
    assert!(encrypted(
        &PostgresStore::open(&format!("{by_name}?sslmode=verify-ca&sslrootcert={ca}")).unwrap()
    ));
    // A CA file that holds no certificate is named.
    let error = PostgresStore::open(&format!("{url}?sslmode=verify-full&sslrootcert=/dev/null"))
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("/dev/null"), "{error}");
}
