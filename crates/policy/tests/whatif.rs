//! What-if simulation against an oracle: a scenario set with `--set` must
//! come to what the same population gives under a pack whose YAML was
//! edited to hold those values, counted here case by case from the results'
//! JSON; by programme, by district and in the number of changed cases.

use crate::population::population;
use chrono::NaiveDate;
use opcity_policy::{
    ConditionChange, ConditionChangeError, DatedValue, Detail, EXAMPLES, Pack, RevisionError,
    Setting, SettingError, WhatIf, whatif_cases, whatif_jsonl,
};
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
    edited_with(settings, &[])
}

/// [`edited`], and each `(old, new)` text replaced once in the file that
/// holds it.
fn edited_with(settings: &[(&str, &str)], replacements: &[(&str, &str)]) -> Pack {
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
    for (old, new) in replacements {
        let (_, text) = sources
            .iter_mut()
            .find(|(_, t)| t.contains(old))
            .unwrap_or_else(|| panic!("{old} is in some file"));
        *text = text.replacen(old, new, 1);
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

/// A result's money (amount and ceiling when eligible)
/// and its status's rank, read from its JSON: what gaining compares.
fn rank(result: &Value) -> (i128, u8) {
    let fen = |key: &str| i128::from(result[key].as_i64().unwrap_or(0));
    match result["status"].as_str().unwrap() {
        "eligible" => (fen("amount_fen") + fen("ceiling_fen"), 2),
        "undetermined" => (0, 1),
        _ => (0, 0),
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
    let mut changed_by_district: Map<String, Value> = Map::new();
    let mut changed = 0;
    let mut shifts: Map<String, Value> = programmes
        .iter()
        .map(|p| {
            (
                p.clone(),
                json!({"changed": 0, "gainers": 0, "losers": 0, "examples": []}),
            )
        })
        .collect();
    let (mut gaining, mut losing, mut mixed) = (0, 0, 0);
    let mut position = 0;
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        position += 1;
        let Ok(case) = baseline.parse_case(line) else {
            continue;
        };
        let (mut gains, mut losses) = (false, false);
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
            let (rank_b, rank_a) = (rank(b), rank(a));
            if rank_a != rank_b {
                let gain = rank_a > rank_b;
                gains |= gain;
                losses |= !gain;
                let shift = shifts[id].as_object_mut().unwrap();
                let key = if gain { "gainers" } else { "losers" };
                shift[key] = json!(shift[key].as_i64().unwrap() + 1);
                let examples = shift["examples"].as_array_mut().unwrap();
                if examples.iter().filter(|e| e["gains"] == gain).count() < EXAMPLES {
                    let outcome = |(money, _): (i128, u8), r: &Value| json!({"status": r["status"], "money_fen": money});
                    examples.push(json!({
                        "position": position, "id": case.person.id, "gains": gain,
                        "before": outcome(rank_b, b), "after": outcome(rank_a, a),
                    }));
                    examples.sort_by_key(|e| e["position"].as_u64());
                }
            }
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
            let this_differs = [
                "status",
                "amount_fen",
                "ceiling_fen",
                "monthly_fen",
                "months",
            ]
            .iter()
            .any(|k| a[k] != b[k]);
            differs |= this_differs;
            let bump = |v: &mut Value| *v = json!(v.as_i64().unwrap() + i64::from(this_differs));
            bump(&mut shifts[id]["changed"]);
            if let Some(d) = district {
                let changed = changed_by_district
                    .entry(d)
                    .or_insert_with(|| programmes.iter().map(|p| (p.clone(), json!(0))).collect());
                bump(&mut changed[id]);
            }
        }
        changed += i64::from(differs);
        match (gains, losses) {
            (true, false) => gaining += 1,
            (false, true) => losing += 1,
            (true, true) => mixed += 1,
            (false, false) => {}
        }
    }
    json!({
        "baseline": base, "scenario": scen, "delta": delta,
        "changed_cases": changed, "by_district": by_district,
        "changed_by_district": changed_by_district,
        "shifts": shifts, "gaining_cases": gaining, "losing_cases": losing, "mixed_cases": mixed,
    })
}

fn run(pack: &Pack, settings: &[&str], lines: &[String]) -> (WhatIf, Vec<usize>) {
    run_against(pack, pack, settings, lines)
}

/// A what-if of `pack` against `changed` (the same pack, some conditions
/// rewritten) with `settings`.
fn run_against(
    pack: &Pack,
    changed: &Pack,
    settings: &[&str],
    lines: &[String],
) -> (WhatIf, Vec<usize>) {
    let settings = Setting::parse_all(pack, settings.iter().copied()).unwrap();
    let baseline = pack.at(as_of());
    let scenario = changed.at(as_of()).with_settings(&settings);
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
    // Some gain and some lose; each programme keeps its first examples of
    // each direction, and some programme has more than it keeps.
    assert!(whatif.gaining_cases > 0 && whatif.losing_cases > 0);
    for s in whatif.shifts.values() {
        let kept = |n: i64| usize::try_from(n).unwrap().min(EXAMPLES);
        assert_eq!(s.examples.len(), kept(s.gainers) + kept(s.losers));
    }
    assert!(whatif.shifts.values().any(|s| s.gainers > EXAMPLES as i64));
}

#[test]
fn a_condition_rewritten_comes_to_the_pack_with_that_condition_on_disk() {
    let pack = Pack::load_dir(pack_dir()).unwrap();
    let lines = population(&pack);
    let change = |programme: &str, condition: &str, when: &str| ConditionChange {
        programme: programme.into(),
        condition: condition.into(),
        when: when.into(),
    };
    // The housing subsidy for any age; the overseas grant up to 40 while
    // the youth age drops to 30 for everything else.
    let changes = [
        change("sz.housing.subsidy", "young", "true"),
        change(
            "sz.funding.overseas_startup",
            "young",
            "age(person.birth_date) <= 40",
        ),
    ];
    let changed = pack.with_conditions(&changes).unwrap();
    let (whatif, _) = run_against(&pack, &changed, &["youth_max_age=30"], &lines);
    let on_disk = edited_with(
        &[("youth_max_age", "30")],
        &[
            (
                "    when: age(person.birth_date) <= param.youth_max_age\n  - name: founder\n    when: person.is_founder\namount:\n  monthly:\n    monthly: housing_subsidy_monthly_fen",
                "    when: \"true\"\n  - name: founder\n    when: person.is_founder\namount:\n  monthly:\n    monthly: housing_subsidy_monthly_fen",
            ),
            (
                "    when: age(person.birth_date) <= param.youth_max_age\n  - name: overseas",
                "    when: age(person.birth_date) <= 40\n  - name: overseas",
            ),
        ],
    );
    assert_eq!(
        serde_json::to_value(&whatif).unwrap(),
        oracle(&pack, &on_disk, &lines)
    );
    assert!(whatif.delta["sz.housing.subsidy"].eligible > 0);
    // The pack itself is unchanged, and its conditions read as written.
    let housing = pack.programme("sz.housing.subsidy").unwrap();
    assert!(
        housing
            .written_conditions()
            .any(|(name, when)| name == "young" && when.contains("youth_max_age"))
    );
    let rewritten = changed.programme("sz.housing.subsidy").unwrap();
    assert!(
        rewritten
            .written_conditions()
            .any(|c| c == ("young", "true"))
    );
}

/// A published revision (dated values added, a condition rewritten) gives
/// what the pack edited on disk gives, on the values' date and before it.
#[test]
fn a_revision_is_the_pack_edited_on_disk() {
    let pack = Pack::load_dir(pack_dir()).unwrap();
    let lines = population(&pack);
    let values = [DatedValue {
        parameter: "housing_subsidy_monthly_fen".into(),
        from: as_of(),
        value: Some(250_000),
    }];
    let conditions = [ConditionChange {
        programme: "sz.housing.subsidy".into(),
        condition: "founder".into(),
        when: "true".into(),
    }];
    let revised = pack.revised("2026.1+d7", &values, &conditions).unwrap();
    assert_eq!(revised.version(), "2026.1+d7");
    assert_eq!(revised.lineage().last().unwrap().version, "2026.1+d7");
    let on_disk = edited_with(
        &[("housing_subsidy_monthly_fen", "250000")],
        &[(
            "  - name: founder\n    when: person.is_founder\namount:\n  monthly:\n    monthly: housing_subsidy_monthly_fen",
            "  - name: founder\n    when: \"true\"\namount:\n  monthly:\n    monthly: housing_subsidy_monthly_fen",
        )],
    );
    let results = |p: &Pack, on: NaiveDate| -> Vec<Value> {
        lines
            .iter()
            .filter_map(|l| p.parse_case(l).ok())
            .map(|c| serde_json::to_value(p.at(on).evaluate(&c, Detail::Brief).results).unwrap())
            .collect()
    };
    let before = as_of().pred_opt().unwrap();
    for on in [before, as_of()] {
        assert_eq!(results(&revised, on), results(&on_disk, on), "on {on}");
    }
    assert_ne!(results(&revised, as_of()), results(&pack, as_of()));
    // A value of the wrong unit, or a parameter the pack lacks, is refused.
    let wrong = [DatedValue {
        value: Some(101),
        parameter: "transitional_housing_rent_percent".into(),
        ..values[0].clone()
    }];
    assert!(matches!(
        pack.revised("x", &wrong, &[]),
        Err(RevisionError::Value(SettingError::WrongType { .. }))
    ));
    let unknown = [DatedValue {
        parameter: "nope".into(),
        ..values[0].clone()
    }];
    assert!(matches!(
        pack.revised("x", &unknown, &[]),
        Err(RevisionError::Value(SettingError::Unknown { .. }))
    ));
}

#[test]
fn a_condition_change_names_a_written_condition_and_compiles() {
    let pack = Pack::load_dir(pack_dir()).unwrap();
    let refused = |programme: &str, condition: &str, when: &str| {
        let change = ConditionChange {
            programme: programme.into(),
            condition: condition.into(),
            when: when.into(),
        };
        pack.with_conditions(&[change.clone(), change])
            .map(|_| ())
            .unwrap_err()
    };
    assert!(matches!(
        refused("sz.nope", "young", "true"),
        ConditionChangeError::UnknownProgramme { .. }
    ));
    // Built-in conditions are the engine's, not the pack's.
    for built_in in ["in_effect", "not_granted_before", "nothing"] {
        assert!(matches!(
            refused("sz.housing.subsidy", built_in, "true"),
            ConditionChangeError::UnknownCondition { .. }
        ));
    }
    assert!(matches!(
        refused("sz.loan.enterprise", "enterprise_present", "true"),
        ConditionChangeError::UnknownCondition { .. }
    ));
    let ConditionChangeError::Expression { position, .. } = refused(
        "sz.housing.subsidy",
        "young",
        "age(person.birth_date) <= param.nope",
    ) else {
        panic!("an unknown parameter is refused");
    };
    assert!(position > 20);
    assert!(matches!(
        refused("sz.housing.subsidy", "young", "person.nickname"),
        ConditionChangeError::Expression { .. }
    ));
    assert!(matches!(
        refused("sz.housing.subsidy", "young", "true"),
        ConditionChangeError::Twice { .. }
    ));
}

/// The registry's path (cases already parsed) comes to what their lines do.
#[test]
fn parsed_cases_come_to_what_their_lines_do() {
    let pack = Pack::load_dir(pack_dir()).unwrap();
    let good: Vec<String> = population(&pack)
        .into_iter()
        .filter(|l| !l.trim().is_empty() && pack.parse_case(l).is_ok())
        .collect();
    let settings = ["youth_max_age=40", "housing_subsidy_monthly_fen=150000"];
    let (from_lines, failed) = run(&pack, &settings, &good);
    assert!(failed.is_empty());
    let cases: Vec<_> = good.iter().map(|l| pack.parse_case(l).unwrap()).collect();
    let settings = Setting::parse_all(&pack, settings).unwrap();
    let baseline = pack.at(as_of());
    let parsed = whatif_cases(&baseline, &baseline.with_settings(&settings), &cases);
    assert_eq!(parsed, from_lines);
    assert!(parsed.changed_cases > 0);
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
