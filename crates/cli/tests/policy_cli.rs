//! `opcity policy …` end to end, through the built binary.

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn pack_dir() -> String {
    format!(
        "{}/../../policies/shenzhen-2026",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn opcity(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_opcity"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs opcity");
    let mut input = child.stdin.take().unwrap();
    let text = stdin.to_owned();
    // Write on another thread: a large input must not deadlock on a full
    // stdout pipe.
    let writer = std::thread::spawn(move || input.write_all(text.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    output
}

fn eval(extra: &[&str], stdin: &str) -> Output {
    let pack = pack_dir();
    let mut args = vec!["policy", "eval", "--pack", &pack, "--as-of", "2026-06-01"];
    args.extend_from_slice(extra);
    args.push("-");
    opcity(&args, stdin)
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const FOUNDER: &str =
    r#"{"person":{"id":"a","birth_date":"1998-01-01","works_in_ai":true,"is_founder":true}}"#;
const NOBODY: &str = r#"{"person":{"id":"b"}}"#;

fn result<'v>(case: &'v Value, programme: &str) -> &'v Value {
    case["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["programme"] == programme)
        .unwrap_or_else(|| panic!("no {programme} in {case}"))
}

#[test]
fn evaluates_an_array_in_order() {
    let output = eval(&[], &format!("[{FOUNDER}, {NOBODY}]"));
    assert!(output.status.success(), "{}", stderr(&output));
    let json = stdout_json(&output);
    let cases = json.as_array().unwrap();
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0]["id"], "a");
    assert_eq!(cases[1]["id"], "b");
    assert_eq!(cases[0]["as_of"], "2026-06-01");
    // Shenzhen's twenty and Guangdong's compute voucher.
    assert_eq!(cases[0]["results"].as_array().unwrap().len(), 21);
    let subsidy = result(&cases[0], "sz.housing.subsidy");
    assert_eq!(subsidy["status"], "eligible");
    assert_eq!(subsidy["amount_fen"], 3_000_000);
    assert!(subsidy["reasons"].as_array().is_some_and(|r| !r.is_empty()));
    assert_eq!(
        result(&cases[1], "sz.housing.subsidy")["status"],
        "undetermined"
    );
    assert_eq!(
        result(&cases[1], "sz.voucher.model")["status"],
        "ineligible"
    );
}

#[test]
fn a_single_case_gives_an_array_of_one() {
    let output = eval(&[], FOUNDER);
    assert!(output.status.success(), "{}", stderr(&output));
    let json = stdout_json(&output);
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["id"], "a");
}

#[test]
fn an_empty_array_gives_an_empty_array() {
    let output = eval(&[], "[]");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout_json(&output), serde_json::json!([]));
}

#[test]
fn jsonl_brief_streams_one_line_per_case_without_reasons() {
    let output = eval(
        &["--format", "jsonl", "--detail", "brief"],
        &format!("{FOUNDER}\n\n{NOBODY}\n"),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[1]["id"], "b");
    let hukou = result(&lines[1], "sz.talent.hukou_subsidy");
    assert!(hukou.get("reasons").is_none());
    // The explanation-only extensions go too: `parameters`, a null `note`.
    assert!(hukou.get("parameters").is_none());
    assert!(hukou.get("note").is_none());
    assert_eq!(
        hukou["missing_facts"],
        serde_json::json!([
            "person.highest_degree",
            "person.hukou_shenzhen_since",
            "person.works_in_ai"
        ])
    );
}

#[test]
fn a_bad_case_is_reported_in_place_and_the_rest_still_run() {
    let bad = r#"{"person":{"id":"c","birth_date":"1998-02-30"}}"#;
    let output = eval(&[], &format!("[{FOUNDER}, {bad}, {NOBODY}]"));
    assert!(!output.status.success());
    let json = stdout_json(&output);
    assert_eq!(json[0]["id"], "a");
    assert!(json[0]["results"].is_array());
    assert_eq!(
        json[1],
        serde_json::json!({"id": "c", "error": {
            "field": "person.birth_date",
            "problem": "`1998-02-30` is not a valid date (no such day)"
        }})
    );
    assert_eq!(json[2]["id"], "b");
    let err = stderr(&output);
    assert!(
        err.contains("case 2") && err.contains("person.birth_date"),
        "{err}"
    );
}

