//! What every store backend must do, checked the same way on each: one function per part of
//! the contract, called by each backend's tests with a fresh store.

use super::{
    Completion, DeliveryOutcome, DeliveryState, NewAudit, NewDelivery, NewScan, PromotionRecord,
    PromotionState, QueuePolicy, Role, ScanSource, ScanState, ScannedImage, SessionRecord,
    SeverityCounts, Store, TokenRecord, VerdictRecord,
};

const QUEUE: QueuePolicy = QueuePolicy {
    lease_millis: 1_000,
    max_attempts: 2,
    replica_silence_millis: 10_000,
};

fn new_scan(id: &str, subject: &str, now: i64) -> NewScan {
    NewScan {
        id: id.to_owned(),
        subject: subject.to_owned(),
        source: ScanSource::Registry {
            reference: format!("registry.test/app@{subject}"),
        },
        repository: "registry.test/app".into(),
        digest: Some(subject.to_owned()),
        submitted_by: "test".into(),
        now,
        pinned_to: None,
    }
}

fn image(digest: &str, scan_id: &str) -> Completion {
    Completion {
        image: scanned(digest, scan_id),
        verdict: Some(VerdictRecord {
            digest: digest.to_owned(),
            policy: "default".into(),
            policy_version: 1,
            passed: false,
            reasons: vec!["1 finding (HIGH: 1)".into()],
            findings: 1,
            suppressed: 0,
            decided_at: 5,
        }),
        audit: NewAudit {
            at: 5,
            actor: "server".into(),
            action: "scan.completed".into(),
            subject: scan_id.to_owned(),
            digest: Some(digest.to_owned()),
            verdict: Some("fail".into()),
            detail: None,
            deliveries: vec![delivery(&format!("event-of-{scan_id}"), 5)],
        },
    }
}

fn delivery(id: &str, now: i64) -> NewDelivery {
    NewDelivery {
        id: id.to_owned(),
        endpoint: "chat".into(),
        event: "scan.completed".into(),
        payload: format!("{{\"id\":\"{id}\"}}"),
        created_at: now,
    }
}

fn scanned(digest: &str, scan_id: &str) -> ScannedImage {
    ScannedImage {
        digest: digest.to_owned(),
        repository: "registry.test/app".into(),
        name: "registry.test/app:1".into(),
        result: vec![1, 2, 3],
        inventory: vec![4, 5],
        scanned_at: 10,
        scan_id: scan_id.to_owned(),
        severities: Some(SeverityCounts {
            high: 1,
            ..SeverityCounts::default()
        }),
    }
}

/// Runs every part of the contract.
pub(crate) fn check_all(store: &dyn Store) {
    store.ping().unwrap();
    scans_of_one_subject_are_one_scan(store);
    a_scan_completes_once_and_an_expired_lease_is_taken_over(store);
    a_scan_fails_after_its_last_attempt(store);
    released_and_retried_scans_go_back_to_the_queue(store);
    policies_are_versioned(store);
    the_admission_policy_is_versioned_apart_from_scan_policies(store);
    verdicts_remember_the_previous_one(store);
    tokens_are_found_by_hash_until_revoked(store);
    the_audit_log_lists_newest_first(store);
    promotions_move_once(store);
    overviews_join_severities_and_the_verdict_under_one_policy(store);
    deliveries_are_queued_with_their_event_and_retried_until_dead(store);
    pinned_scans_wait_for_their_replica_and_fail_when_it_is_gone(store);
    sessions_last_until_they_expire_or_end_and_are_capped_per_token(store);
}

