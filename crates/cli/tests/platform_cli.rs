//! The platform commands through the built binary: migrate, create-user,
//! demo refusal on a non-empty database, and `audit verify` catching a
//! tampered and a deleted entry.

use opcity_store::Store;
use opcity_store::sea_orm::ConnectionTrait;
use std::path::Path;
use std::process::{Command, Output};

fn opcity(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opcity"))
        .args(args)
        .current_dir(dir)
        .env(
            "OPCITY_PACK_DIR",
            format!(
                "{}/../../policies/shenzhen-2026",
                env!("CARGO_MANIFEST_DIR")
            ),
        )
        .env("OPCITY_LOG_LEVEL", "warn")
        .output()
        .expect("runs opcity")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_names_tampered_and_deleted_entries() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cli.db").display());
    let db = ["--database-url", url.as_str()];

    let out = opcity(dir.path(), &[&["migrate"][..], &db].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    for name in ["alice", "bob.reviewer", "carol"] {
        let mut args = vec![
            "admin",
            "create-user",
            "--username",
            name,
            "--role",
            "auditor",
        ];
        args.extend_from_slice(&db);
        let out = opcity(dir.path(), &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("password (shown once): "));
    }
    let bad_role = opcity(
        dir.path(),
        &[
            &[
                "admin",
                "create-user",
                "--username",
                "dave",
                "--role",
                "king",
            ][..],
            &db,
        ]
        .concat(),
    );
    assert!(!bad_role.status.success());

    let out = opcity(dir.path(), &[&["audit", "verify"][..], &db].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("audit log intact: 3 entries verified"),
        "{}",
        text(&out.stdout)
    );

    // Demo data goes only into an empty database.
    let out = opcity(dir.path(), &[&["demo"][..], &db].concat());
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("already holds data"));

    // Someone with database access edits entry 2 and deletes entry 3.
    let store = Store::connect(&url).await.unwrap();
    let conn = store.db();
    conn.execute_unprepared("DROP TRIGGER audit_log_no_update")
        .await
        .unwrap();
    conn.execute_unprepared("DROP TRIGGER audit_log_no_delete")
        .await
        .unwrap();
    conn.execute_unprepared("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
        .await
        .unwrap();
    conn.execute_unprepared("DELETE FROM audit_log WHERE seq = 3")
        .await
        .unwrap();
    store.close().await.unwrap();

    let out = opcity(dir.path(), &[&["audit", "verify"][..], &db].concat());
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stderr);
    assert!(report.contains("TAMPERED"), "{report}");
    assert!(
        report.contains(r#"{"problem":"altered","seq":2}"#),
        "{report}"
    );
    assert!(report.contains(r#""problem":"head_mismatch""#), "{report}");
}