#[test]
fn bad_jsonl_lines_name_their_line() {
    let input = format!(
        "{FOUNDER}\n{}\nnot json\n{NOBODY}\n",
        r#"{"enterprise":{"uscc":"91440300708461136U"}}"#
    );
    let output = eval(&["--format", "jsonl"], &input);
    assert!(!output.status.success());
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[1]["error"]["field"], "enterprise.uscc");
    assert_eq!(lines[2]["error"]["field"], "case");
    assert_eq!(lines[2]["id"], Value::Null);
    assert_eq!(lines[3]["id"], "b");
    let err = stderr(&output);
    assert!(
        err.contains("case 2 (line 2)") && err.contains("case 3 (line 3)"),
        "{err}"
    );
}

#[test]
fn input_that_is_not_json_fails_with_line_and_column() {
    let output = eval(&[], "[\n  {\"person\": {}},\n  oops\n]");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let err = stderr(&output);
    assert!(err.contains("line 3 column 3"), "{err}");
}

#[test]
fn large_jsonl_batches_keep_input_order() {
    // More than one chunk, so order across chunks is exercised too.
    let n = 5000;
    let input: String = (0..n)
        .map(|i| format!("{{\"person\":{{\"id\":\"p{i}\",\"works_in_ai\":true}}}}\n"))
        .collect();
    let output = eval(&["--format", "jsonl", "--detail", "brief"], &input);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    let ids: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let expected: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
    assert_eq!(ids, expected);
}

#[test]
fn check_summarises_the_pack() {
    let output = opcity(&["policy", "check", &pack_dir()], "");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("pack shenzhen-2026 version "), "{text}");
    assert!(
        text.contains("chain: guangdong-2026 2026.1.0 → shenzhen-2026 "),
        "{text}"
    );
    // The plan's twenty, then the one inherited from Guangdong's.
    assert!(text.contains("21 programmes:"), "{text}");
    assert!(text.contains("sz.collab.consortium"), "{text}");
    assert!(
        text.contains("gd.voucher.compute [voucher, enterprise, measure 0, decided by municipal, from guangdong-2026]"),
        "{text}"
    );
    assert!(
        text.contains(
            "gd_startup_stage_years (years): 3 since 2026-03-16 [from guangdong-2026] FLAGGED: "
        ),
        "{text}"
    );
    assert!(
        text.contains("youth_max_age (years): 35 since 2026-01-01"),
        "{text}"
    );
}

