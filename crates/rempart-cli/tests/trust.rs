//! `rempart verify` and `rempart attest` against a real OCI registry (Debian's
//! `docker-registry`, which has no referrers API: the referrers tag is used).
//!
//! Signatures are made by the test itself, independently of rempart's signer: cosign's
//! `.sig` tag format and DSSE envelopes built from their published specifications, signed with
//! `openssl` (ECDSA P-256, Ed25519, RSA). One registry serves every test of this file.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Mutex, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rempart_image::{RegistryOptions, RegistryRepository};
use serde_json::{Value, json};
use support::{
    clean_layout, free_port, generate_key_pair, keep, kept_work_dir, run, start_registry,
    wait_for_port,
};

struct Fixture {
    registry: String,
    work: PathBuf,
    keepers: Mutex<Vec<Child>>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(start)
}

fn start() -> Fixture {
    let (work, cleaner) = kept_work_dir();
    let (registry, process) = start_registry(&work);
    for (name, algorithm) in [
        (
            "p256",
            vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        ),
        (
            "other",
            vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        ),
        ("ed25519", vec!["-algorithm", "ED25519"]),
        (
            "rsa",
            vec!["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        ),
    ] {
        generate_key_pair(&work, name, &algorithm);
    }
    Fixture {
        registry,
        work,
        keepers: Mutex::new(vec![process, cleaner]),
    }
}

/// Pushes a small image of its own to `repository:1`; returns its reference and digest.
fn push_image(fixture: &Fixture, repository: &str) -> (String, String) {
    let layout = clean_layout(&fixture.work.join(repository), &format!("{repository}\n"));
    push_layout(fixture, &layout, repository)
}

/// Pushes the image of an OCI layout to `repository:1`; returns its reference and digest.
fn push_layout(fixture: &Fixture, layout: &Path, repository: &str) -> (String, String) {
    let reference = format!("{}/{repository}:1", fixture.registry);
    run(Command::new("skopeo")
        .args(["copy", "-q", "--dest-tls-verify=false"])
        .arg(format!("oci:{}", layout.display()))
        .arg(format!("docker://{reference}")));
    let digest = repo(fixture, repository)
        .manifest("1")
        .unwrap()
        .unwrap()
        .digest;
    (reference, digest)
}

fn repo(fixture: &Fixture, repository: &str) -> RegistryRepository {
    let mut options = RegistryOptions::new(fixture.work.join("blobs"));
    options.insecure = true;
    RegistryRepository::open(&fixture.registry, repository, &options, true).unwrap()
}

/// Signs `data` with the private key `name` the way cosign does: ECDSA and RSA over the
/// SHA-256 of the data, Ed25519 over the data itself.
fn sign(fixture: &Fixture, name: &str, data: &[u8]) -> String {
    let input = fixture.work.join(format!("to-sign-{}", rand_suffix()));
    std::fs::write(&input, data).unwrap();
    let key = fixture.work.join(format!("{name}.pem"));
    let output = if name == "ed25519" {
        Command::new("openssl")
            .args(["pkeyutl", "-sign", "-rawin", "-inkey"])
            .arg(&key)
            .arg("-in")
            .arg(&input)
            .output()
            .unwrap()
    } else {
        Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(&key)
            .arg(&input)
            .output()
            .unwrap()
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    STANDARD.encode(output.stdout)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Cosign's simple-signing payload for `digest`.
fn simple_signing(reference: &str, digest: &str) -> Vec<u8> {
    json!({
        "critical": {
            "identity": {"docker-reference": reference.split(':').next().unwrap()},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature"
        },
        "optional": null
    })
    .to_string()
    .into_bytes()
}

/// Pushes a manifest whose layers are `(media type, content, annotations)`, under `tag` or,
/// when `subject` is given, as a referrer of it (added to the referrers tag).
fn push_artifact(
    repository: &RegistryRepository,
    tag: Option<&str>,
    subject: Option<&str>,
    layers: Vec<(&str, Vec<u8>, BTreeMap<String, String>)>,
) -> String {
    let config = repository.push_blob(b"{}".to_vec()).unwrap();
    let layers: Vec<Value> = layers
        .into_iter()
        .map(|(media_type, content, annotations)| {
            let size = content.len();
            let digest = repository.push_blob(content).unwrap();
            json!({"mediaType": media_type, "digest": digest, "size": size, "annotations": annotations})
        })
        .collect();
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": layers,
    });
    if let Some(subject) = subject {
        let image = repository.manifest(subject).unwrap().unwrap();
        manifest["artifactType"] = json!("application/vnd.in-toto+json");
        manifest["subject"] = json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": subject,
            "size": image.bytes.len(),
        });
        return repository
            .attach_referrer(
                subject,
                "application/vnd.oci.image.manifest.v1+json",
                Some("application/vnd.in-toto+json"),
                BTreeMap::new(),
                serde_json::to_vec(&manifest).unwrap(),
            )
            .unwrap();
    }
    repository
        .push_manifest(
            tag.unwrap(),
            "application/vnd.oci.image.manifest.v1+json",
            serde_json::to_vec(&manifest).unwrap(),
        )
        .unwrap()
}

/// Attaches a DSSE envelope to `subject` as a referrer.
fn attach_envelope(repository: &RegistryRepository, subject: &str, envelope: Vec<u8>) {
    push_artifact(
        repository,
        None,
        Some(subject),
        vec![(
            "application/vnd.dsse.envelope.v1+json",
            envelope,
            BTreeMap::new(),
        )],
    );
}

/// The detail of requirement `index` of a verify report.
fn detail(report: &Value, index: usize) -> &str {
    report["requirements"][index]["detail"].as_str().unwrap()
}

/// A cosign `.sig` layer: the payload, its signature in the annotation.
fn signature_layer(
    payload: Vec<u8>,
    signature: String,
) -> (&'static str, Vec<u8>, BTreeMap<String, String>) {
    (
        "application/vnd.dev.cosign.simplesigning.v1+json",
        payload,
        BTreeMap::from([("dev.cosignproject.cosign/signature".to_owned(), signature)]),
    )
}