fn scans_of_one_subject_are_one_scan(store: &dyn Store) {
    let first = store.submit_scan(&new_scan("s1", "sha256:aa", 1)).unwrap();
    assert!(!first.deduplicated);
    for n in 0..50 {
        let again = store
            .submit_scan(&new_scan(&format!("s1-{n}"), "sha256:aa", 2))
            .unwrap();
        assert!(again.deduplicated);
        assert_eq!(again.scan.id, "s1");
    }
    assert_eq!(store.queue_depth().unwrap(), 1);
    // Drain it so the next parts start from an empty queue.
    let lease = store
        .claim_scan("w", "replica-1", 3, QUEUE)
        .unwrap()
        .unwrap();
    assert!(
        store
            .complete_scan("s1", &lease.owner, &image("sha256:aa", "s1"), 4)
            .unwrap()
    );
    // Once done, the same subject makes a new scan.
    let later = store
        .submit_scan(&new_scan("s1-again", "sha256:aa", 5))
        .unwrap();
    assert!(!later.deduplicated);
    let lease = store
        .claim_scan("w", "replica-1", 6, QUEUE)
        .unwrap()
        .unwrap();
    assert_eq!(lease.scan.id, "s1-again");
    assert!(
        store
            .complete_scan("s1-again", "w", &image("sha256:aa", "s1-again"), 7)
            .unwrap()
    );
    assert_eq!(store.queue_depth().unwrap(), 0);
}

fn a_scan_completes_once_and_an_expired_lease_is_taken_over(store: &dyn Store) {
    store
        .submit_scan(&new_scan("s2", "sha256:bb", 100))
        .unwrap();
    let first = store
        .claim_scan("worker-a", "replica-1", 100, QUEUE)
        .unwrap()
        .unwrap();
    assert_eq!(first.scan.id, "s2");
    assert_eq!(first.scan.state, ScanState::Running);
    // Held: nobody else gets it.
    assert!(
        store
            .claim_scan("worker-b", "replica-1", 500, QUEUE)
            .unwrap()
            .is_none()
    );
    assert!(store.renew_lease("s2", "worker-a", 1_600).unwrap());
    assert!(
        store
            .claim_scan("worker-b", "replica-1", 1_500, QUEUE)
            .unwrap()
            .is_none()
    );
    // worker-a stops renewing: after the lease, worker-b takes the scan.
    let second = store
        .claim_scan("worker-b", "replica-1", 1_700, QUEUE)
        .unwrap()
        .unwrap();
    assert_eq!(second.scan.id, "s2");
    assert_eq!(second.scan.attempts, 2);
    assert!(!store.renew_lease("s2", "worker-a", 9_000).unwrap());
    // worker-a wakes up with a result: it is refused, worker-b's is kept.
    assert!(
        !store
            .complete_scan("s2", "worker-a", &image("sha256:bb", "s2"), 1_800)
            .unwrap()
    );
    assert!(store.image("sha256:bb").unwrap().is_none());
    assert!(
        store
            .complete_scan("s2", "worker-b", &image("sha256:bb", "s2"), 1_900)
            .unwrap()
    );
    assert!(
        !store
            .complete_scan("s2", "worker-b", &image("sha256:bb", "s2"), 2_000)
            .unwrap()
    );
    let scan = store.scan("s2").unwrap().unwrap();
    assert_eq!(scan.state, ScanState::Done);
    // The verdict and the audit line came with the completion, once.
    assert_eq!(store.verdicts("sha256:bb").unwrap()[0].policy, "default");
    let completions = store
        .audit(1000, None)
        .unwrap()
        .into_iter()
        .filter(|entry| entry.action == "scan.completed" && entry.subject == "s2")
        .count();
    assert_eq!(completions, 1);
    assert_eq!(scan.digest.as_deref(), Some("sha256:bb"));
    let stored = store.image("sha256:bb").unwrap().unwrap();
    assert_eq!(
        (stored.result, stored.inventory),
        (vec![1, 2, 3], vec![4, 5])
    );
    assert!(
        store
            .images(10)
            .unwrap()
            .iter()
            .any(|i| i.digest == "sha256:bb")
    );
}

