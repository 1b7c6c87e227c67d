//! `opcity import` and `opcity export` through the built binary: a dry run
//! reports without writing (exit 0), a file with problems writes nothing
//! (exit 1, the report naming row and column), a clean file is written
//! with the command line's own authority or an account's, and an export
//! comes back as records on file.

use std::process::{Command, Output};

struct Cli {
    dir: std::path::PathBuf,
    url: String,
}

impl Cli {
    fn new() -> Cli {
        let dir = std::env::temp_dir().join(format!("opcity-import-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Cli {
            url: format!("sqlite://{}?mode=rwc", dir.join("cli.db").display()),
            dir,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_opcity"))
            .args(args)
            .args(["--database-url", &self.url])
            .current_dir(&self.dir)
            .env_remove("OPCITY_PACK_DIR")
            .env_remove("OPCITY_DATABASE_URL")
            .output()
            .expect("runs opcity")
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

fn report(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn files_are_checked_written_whole_and_exported() {
    let cli = Cli::new();
    assert!(cli.run(&["migrate"]).status.success());
    let id = |n: u32| {
        let first17 = format!("44030519900101{n:03}");
        let check = opcity_domain::resident_id::check_char(first17.as_bytes());
        format!("{first17}{check}")
    };
    let bad = cli.file(
        "bad.csv",
        &format!("full_name,resident_id\nLin,{}\n,{}\n", id(1), id(2)),
    );
    let out = cli.run(&["import", "persons", &bad, "--dry-run"]);
    assert!(out.status.success(), "a dry run only reports");
    let json = report(&out);
    assert_eq!(json["problem_count"], 1, "{json}");
    assert_eq!(json["problems"][0]["row"], 3);
    assert_eq!(json["problems"][0]["column"], "A");
    assert_eq!(json["problems"][0]["code"], "required");
    let out = cli.run(&["import", "persons", &bad]);
    assert_eq!(out.status.code(), Some(1), "nothing written");
    assert_eq!(report(&out)["written"], false);

    let good = cli.file(
        "good.csv",
        &format!("姓名,居民身份证号码\n林一,{}\n陈二,{}\n", id(1), id(2)),
    );
    let out = cli.run(&["import", "persons", &good]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = report(&out);
    assert_eq!(json["written"], true);
    assert_eq!(json["created"].as_array().map(Vec::len), Some(2));

    let export = cli.dir.join("persons.xlsx").display().to_string();
    let out = cli.run(&["export", "persons", &export, "--lang", "en"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli.run(&["import", "persons", &export, "--dry-run"]);
    let codes: Vec<String> = report(&out)["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_owned())
        .collect();
    // The export's numbers are masked: refused by name, never imported.
    assert_eq!(codes, ["masked_resident_id", "masked_resident_id"]);

    let out = cli.run(&["import", "persons", &good, "--as", "nobody"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such account"));
    std::fs::remove_dir_all(&cli.dir).ok();
}
