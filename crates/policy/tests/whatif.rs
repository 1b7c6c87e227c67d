//! What-if simulation against an oracle: a scenario set with `--set` must
//! come to what the same population gives under a pack whose YAML was
//! edited to hold those values, counted here case by case from the results'
//! JSON; by programme, by district and in the number of changed cases.

use crate::population::population;
use chrono::NaiveDate;
use opcity_policy::{Detail, Pack, Setting, SettingError, WhatIf, whatif_jsonl};
use serde_json::{Map, Value, json};
use std::path::PathBuf;

fn pack_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies/shenzhen-2026")
}

const AS_OF: &str = "2026-06-01";

fn as_of() -> NaiveDate {
    AS_OF.parse().unwrap()
}

/// The pack's own files, with each `(parameter, value)` given a value from
/// `AS_OF` on by editing its YAML.
fn edited(settings: &[(&str, &str)]) -> Pack {
    let mut sources = Vec::new();
    for sub in ["parameters", "programmes", "tests"] {
        for entry in std::fs::read_dir(pack_dir().join(sub)).unwrap() {
            let path = entry.unwrap().path();
            let name = format!("{sub}/{}", path.file_name().unwrap().to_string_lossy());
            sources.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    sources.push((
        "pack.yaml".into(),
        std::fs::read_to_string(pack_dir().join("pack.yaml")).unwrap(),
    ));
    for (name, value) in settings {
        let (_, text) = sources
            .iter_mut()
            .find(|(_, t)| {
                t.starts_with(&format!("{name}:\n")) || t.contains(&format!("\n{name}:\n"))
            })
            .unwrap_or_else(|| panic!("{name} is in some parameters file"));
        let at = text.find(&format!("{name}:\n")).unwrap();
        let values = at + text[at..].find("  values:\n").unwrap() + "  values:\n".len();
        text.insert_str(values, &format!("    \"{AS_OF}\": {value}\n"));
    }
    Pack::from_sources_with(sources, &crate::shipped::rules).expect("the edited pack loads")
}

/// The totals of one programme's result, counted from its JSON.
fn count(into: &mut Map<String, Value>, result: &Value, sign: i64) {
    let add = |into: &mut Map<String, Value>, key: &str, n: i64| {
        let old = into.get(key).and_then(Value::as_i64).unwrap_or(0);
        into.insert(key.into(), json!(old + sign * n));
    };
    let fen = |key: &str| result[key].as_i64().unwrap_or(0);
    match result["status"].as_str().unwrap() {
        "eligible" => {
            add(into, "eligible", 1);
            add(into, "maybe", 0);
            add(into, "amount_fen", fen("amount_fen"));
            add(into, "ceiling_fen", fen("ceiling_fen"));
            add(
                into,
                "monthly_total_fen",
                fen("monthly_fen") * fen("months"),
            );
        }
        "undetermined" => {
            add(into, "eligible", 0);
            add(into, "maybe", 1);
        }
        _ => add(into, "eligible", 0),
    }
}

fn zero() -> Value {
    json!({"eligible": 0, "maybe": 0, "amount_fen": 0, "ceiling_fen": 0, "monthly_total_fen": 0})
}

/// The what-if computed case by case from two packs' results as JSON.
fn oracle(baseline: &Pack, scenario: &Pack, lines: &[String]) -> Value {
    let programmes: Vec<String> = baseline.programmes().iter().map(|p| p.id.clone()).collect();
    let blank =
        || -> Map<String, Value> { programmes.iter().map(|p| (p.clone(), zero())).collect() };
    let (mut base, mut scen, mut delta) = (blank(), blank(), blank());
    let mut by_district: Map<String, Value> = Map::new();
    let mut changed = 0;
    for line in lines {
        let Ok(case) = baseline.parse_case(line) else {
            continue;
        };
        let before =
            serde_json::to_value(baseline.at(as_of()).evaluate(&case, Detail::Full).results)
                .unwrap();
        let after =
            serde_json::to_value(scenario.at(as_of()).evaluate(&case, Detail::Full).results)
                .unwrap();
        let district = case
            .enterprise
            .as_ref()
            .and_then(|e| e.district)
            .map(|d| d.id());
        let mut differs = false;
        for (b, a) in before
            .as_array()
            .unwrap()
            .iter()
            .zip(after.as_array().unwrap())
        {
            let id = b["programme"].as_str().unwrap();
            count(base[id].as_object_mut().unwrap(), b, 1);
            count(scen[id].as_object_mut().unwrap(), a, 1);
            count(delta[id].as_object_mut().unwrap(), a, 1);
            count(delta[id].as_object_mut().unwrap(), b, -1);
            if let Some(d) = district {
                let totals = by_district
                    .entry(d)
                    .or_insert_with(|| Value::Object(blank()));
                count(totals[id].as_object_mut().unwrap(), a, 1);
                count(totals[id].as_object_mut().unwrap(), b, -1);
            }
            differs |= [
                "status",
                "amount_fen",
                "ceiling_fen",
                "monthly_fen",
                "months",
            ]
            .iter()
            .any(|k| a[k] != b[k]);
        }
        changed += i64::from(differs);
    }
    json!({
        "baseline": base, "scenario": scen, "delta": delta,
        "changed_cases": changed, "by_district": by_district,
    })
}

fn run(pack: &Pack, settings: &[&str], lines: &[String]) -> (WhatIf, Vec<usize>) {
    let settings = Setting::parse_all(pack, settings.iter().copied()).unwrap();
    let baseline = pack.at(as_of());
    let scenario = baseline.with_settings(&settings);
    let input = lines.join("\n");
    let mut failed_lines = Vec::new();
    let (whatif, summary) = whatif_jsonl(
        &baseline,
        &scenario,
        input.as_bytes(),
        |_| {},
        |f| failed_lines.push(f.line.unwrap()),
    )
    .unwrap();
    assert_eq!(summary.cases, lines.len());
    assert_eq!(summary.failed, failed_lines.len());
    (whatif, failed_lines)
}

#[test]
fn a_scenario_comes_to_what_the_pack_edited_on_disk_gives() {
    let pack = Pack::load_dir(pack_dir()).unwrap();
    let lines = population(&pack);
    let changes = [
        ("youth_max_age", "40"),
        ("housing_subsidy_monthly_fen", "250000"),
        ("hukou_subsidy_master_fen", "null"),
        ("transitional_housing_max_months", "12"),
        ("personal_loan_ceiling_fen", "null"),
    ];
    let texts: Vec<String> = changes.iter().map(|(n, v)| format!("{n}={v}")).collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (whatif, failed_lines) = run(&pack, &texts, &lines);

    let expected = oracle(&pack, &edited(&changes), &lines);
    assert_eq!(serde_json::to_value(&whatif).unwrap(), expected);
    // The bad cases of the population, by line, are left out and reported.
    let bad: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| pack.parse_case(l).is_err())
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(failed_lines, bad);
    assert!(bad.len() >= 7);
    // The change moves something in each direction it was meant to.
    assert!(whatif.changed_cases > 0);
    assert!(whatif.delta.values().any(|t| t.eligible > 0));
    assert!(whatif.delta.values().any(|t| t.monthly_total_fen > 0));
    assert!(whatif.delta.values().any(|t| t.ceiling_fen < 0));
    assert!(whatif.by_district.len() == 10);
}

#[test]
fn no_setting_changes_nothing() {
    let pack = Pack::load_dir(pack_dir()).unwrap();
    let lines = population(&pack);
    let (whatif, _) = run(&pack, &[], &lines);
    assert_eq!(whatif.baseline, whatif.scenario);
    assert_eq!(whatif.changed_cases, 0);
    assert!(whatif.delta.values().all(|t| *t == Default::default()));
    assert!(
        whatif
            .baseline
            .values()
            .any(|t| t.eligible > 0 && t.maybe > 0)
    );
    assert_eq!(whatif.baseline.len(), pack.programmes().len());
}

#[test]
fn settings_name_a_parameter_and_a_value_of_its_unit() {
    let pack = Pack::load_dir(pack_dir()).unwrap();
    let refused = |text: &str| Setting::parse(&pack, text).unwrap_err().to_string();
    assert_eq!(
        refused("youth_max_agee=40"),
        "`youth_max_agee` is not a parameter of pack shenzhen-2026"
    );
    for value in ["forty", "40.5", "-1", "", "1e3", "true", "1000001"] {
        assert_eq!(
            refused(&format!("youth_max_age={value}")),
            format!(
                "`youth_max_age={value}`: youth_max_age takes a whole number of years from 0 to 1000000, or null"
            )
        );
    }
    // A share is at most the whole; an amount at most what the platform takes.
    assert!(refused("transitional_housing_rent_percent=101").contains("from 0 to 100,"));
    assert!(Setting::parse(&pack, "transitional_housing_rent_percent=100").is_ok());
    assert!(
        refused("housing_subsidy_monthly_fen=1000000000000000001").contains("whole number of fen")
    );
    assert!(refused("housing_subsidy_monthly_fen=¥2500").contains("whole number of fen"));
    assert_eq!(
        refused("youth_max_age"),
        "`youth_max_age` is not NAME=VALUE"
    );
    assert_eq!(refused("=40"), "`=40` is not NAME=VALUE");
    assert_eq!(
        Setting::parse_all(&pack, ["youth_max_age=40", "youth_max_age=41"]).unwrap_err(),
        SettingError::Twice("youth_max_age".into())
    );
    let unset = Setting::parse(&pack, "youth_max_age=null").unwrap();
    assert_eq!(unset.value, None);
}