/// A DSSE envelope of an in-toto statement about `subject_digest`, signed by key `name`
/// (the pre-authentication encoding built here from the DSSE specification).
fn envelope(
    fixture: &Fixture,
    name: &str,
    subject_digest: &str,
    predicate_type: &str,
    predicate: &Value,
) -> Vec<u8> {
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "image", "digest": {"sha256": subject_digest.trim_start_matches("sha256:")}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    })
    .to_string();
    let payload_type = "application/vnd.in-toto+json";
    let pae = format!(
        "DSSEv1 {} {payload_type} {} {statement}",
        payload_type.len(),
        statement.len()
    );
    let signature = sign(fixture, name, pae.as_bytes());
    json!({
        "payloadType": payload_type,
        "payload": STANDARD.encode(&statement),
        "signatures": [{"keyid": "", "sig": signature}],
    })
    .to_string()
    .into_bytes()
}

fn write_policy(fixture: &Fixture, name: &str, text: &str) -> PathBuf {
    let path = fixture.work.join(format!("{name}.yaml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `rempart ARGS`; returns the exit code, standard output and standard error.
fn rempart(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args(args)
        .env("REMPART_CACHE_DIR", fixture().work.join("cache"))
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn verify_json(reference: &str, policy: &Path) -> (i32, Value) {
    let (code, stdout, stderr) = rempart(&[
        "verify",
        reference,
        "--policy",
        policy.to_str().unwrap(),
        "--insecure",
        "--format",
        "json",
    ]);
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    (
        code,
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}")),
    )
}

fn reasons(report: &Value) -> Vec<String> {
    report["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["reason"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn cosign_tag_signatures_verify_with_each_key_algorithm() {
    let fixture = fixture();
    for key in ["p256", "ed25519", "rsa"] {
        let (reference, digest) = push_image(fixture, &format!("algorithms/{key}"));
        let repository = repo(fixture, &format!("algorithms/{key}"));
        let payload = simple_signing(&reference, &digest);
        let signature = sign(fixture, key, &payload);
        push_artifact(
            &repository,
            Some(&format!("{}.sig", digest.replacen(':', "-", 1))),
            None,
            vec![signature_layer(payload, signature)],
        );
        let policy = write_policy(
            fixture,
            &format!("algorithms-{key}"),
            &format!(
                "rules:\n  - name: signed\n    images: [\"{}/algorithms/**\"]\n    signers:\n      keys: [other.pub, {key}.pub]\n",
                fixture.registry
            ),
        );
        let (code, report) = verify_json(&reference, &policy);
        assert_eq!(code, 0, "{key}: {report:#}");
        assert_eq!(report["verdict"], "trusted");
        let evidence = &report["evidence"][0];
        assert_eq!(evidence["kind"], "signature");
        assert_eq!(evidence["verified"], true);
        assert!(
            evidence["signer"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{key}.pub")),
            "{key}: {evidence}"
        );
        // The same signature, not trusted: only the other key.
        let untrusted = write_policy(
            fixture,
            &format!("algorithms-{key}-other"),
            &format!(
                "rules:\n  - name: signed\n    images: [\"{}/algorithms/**\"]\n    signers:\n      keys: [other.pub]\n",
                fixture.registry
            ),
        );
        let (code, report) = verify_json(&reference, &untrusted);
        assert_eq!(code, 1, "{key}: {report:#}");
        assert!(reasons(&report)[0].starts_with("wrong key"), "{report:#}");
    }
}

#[test]
fn tampered_signatures_and_attestations_are_rejected_with_a_precise_reason() {
    let fixture = fixture();
    let (reference, digest) = push_image(fixture, "tampered/app");
    let (_, other_digest) = push_image(fixture, "tampered/other");
    let repository = repo(fixture, "tampered/app");
    // A valid signature over a payload that names another image.
    let foreign = simple_signing(&reference, &other_digest);
    let foreign_signature = sign(fixture, "p256", &foreign);
    // A valid signature, but over a different payload than the one stored.
    let payload = simple_signing(&reference, &digest);
    let mut altered = payload.clone();
    altered.extend_from_slice(b" ");
    let altered_signature = sign(fixture, "p256", &altered);
    push_artifact(
        &repository,
        Some(&format!("{}.sig", digest.replacen(':', "-", 1))),
        None,
        vec![
            signature_layer(foreign, foreign_signature),
            signature_layer(payload, altered_signature),
        ],
    );
    // An attestation with the right signature but another image's digest as its subject.
    let wrong_subject = envelope(
        fixture,
        "p256",
        &other_digest,
        "https://slsa.dev/provenance/v1",
        &json!({}),
    );
    attach_envelope(&repository, &digest, wrong_subject);
    // A referrer whose envelope blob is gone from the registry's storage (the registry
    // refuses to store an index naming a missing manifest, so the blob is removed under it).
    let lost = envelope(
        fixture,
        "p256",
        &digest,
        "https://spdx.dev/Document",
        &json!({}),
    );
    let lost_digest = format!(
        "sha256:{}",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&lost))
    );
    attach_envelope(&repository, &digest, lost);
    let hex = &lost_digest[7..];
    std::fs::remove_dir_all(
        fixture
            .work
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex),
    )
    .unwrap();

    let policy = write_policy(
        fixture,
        "tampered",
        &format!(
            "rules:\n  - name: signed\n    images: [\"{}/tampered/*\"]\n    signers:\n      keys: [p256.pub]\n    attestations:\n      - type: slsa-provenance\n",
            fixture.registry
        ),
    );
    let (code, report) = verify_json(&reference, &policy);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["verdict"], "untrusted");
    let reasons = reasons(&report);
    assert_eq!(reasons.len(), 4, "{report:#}");
    assert!(reasons[0].starts_with("digest mismatch"), "{reasons:?}");
    assert!(reasons[0].contains(&other_digest), "{reasons:?}");
    assert!(reasons[1].starts_with("wrong key"), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.starts_with("subject mismatch")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with(&format!("blob {lost_digest}"))),
        "{reasons:?}"
    );
    assert!(
        report["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["verified"] == false)
    );
    let failed: Vec<&str> = report["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["met"] == false)
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["signature", "attestation slsa-provenance"]);
}

#[test]
fn provenance_requirements_check_what_the_statement_says() {
    let fixture = fixture();
    let (reference, digest) = push_image(fixture, "provenance/app");
    let repository = repo(fixture, "provenance/app");
    let provenance = envelope(
        fixture,
        "ed25519",
        &digest,
        "https://slsa.dev/provenance/v1",
        &json!({
            "buildDefinition": {
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "resolvedDependencies": [{"uri": "git+https://github.com/acme/app@refs/heads/main"}]
            },
            "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}}
        }),
    );
    attach_envelope(&repository, &digest, provenance);
    let policy = |name: &str, sources: &str| {
        write_policy(
            fixture,
            name,
            &format!(
                "rules:\n  - name: built\n    images: [\"{}/provenance/**\"]\n    require_digest: false\n    require_signature: false\n    signers:\n      keys: [ed25519.pub]\n    attestations:\n      - type: slsa-provenance\n        builders: [\"https://github.com/actions/runner/*\"]\n        sources: [\"{sources}\"]\n        refs: [\"refs/heads/main\"]\n",
                fixture.registry
            ),
        )
    };
    let (code, report) = verify_json(
        &reference,
        &policy("provenance-ok", "git+https://github.com/acme/*"),
    );
    assert_eq!(code, 0, "{report:#}");
    assert!(
        detail(&report, 0).contains("git+https://github.com/acme/app"),
        "{report:#}"
    );
    let (code, report) = verify_json(
        &reference,
        &policy("provenance-fork", "git+https://github.com/evil/*"),
    );
    assert_eq!(code, 1, "{report:#}");
    assert!(
        detail(&report, 0).contains("source `git+https://github.com/acme/app` is not allowed"),
        "{report:#}"
    );
    // Pinning: the tag fails a rule that requires a digest; the digest passes it.
    let pinned = write_policy(
        fixture,
        "provenance-pinned",
        &format!(
            "rules:\n  - name: pinned\n    images: [\"{}/provenance/**\"]\n    require_digest: true\n",
            fixture.registry
        ),
    );
    let (code, report) = verify_json(&reference, &pinned);
    assert_eq!(code, 1, "{report:#}");
    let by_digest = format!("{}/provenance/app@{digest}", fixture.registry);
    let (code, _) = verify_json(&by_digest, &pinned);
    assert_eq!(code, 0);
}

#[test]
fn attested_verdicts_are_verified_and_only_the_newest_counts() {
    let fixture = fixture();
    let (reference, digest) = push_image(fixture, "attested/app");
    let key = fixture.work.join("p256.pem");
    let (code, _, stderr) = rempart(&[
        "attest",
        &reference,
        "--key",
        key.to_str().unwrap(),
        "--insecure",
        "--format",
        "json",
        "--output",
        fixture.work.join("attest-report.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("attached the signed verdict (passed"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("BEGIN PRIVATE KEY"),
        "the key must never be printed"
    );
    let policy = write_policy(
        fixture,
        "attested",
        &format!(
            "rules:\n  - name: vetted\n    images: [\"{}/attested/*\"]\n    require_signature: false\n    signers:\n      keys: [p256.pub]\n    attestations:\n      - type: rempart-verdict\n        passed: true\n        max_age_days: 1\n",
            fixture.registry
        ),
    );
    let (code, report) = verify_json(&reference, &policy);
    assert_eq!(code, 0, "{report:#}");
    let evidence = &report["evidence"][0];
    assert_eq!(
        evidence["predicate_type"],
        "https://rempart.dev/attestation/verdict/v1"
    );
    assert_eq!(evidence["format"], "DSSE envelope");

    // A newer verdict that failed, signed by the same key, outvotes the older pass.
    let failed = envelope(
        fixture,
        "p256",
        &digest,
        "https://rempart.dev/attestation/verdict/v1",
        &json!({
            "scanner": {"name": "rempart", "version": "0"},
            "policy": "default",
            "passed": false,
            "counts": {"critical": 1},
            "report_digest": format!("sha256:{}", "1".repeat(64)),
            "scanned_at": "2099-01-01T00:00:00Z"
        }),
    );
    attach_envelope(&repo(fixture, "attested/app"), &digest, failed);
    let (code, report) = verify_json(&reference, &policy);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        detail(&report, 0).contains("failed (1 critical)"),
        "{report:#}"
    );

    // --key-env: the key from a variable; a missing variable is an error naming it.
    let output = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args([
            "attest",
            &reference,
            "--key-env",
            "TEST_SIGNING_KEY",
            "--insecure",
        ])
        .env("REMPART_CACHE_DIR", fixture.work.join("cache"))
        .env_remove("TEST_SIGNING_KEY")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("TEST_SIGNING_KEY"));
}

#[test]
fn bad_policies_and_keys_are_errors_naming_the_file() {
    let fixture = fixture();
    let (reference, _) = push_image(fixture, "errors/app");
    let cases = [
        ("bad-yaml", "rules: [".to_owned(), "bad-yaml.yaml"),
        (
            "unknown-field",
            "rules:\n  - name: x\n    images: [\"*\"]\n    signer: {}\n".to_owned(),
            "unknown field",
        ),
        (
            "missing-key",
            "rules:\n  - name: x\n    images: [\"*\"]\n    signers:\n      keys: [absent.pub]\n"
                .to_owned(),
            "absent.pub",
        ),
        (
            "private-key",
            "rules:\n  - name: x\n    images: [\"*\"]\n    signers:\n      keys: [p256.pem]\n"
                .to_owned(),
            "not a PEM public key",
        ),
        (
            "attestations-without-signers",
            "rules:\n  - name: x\n    images: [\"*\"]\n    attestations:\n      - type: spdx\n"
                .to_owned(),
            "no signer is trusted",
        ),
    ];
    for (name, text, expected) in cases {
        let policy = write_policy(fixture, name, &text);
        let (code, _, stderr) = rempart(&[
            "verify",
            &reference,
            "--policy",
            policy.to_str().unwrap(),
            "--insecure",
        ]);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
    // No rule for the repository: the default is deny, and the report says so.
    let policy = write_policy(
        fixture,
        "no-rule",
        "rules:\n  - name: elsewhere\n    images: [\"registry.example.com/**\"]\n",
    );
    let (code, stdout, _) = rempart(&[
        "verify",
        &reference,
        "--policy",
        policy.to_str().unwrap(),
        "--insecure",
    ]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("no rule of the trust policy matches"),
        "{stdout}"
    );
}

const IDENTITY: &str = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Pushes an image of its own to `repository` and signs it with sigstore-js (keyless, against
/// its in-process Fulcio and Rekor): the image's manifest, and its cosign simple-signing
/// payload; the signature is attached when `attach` says so. Returns the reference, the digest
/// and the directory with the bundles and the trusted root.
fn sign_keyless(fixture: &Fixture, repository: &str, attach: bool) -> (String, String, PathBuf) {
    let signer = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sigstore-js");
    assert!(
        signer.join("node_modules/sigstore").is_dir(),
        "sigstore-js is not installed: run scripts/install-test-deps.sh"
    );
    let (reference, digest) = push_image(fixture, repository);
    let manifest = repo(fixture, repository)
        .manifest(&digest)
        .unwrap()
        .unwrap()
        .bytes;
    let out = fixture
        .work
        .join(format!("bundles-{}", repository.replace('/', "-")));
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("manifest.json"), &manifest).unwrap();
    std::fs::write(
        out.join("payload.json"),
        simple_signing(&reference, &digest),
    )
    .unwrap();
    let target = if attach {
        format!("{}/{repository}", fixture.registry)
    } else {
        "-".to_owned()
    };
    run(Command::new("node")
        .arg(signer.join("sign.js"))
        .arg(&out)
        .arg(target)
        .arg(out.join("manifest.json"))
        .args([IDENTITY, ISSUER])
        .arg(out.join("payload.json")));
    (reference, digest, out)
}

#[test]
fn keyless_signatures_made_by_sigstore_js_verify_offline_and_tampering_is_caught() {
    let fixture = fixture();
    let (reference, digest, out) = sign_keyless(fixture, "keyless/good", true);
    let policy = |name: &str, subject: &str| {
        write_policy(
            fixture,
            name,
            &format!(
                "trusted_root: {}\nrules:\n  - name: released\n    images: [\"{}/keyless/*\"]\n    signers:\n      keyless:\n        - issuer: {ISSUER}\n          subject: \"{subject}\"\n",
                out.join("trusted-root.json").display(),
                fixture.registry
            ),
        )
    };
    let release = policy(
        "keyless",
        "https://github.com/acme/*/.github/workflows/release.yml@refs/heads/main",
    );
    let (code, report) = verify_json(&reference, &release);
    assert_eq!(code, 0, "{report:#}");
    let evidence = &report["evidence"][0];
    assert_eq!(evidence["verified"], true);
    assert_eq!(evidence["transparency_log"], true);
    assert_eq!(evidence["signer"], format!("{ISSUER} {IDENTITY}"));
    assert!(
        evidence["location"]
            .as_str()
            .unwrap()
            .starts_with("referrer sha256:"),
        "{evidence}"
    );

    // The right signature, from an identity the rule does not allow.
    let forks = policy(
        "keyless-forks",
        "https://github.com/forks/*/.github/workflows/release.yml@refs/heads/main",
    );
    let (code, report) = verify_json(&reference, &forks);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        reasons(&report)[0].starts_with("identity mismatch"),
        "{report:#}"
    );

    // Tampered bundles, each attached to the same image in a repository of its own.
    let read = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(out.join(format!("{name}.sigstore.json"))).unwrap())
            .unwrap()
    };
    let signature = read("signature");
    let expired = read("expired");
    // sigstore-js writes v0.2 bundles for message signatures: the certificate is the first of
    // a chain. A valid certificate from the same CA, for another key.
    assert_eq!(
        signature["mediaType"],
        "application/vnd.dev.sigstore.bundle+json;version=0.2"
    );
    let mut swapped = signature.clone();
    swapped["verificationMaterial"]["x509CertificateChain"] =
        read("other")["verificationMaterial"]["x509CertificateChain"].clone();
    assert_ne!(swapped, signature);
    let mut bad_proof = signature.clone();
    let proof = &mut bad_proof["verificationMaterial"]["tlogEntries"][0]["inclusionProof"];
    let root_hash = STANDARD
        .decode(proof["rootHash"].as_str().unwrap())
        .unwrap();
    let mut altered = root_hash.clone();
    altered[0] ^= 1;
    proof["rootHash"] = json!(STANDARD.encode(altered));
    let mut no_log = signature.clone();
    no_log["verificationMaterial"]["tlogEntries"] = json!([]);
    let layout = fixture.work.join("keyless/good").join("clean");
    for (name, bundle, expected) in [
        ("expired", expired, &["expired"][..]),
        // Another certificate for another key: its signature does not verify, or, when it was
        // issued after this signature's log entry (the signings a second apart), it was not
        // yet valid then; either way it is refused for what it is.
        ("swapped", swapped, &["signature", "certnotvalidyet"][..]),
        ("bad-proof", bad_proof, &["inclusion"][..]),
        ("no-log", no_log, &["no log proof"][..]),
    ] {
        let repository_name = format!("keyless/{name}");
        let (tampered_reference, tampered_digest) = push_layout(fixture, &layout, &repository_name);
        assert_eq!(tampered_digest, digest);
        push_artifact(
            &repo(fixture, &repository_name),
            None,
            Some(&digest),
            vec![(
                "application/vnd.dev.sigstore.bundle.v0.3+json",
                serde_json::to_vec(&bundle).unwrap(),
                BTreeMap::new(),
            )],
        );
        let (code, report) = verify_json(&tampered_reference, &release);
        assert_eq!(code, 1, "{name}: {report:#}");
        let reason = reasons(&report).join("; ");
        assert!(
            expected
                .iter()
                .any(|wanted| reason.to_lowercase().contains(wanted)),
            "{name}: expected one of {expected:?} in `{reason}`"
        );
    }
}

