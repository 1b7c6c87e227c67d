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
        .env_remove("OPCITY_PACK_DIR")
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

/// `opcity serve` as a child process in `dir`, stopped when dropped.
struct Serve {
    child: std::process::Child,
    base: String,
}

impl Serve {
    async fn start(dir: &Path, extra: &[&str]) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let url = format!("sqlite://{}", dir.join("serve.db").display());
        let child = Command::new(env!("CARGO_BIN_EXE_opcity"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .args(["--database-url", &url])
            .args(extra)
            .current_dir(dir)
            .env_remove("OPCITY_PACK_DIR")
            .env_remove("OPCITY_DATABASE_URL")
            .env("OPCITY_LOG_LEVEL", "error")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start opcity serve");
        let server = Serve {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..600 {
            if let Ok(r) = reqwest::get(format!("{}/readyz", server.base)).await
                && r.status() == 200
            {
                return server;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("opcity serve did not become ready");
    }

    async fn get(&self, path: &str) -> serde_json::Value {
        let response = reqwest::get(format!("{}{path}", self.base)).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Started outside the checkout with no pack named, `serve` runs on the pack
/// built into the binary, clauses included; `--pack DIR` serves that
/// directory instead; a pack that is neither is refused by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_anywhere_on_the_built_in_pack() {
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start(dir.path(), &[]).await;
    let catalogue = server.get("/api/v1/programmes").await;
    assert_eq!(catalogue["pack"]["id"], "shenzhen-2026");
    // Shenzhen's twenty and Guangdong's compute voucher.
    assert_eq!(catalogue["programmes"].as_array().unwrap().len(), 21);
    let answer = server
        .get("/api/v1/consult?lang=en&q=Can%20I%20get%20both%20the%20housing%20subsidy%20and%20the%20cheap%20apartment%3F")
        .await;
    assert_eq!(answer["abstained"], false, "{answer}");
    assert!(
        answer["citations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["clause_id"] == "shenzhen-2026/m4.2"),
        "{answer}"
    );
    // SIGHUP (a reload elsewhere) leaves a built-in pack's server running.
    let hangup = Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(hangup.success());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        server.get("/api/v1/programmes").await["pack"]["id"],
        "shenzhen-2026"
    );
    drop(server);

    // A copy of the pack under review, with its own version.
    let review = dir.path().join("review-pack");
    let checkout = format!(
        "{}/../../policies/shenzhen-2026",
        env!("CARGO_MANIFEST_DIR")
    );
    let copied = Command::new("cp")
        .args(["-r", &checkout, &review.display().to_string()])
        .status()
        .unwrap();
    assert!(copied.success());
    let manifest = review.join("pack.yaml");
    let yaml = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        yaml.replace("version: \"2026.1.0\"", "version: \"2026.1.1-review\""),
    )
    .unwrap();
    let server = Serve::start(dir.path(), &["--pack", "review-pack"]).await;
    let catalogue = server.get("/api/v1/programmes").await;
    assert_eq!(catalogue["pack"]["version"], "2026.1.1-review");
    drop(server);

    let out = opcity(dir.path(), &["serve", "--pack", "shenzen-2026"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(
            "shenzen-2026 is neither a pack directory nor a pack built into opcity (built in: guangdong-2026, hubei-2026, jinan-2026, longgang-2026, shandong-2026, shenzhen-2026, wuhan-2026)"
        ),
        "{}",
        text(&out.stderr)
    );
}