fn a_scan_fails_after_its_last_attempt(store: &dyn Store) {
    store
        .submit_scan(&new_scan("s3", "sha256:cc", 10_000))
        .unwrap();
    store
        .claim_scan("w1", "replica-1", 10_000, QUEUE)
        .unwrap()
        .unwrap();
    store
        .claim_scan("w2", "replica-1", 11_001, QUEUE)
        .unwrap()
        .unwrap();
    // The second worker died too, on the last attempt: nobody gets it, and it is failed.
    assert!(
        store
            .claim_scan("w3", "replica-1", 12_002, QUEUE)
            .unwrap()
            .is_none()
    );
    let failed = store
        .fail_stranded_scans("replica-1", 12_002, QUEUE)
        .unwrap();
    assert_eq!(
        failed.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["s3"]
    );
    assert_eq!(failed[0].state, ScanState::Failed);
    assert!(
        store
            .fail_stranded_scans("replica-1", 12_003, QUEUE)
            .unwrap()
            .is_empty(),
        "failed once"
    );
    let scan = store.scan("s3").unwrap().unwrap();
    assert_eq!(scan.state, ScanState::Failed);
    assert!(scan.error.unwrap().contains("2 attempts"));
}

fn released_and_retried_scans_go_back_to_the_queue(store: &dyn Store) {
    store
        .submit_scan(&new_scan("s4", "sha256:dd", 20_000))
        .unwrap();
    store
        .claim_scan("w1", "replica-1", 20_000, QUEUE)
        .unwrap()
        .unwrap();
    assert!(store.release_scan("s4", "w1").unwrap());
    let again = store
        .claim_scan("w2", "replica-1", 20_001, QUEUE)
        .unwrap()
        .unwrap();
    assert_eq!(
        again.scan.attempts, 1,
        "a released scan does not use up an attempt"
    );
    assert!(
        store
            .fail_scan("s4", "w2", "registry timed out", true, 20_002, QUEUE)
            .unwrap()
    );
    assert_eq!(store.scan("s4").unwrap().unwrap().state, ScanState::Queued);
    store
        .claim_scan("w3", "replica-1", 20_003, QUEUE)
        .unwrap()
        .unwrap();
    assert!(
        store
            .fail_scan("s4", "w3", "registry timed out", true, 20_004, QUEUE)
            .unwrap()
    );
    let scan = store.scan("s4").unwrap().unwrap();
    assert_eq!(scan.state, ScanState::Failed, "no attempt left");
    assert_eq!(scan.error.as_deref(), Some("registry timed out"));
}

fn policies_are_versioned(store: &dyn Store) {
    assert_eq!(
        store
            .put_policy("gate", "severities: [HIGH]", "a", 1)
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .put_policy("gate", "severities: [CRITICAL]", "b", 2)
            .unwrap(),
        2
    );
    assert_eq!(store.put_policy("other", "{}", "a", 3).unwrap(), 1);
    let latest = store.policy("gate", None).unwrap().unwrap();
    assert_eq!((latest.version, latest.created_by.as_str()), (2, "b"));
    let first = store.policy("gate", Some(1)).unwrap().unwrap();
    assert_eq!(first.document, "severities: [HIGH]");
    assert!(store.policy("gate", Some(3)).unwrap().is_none());
    let names: Vec<_> = store
        .policies()
        .unwrap()
        .into_iter()
        .map(|p| (p.name, p.version))
        .collect();
    assert_eq!(names, vec![("gate".into(), 2), ("other".into(), 1)]);
}