/// PEM of a DER certificate given in base64.
fn certificate_pem(base64_der: &str) -> String {
    let body = base64_der
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
}

/// Cosign's `.sig` layer for a keyless signature, from a Sigstore bundle of the payload: the
/// signature, the certificate and its chain, and the log entry's promise as cosign's
/// `dev.sigstore.cosign/bundle` annotation (`SignedEntryTimestamp` and `Payload`).
fn legacy_keyless_layer(
    bundle: &Value,
    payload: Vec<u8>,
) -> (&'static str, Vec<u8>, BTreeMap<String, String>) {
    let chain = bundle["verificationMaterial"]["x509CertificateChain"]["certificates"]
        .as_array()
        .unwrap();
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    let rekor = json!({
        "SignedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"],
        "Payload": {
            "body": entry["canonicalizedBody"],
            "integratedTime": entry["integratedTime"].as_str().unwrap().parse::<i64>().unwrap(),
            "logIndex": entry["logIndex"].as_str().unwrap().parse::<i64>().unwrap(),
            "logID": hex::encode(STANDARD.decode(entry["logId"]["keyId"].as_str().unwrap()).unwrap()),
        }
    });
    let rest: String = chain[1..]
        .iter()
        .map(|c| certificate_pem(c["rawBytes"].as_str().unwrap()))
        .collect();
    (
        "application/vnd.dev.cosign.simplesigning.v1+json",
        payload,
        BTreeMap::from([
            (
                "dev.cosignproject.cosign/signature".to_owned(),
                bundle["messageSignature"]["signature"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ),
            (
                "dev.sigstore.cosign/certificate".to_owned(),
                certificate_pem(chain[0]["rawBytes"].as_str().unwrap()),
            ),
            ("dev.sigstore.cosign/chain".to_owned(), rest),
            ("dev.sigstore.cosign/bundle".to_owned(), rekor.to_string()),
        ]),
    )
}

