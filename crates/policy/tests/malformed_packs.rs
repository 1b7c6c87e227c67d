//! Malformed packs are rejected whole, each problem with its file, line and key.

use chrono::NaiveDate;
use opcity_policy::{Delivery, LoadError, LoadErrorKind, Pack, Status, Support};

const PACK: &str = r#"id: mini
version: "1"
title: {zh: 小包, en: Mini pack}
source: test
effective: {from: 2026-01-01, to: 2027-12-31}
catalogue: [t.cash]
"#;

const PARAMETERS: &str = r#"youth_max_age:
  description: {zh: 青年, en: Youth}
  unit: years
  reference: measure 1
  values:
    "2026-01-01": 35
cash_fen:
  description: {zh: 金额, en: Amount}
  unit: fen
  reference: measure 1
  values:
    "2026-01-01": 1000
"#;

const PROGRAMME: &str = r#"id: t.cash
title: {zh: 现金, en: Cash}
description: {zh: 现金, en: Cash}
measure: 1
citation: measure 1
beneficiary: person
kind: cash
conditions:
  - name: young
    when: age(person.birth_date) <= param.youth_max_age
amount:
  fixed: cash_fen
decided_by: district
"#;

const TESTS: &str = r#"- name: young gets the cash
  as_of: 2026-06-01
  case:
    person: {birth_date: 2000-01-01}
  expect:
    t.cash: {status: eligible, amount_fen: 1000}
"#;

fn sources(programme: &str) -> Vec<(String, String)> {
    vec![
        ("pack.yaml".into(), PACK.into()),
        ("parameters/general.yaml".into(), PARAMETERS.into()),
        ("programmes/t.cash.yaml".into(), programme.into()),
        ("tests/basic.yaml".into(), TESTS.into()),
    ]
}

/// The single error of a pack whose programme file is `programme`.
fn only_error(programme: &str) -> LoadError {
    let mut errors = Pack::from_sources(sources(programme)).unwrap_err();
    // A broken programme also leaves the catalogue entry and the tests
    // pointing at nothing; the first error is the cause.
    errors.retain(|e| e.file == "programmes/t.cash.yaml");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.remove(0)
}

