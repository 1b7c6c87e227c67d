//! The shipped Shenzhen pack: it loads, matches the spec's catalogue, and its
//! own tests pass and cover every programme.

use chrono::NaiveDate;
use opcity_policy::{Detail, Pack, Status, Unit};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The spec's programme ids, in catalogue order.
const SPEC_IDS: [&str; 20] = [
    "sz.talent.hukou_subsidy",
    "sz.talent.high_level",
    "sz.talent.open_source",
    "sz.space.opc_workspace",
    "sz.space.young_talent",
    "sz.housing.transitional",
    "sz.housing.subsidy",
    "sz.funding.kunpeng_reward",
    "sz.funding.kunpeng_rnd",
    "sz.funding.overseas_startup",
    "sz.loan.personal",
    "sz.loan.enterprise",
    "sz.voucher.smart",
    "sz.voucher.national_compute",
    "sz.voucher.training",
    "sz.voucher.model",
    "sz.voucher.data",
    "sz.scenario.gov_deployment",
    "sz.scenario.demonstration",
    "sz.collab.consortium",
];

fn pack_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies/shenzhen-2026")
}

fn pack() -> Pack {
    Pack::load_dir(pack_dir()).unwrap_or_else(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("pack did not load:\n{}", lines.join("\n"))
    })
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn catalogue_matches_the_spec() {
    let pack = pack();
    assert_eq!(pack.id(), "shenzhen-2026");
    // The plan's own, then what it inherits from Guangdong's.
    let ids: Vec<&str> = pack.programmes().iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids[..20], SPEC_IDS);
    assert_eq!(ids[20..], ["gd.voucher.compute"]);
    for p in pack
        .programmes()
        .iter()
        .filter(|p| p.pack == "shenzhen-2026")
    {
        assert_eq!(p.effective.from, d("2026-01-01"), "{}", p.id);
        assert_eq!(p.effective.to, d("2027-12-31"), "{}", p.id);
        assert!(!p.title.zh.is_empty() && !p.description.en.is_empty());
        assert!(!p.evidence.is_empty(), "{} lists no evidence", p.id);
    }
    let one_time: Vec<&str> = pack
        .programmes()
        .iter()
        .filter(|p| p.one_time)
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(
        one_time,
        [
            "sz.talent.hukou_subsidy",
            "sz.housing.transitional",
            "sz.housing.subsidy",
            "sz.funding.kunpeng_reward",
            "sz.funding.kunpeng_rnd",
            "sz.funding.overseas_startup",
        ]
    );
}

#[test]
fn built_in_conditions_frame_each_programme() {
    let pack = pack();
    let names = |id: &str| -> Vec<String> {
        pack.programme(id)
            .unwrap()
            .condition_names()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        names("sz.housing.subsidy"),
        [
            "in_effect",
            "works_in_ai",
            "young",
            "founder",
            "not_granted_before",
            "not_excluded_by_grant"
        ]
    );
    assert_eq!(
        names("sz.voucher.model"),
        [
            "in_effect",
            "enterprise_present",
            "ai_business",
            "no_active_grant"
        ]
    );
}

#[test]
fn figures_are_dated_parameters() {
    let pack = pack();
    let value = |name: &str| {
        let p = pack.parameter(name).unwrap_or_else(|| panic!("no {name}"));
        let v = p.value_at(d("2026-06-01")).expect("a value in 2026");
        assert_eq!(v.since, d("2026-01-01"));
        (v.value, p.unit)
    };
    assert_eq!(value("youth_max_age"), (Some(35), Unit::Years));
    assert_eq!(
        value("hukou_subsidy_doctorate_fen"),
        (Some(10_000_000), Unit::Fen)
    );
    assert_eq!(value("hukou_subsidy_master_fen"), (None, Unit::Fen));
    assert_eq!(value("hukou_subsidy_bachelor_fen"), (None, Unit::Fen));
    assert_eq!(
        value("housing_subsidy_monthly_fen"),
        (Some(125_000), Unit::Fen)
    );
    assert_eq!(
        value("housing_subsidy_max_months"),
        (Some(24), Unit::Months)
    );
    assert_eq!(
        value("training_voucher_contract_percent"),
        (Some(50), Unit::Percent)
    );
    assert_eq!(
        value("training_voucher_startup_contract_percent"),
        (Some(60), Unit::Percent)
    );
    assert_eq!(
        value("training_voucher_pool_yearly_fen"),
        (Some(50_000_000_000), Unit::Fen)
    );
    assert_eq!(
        value("smart_voucher_ceiling_nanshan_fen"),
        (None, Unit::Fen)
    );
    assert!(
        pack.parameter("youth_max_age")
            .unwrap()
            .value_at(d("2025-12-31"))
            .is_none()
    );
}

