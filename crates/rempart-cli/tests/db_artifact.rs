//! `rempart db push` and `rempart db pull` against a real OCI registry (Debian's
//! `docker-registry`): the database travels as one artifact, signed when asked, and a pull
//! never replaces a working database with an older, wrong-schema, foreign or untrusted one.
//! A server given `--db-pull` takes it the same way, from the moment it starts.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use rempart_image::{RegistryOptions, RegistryRepository};
use rempart_vulndb::SCHEMA_VERSION;
use support::{
    eventually, free_port, generate_key_pair, keep, kept_work_dir, run, start_registry,
    wait_for_port,
};

/// One registry and one pair of signing keys for the whole test binary.
struct Fixture {
    registry: String,
    work: PathBuf,
    _keepers: Mutex<Vec<Child>>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (work, cleaner) = kept_work_dir();
        let (registry, process) = start_registry(&work);
        for name in ["release", "other"] {
            let p256 = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];
            generate_key_pair(&work, name, &p256);
        }
        Fixture {
            registry,
            work,
            _keepers: Mutex::new(vec![process, cleaner]),
        }
    })
}

/// A directory of the test's own inside the shared work directory.
fn own_dir(name: &str) -> PathBuf {
    let dir = fixture().work.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rempart(work: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args(args)
        .env("REMPART_CACHE_DIR", work.join("cache"))
        .env_remove("REMPART_DB")
        .output()
        .unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn sample_advisories() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rempart/data/default-advisories.zip")
}

fn build_database(work: &Path, name: &str) -> PathBuf {
    let db = work.join(name);
    ok(&rempart(
        work,
        &[
            "db",
            "import",
            "--db",
            db.to_str().unwrap(),
            sample_advisories().to_str().unwrap(),
        ],
    ));
    db
}

fn status(work: &Path, db: &Path) -> String {
    ok(&rempart(
        work,
        &["db", "status", "--db", db.to_str().unwrap()],
    ))
}

#[test]
fn a_database_travels_through_a_registry_and_never_goes_backwards() {
    let work = own_dir("travels");
    let registry = &fixture().registry;
    let older = build_database(&work, "older.sqlite");
    let reference = format!("{registry}/rempart/vulndb:1");
    let pushed = ok(&rempart(
        &work,
        &[
            "db",
            "push",
            &reference,
            "--db",
            older.to_str().unwrap(),
            "--insecure",
        ],
    ));
    assert!(
        pushed.contains(&format!("schema {SCHEMA_VERSION}")),
        "{pushed}"
    );

    // Pulled where there is none yet: the same database, byte for byte.
    let fresh = work.join("fresh/vuln.sqlite");
    ok(&rempart(
        &work,
        &[
            "db",
            "pull",
            &reference,
            "--db",
            fresh.to_str().unwrap(),
            "--insecure",
        ],
    ));
    assert_eq!(
        std::fs::read(&fresh).unwrap(),
        std::fs::read(&older).unwrap()
    );
    assert_eq!(
        status(&work, &fresh),
        status(&work, &older).replace("older.sqlite", "fresh/vuln.sqlite")
    );

    // The same build again: nothing downloaded, nothing replaced.
    let again = ok(&rempart(
        &work,
        &[
            "db",
            "pull",
            &reference,
            "--db",
            fresh.to_str().unwrap(),
            "--insecure",
        ],
    ));
    assert!(again.contains("nothing to do"), "{again}");

    // A newer database in place is not replaced by the older artifact, unless forced.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let newer = build_database(&work, "newer.sqlite");
    let before = std::fs::read(&newer).unwrap();
    let refused = rempart(
        &work,
        &[
            "db",
            "pull",
            &reference,
            "--db",
            newer.to_str().unwrap(),
            "--insecure",
        ],
    );
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("before the database in place"),
        "{message}"
    );
    assert_eq!(
        std::fs::read(&newer).unwrap(),
        before,
        "the database in place is untouched"
    );
    ok(&rempart(
        &work,
        &[
            "db",
            "pull",
            &reference,
            "--db",
            newer.to_str().unwrap(),
            "--insecure",
            "--force",
        ],
    ));
    assert_eq!(
        std::fs::read(&newer).unwrap(),
        std::fs::read(&older).unwrap()
    );

    // An artifact of another schema, or something else than a database, is refused.
    let repository = open_repository(&reference);
    let config = repository.push_blob(b"{}".to_vec()).unwrap();
    let layer = repository.push_blob(b"not a database".to_vec()).unwrap();
    let current = SCHEMA_VERSION.to_string();
    for (tag, artifact_type, schema, expected) in [
        (
            "schema2",
            "application/vnd.rempart.vulndb.v1",
            "2",
            "schema is version 2",
        ),
        (
            "image",
            "application/vnd.example.other",
            current.as_str(),
            "not a rempart vulnerability database",
        ),
        (
            "broken",
            "application/vnd.rempart.vulndb.v1",
            current.as_str(),
            "does not decompress",
        ),
    ] {
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": artifact_type,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
            "layers": [{"mediaType": "application/vnd.rempart.vulndb.layer.v1.sqlite+zstd", "digest": layer, "size": 14}],
            "annotations": {
                "dev.rempart.vulndb.schema-version": schema,
                "dev.rempart.vulndb.built-at": "4102444799",
            },
        });
        repository
            .push_manifest(
                tag,
                "application/vnd.oci.image.manifest.v1+json",
                serde_json::to_vec(&manifest).unwrap(),
            )
            .unwrap();
        let before = std::fs::read(&newer).unwrap();
        let refused = rempart(
            &work,
            &[
                "db",
                "pull",
                &format!("{registry}/rempart/vulndb:{tag}"),
                "--db",
                newer.to_str().unwrap(),
                "--insecure",
            ],
        );
        assert_eq!(refused.status.code(), Some(2), "{tag}");
        let message = String::from_utf8_lossy(&refused.stderr);
        assert!(message.contains(expected), "{tag}: {message}");
        assert_eq!(std::fs::read(&newer).unwrap(), before, "{tag}: untouched");
    }
    // Nothing left behind beside the database by the refused pulls.
    let leftovers: Vec<_> = std::fs::read_dir(&work)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".vuln-db-pull-")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn open_repository(reference: &str) -> RegistryRepository {
    let mut options = RegistryOptions::new(fixture().work.join("blobs"));
    options.insecure = true;
    RegistryRepository::for_reference(reference, &options, true)
        .unwrap()
        .0
}