fn the_admission_policy_is_versioned_apart_from_scan_policies(store: &dyn Store) {
    assert_eq!(store.admission_policy_version().unwrap(), None);
    assert!(store.admission_policy(None).unwrap().is_none());
    assert_eq!(
        store.put_admission_policy("version: 1", "a", 10).unwrap(),
        1
    );
    assert_eq!(
        store
            .put_admission_policy("version: 1\ndefault: {}", "b", 11)
            .unwrap(),
        2
    );
    assert_eq!(store.admission_policy_version().unwrap(), Some(2));
    let latest = store.admission_policy(None).unwrap().unwrap();
    assert_eq!(
        (
            latest.version,
            latest.created_by.as_str(),
            latest.created_at
        ),
        (2, "b", 11)
    );
    assert_eq!(
        store.admission_policy(Some(1)).unwrap().unwrap().document,
        "version: 1"
    );
    assert!(store.admission_policy(Some(3)).unwrap().is_none());
    let history: Vec<_> = store
        .admission_policy_history(10)
        .unwrap()
        .into_iter()
        .map(|v| (v.version, v.created_by))
        .collect();
    assert_eq!(history, vec![(2, "b".to_owned()), (1, "a".to_owned())]);
    assert_eq!(store.admission_policy_history(1).unwrap().len(), 1);
    // Not a scan policy: the scan policies' listing does not show it.
    assert!(
        store
            .policies()
            .unwrap()
            .iter()
            .all(|policy| policy.name != "admission")
    );
}

fn verdicts_remember_the_previous_one(store: &dyn Store) {
    let mut verdict = VerdictRecord {
        digest: "sha256:bb".into(),
        policy: "gate".into(),
        policy_version: 1,
        passed: false,
        reasons: vec!["1 finding (HIGH: 1)".into()],
        findings: 1,
        suppressed: 0,
        decided_at: 1,
    };
    assert!(store.record_verdict(&verdict).unwrap().is_none());
    verdict.passed = true;
    verdict.reasons.clear();
    verdict.findings = 0;
    verdict.suppressed = 1;
    verdict.policy_version = 2;
    let previous = store.record_verdict(&verdict).unwrap().unwrap();
    assert!(!previous.passed);
    assert_eq!(previous.reasons, vec!["1 finding (HIGH: 1)".to_owned()]);
    let recorded: Vec<VerdictRecord> = store
        .verdicts("sha256:bb")
        .unwrap()
        .into_iter()
        .filter(|v| v.policy == "gate")
        .collect();
    assert_eq!(recorded, vec![verdict]);
}

fn tokens_are_found_by_hash_until_revoked(store: &dyn Store) {
    let token = TokenRecord {
        id: "tok-1".into(),
        name: "ci".into(),
        hash: "ab".repeat(32),
        role: Role::Scanner,
        scopes: vec!["registry.test/*".into()],
        created_at: 1,
        created_by: "admin".into(),
        revoked_at: None,
    };
    store.create_token(&token).unwrap();
    let found = store.token_by_hash(&token.hash).unwrap().unwrap();
    assert_eq!(
        (found.role, found.scopes),
        (Role::Scanner, token.scopes.clone())
    );
    assert!(store.active_token_count().unwrap() >= 1);
    assert!(store.revoke_token("tok-1", 5).unwrap());
    assert!(!store.revoke_token("tok-1", 6).unwrap());
    assert!(store.token_by_hash(&token.hash).unwrap().is_none());
    assert_eq!(store.tokens().unwrap()[0].revoked_at, Some(5));
}

fn the_audit_log_lists_newest_first(store: &dyn Store) {
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            store
                .append_audit(&NewAudit {
                    at: n,
                    actor: "test".into(),
                    action: format!("action.{n}"),
                    subject: "s".into(),
                    ..NewAudit::default()
                })
                .unwrap(),
        );
    }
    let page = store.audit(2, None).unwrap();
    assert_eq!(page[0].action, "action.4");
    assert_eq!(page[1].action, "action.3");
    let next = store.audit(2, Some(page[1].id)).unwrap();
    assert_eq!(next[0].action, "action.2");
}