#[test]
fn pack_tests_pass() {
    let pack = pack();
    let outcomes = pack.run_tests();
    assert!(outcomes.len() >= 50, "only {} pack tests", outcomes.len());
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.passed())
        .map(|o| {
            format!(
                "{}: {}\n  {}",
                o.test.file,
                o.test.name,
                o.failures.join("\n  ")
            )
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_programme_is_tested_eligible_and_ineligible_at_least_three_times() {
    let pack = pack();
    let mut seen: BTreeMap<&str, Vec<Status>> = BTreeMap::new();
    for test in pack.tests() {
        for (id, expectation) in &test.expect {
            seen.entry(id.as_str())
                .or_default()
                .push(expectation.status);
        }
    }
    for id in SPEC_IDS {
        let statuses = seen.get(id).map(Vec::as_slice).unwrap_or_default();
        assert!(statuses.len() >= 3, "{id}: {} tests", statuses.len());
        assert!(
            statuses.contains(&Status::Eligible),
            "{id}: no eligible test"
        );
        assert!(
            statuses.contains(&Status::Ineligible),
            "{id}: no ineligible test"
        );
    }
}

#[test]
fn result_json_has_the_spec_shape() {
    let pack = pack();
    let case = pack
        .parse_case(
            r#"{"person":{"id":"p","birth_date":"1998-01-01","works_in_ai":true,"is_founder":true}}"#,
        )
        .unwrap();
    let evaluation = pack.evaluate(&case, d("2026-06-01"));
    let text = serde_json::to_string(&evaluation.results[6]).unwrap();
    // Stable field order: each top-level key after the one before it (a
    // `Value` would sort them, so look at the text; `reasons` comes before
    // `missing_facts`, and nested keys are inside `reasons`).
    let mut last = 0;
    for key in [
        "programme",
        "status",
        "kind",
        "amount_fen",
        "ceiling_fen",
        "monthly_fen",
        "months",
        "reasons",
        "missing_facts",
        "note",
    ] {
        let at = text[last..]
            .find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("{key} missing or out of order in {text}"));
        last += at;
    }
    assert!(text.ends_with(r#""parameters":[{"name":"housing_subsidy_monthly_fen","value":125000,"unit":"fen","since":"2026-01-01","pack":"shenzhen-2026"},{"name":"housing_subsidy_max_months","value":24,"unit":"months","since":"2026-01-01","pack":"shenzhen-2026"}],"pack":"shenzhen-2026"}"#), "{text}");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["programme"], "sz.housing.subsidy");
    assert_eq!(json["status"], "eligible");
    assert_eq!(json["amount_fen"], 3_000_000);
    let young = &json["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["condition"] == "young")
        .unwrap();
    assert_eq!(young["holds"], true);
    assert_eq!(young["citation"], "measure 4");
    assert_eq!(young["facts"]["person.birth_date"], "1998-01-01");
    assert_eq!(young["parameters"][0]["name"], "youth_max_age");
    assert_eq!(young["parameters"][0]["value"], 35);
    assert_eq!(young["parameters"][0]["since"], "2026-01-01");

    let brief = pack.at(d("2026-06-01")).evaluate(&case, Detail::Brief);
    let json = serde_json::to_value(&brief.results[0]).unwrap();
    assert!(json.get("reasons").is_none());
    assert!(json.get("parameters").is_none());
    assert_eq!(
        json["missing_facts"],
        serde_json::json!(["person.highest_degree", "person.hukou_shenzhen_since"])
    );
}

#[test]
fn ineligible_reports_missing_facts_of_unknown_conditions_too() {
    let pack = pack();
    // Not founder (false) and birth date unknown: ineligible, with the
    // unknown fact still named.
    let case = pack
        .parse_case(r#"{"person":{"works_in_ai":true,"is_founder":false}}"#)
        .unwrap();
    let evaluation = pack.evaluate(&case, d("2026-06-01"));
    let subsidy = &evaluation.results[6];
    assert_eq!(subsidy.status, Status::Ineligible);
    assert_eq!(subsidy.amount_fen, None);
    let missing: Vec<&str> = subsidy.missing_facts.iter().map(|f| f.name()).collect();
    assert_eq!(missing, ["person.birth_date"]);
}

#[test]
fn unknown_grant_programme_is_bad_input() {
    let pack = pack();
    let e = pack
        .parse_case(r#"{"granted":[{"programme":"sz.nope","from":"2026-01-01"}]}"#)
        .unwrap_err();
    assert_eq!(e.field, "granted[0].programme");
    assert_eq!(e.kind.code(), "bad_grant");
}

#[test]
fn one_programme_evaluates_as_in_the_whole_pack() {
    let pack = pack();
    for json in [
        r#"{"person":{"id":"p","birth_date":"1998-01-01","works_in_ai":true,"is_founder":true}}"#,
        r#"{"person":{"id":"p","birth_date":"1970-01-01","highest_degree":"doctorate"},"enterprise":{"district":"nanshan","ai_business":true,"size":"micro"}}"#,
    ] {
        let case = pack.parse_case(json).unwrap();
        let at = pack.at(d("2026-06-01"));
        for detail in [Detail::Full, Detail::Brief] {
            for whole in at.evaluate(&case, detail).results {
                let one = at
                    .evaluate_programme(&case, whole.programme, detail)
                    .expect("a programme of the pack");
                assert_eq!(
                    serde_json::to_value(&one).unwrap(),
                    serde_json::to_value(&whole).unwrap()
                );
            }
        }
    }
    assert!(
        pack.at(d("2026-06-01"))
            .evaluate_programme(&pack.parse_case("{}").unwrap(), "sz.nothing", Detail::Full)
            .is_none()
    );
}