/// Two packs compared on a date, as JSON, with diff(1)'s exit status.
#[test]
fn diff_lists_what_a_district_adds_to_its_city() {
    let args = [
        "policy",
        "diff",
        "shenzhen-2026",
        "longgang-2026",
        "--as-of",
        "2026-06-01",
    ];
    let output = opcity(&args, "");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json = stdout_json(&output);
    assert_eq!(json["as_of"], "2026-06-01");
    assert_eq!(json["b"][2]["id"], "longgang-2026");
    assert_eq!(
        json["programmes"]["only_in_b"],
        serde_json::json!(["lg.openclaw.project", "lg.voucher.training_topup"])
    );
    assert_eq!(json["programmes"]["changed"], serde_json::json!([]));
    assert_eq!(json["parameters"]["only_in_a"], serde_json::json!([]));

    let same = opcity(&["policy", "diff", "wuhan-2026", "wuhan-2026"], "");
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    let missing = opcity(&["policy", "diff", "wuhan-2026", "/nonexistent/pack"], "");
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn test_runs_the_pack_tests() {
    let output = opcity(&["policy", "test", &pack_dir()], "");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let last = text.lines().last().unwrap();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
}

#[test]
fn a_pack_that_does_not_load_fails_check() {
    let empty = tempfile::tempdir().unwrap();
    let output = opcity(
        &["policy", "check", &empty.path().display().to_string()],
        "",
    );
    assert!(!output.status.success());
    assert!(stderr(&output).contains("pack.yaml"), "{}", stderr(&output));

    let output = opcity(&["policy", "check", "/nonexistent/pack"], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("/nonexistent/pack is neither a pack directory nor a pack built into opcity (built in: guangdong-2026, hubei-2026, jinan-2026, longgang-2026, shandong-2026, shenzhen-2026, wuhan-2026)"),
        "{}",
        stderr(&output)
    );
}

/// The tests run in the crate's folder, where no `shenzhen-2026` directory
/// is: the id names the pack compiled into the binary.
#[test]
fn a_built_in_pack_is_named_by_its_id() {
    let output = opcity(&["policy", "test", "shenzhen-2026"], "");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{text}");
    assert!(
        text.lines().last().unwrap().ends_with(" passed, 0 failed"),
        "{text}"
    );
    let output = opcity(&["policy", "check", "shenzhen-2026"], "");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(text.starts_with("pack shenzhen-2026 version "), "{text}");
}

/// `policy whatif` over JSON Lines: a founder of 38 becomes young when the
/// age limit rises to 40; a bad line is reported by line and left out of
/// the totals (exit 1); settings that name no parameter or give a value of
/// the wrong type are refused by name (exit 2).
#[test]
fn whatif_prints_baseline_scenario_delta_and_districts() {
    let founder_38 = r#"{"person":{"id":"a","birth_date":"1988-01-01","works_in_ai":true,"is_founder":true,"highest_degree":"master","degree_date":"2023-06-30","overseas_degree":false,"hukou_shenzhen_since":null,"kunpeng_selected":false,"high_level_talent":false},"enterprise":{"district":"nanshan","registered_date":"2026-01-10","ai_business":true,"in_opc_community":true,"size":"micro","gov_deployed_product":false,"demonstration_project":false,"consortium_lead":false}}"#;
    let no_enterprise =
        r#"{"person":{"id":"b","birth_date":"1998-01-01","works_in_ai":true,"is_founder":true}}"#;
    let bad = r#"{"person":{"id":"c","nickname":"x"}}"#;
    let input = format!("{founder_38}\n{no_enterprise}\n\n{bad}\n");
    let whatif = |settings: &[&str]| {
        let mut args = vec![
            "policy",
            "whatif",
            "--pack",
            "shenzhen-2026",
            "--as-of",
            "2026-06-01",
        ];
        for s in settings {
            match s.strip_prefix("when ") {
                Some(change) => args.extend(["--when", change]),
                None => args.extend(["--set", s]),
            }
        }
        args.push("-");
        opcity(&args, &input)
    };

    let out = whatif(&["youth_max_age=40"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("case 3 (line 4) id c: person.nickname"),
        "{}",
        stderr(&out)
    );
    let body = stdout_json(&out);
    assert_eq!(body["changed_cases"], 1, "{body}");
    let subsidy = |part: &str| body[part]["sz.housing.subsidy"].clone();
    // The founder of 28 had it already.
    assert_eq!(subsidy("baseline")["eligible"], 1, "{body}");
    assert_eq!(subsidy("scenario")["eligible"], 2, "{body}");
    assert_eq!(subsidy("delta")["eligible"], 1, "{body}");
    let monthly = subsidy("delta")["monthly_total_fen"].as_i64().unwrap();
    assert!(monthly > 0, "{body}");
    assert_eq!(subsidy("delta")["amount_fen"], monthly, "{body}");
    for field in [
        "eligible",
        "maybe",
        "amount_fen",
        "ceiling_fen",
        "monthly_total_fen",
    ] {
        assert!(subsidy("baseline").get(field).is_some(), "{field}: {body}");
    }
    // Only the case with an enterprise is counted by district.
    let districts: Vec<&String> = body["by_district"].as_object().unwrap().keys().collect();
    assert_eq!(districts, ["nanshan"], "{body}");
    assert_eq!(
        body["by_district"]["nanshan"]["sz.housing.subsidy"],
        subsidy("delta")
    );
    // The founder of 38 gains, and is the example.
    let shift = &body["shifts"]["sz.housing.subsidy"];
    assert_eq!(shift["gainers"], 1, "{body}");
    assert_eq!(shift["examples"][0]["id"], "a", "{body}");
    assert_eq!(shift["examples"][0]["before"]["status"], "ineligible");
    assert_eq!(body["gaining_cases"], 1, "{body}");

    // A condition rewritten instead: the same founder, by waiving the age.
    let waived = stdout_json(&whatif(&["when sz.housing.subsidy:young=true"]));
    assert_eq!(waived["changed_cases"], 1, "{waived}");
    assert_eq!(
        waived["delta"]["sz.housing.subsidy"],
        subsidy("delta"),
        "{waived}"
    );

    for (setting, refusal) in [
        (
            "youth_max_agee=40",
            "`youth_max_agee` is not a parameter of pack shenzhen-2026",
        ),
        (
            "housing_subsidy_monthly_fen=2500.50",
            "housing_subsidy_monthly_fen takes a whole number of fen",
        ),
        (
            "when sz.housing.subsidy:old=true",
            "--when programme sz.housing.subsidy has no condition `old`",
        ),
        (
            "when sz.housing.subsidy=true",
            "is not PROGRAMME:CONDITION=EXPRESSION",
        ),
        (
            "when sz.housing.subsidy:young=person.nickname",
            "--when `person.nickname`:",
        ),
    ] {
        let out = whatif(&[setting]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains(refusal), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
}
