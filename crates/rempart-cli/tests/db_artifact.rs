//! `rempart db push` and `rempart db pull` against a real OCI registry (Debian's
//! `docker-registry`): the database travels as one artifact, and a pull never replaces a
//! working database with an older, wrong-schema or foreign one.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rempart_image::{RegistryOptions, RegistryRepository};
use support::{kept_work_dir, start_registry};

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
    let (work, _cleaner) = kept_work_dir();
    let (registry, _process) = start_registry(&work);
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
    assert!(pushed.contains("schema 3"), "{pushed}");

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
    let mut options = RegistryOptions::new(work.join("blobs"));
    options.insecure = true;
    let (repository, _) = RegistryRepository::for_reference(&reference, &options, true).unwrap();
    let config = repository.push_blob(b"{}".to_vec()).unwrap();
    let layer = repository.push_blob(b"not a database".to_vec()).unwrap();
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
            "3",
            "not a rempart vulnerability database",
        ),
        (
            "broken",
            "application/vnd.rempart.vulndb.v1",
            "3",
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