#[test]
fn keyless_cosign_tag_signatures_verify_with_their_log_promise() {
    let fixture = fixture();
    // The bundles are not attached: the repository gets cosign's tag format only.
    let (reference, digest, out) = sign_keyless(fixture, "legacy/app", false);
    let payload = simple_signing(&reference, &digest);
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(out.join("payload.sigstore.json")).unwrap()).unwrap();
    let policy = write_policy(
        fixture,
        "legacy",
        &format!(
            "trusted_root: {}\nrules:\n  - name: released\n    images: [\"{}/legacy/*\"]\n    signers:\n      keyless:\n        - issuer: {ISSUER}\n          subject: \"{IDENTITY}\"\n",
            out.join("trusted-root.json").display(),
            fixture.registry
        ),
    );
    let repository = repo(fixture, "legacy/app");
    let tag = format!("{}.sig", digest.replacen(':', "-", 1));
    push_artifact(
        &repository,
        Some(&tag),
        None,
        vec![legacy_keyless_layer(&bundle, payload.clone())],
    );
    let (code, report) = verify_json(&reference, &policy);
    assert_eq!(code, 0, "{report:#}");
    let evidence = &report["evidence"][0];
    assert_eq!(evidence["format"], "cosign simple signing");
    assert_eq!(evidence["transparency_log"], true);
    assert_eq!(evidence["signer"], format!("{ISSUER} {IDENTITY}"));

    // The log's promise altered: refused.
    let (media_type, content, mut annotations) = legacy_keyless_layer(&bundle, payload);
    let mut rekor: Value =
        serde_json::from_str(&annotations["dev.sigstore.cosign/bundle"]).unwrap();
    rekor["Payload"]["integratedTime"] =
        json!(rekor["Payload"]["integratedTime"].as_i64().unwrap() + 1);
    annotations.insert("dev.sigstore.cosign/bundle".to_owned(), rekor.to_string());
    push_artifact(
        &repository,
        Some(&tag),
        None,
        vec![(media_type, content, annotations)],
    );
    let (code, report) = verify_json(&reference, &policy);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        reasons(&report)[0].starts_with("invalid inclusion promise"),
        "{report:#}"
    );
}