fn promotions_move_once(store: &dyn Store) {
    let promotion = PromotionRecord {
        id: "p1".into(),
        digest: "sha256:ee".into(),
        registry: "registry.test".into(),
        source_repository: "staging/app".into(),
        destination_repository: "release/app".into(),
        tag: Some("1.0".into()),
        policy: "default".into(),
        state: PromotionState::Pending,
        detail: None,
        created_at: 1,
        finished_at: None,
    };
    store.add_promotion(&promotion).unwrap();
    assert_eq!(store.pending_promotions("sha256:ee").unwrap().len(), 1);
    assert!(
        store
            .move_promotion(
                "p1",
                PromotionState::Pending,
                PromotionState::Copying,
                None,
                2
            )
            .unwrap()
    );
    assert!(
        !store
            .move_promotion(
                "p1",
                PromotionState::Pending,
                PromotionState::Copying,
                None,
                3
            )
            .unwrap()
    );
    assert!(store.pending_promotions("sha256:ee").unwrap().is_empty());
    assert!(
        store
            .move_promotion(
                "p1",
                PromotionState::Copying,
                PromotionState::Promoted,
                Some("3 blobs mounted"),
                4
            )
            .unwrap()
    );
    let listed = &store.promotions(10).unwrap()[0];
    assert_eq!(listed.state, PromotionState::Promoted);
    assert_eq!(
        (listed.detail.as_deref(), listed.finished_at),
        (Some("3 blobs mounted"), Some(4))
    );
}

fn overviews_join_severities_and_the_verdict_under_one_policy(store: &dyn Store) {
    // By now sha256:aa and sha256:bb are stored, both with a `default` verdict, and sha256:bb
    // also has one under `gate`.
    let overviews = store.image_overviews("gate", 10).unwrap();
    let bb = overviews
        .iter()
        .find(|o| o.image.digest == "sha256:bb")
        .unwrap();
    let verdict = bb.verdict.as_ref().unwrap();
    assert_eq!((verdict.policy.as_str(), verdict.passed), ("gate", true));
    assert_eq!(bb.severities.unwrap().high, 1);
    let aa = overviews
        .iter()
        .find(|o| o.image.digest == "sha256:aa")
        .unwrap();
    assert!(aa.verdict.is_none(), "no verdict under `gate`");
    let defaults = store.image_overviews("default", 1).unwrap();
    assert_eq!(defaults.len(), 1);
    assert_eq!(
        defaults[0].verdict.as_ref().map(|v| v.policy.as_str()),
        Some("default")
    );
    assert_eq!(
        store.image("sha256:bb").unwrap().unwrap().severities,
        Some(SeverityCounts {
            high: 1,
            ..SeverityCounts::default()
        })
    );
}

