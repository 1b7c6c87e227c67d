//! `opcity vouchers expire` and `opcity vouchers reconcile` through the built
//! binary, on a fresh SQLite database.

use std::process::Command;

#[test]
fn expire_and_reconcile_run_on_a_fresh_database() {
    let dir = std::env::temp_dir().join(format!("opcity-vouchers-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pack = format!(
        "{}/../../policies/shenzhen-2026",
        env!("CARGO_MANIFEST_DIR")
    );
    let url = format!("sqlite://{}", dir.join("cli.db").display());
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_opcity"))
            .args(args)
            .args(["--database-url", &url])
            .current_dir(&dir)
            .env("OPCITY_PACK_DIR", &pack)
            .env_remove("OPCITY_DATABASE_URL")
            .output()
            .expect("runs opcity")
    };
    let expire = run(&["vouchers", "expire"]);
    let out = String::from_utf8_lossy(&expire.stdout);
    assert!(
        expire.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&expire.stderr)
    );
    assert!(
        out.contains("voided 0 expired holds; expired 0 vouchers"),
        "{out}"
    );
    let reconcile = run(&["vouchers", "reconcile"]);
    let out = String::from_utf8_lossy(&reconcile.stdout);
    assert!(reconcile.status.success(), "{out}");
    assert!(
        out.contains("voucher ledger reconciled: 0 accounts, 0 transfers"),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
