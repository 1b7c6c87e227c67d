//! `opcity consult …` end to end, through the built binary: a question's
//! JSON, a refused question, and the evaluation set meeting its targets.

use serde_json::Value;
use std::process::{Command, Output};

fn pack_dir() -> String {
    format!(
        "{}/../../policies/shenzhen-2026",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn opcity(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opcity"))
        .args(args)
        .output()
        .expect("runs opcity")
}

#[test]
fn a_question_prints_the_consultations_json() {
    let pack = pack_dir();
    let out = opcity(&[
        "consult",
        "--pack",
        &pack,
        "--lang",
        "en",
        "Can I get both the housing subsidy and the cheap apartment?",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["abstained"], false, "{body}");
    let ids: Vec<&str> = body["citations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["clause_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"shenzhen-2026/m4.2"), "{body}");
    assert!(body["next_steps"].as_array().is_some_and(|s| !s.is_empty()));

    let out = opcity(&["consult", "--pack", &pack, "怎么办理护照"]);
    assert!(out.status.success());
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["abstained"], true, "{body}");

    let out = opcity(&["consult", "--pack", &pack, "<script>alert(1)</script>"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("markup"));
}

#[test]
fn the_evaluation_set_meets_its_targets_through_the_binary() {
    let pack = pack_dir();
    let file = format!("{pack}/evaluation/consult.yaml");
    let out = opcity(&["consult", "eval", "--pack", &pack, &file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["answerable"].as_u64().unwrap() >= 150, "{report}");
    assert!(report["out_of_scope"].as_u64().unwrap() >= 30, "{report}");
    assert!(report["recall_at_3"].as_f64().unwrap() >= 0.95, "{report}");
    assert!(
        report["abstention_rate"].as_f64().unwrap() >= 0.95,
        "{report}"
    );
    assert_eq!(
        report["wrong_citation_rate"].as_f64(),
        Some(0.0),
        "{report}"
    );
}
