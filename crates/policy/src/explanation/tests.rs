//! The owned results say exactly what the engine's results say, and stored
//! explanations read back as they were written.

use super::*;
use crate::eval::Detail;
use std::path::PathBuf;

fn shenzhen() -> Pack {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies/shenzhen-2026");
    Pack::load_dir(dir).unwrap_or_else(|errors| panic!("pack did not load: {errors:?}"))
}

/// Every result of every case the pack's own tests hold, in both details:
/// eligible, ineligible and undetermined results, figures, notes, grants.
fn each_result(pack: &Pack, mut check: impl FnMut(&str, &ProgrammeResult<'_>)) {
    for test in pack.tests() {
        for detail in [Detail::Full, Detail::Brief] {
            for result in pack.at(test.as_of).evaluate(&test.case, detail).results {
                check(&test.name, &result);
            }
        }
    }
}

#[test]
fn an_owned_result_serializes_as_the_engines_result() {
    let pack = shenzhen();
    let mut seen = [0; 3];
    each_result(&pack, |name, result| {
        let engine = serde_json::to_value(result).unwrap();
        let owned = serde_json::to_value(ResultRecord::from(result)).unwrap();
        assert_eq!(owned, engine, "{name} / {}", result.programme);
        seen[result.status as usize] += 1;
    });
    assert!(
        seen.iter().all(|n| *n > 0),
        "every status is tried: {seen:?}"
    );
}

#[test]
fn the_engines_json_reads_back_as_the_owned_result() {
    let pack = shenzhen();
    each_result(&pack, |name, result| {
        let json = serde_json::to_string(result).unwrap();
        let read: ResultRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(
            read,
            ResultRecord::from(result),
            "{name} / {}",
            result.programme
        );
    });
}

fn first_explanation(pack: &Pack) -> Explanation {
    let test = &pack.tests()[0];
    let evaluation = pack.at(test.as_of).evaluate(&test.case, Detail::Full);
    Explanation::new(pack, test.as_of, &evaluation.results[0])
}

#[test]
fn a_stored_explanation_reads_back_whole() {
    let pack = shenzhen();
    let explanation = first_explanation(&pack);
    assert_eq!(explanation.schema, EXPLANATION_SCHEMA);
    assert_eq!(explanation.pack.id, "shenzhen-2026");
    let read = Explanation::parse(&explanation.to_json()).unwrap();
    assert_eq!(read, explanation);
}

#[test]
fn an_explanation_stored_before_schemas_reads_as_schema_one() {
    let pack = shenzhen();
    let mut json: serde_json::Value =
        serde_json::from_str(&first_explanation(&pack).to_json()).unwrap();
    json.as_object_mut().unwrap().remove("schema");
    let read = Explanation::parse(&json.to_string()).unwrap();
    assert_eq!(read.schema, 1);
}

#[test]
fn a_newer_or_malformed_explanation_is_refused() {
    let pack = shenzhen();
    let mut json: serde_json::Value =
        serde_json::from_str(&first_explanation(&pack).to_json()).unwrap();
    json["schema"] = (EXPLANATION_SCHEMA + 1).into();
    assert!(matches!(
        Explanation::parse(&json.to_string()),
        Err(ExplanationError::NewerSchema { found }) if found == EXPLANATION_SCHEMA + 1
    ));
    // A renamed field is not read as absent: `status` is required.
    json["schema"] = 1.into();
    let result = json["result"].as_object_mut().unwrap();
    let status = result.remove("status").unwrap();
    result.insert("state".into(), status);
    assert!(matches!(
        Explanation::parse(&json.to_string()),
        Err(ExplanationError::Malformed(_))
    ));
}

#[test]
fn the_failed_conditions_and_the_cap_come_from_the_result() {
    let record = ResultRecord {
        programme: "p".into(),
        status: Status::Ineligible,
        kind: Kind::Cash,
        amount_fen: None,
        ceiling_fen: Some(Fen(500)),
        monthly_fen: None,
        months: None,
        reasons: Some(vec![
            reason("age", Some(true)),
            reason("degree", Some(false)),
            reason("hukou", None),
        ]),
        missing_facts: vec!["person.hukou_shenzhen_since".into()],
        note: None,
        parameters: None,
        pack: None,
    };
    assert!(!record.is_eligible());
    assert_eq!(record.failed_conditions().collect::<Vec<_>>(), ["degree"]);
    assert_eq!(record.cap(), Some(Fen(500)));
}

fn reason(condition: &str, holds: Option<bool>) -> ReasonRecord {
    ReasonRecord {
        condition: condition.into(),
        holds,
        facts: serde_json::Map::new(),
        citation: String::new(),
        parameters: vec![],
    }
}