#[test]
fn the_minimal_pack_loads_and_evaluates() {
    let pack = Pack::from_sources(sources(PROGRAMME)).unwrap();
    let case = pack
        .parse_case(r#"{"person":{"birth_date":"2000-01-01"}}"#)
        .unwrap();
    let result = &pack
        .evaluate(&case, NaiveDate::from_ymd_opt(2026, 6, 1).unwrap())
        .results[0];
    assert_eq!(result.status, Status::Eligible);
    assert_eq!(result.amount_fen.map(|f| f.0), Some(1000));
    assert!(pack.run_tests().iter().all(|o| o.passed()));
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let text = PROGRAMME.replace("kind: cash\n", "kind: cash\ncolour: red\n");
    let e = only_error(&text);
    assert_eq!(e.kind, LoadErrorKind::UnknownKey);
    assert_eq!(e.key, "colour");
    assert_eq!(e.line, Some(8));
    assert!(
        e.to_string().starts_with("programmes/t.cash.yaml:8:"),
        "{e}"
    );
}

#[test]
fn nested_unknown_key_has_its_path() {
    let text = PROGRAMME.replace("    when: age", "    whenever: true\n    when: age");
    let e = only_error(&text);
    assert_eq!(e.kind, LoadErrorKind::UnknownKey);
    assert_eq!(e.key, "conditions[0].whenever");
    assert_eq!(e.line, Some(10));
}

#[test]
fn type_error_is_named_with_its_line() {
    let text = PROGRAMME.replace("measure: 1\n", "measure: four\n");
    let e = only_error(&text);
    assert_eq!(e.kind, LoadErrorKind::Type);
    assert_eq!(e.key, "measure");
    assert_eq!(e.line, Some(4));
    let text = PROGRAMME.replace("kind: cash", "kind: gift");
    let e = only_error(&text);
    assert_eq!(
        (e.kind, e.key.as_str(), e.line),
        (LoadErrorKind::Type, "kind", Some(7))
    );
}

#[test]
fn missing_key_is_named() {
    let text = PROGRAMME.replace("decided_by: district\n", "");
    let e = only_error(&text);
    assert_eq!(e.kind, LoadErrorKind::MissingKey);
    assert_eq!(e.key, "decided_by");
}

#[test]
fn undefined_fact_in_a_condition_is_located() {
    let text = PROGRAMME.replace("age(person.birth_date)", "age(person.birthday)");
    let e = only_error(&text);
    assert_eq!(e.kind, LoadErrorKind::UndefinedFact);
    assert_eq!(e.key, "conditions[0].when");
    assert_eq!(e.line, Some(10));
    // Column of `person.birthday` inside the line `    when: age(person.birthday) …`.
    assert_eq!(e.column, Some(15));
    assert!(e.message.contains("person.birthday"), "{}", e.message);
}

#[test]
fn undefined_parameter_is_located_in_conditions_and_amounts() {
    let text = PROGRAMME.replace("param.youth_max_age", "param.max_age");
    let e = only_error(&text);
    assert_eq!(e.kind, LoadErrorKind::UndefinedParameter);
    assert_eq!((e.key.as_str(), e.line), ("conditions[0].when", Some(10)));

    let text = PROGRAMME.replace("fixed: cash_fen", "fixed: grant_fen");
    let e = only_error(&text);
    assert_eq!(e.kind, LoadErrorKind::UndefinedParameter);
    assert_eq!((e.key.as_str(), e.line), ("amount.fixed", Some(12)));
}

#[test]
fn type_errors_in_conditions_and_units_are_rejected() {
    let text = PROGRAMME.replace("<= param.youth_max_age", "<= param.cash_fen");
    let e = only_error(&text);
    assert_eq!(e.kind, LoadErrorKind::Expression);
    assert!(
        e.message.contains("cannot compare years with fen"),
        "{}",
        e.message
    );

    let text = PROGRAMME.replace("fixed: cash_fen", "fixed: youth_max_age");
    let e = only_error(&text);
    assert_eq!(
        (e.kind, e.key.as_str()),
        (LoadErrorKind::Type, "amount.fixed")
    );
}

#[test]
fn yaml_syntax_error_has_a_position() {
    let text = PROGRAMME.replace("title: {zh: 现金, en: Cash}", "title: {zh: 现金, en: Cash");
    let e = only_error(&text);
    assert_eq!(e.kind, LoadErrorKind::Syntax);
    assert!(e.line.is_some(), "{e}");
}

#[test]
fn errors_from_every_file_are_reported_together() {
    let mut srcs = sources(&PROGRAMME.replace("measure: 1\n", "measure: x\n"));
    srcs[1].1 = PARAMETERS.replace("unit: years", "unit: decades");
    srcs.push(("notes.txt".into(), "hello".into()));
    let errors = Pack::from_sources(srcs).unwrap_err();
    let files: Vec<&str> = errors.iter().map(|e| e.file.as_str()).collect();
    for file in [
        "programmes/t.cash.yaml",
        "parameters/general.yaml",
        "notes.txt",
    ] {
        assert!(files.contains(&file), "{file} not in {errors:#?}");
    }
}

#[test]
fn tests_must_name_real_programmes() {
    let mut srcs = sources(PROGRAMME);
    srcs[3].1 = TESTS.replace("t.cash: {", "t.cashh: {");
    let errors = Pack::from_sources(srcs).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].kind, LoadErrorKind::UnknownReference);
    assert_eq!(errors[0].key, "[0].expect.t.cashh");
    assert_eq!(errors[0].line, Some(6));
}

#[test]
fn catalogue_and_programme_files_must_agree() {
    let mut srcs = sources(PROGRAMME);
    srcs[0].1 = PACK.replace("[t.cash]", "[t.cash, t.other]");
    let errors = Pack::from_sources(srcs).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].kind, LoadErrorKind::UnknownReference);
    assert_eq!(
        (errors[0].file.as_str(), errors[0].key.as_str()),
        ("pack.yaml", "catalogue[1]")
    );
}

#[test]
fn missing_pack_file_is_reported() {
    let mut srcs = sources(PROGRAMME);
    srcs.remove(0);
    let errors = Pack::from_sources(srcs).unwrap_err();
    assert!(errors.iter().any(|e| e.kind == LoadErrorKind::MissingFile));
}

#[test]
fn a_rubric_loads_and_its_mistakes_are_named() {
    let rubric = "rubric:\n  - {id: merit, title: {zh: 成效, en: Merit}, max: 60}\n  - {id: team, title: {zh: 团队, en: Team}, max: 40}\n";
    let pack = Pack::from_sources(sources(&format!("{PROGRAMME}{rubric}"))).unwrap();
    let criteria: Vec<(&str, i32)> = pack
        .programme("t.cash")
        .unwrap()
        .rubric
        .iter()
        .map(|c| (c.id.as_str(), c.max))
        .collect();
    assert_eq!(criteria, [("merit", 60), ("team", 40)]);

    let twice = rubric.replace("id: team", "id: merit");
    let e = only_error(&format!("{PROGRAMME}{twice}"));
    assert_eq!(
        (e.kind, e.key.as_str()),
        (LoadErrorKind::Duplicate, "rubric")
    );
    let zero = rubric.replace("max: 40", "max: 0");
    let e = only_error(&format!("{PROGRAMME}{zero}"));
    assert_eq!((e.kind, e.key.as_str()), (LoadErrorKind::Invalid, "rubric"));
    assert!(e.message.contains("`team`"), "{}", e.message);
}