fn deliveries_are_queued_with_their_event_and_retried_until_dead(store: &dyn Store) {
    // Earlier parts of the contract queued deliveries with their scans' completions: drain them.
    while let Some(old) = store.claim_delivery("drain", 10_000, 1).unwrap() {
        assert!(
            store
                .finish_delivery(
                    &old.id,
                    "drain",
                    &DeliveryOutcome::Delivered { status: 200 },
                    0
                )
                .unwrap()
        );
    }
    // Queued with each completion that was stored, and only with those.
    let completed = store.delivery("event-of-s1").unwrap().unwrap();
    assert_eq!(completed.state, DeliveryState::Delivered);
    assert_eq!(completed.payload, r#"{"id":"event-of-s1"}"#);
    assert!(store.delivery("event-of-s1-again").unwrap().is_some());
    // s2 was completed once of its three tries: one delivery (a second would have failed on
    // its id).
    assert!(store.delivery("event-of-s2").unwrap().is_some());

    let now = 1_000_000;
    store
        .append_audit(&NewAudit {
            at: now,
            actor: "server".into(),
            action: "verdict.changed".into(),
            subject: "app".into(),
            deliveries: vec![delivery("d-1", now), delivery("d-2", now + 5)],
            ..NewAudit::default()
        })
        .unwrap();
    // Not due before its time; the oldest due first; a leased one is not handed out twice.
    assert!(
        store
            .claim_delivery("w1", now - 1, 1_000)
            .unwrap()
            .is_none()
    );
    let first = store
        .claim_delivery("w1", now + 10, 1_000)
        .unwrap()
        .unwrap();
    assert_eq!((first.id.as_str(), first.attempts), ("d-1", 1));
    let second = store
        .claim_delivery("w2", now + 10, 1_000)
        .unwrap()
        .unwrap();
    assert_eq!(second.id, "d-2");
    assert!(
        store
            .claim_delivery("w3", now + 10, 1_000)
            .unwrap()
            .is_none()
    );

    // A failed attempt waits for its retry time; only the holder of the lease records it.
    let retry = DeliveryOutcome::Retry {
        at: now + 500,
        status: Some(503),
        error: "HTTP 503".into(),
    };
    assert!(
        !store
            .finish_delivery("d-1", "w2", &retry, now + 20)
            .unwrap()
    );
    assert!(
        store
            .finish_delivery("d-1", "w1", &retry, now + 20)
            .unwrap()
    );
    assert!(
        store
            .claim_delivery("w1", now + 30, 1_000)
            .unwrap()
            .is_none()
    );
    // A worker that died: its lease runs out and the delivery is taken again.
    let again = store
        .claim_delivery("w3", now + 1_100, 1_000)
        .unwrap()
        .unwrap();
    assert_eq!((again.id.as_str(), again.attempts), ("d-2", 2));
    let retried = store
        .claim_delivery("w1", now + 1_100, 1_000)
        .unwrap()
        .unwrap();
    assert_eq!((retried.id.as_str(), retried.attempts), ("d-1", 2));
    assert_eq!(retried.last_status, Some(503));
    assert!(
        !store
            .finish_delivery(
                "d-2",
                "w2",
                &DeliveryOutcome::Delivered { status: 200 },
                now
            )
            .unwrap()
    );

    let dead = DeliveryOutcome::Dead {
        status: None,
        error: "connection refused".into(),
    };
    assert!(
        store
            .finish_delivery("d-1", "w1", &dead, now + 1_200)
            .unwrap()
    );
    assert!(
        store
            .finish_delivery(
                "d-2",
                "w3",
                &DeliveryOutcome::Delivered { status: 204 },
                now + 1_200
            )
            .unwrap()
    );
    let listed = store.deliveries(Some(DeliveryState::Dead), 10).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_error.as_deref(), Some("connection refused"));
    assert_eq!(store.delivery_counts().unwrap(), (0, 1));
    assert_eq!(
        store.delivery("d-2").unwrap().unwrap().delivered_at,
        Some(now + 1_200)
    );

    // An admin sends a dead one again: attempts from zero, due at once.
    assert!(store.redeliver("d-1", now + 2_000).unwrap());
    assert!(!store.redeliver("d-1", now + 2_000).unwrap());
    assert!(!store.redeliver("unknown", now).unwrap());
    let resent = store
        .claim_delivery("w1", now + 2_000, 1_000)
        .unwrap()
        .unwrap();
    assert_eq!((resent.id.as_str(), resent.attempts), ("d-1", 1));
    assert_eq!(store.deliveries(None, 100).unwrap().len(), 5);
}