/// Signs `digest` (pushed as `reference`) with key `key` under cosign's `.sig` tag.
fn cosign_sign(fixture: &Fixture, repository: &str, reference: &str, digest: &str, key: &str) {
    let payload = simple_signing(reference, digest);
    let signature = sign(fixture, key, &payload);
    push_artifact(
        &repo(fixture, repository),
        Some(&format!("{}.sig", digest.replacen(':', "-", 1))),
        None,
        vec![signature_layer(payload, signature)],
    );
}

#[test]
fn image_scans_with_verify_report_unmet_trust_requirements_as_findings() {
    let fixture = fixture();
    let (reference, digest) = push_image(fixture, "gated/app");
    cosign_sign(fixture, "gated/app", &reference, &digest, "p256");
    let policy = |name: &str, key: &str| {
        write_policy(
            fixture,
            name,
            &format!(
                "rules:\n  - name: gated\n    images: [\"{}/gated/*\"]\n    signers:\n      keys: [{key}]\n",
                fixture.registry
            ),
        )
    };
    let scan = |policy: &Path, format: &str| {
        rempart(&[
            "image",
            &reference,
            "--insecure",
            "--verify",
            policy.to_str().unwrap(),
            "--format",
            format,
        ])
    };
    let (code, stdout, stderr) = scan(&policy("gated-ok", "p256.pub"), "json");
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        report["scanners"]
            .as_array()
            .unwrap()
            .contains(&json!("trust"))
    );
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["scanner"] != "trust"),
        "{report:#}"
    );

    let untrusted = policy("gated-other", "other.pub");
    let (code, stdout, _) = scan(&untrusted, "json");
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "TRUST-UNSIGNED")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(finding["scanner"], "trust");
    assert_eq!(finding["severity"], "HIGH");
    assert_eq!(finding["details"]["rule"], "gated");
    assert!(
        finding["details"]["reason"]
            .as_str()
            .unwrap()
            .contains("wrong key"),
        "{finding}"
    );
    // The same finding in SARIF, under its code, and documented.
    let (_, sarif, _) = scan(&untrusted, "sarif");
    assert!(
        sarif.contains("\"ruleId\": \"TRUST-UNSIGNED\"")
            || sarif.contains("\"ruleId\":\"TRUST-UNSIGNED\""),
        "{sarif}"
    );
    let (code, doc, _) = rempart(&["rules", "TRUST-UNSIGNED"]);
    assert_eq!(code, 0);
    assert!(doc.contains("sha256-<digest>.sig"), "{doc}");
    // An ignore with a reason takes it out, like any finding.
    let ignores = fixture.work.join("trust-ignores.yaml");
    std::fs::write(
        &ignores,
        "ignores:\n  - id: TRUST-UNSIGNED\n    reason: signed by the release key from January on\n",
    )
    .unwrap();
    let (code, _, stderr) = rempart(&[
        "image",
        &reference,
        "--insecure",
        "--verify",
        untrusted.to_str().unwrap(),
        "--ignorefile",
        ignores.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");

    // Signatures cannot be read from a docker-save archive: said before anything runs.
    let archive = fixture.work.join("image.tar");
    std::fs::write(&archive, b"not an archive").unwrap();
    let (code, _, stderr) = rempart(&[
        "image",
        "--input",
        archive.to_str().unwrap(),
        "--verify",
        untrusted.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--verify"), "{stderr}");

    // `rempart verify` writes the same findings in the formats CI and code scanning read.
    let verify = |format: &str| {
        rempart(&[
            "verify",
            &reference,
            "--policy",
            untrusted.to_str().unwrap(),
            "--insecure",
            "--format",
            format,
        ])
    };
    let (code, sarif, _) = verify("sarif");
    assert_eq!(code, 1);
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "TRUST-UNSIGNED", "{sarif:#}");
    assert!(
        result["message"]["text"]
            .as_str()
            .unwrap()
            .contains("wrong key"),
        "{result:#}"
    );
    let (code, junit, _) = verify("junit");
    assert_eq!(code, 1);
    assert!(
        junit.contains("<failure") && junit.contains("TRUST-UNSIGNED"),
        "{junit}"
    );
    let (code, html, _) = verify("html");
    assert_eq!(code, 1);
    assert!(
        html.contains("TRUST-UNSIGNED") && html.contains(&digest),
        "{html}"
    );
    let (code, _, stderr) = verify("cyclonedx");
    assert_eq!(code, 2);
    assert!(stderr.contains("SBOM format"), "{stderr}");
}

#[test]
fn server_verdicts_require_what_the_trust_policy_requires() {
    let fixture = fixture();
    let (signed, signed_digest) = push_image(fixture, "served/signed");
    cosign_sign(fixture, "served/signed", &signed, &signed_digest, "ed25519");
    let (unsigned, unsigned_digest) = push_image(fixture, "served/unsigned");
    let policy = write_policy(
        fixture,
        "served",
        &format!(
            // Submitted by tag, verified by the digest the scan pulled: the pin holds.
            "rules:\n  - name: served\n    images: [\"{}/served/*\"]\n    require_digest: true\n    signers:\n      keys: [ed25519.pub]\n",
            fixture.registry
        ),
    );
    // Admission requires the same trust policy, verified when a pod arrives: without a
    // verdict rule, so that what decides is the trust rule alone.
    let admission = write_policy(
        fixture,
        "served-admission",
        &format!(
            "version: 1\ndefault:\n  images:\n    allowed: {{patterns: [\"{}/served/*\"]}}\n    trust: {{}}\n",
            fixture.registry
        ),
    );
    let data_dir = fixture.work.join("server");
    let port = free_port();
    let log = fixture.work.join("server.log");
    let server = keep(
        Path::new(env!("CARGO_BIN_EXE_rempart")),
        &[
            "server".into(),
            "--data-dir".into(),
            data_dir.display().to_string(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
            "--trust-policy".into(),
            policy.display().to_string(),
            "--admission-policy".into(),
            admission.display().to_string(),
            "--insecure-registry".into(),
        ],
        &log,
    );
    fixture.keepers.lock().unwrap().push(server);
    wait_for_port(port, "rempart server", &log);
    let admin = std::fs::read_to_string(data_dir.join("admin-token")).unwrap();
    let admin = admin.trim();

    let decide = |image: &str| {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"containers": [{"name": "app", "image": image}]}});
        let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
            "uid": "7f1c2a9e-0000-4b7c-9a51-000000000001",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "name": "web", "namespace": "shop", "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:ci:deployer"},
            "object": pod, "oldObject": null, "dryRun": false}});
        let (status, answer) = support::request(
            port,
            "POST",
            "/admission/validate",
            None,
            review.to_string().as_bytes(),
        )
        .unwrap();
        assert_eq!(status, 200, "{answer}");
        answer["response"].clone()
    };
    let pinned_signed = format!("{}/served/signed@{signed_digest}", fixture.registry);
    let allowed = decide(&pinned_signed);
    assert_eq!(allowed["allowed"], true, "{allowed:#}");
    // Submitted by tag: the trust policy requires a digest, and the unsigned image no signer.
    let denied = decide(&unsigned);
    assert_eq!(denied["allowed"], false, "{denied:#}");
    let message = denied["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("ADM-IMAGE-UNTRUSTED")
            && message.contains(&unsigned_digest)
            && message.contains("signature"),
        "{message}"
    );
    // An image of a repository the admission policy does not allow is not verified at all.
    let elsewhere = decide(&format!("{}/other/app:1", fixture.registry));
    let message = elsewhere["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("ADM-IMAGE-REGISTRY") && message.contains("ADM-IMAGE-TRUST-UNKNOWN"),
        "{message}"
    );

    for (reference, digest, passes) in [
        (&signed, &signed_digest, true),
        (&unsigned, &unsigned_digest, false),
    ] {
        let (status, submitted) = support::request(
            port,
            "POST",
            "/v1/scans",
            Some(admin),
            json!({ "reference": reference }).to_string().as_bytes(),
        )
        .unwrap();
        assert_eq!(status, 202, "{submitted}");
        let id = submitted["scan"]["id"].as_str().unwrap().to_owned();
        assert!(
            support::eventually(std::time::Duration::from_mins(2), || {
                let (_, scan) =
                    support::request(port, "GET", &format!("/v1/scans/{id}"), Some(admin), b"")
                        .unwrap();
                assert_ne!(scan["state"], "failed", "{scan}");
                scan["state"] == "done"
            }),
            "the scan of {reference} did not finish: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        let (status, verdict) = support::request(
            port,
            "GET",
            &format!("/v1/images/{digest}/verdict"),
            Some(admin),
            b"",
        )
        .unwrap();
        assert_eq!(status, 200, "{verdict}");
        let (_, report) = support::request(
            port,
            "GET",
            &format!("/v1/images/{digest}/report"),
            Some(admin),
            b"",
        )
        .unwrap();
        assert_eq!(
            verdict["passed"], passes,
            "{reference}: {verdict:#}\n{report:#}"
        );
        assert_eq!(
            report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["id"] == "TRUST-UNSIGNED"),
            !passes,
            "{report:#}"
        );
    }
}