#[test]
fn delivery_is_implied_by_the_kind_or_said() {
    let pack = Pack::from_sources(sources(PROGRAMME)).expect("the minimal pack loads");
    let cash = pack.programme("t.cash").expect("programme");
    assert_eq!(cash.delivery, Delivery::Cash);
    assert!(!cash.confers_title);

    let in_kind = PROGRAMME.replace("kind: cash", "kind: in_kind");
    let e = only_error(&in_kind);
    assert_eq!(
        (e.kind, e.key.as_str()),
        (LoadErrorKind::MissingKey, "delivery")
    );
    let housing = in_kind.replace("kind: in_kind", "kind: in_kind\ndelivery: housing");
    let pack = Pack::from_sources(sources(&housing)).expect("said: loads");
    assert_eq!(
        pack.programme("t.cash").expect("programme").delivery,
        Delivery::Housing
    );

    let cash_as_voucher = PROGRAMME.replace("kind: cash", "kind: cash\ndelivery: voucher");
    let e = only_error(&cash_as_voucher);
    assert_eq!(
        (e.kind, e.key.as_str()),
        (LoadErrorKind::Invalid, "delivery")
    );
}

#[test]
fn support_belongs_to_a_title() {
    let untitled = PROGRAMME.replace("kind: cash", "kind: cash\nsupport: [mentorship]");
    let e = only_error(&untitled);
    assert_eq!(
        (e.kind, e.key.as_str()),
        (LoadErrorKind::Invalid, "support")
    );
    let titled = untitled.replace("support:", "confers_title: true\nsupport:");
    let pack = Pack::from_sources(sources(&titled)).expect("a title with support loads");
    let p = pack.programme("t.cash").expect("programme");
    assert!(p.confers_title);
    assert_eq!(p.support, vec![Support::Mentorship]);
    let unknown = PROGRAMME.replace(
        "kind: cash",
        "kind: cash\nconfers_title: true\nsupport: [yachts]",
    );
    assert_eq!(only_error(&unknown).kind, LoadErrorKind::Type);
}

#[test]
fn service_standards_and_notice_periods_are_checked() {
    let with = |extra: &str| PROGRAMME.replace("kind: cash", &format!("kind: cash\n{extra}"));
    let pack = Pack::from_sources(sources(&with("service_days: 20"))).expect("loads");
    let p = pack.programme("t.cash").expect("programme");
    assert_eq!((p.service_days, p.notice_days), (Some(20), None));
    for days in ["service_days: 0", "service_days: 367"] {
        let e = only_error(&with(days));
        assert_eq!(
            (e.kind, e.key.as_str()),
            (LoadErrorKind::Invalid, "service_days"),
            "{days}"
        );
    }
    // A notice period is for space and housing only, at most a year.
    let e = only_error(&with("notice_days: 30"));
    assert_eq!(
        (e.kind, e.key.as_str()),
        (LoadErrorKind::Invalid, "notice_days")
    );
    let housing = PROGRAMME.replace("kind: cash", "kind: in_kind\ndelivery: housing");
    let pack = Pack::from_sources(sources(&format!("{housing}notice_days: 30\n"))).expect("loads");
    assert_eq!(pack.programme("t.cash").unwrap().notice_days, Some(30));
    let e = only_error(&format!("{housing}notice_days: 400\n"));
    assert_eq!(e.key, "notice_days");
}

#[test]
fn a_beneficiary_cap_names_a_fen_parameter() {
    let with = |name: &str| {
        PROGRAMME.replace(
            "kind: cash",
            &format!("kind: cash\nbeneficiary_cap: {name}"),
        )
    };
    let pack = Pack::from_sources(sources(&with("cash_fen"))).expect("loads");
    let p = pack.programme("t.cash").expect("programme");
    let on = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    assert_eq!(pack.beneficiary_cap(p, on), Some(1_000));
    assert_eq!(only_error(&with("no_such_fen")).key, "beneficiary_cap");
    assert_eq!(only_error(&with("youth_max_age")).key, "beneficiary_cap");
}