fn pinned_scans_wait_for_their_replica_and_fail_when_it_is_gone(store: &dyn Store) {
    let now = 5_000_000;
    store.replica_seen("replica-a", "host-a-1", now).unwrap();
    store.replica_seen("replica-b", "host-b-1", now).unwrap();
    let pinned = |id: &str, subject: &str, replica: &str| NewScan {
        pinned_to: Some(replica.to_owned()),
        ..new_scan(id, subject, now)
    };
    store
        .submit_scan(&pinned("p-a", "sha256:pa", "replica-a"))
        .unwrap();
    store
        .submit_scan(&pinned("p-b", "sha256:pb", "replica-b"))
        .unwrap();
    // Another replica passes them by while theirs is alive; each replica takes its own.
    assert!(
        store
            .claim_scan("c-1", "replica-c", now + 10, QUEUE)
            .unwrap()
            .is_none()
    );
    let taken = store
        .claim_scan("b-1", "replica-b", now + 10, QUEUE)
        .unwrap()
        .unwrap();
    assert_eq!(taken.scan.id, "p-b");
    assert!(
        store
            .claim_scan("b-2", "replica-b", now + 10, QUEUE)
            .unwrap()
            .is_none()
    );

    // replica-a falls silent (replica-b keeps saying it is alive): its scan fails, saying
    // why, when another replica looks at the queue; replica-b's running scan is untouched.
    let later = now + QUEUE.replica_silence_millis + 1;
    store.replica_seen("replica-b", "host-b-2", later).unwrap();
    assert!(store.renew_lease("p-b", "b-1", later + 1_000).unwrap());
    assert!(
        store
            .claim_scan("c-1", "replica-c", later, QUEUE)
            .unwrap()
            .is_none()
    );
    let stranded = store
        .fail_stranded_scans("replica-c", later, QUEUE)
        .unwrap();
    assert_eq!(
        stranded.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["p-a"]
    );
    let failed = store.scan("p-a").unwrap().unwrap();
    assert_eq!(failed.state, ScanState::Failed);
    assert!(
        failed
            .error
            .as_deref()
            .unwrap()
            .contains("(replica-a) stopped: submit it again"),
        "{failed:?}"
    );
    assert_eq!(
        store.scan("p-b").unwrap().unwrap().state,
        ScanState::Running
    );
    assert!(
        store
            .complete_scan("p-b", "b-1", &image("sha256:pb", "p-b"), later)
            .unwrap()
    );
}

fn session(id_hash: &str, token_hash: &str, created_at: i64, expires_at: i64) -> SessionRecord {
    SessionRecord {
        id_hash: id_hash.to_owned(),
        token_hash: token_hash.to_owned(),
        form_token: format!("form-of-{id_hash}"),
        created_at,
        expires_at,
    }
}

fn sessions_last_until_they_expire_or_end_and_are_capped_per_token(store: &dyn Store) {
    let first = session("id-1", "token-a", 100, 1_100);
    store.create_session(&first, 3).unwrap();
    assert_eq!(store.session("id-1", 100).unwrap(), Some(first.clone()));
    assert_eq!(store.session("id-1", 1_099).unwrap(), Some(first));
    assert!(store.session("unknown", 100).unwrap().is_none());
    // Expired at its expiry time, even while its row is still there.
    assert!(store.session("id-1", 1_100).unwrap().is_none());

    // Signed out: gone at once, and only once.
    assert!(store.delete_session("id-1").unwrap());
    assert!(!store.delete_session("id-1").unwrap());
    assert!(store.session("id-1", 100).unwrap().is_none());

    // A token keeps its newest sessions only; another token's are not touched.
    store
        .create_session(&session("other-0", "token-b", 200, 1_200), 3)
        .unwrap();
    for n in 0..5 {
        store
            .create_session(
                &session(&format!("a-{n}"), "token-a", 200 + n, 1_200 + n),
                3,
            )
            .unwrap();
    }
    let live = |prefix: &str, count: i64| -> Vec<bool> {
        (0..count)
            .map(|n| {
                store
                    .session(&format!("{prefix}-{n}"), 200)
                    .unwrap()
                    .is_some()
            })
            .collect()
    };
    assert_eq!(live("a", 5), [false, false, true, true, true]);
    assert_eq!(live("other", 1), [true]);

    // Pruning removes expired sessions only, at most as many as asked each time.
    for n in 0..4 {
        store
            .create_session(&session(&format!("old-{n}"), &format!("t-{n}"), 10, 20), 3)
            .unwrap();
    }
    assert_eq!(store.prune_sessions(21, 3).unwrap(), 3);
    assert_eq!(store.prune_sessions(21, 3).unwrap(), 1);
    assert_eq!(store.prune_sessions(21, 3).unwrap(), 0);
    assert_eq!(live("a", 5), [false, false, true, true, true]);
    // Later, everything left has expired.
    assert_eq!(store.prune_sessions(10_000, 100).unwrap(), 4);
    assert!(store.session("a-4", 200).unwrap().is_none());
}