#[test]
fn signed_sboms_are_attached_and_required_by_type() {
    let fixture = fixture();
    let (reference, digest) = push_image(fixture, "sboms/app");
    let key = fixture.work.join("p256.pem");
    let policy = write_policy(
        fixture,
        "sboms",
        &format!(
            "rules:\n  - name: documented\n    images: [\"{}/sboms/*\"]\n    require_signature: false\n    signers:\n      keys: [p256.pub]\n    attestations:\n      - type: cyclonedx\n      - type: spdx\n",
            fixture.registry
        ),
    );
    let (code, report) = verify_json(&reference, &policy);
    assert_eq!(code, 1, "{report:#}");
    for format in ["cyclonedx", "spdx-json"] {
        let output = fixture.work.join(format!("sbom-{format}.json"));
        let (code, _, stderr) = rempart(&[
            "sbom",
            &reference,
            "--format",
            format,
            "--attest",
            "--key",
            key.to_str().unwrap(),
            "--insecure",
            "--output",
            output.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{stderr}");
        assert!(output.is_file());
    }
    let (code, report) = verify_json(&reference, &policy);
    assert_eq!(code, 0, "{report:#}");
    let types: Vec<&str> = report["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["verified"] == true)
        .map(|e| e["predicate_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["https://cyclonedx.org/bom", "https://spdx.dev/Document"],
        "{report:#}"
    );
    // The statement is about the digest the tag named when the SBOM was made.
    assert!(report["image"]["digest"] == digest.as_str());
    // Only images in a registry get attestations.
    let (code, _, stderr) = rempart(&[
        "sbom",
        "--input",
        fixture.work.join("sboms/app/clean").to_str().unwrap(),
        "--attest",
        "--key",
        key.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--attest attaches the SBOM to an image in a registry"),
        "{stderr}"
    );
}

#[test]
fn hostile_signature_artifacts_are_reported_not_trusted_and_bounded() {
    let fixture = fixture();
    let (reference, digest) = push_image(fixture, "hostile/app");
    let repository = repo(fixture, "hostile/app");
    let garbage =
        |media_type: &'static str, content: &[u8]| (media_type, content.to_vec(), BTreeMap::new());
    push_artifact(
        &repository,
        None,
        Some(&digest),
        vec![
            garbage("application/vnd.dev.sigstore.bundle.v0.3+json", b"{\"mediaType\": [["),
            garbage("application/vnd.dsse.envelope.v1+json", b"\xff\xfe not json"),
            garbage(
                "application/vnd.dsse.envelope.v1+json",
                br#"{"payloadType":"application/vnd.in-toto+json","payload":"!!!","signatures":[]}"#,
            ),
        ],
    );
    // More referrers than are read: the rest is said to be skipped, not silently dropped.
    for index in 0..66 {
        push_artifact(
            &repository,
            None,
            Some(&digest),
            vec![garbage(
                "application/vnd.oci.empty.v1+json",
                format!("{{\"n\":{index}}}").as_bytes(),
            )],
        );
    }
    let policy = write_policy(
        fixture,
        "hostile",
        &format!(
            "rules:\n  - name: signed\n    images: [\"{}/hostile/*\"]\n    signers:\n      keys: [p256.pub]\n",
            fixture.registry
        ),
    );
    let (code, report) = verify_json(&reference, &policy);
    assert_eq!(code, 1, "{report:#}");
    let reasons = reasons(&report);
    assert_eq!(reasons.len(), 3, "{report:#}");
    assert!(
        reasons[0].starts_with("the bundle does not parse"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("the DSSE envelope does not parse"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].starts_with("the DSSE envelope does not parse"),
        "{reasons:?}"
    );
    assert!(
        report["notes"].as_array().unwrap().iter().any(|note| note
            .as_str()
            .unwrap()
            .contains("only the first 64 were read")),
        "{report:#}"
    );
}

#[test]
fn admission_trust_rules_verify_images_in_their_registry_before_deciding() {
    let fixture = fixture();
    let (signed, signed_digest) = push_image(fixture, "admit/signed");
    cosign_sign(fixture, "admit/signed", &signed, &signed_digest, "p256");
    let (unsigned, unsigned_digest) = push_image(fixture, "admit/unsigned");
    let registry = &fixture.registry;
    let trust = write_policy(
        fixture,
        "admit-trust",
        &format!(
            "rules:\n  - name: admit\n    images: [\"{registry}/admit/*\"]\n    signers:\n      keys: [p256.pub]\n"
        ),
    );
    let admission = write_policy(
        fixture,
        "admit-admission",
        &format!(
            "version: 1\ndefault:\n  images:\n    allowed: {{patterns: [\"{registry}/admit/*\"]}}\n    trust: {{}}\n"
        ),
    );
    let pinned = format!("{registry}/admit/signed@{signed_digest}");
    let missing = format!("{registry}/admit/gone@sha256:{}", "0".repeat(64));
    let elsewhere = format!("ghcr.io/evil/miner@sha256:{}", "1".repeat(64));
    let manifests = fixture.work.join("admit-manifests.yaml");
    let pod = |name: &str, image: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  containers: [{{name: app, image: \"{image}\"}}]\n"
        )
    };
    std::fs::write(
        &manifests,
        [
            pod("signed", &pinned),
            pod("unsigned", &unsigned),
            pod("gone", &missing),
            pod("elsewhere", &elsewhere),
        ]
        .join("---\n"),
    )
    .unwrap();
    let admit = |extra: &[&str]| {
        let mut args = vec![
            "admit",
            manifests.to_str().unwrap(),
            "--policy",
            admission.to_str().unwrap(),
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        rempart(&args)
    };

    // The rule needs a trust policy: an error, not a silent pass or a blanket denial.
    let (code, _, stderr) = admit(&[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("admit-admission.yaml") && stderr.contains("--trust-policy"),
        "{stderr}"
    );

    let (code, stdout, stderr) = admit(&["--trust-policy", trust.to_str().unwrap(), "--insecure"]);
    assert_eq!(code, 1, "{stderr}\n{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let decision = |name: &str| {
        report["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| &o["decision"])
            .find(|d| d["object"]["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {report:#}"))
            .clone()
    };
    let denials = |name: &str| -> Vec<(String, String)> {
        decision(name)["denials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["code"].as_str().unwrap().to_owned(),
                    r["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(decision("signed")["allowed"], true, "{report:#}");
    let unsigned = denials("unsigned");
    assert_eq!(unsigned.len(), 1, "{unsigned:?}");
    assert_eq!(unsigned[0].0, "ADM-IMAGE-UNTRUSTED");
    // The tag was resolved and its digest verified; the message says which signer is missing.
    assert!(
        unsigned[0].1.starts_with(&unsigned_digest) && unsigned[0].1.contains("signature"),
        "{unsigned:?}"
    );
    let gone = denials("gone");
    assert_eq!(gone[0].0, "ADM-IMAGE-TRUST-UNKNOWN", "{gone:?}");
    assert!(gone[0].1.contains("could not be verified"), "{gone:?}");
    let elsewhere = denials("elsewhere");
    assert_eq!(
        elsewhere
            .iter()
            .map(|(c, _)| c.as_str())
            .collect::<Vec<_>>(),
        ["ADM-IMAGE-REGISTRY", "ADM-IMAGE-TRUST-UNKNOWN"],
        "{elsewhere:?}"
    );
    assert_eq!(report["allowed"], 1);
    assert_eq!(report["denied"], 3);

    // Signing the other image lets it in on the next run.
    cosign_sign(
        fixture,
        "admit/unsigned",
        &format!("{registry}/admit/unsigned:1"),
        &unsigned_digest,
        "p256",
    );
    let (_, stdout, _) = admit(&["--trust-policy", trust.to_str().unwrap(), "--insecure"]);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["allowed"], 2, "{report:#}");
}

#[test]
fn base_images_come_from_the_annotations_and_from_verified_provenance() {
    let fixture = fixture();
    let registry = &fixture.registry;
    // An image whose manifest names its base, as BuildKit's annotations do.
    let (_, plain_digest) = push_image(fixture, "based/annotated");
    let repository = repo(fixture, "based/annotated");
    let manifest: Value =
        serde_json::from_slice(&repository.manifest(&plain_digest).unwrap().unwrap().bytes)
            .unwrap();
    let annotated = |base: &str| {
        let mut manifest = manifest.clone();
        manifest["annotations"] = json!({
            "org.opencontainers.image.base.name": base,
            "org.opencontainers.image.base.digest": format!("sha256:{}", "b".repeat(64)),
        });
        let tag = format!("on-{}", rand_suffix());
        repository
            .push_manifest(
                &tag,
                "application/vnd.oci.image.manifest.v1+json",
                serde_json::to_vec(&manifest).unwrap(),
            )
            .unwrap();
        format!("{registry}/based/annotated:{tag}")
    };
    let on_alpine = annotated("docker.io/library/alpine:3.19");
    let on_ubuntu = annotated("docker.io/library/ubuntu:22.04");

    // An image built in two stages, its provenance (BuildKit's v0.2 shape) signed.
    let (built, built_digest) = push_image(fixture, "based/built");
    let hex = "c".repeat(64);
    let provenance = |key: &str| {
        envelope(
            fixture,
            key,
            &built_digest,
            "https://slsa.dev/provenance/v0.2",
            &json!({
                "builder": {"id": "https://github.com/acme/app/actions/runs/1"},
                "buildType": "https://mobyproject.org/buildkit@v1",
                "materials": [
                    {"uri": "pkg:docker/golang@1.22?platform=linux%2Famd64", "digest": {"sha256": hex}},
                    {"uri": "pkg:docker/alpine@3.19?platform=linux%2Famd64", "digest": {"sha256": hex}},
                    {"uri": "https://github.com/acme/app.git#main", "digest": {"sha1": "d"}},
                ],
            }),
        )
    };
    let policy = |name: &str, bases: &str| {
        write_policy(
            fixture,
            name,
            &format!(
                "rules:\n  - name: based\n    images: [\"{registry}/based/*\"]\n    require_signature: false\n    signers:\n      keys: [ed25519.pub]\n    base_images: [{bases}]\n"
            ),
        )
    };
    let alpine_only = policy("based-alpine", "\"docker.io/library/alpine:*\"");
    let base = |report: &Value| -> (bool, String) {
        let requirement = report["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "base image")
            .unwrap_or_else(|| panic!("{report:#}"));
        (
            requirement["met"].as_bool().unwrap(),
            requirement["detail"].as_str().unwrap().to_owned(),
        )
    };

    let (code, report) = verify_json(&on_alpine, &alpine_only);
    assert_eq!(code, 0, "{report:#}");
    assert!(
        base(&report)
            .1
            .contains("docker.io/library/alpine:3.19@sha256:"),
        "{report:#}"
    );
    let (code, report) = verify_json(&on_ubuntu, &alpine_only);
    assert_eq!(code, 1);
    assert_eq!(
        base(&report),
        (
            false,
            format!(
                "not on the allow-list: docker.io/library/ubuntu:22.04@sha256:{} (from the annotation)",
                "b".repeat(64)
            )
        )
    );

    // A provenance signed by an untrusted key is not read: nothing names the base.
    attach_envelope(
        &repo(fixture, "based/built"),
        &built_digest,
        provenance("other"),
    );
    let (code, report) = verify_json(&built, &alpine_only);
    assert_eq!(code, 1);
    assert!(
        base(&report).1.starts_with("the image names no base image"),
        "{report:#}"
    );
    // Verified, it names both stages' images: the builder stage's must be allowed too.
    attach_envelope(
        &repo(fixture, "based/built"),
        &built_digest,
        provenance("ed25519"),
    );
    let (code, report) = verify_json(&built, &alpine_only);
    assert_eq!(code, 1);
    assert_eq!(
        base(&report).1,
        format!(
            "not on the allow-list: docker.io/library/golang:1.22@sha256:{hex} (from the SLSA provenance)"
        )
    );
    let both = policy(
        "based-both",
        "\"docker.io/library/alpine:*\", \"docker.io/library/golang:1.2*\"",
    );
    let (code, report) = verify_json(&built, &both);
    assert_eq!(code, 0, "{report:#}");
    // The image scan reports the unmet requirement as its finding.
    let (code, stdout, _) = rempart(&[
        "image",
        &on_ubuntu,
        "--insecure",
        "--verify",
        alpine_only.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    assert!(stdout.contains("\"TRUST-BASE-IMAGE\""), "{stdout}");
}