fn push(work: &Path, db: &Path, reference: &str, key: Option<&str>) -> String {
    let key_path = key.map(|name| fixture().work.join(format!("{name}.pem")));
    let mut args = vec![
        "db",
        "push",
        reference,
        "--db",
        db.to_str().unwrap(),
        "--insecure",
    ];
    if let Some(path) = &key_path {
        args.extend(["--key", path.to_str().unwrap()]);
    }
    ok(&rempart(work, &args))
}

/// The digest `db push` printed (`pushed … to REF@sha256:…`).
fn pushed_digest(output: &str) -> String {
    let start = output.find("@sha256:").unwrap() + 1;
    output[start..start + 71].to_owned()
}

/// A trust policy trusting `key` for every repository under `prefix` of the test registry.
fn trust_policy(dir: &Path, prefix: &str, key: &str) -> PathBuf {
    let path = dir.join(format!("trust-{key}.yaml"));
    std::fs::write(
        &path,
        format!(
            "rules:\n  - name: vulnerability-database\n    images: [\"{}/{prefix}/**\"]\n    \
             signers:\n      keys: [{}]\n",
            fixture().registry,
            fixture().work.join(format!("{key}.pub")).display()
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_signed_database_is_taken_only_when_the_trust_policy_is_met() {
    let work = own_dir("signed");
    let registry = &fixture().registry;
    let db = build_database(&work, "vuln.sqlite");
    let reference = format!("{registry}/signed/vulndb:1");
    let pushed = push(&work, &db, &reference, Some("release"));
    let digest = pushed_digest(&pushed);
    let tag = format!("{}.sig", digest.replacen(':', "-", 1));
    assert!(pushed.contains(&format!("signed: {tag}")), "{pushed}");

    // The signature is cosign's: a simple-signing payload naming this digest, under the
    // `.sig` tag, its ECDSA signature in the layer annotation; openssl verifies it on its own.
    let repository = open_repository(&reference);
    let signatures: serde_json::Value =
        serde_json::from_slice(&repository.manifest(&tag).unwrap().unwrap().bytes).unwrap();
    let layer = &signatures["layers"][0];
    assert_eq!(
        layer["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    let payload = repository
        .blob(
            layer["digest"].as_str().unwrap(),
            layer["size"].as_i64().unwrap(),
            1 << 20,
        )
        .unwrap();
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        statement["critical"]["image"]["docker-manifest-digest"],
        digest.as_str()
    );
    assert_eq!(
        statement["critical"]["identity"]["docker-reference"],
        format!("{registry}/signed/vulndb")
    );
    assert_eq!(
        statement["critical"]["type"],
        "cosign container image signature"
    );
    let signature = base64::engine::general_purpose::STANDARD
        .decode(
            layer["annotations"]["dev.cosignproject.cosign/signature"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    std::fs::write(work.join("payload"), &payload).unwrap();
    std::fs::write(work.join("signature"), &signature).unwrap();
    let verified = run(Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(fixture().work.join("release.pub"))
        .arg("-signature")
        .arg(work.join("signature"))
        .arg(work.join("payload")));
    assert!(verified.contains("Verified OK"), "{verified}");

    // Pushing and signing the same build again adds nothing.
    let again = push(&work, &db, &reference, Some("release"));
    assert!(again.contains("already signed by this key"), "{again}");
    let still: serde_json::Value =
        serde_json::from_slice(&repository.manifest(&tag).unwrap().unwrap().bytes).unwrap();
    assert_eq!(still["layers"].as_array().unwrap().len(), 1);

    // Pulled with a policy that trusts the key: taken, and said why.
    let policy = trust_policy(&work, "signed", "release");
    let target = work.join("pulled/vuln.sqlite");
    let pull = |reference: &str, policy: &Path| {
        rempart(
            &work,
            &[
                "db",
                "pull",
                reference,
                "--db",
                target.to_str().unwrap(),
                "--insecure",
                "--trust-policy",
                policy.to_str().unwrap(),
            ],
        )
    };
    let taken = ok(&pull(&reference, &policy));
    assert!(
        taken.contains("trusted: rule vulnerability-database") && taken.contains("signed by key"),
        "{taken}"
    );
    assert_eq!(std::fs::read(&target).unwrap(), std::fs::read(&db).unwrap());
    std::fs::remove_file(&target).unwrap();

    // Unsigned, or signed by a key the policy does not trust: refused, nothing written.
    let unsigned = format!("{registry}/signed/unsigned:1");
    push(&work, &db, &unsigned, None);
    let stranger = format!("{registry}/signed/stranger:1");
    let pushed = push(&work, &db, &stranger, Some("other"));
    assert!(pushed.contains("signed: "), "{pushed}");
    for (reference, expected) in [
        (&unsigned, "no signature found"),
        (&stranger, "does not verify with any trusted key"),
    ] {
        let refused = pull(reference, &policy);
        assert_eq!(refused.status.code(), Some(2), "{reference}");
        let message = String::from_utf8_lossy(&refused.stderr);
        assert!(
            message.contains("not trusted by the trust policy") && message.contains(expected),
            "{reference}: {message}"
        );
        assert!(!target.exists(), "{reference}: nothing written");
    }
    // A repository no rule covers is refused by the policy's default.
    let elsewhere = format!("{registry}/elsewhere/vulndb:1");
    push(&work, &db, &elsewhere, Some("release"));
    let refused = pull(&elsewhere, &policy);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("no rule of the trust policy matches"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // A key that is not a key fails before anything is pushed.
    std::fs::write(work.join("not-a-key.pem"), "hello").unwrap();
    let bad = rempart(
        &work,
        &[
            "db",
            "push",
            &format!("{registry}/signed/badkey:1"),
            "--db",
            db.to_str().unwrap(),
            "--insecure",
            "--key",
            work.join("not-a-key.pem").to_str().unwrap(),
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("not-a-key.pem"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    assert!(
        open_repository(&format!("{registry}/signed/badkey:1"))
            .manifest("1")
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_server_pulls_its_database_at_start_and_on_schedule_and_only_a_trusted_one() {
    let work = own_dir("server");
    let registry = &fixture().registry;
    // A database already in place, built before the one the operators push.
    let in_place = build_database(&work, "in-place.sqlite");
    std::thread::sleep(Duration::from_millis(1100));
    let pushed_db = build_database(&work, "pushed.sqlite");
    let signed = format!("{registry}/fleet/vulndb:1");
    push(&work, &pushed_db, &signed, Some("release"));
    let unsigned = format!("{registry}/fleet/unsigned:1");
    push(&work, &pushed_db, &unsigned, None);
    let policy = trust_policy(&work, "fleet", "release");
    let expected = std::fs::read(&pushed_db).unwrap();

    // The update interval is an hour: what happens here happens at start.
    let arguments = |name: &str, reference: &str| -> (Vec<String>, PathBuf) {
        let data = work.join(name);
        let db = data.join("vuln.sqlite");
        let args = vec![
            "server".into(),
            "--data-dir".into(),
            data.display().to_string(),
            "--listen".into(),
            format!("127.0.0.1:{}", free_port()),
            "--db".into(),
            db.display().to_string(),
            "--db-pull".into(),
            reference.to_owned(),
            "--db-pull-trust-policy".into(),
            policy.display().to_string(),
            "--db-update-interval".into(),
            "1h".into(),
            "--db-check-interval".into(),
            "1s".into(),
            "--insecure-registry".into(),
        ];
        (args, db)
    };
    let start = |name: &str, reference: &str, existing: Option<&Path>| {
        let (args, db) = arguments(name, reference);
        if let Some(existing) = existing {
            std::fs::create_dir_all(db.parent().unwrap()).unwrap();
            std::fs::copy(existing, &db).unwrap();
        }
        let log = work.join(format!("{name}.log"));
        let child = keep(Path::new(env!("CARGO_BIN_EXE_rempart")), &args, &log);
        let port: u16 = args[4].rsplit(':').next().unwrap().parse().unwrap();
        wait_for_port(port, name, &log);
        (child, db, log)
    };
    let log_says = |log: &Path, words: &[&str]| {
        std::fs::read_to_string(log).is_ok_and(|text| words.iter().all(|w| text.contains(w)))
    };

    // A replica with no database yet pulls before it serves.
    let (first, first_db, first_log) = start("first", &signed, None);
    assert_eq!(std::fs::read(&first_db).unwrap(), expected);
    assert!(
        log_says(
            &first_log,
            &[
                "pulled before start",
                "trusted: rule vulnerability-database"
            ]
        ),
        "{}",
        std::fs::read_to_string(&first_log).unwrap()
    );

    // A replica with a database pulls at once, then matches every stored image again.
    let (second, second_db, second_log) = start("second", &signed, Some(&in_place));
    let replaced = eventually(Duration::from_mins(1), || {
        std::fs::read(&second_db).is_ok_and(|bytes| bytes == expected)
            && log_says(&second_log, &["re-evaluated every stored image"])
    });
    assert!(
        replaced
            && log_says(
                &second_log,
                &["vulnerability database pulled", "trusted: rule"]
            ),
        "{}",
        std::fs::read_to_string(&second_log).unwrap()
    );

    // An unsigned artifact is never put in place: the database there stays, and a replica
    // with none does not start.
    let (third, third_db, third_log) = start("third", &unsigned, Some(&in_place));
    let refused = eventually(Duration::from_mins(1), || {
        log_says(&third_log, &["scheduled database pull failed"])
    });
    assert!(
        refused && log_says(&third_log, &["no signature found"]),
        "{}",
        std::fs::read_to_string(&third_log).unwrap()
    );
    assert_eq!(
        std::fs::read(&third_db).unwrap(),
        std::fs::read(&in_place).unwrap()
    );
    let (args, never_db) = arguments("never", &unsigned);
    let never = Command::new(env!("CARGO_BIN_EXE_rempart"))
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(never.status.code(), Some(2));
    let message = String::from_utf8_lossy(&never.stderr);
    assert!(
        message.contains("pulling it from") && message.contains("no signature found"),
        "{message}"
    );
    assert!(!never_db.exists());
    drop((first, second, third));
}
