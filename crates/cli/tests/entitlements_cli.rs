//! `opcity entitlements recheck` through the built binary, on the demo
//! data: it prints the run as JSON, and the demo's voucher ledger (pools
//! funded for every voucher programme, vouchers issued, held and captured)
//! reconciles with its budgets.

use std::process::Command;

#[test]
fn recheck_prints_its_run_and_the_demo_reconciles() {
    let dir = std::env::temp_dir().join(format!("opcity-entitlements-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("cli.db").display());
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_opcity"))
            .args(args)
            .args(["--database-url", &url])
            .current_dir(&dir)
            .env_remove("OPCITY_PACK_DIR")
            .env_remove("OPCITY_DATABASE_URL")
            .output()
            .expect("runs opcity");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{args:?}: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    run(&["demo"]);
    let out = run(&["entitlements", "recheck", "--as-of", "2026-12-06"]);
    let json: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!(json["as_of"], "2026-12-06");
    for key in [
        "checked",
        "still_eligible",
        "flagged",
        "already_flagged",
        "kept_by_reviewer",
    ] {
        assert!(json[key].is_u64(), "{key} in {json}");
    }
    assert_eq!(
        json["checked"].as_u64(),
        Some(json["still_eligible"].as_u64().unwrap() + json["flagged"].as_u64().unwrap()),
        "{json}"
    );
    let reconciled = run(&["vouchers", "reconcile"]);
    assert!(
        reconciled.contains("voucher ledger reconciled"),
        "{reconciled}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
