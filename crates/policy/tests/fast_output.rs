//! The batch path's hand-written JSON writer against serde: for a varied,
//! generated population (missing facts, no enterprise, grants of every kind,
//! unset parameters, strings that need escaping, bad cases), every output
//! object is byte for byte what `serde_json` writes for the same structs,
//! with full and brief detail, through `evaluate_json`, `evaluate_jsonl` and
//! `evaluate_document`; and a brief result is the full one without
//! `reasons`, `parameters` and a null `note`.

use crate::population::{AS_OF, population};
use chrono::NaiveDate;
use opcity_policy::{
    CaseEvaluation, Detail, Pack, PackAt, PackRef, ProgrammeResult, ResultRecord, batch,
};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn pack_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies/shenzhen-2026")
}

/// The Shenzhen pack as shipped, and a copy whose citations, one condition's
/// and the housing subsidy's, need escaping in JSON.
fn packs() -> [Pack; 2] {
    let shipped = Pack::load_dir(pack_dir()).expect("the Shenzhen pack loads");
    let mut sources = Vec::new();
    collect(&pack_dir(), &pack_dir(), &mut sources);
    for (path, text) in &mut sources {
        if path.ends_with("sz.housing.subsidy.yaml") {
            *text = text.replace(
                "    when: person.is_founder\n",
                "    when: person.is_founder\n    citation: \"measure 4 \\\"founder\\\" \\\\ 第四条\\t\\u0001\"\n",
            );
            assert!(text.contains("第四条"));
        }
    }
    let escaped =
        Pack::from_sources_with(sources, &crate::shipped::rules).expect("the edited pack loads");
    [shipped, escaped]
}

/// The pack's own files under `dir`, as `Pack::load_dir` reads them: the
/// pack file and the parameters, programmes and tests (the folder also
/// holds data for other readers, such as the consultation's clauses).
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    const PACK_FOLDERS: [&str; 3] = ["parameters", "programmes", "tests"];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if dir != root || PACK_FOLDERS.contains(&name.as_str()) {
                collect(root, &path, out);
            }
        } else if path.extension().is_some_and(|e| e == "yaml") {
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// What serde writes for a single evaluation.
#[derive(Serialize)]
struct SingleOutput<'a> {
    pack: PackRef,
    id: Option<&'a str>,
    as_of: NaiveDate,
    results: &'a [ProgrammeResult<'a>],
}

/// What serde writes for one case: the batch's case output object.
#[derive(Serialize)]
struct CaseOutput<'a> {
    id: Option<&'a str>,
    as_of: NaiveDate,
    results: &'a [ProgrammeResult<'a>],
}

#[derive(Serialize)]
struct ErrorOutput<'a> {
    id: Option<&'a str>,
    error: &'a opcity_policy::CaseError,
}

fn via_serde(at: &PackAt, detail: Detail, line: &str) -> Vec<u8> {
    match at.pack().parse_case(line) {
        Ok(case) => {
            let evaluation = at.evaluate(&case, detail);
            serde_json::to_vec(&CaseOutput {
                id: case.person.id.as_deref(),
                as_of: at.as_of(),
                results: &evaluation.results,
            })
            .unwrap()
        }
        Err(error) => {
            let id = serde_json::from_str::<Value>(line)
                .ok()
                .and_then(|v| v.get("person")?.get("id")?.as_str().map(ToOwned::to_owned));
            serde_json::to_vec(&ErrorOutput {
                id: id.as_deref(),
                error: &error,
            })
            .unwrap()
        }
    }
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

#[test]
fn the_writer_matches_serde_byte_for_byte() {
    for pack in packs() {
        let lines = population(&pack);
        for as_of in AS_OF {
            let at = pack.at(as_of.parse().unwrap());
            for detail in [Detail::Full, Detail::Brief] {
                let mut expected = Vec::new();
                let mut bad = 0;
                for line in &lines {
                    let serde = via_serde(&at, detail, line);
                    let mut fast = Vec::new();
                    bad += usize::from(batch::evaluate_json(&at, detail, line, &mut fast).is_err());
                    assert_eq!(text(&fast), text(&serde), "{detail:?} {as_of} {line}");
                    expected.extend_from_slice(&serde);
                    expected.push(b'\n');
                }
                assert_eq!(bad, 7);

                // The streaming path, with blank lines and chunk boundaries.
                let input = lines.join("\n\n  \n") + "\n";
                let mut out = Vec::new();
                let mut failures = Vec::new();
                let summary = batch::evaluate_jsonl(
                    &at,
                    detail,
                    input.as_bytes(),
                    &mut out,
                    |_| {},
                    |f| failures.push((f.position, f.line)),
                )
                .unwrap();
                assert_eq!((summary.cases, summary.failed), (lines.len(), 7));
                assert_eq!(failures[0], (8, Some(22)));
                assert_eq!(text(&out), text(&expected), "{detail:?} {as_of}");

                // The document path.
                let document = format!("[{}]", lines.join(",\n"));
                let mut out = Vec::new();
                batch::evaluate_document(&at, detail, &document, &mut out, |_| {}, |_| {}).unwrap();
                let objects: Vec<&str> = text(&expected).lines().collect();
                let wanted = format!("[\n{}\n]\n", objects.join(",\n"));
                assert_eq!(text(&out), wanted, "{detail:?} {as_of}");
            }
        }
    }
}

/// The API's one-case answer: byte for byte what serde writes for the
/// results with the pack in front, and as JSON the owned `CaseEvaluation`
/// the API answered with before (whose facts are JSON values, so a grant's
/// keys come sorted there), for every case and date.
#[test]
fn a_single_evaluation_is_written_as_serde_writes_its_case_evaluation() {
    for pack in packs() {
        let lines = population(&pack);
        // Inside the window and after it; the other dates are the
        // batch tests'.
        for as_of in [AS_OF[1], AS_OF[3]] {
            let at = pack.at(as_of.parse().unwrap());
            for detail in [Detail::Full, Detail::Brief] {
                for (n, line) in lines.iter().enumerate() {
                    let Ok(case) = pack.parse_case(line) else {
                        continue;
                    };
                    let evaluation = at.evaluate(&case, detail);
                    let mut fast = Vec::new();
                    batch::write_evaluation(&at, &case, detail, &mut fast);
                    let serde = serde_json::to_vec(&SingleOutput {
                        pack: PackRef::from(&pack),
                        id: case.person.id.as_deref(),
                        as_of: at.as_of(),
                        results: &evaluation.results,
                    })
                    .unwrap();
                    assert_eq!(text(&fast), text(&serde), "{detail:?} {as_of} {line}");
                    // The owned twin is slow to build: one case in ten.
                    if n % 10 != 0 {
                        continue;
                    }
                    let owned = CaseEvaluation {
                        pack: PackRef::from(&pack),
                        id: case.person.id.clone(),
                        as_of: at.as_of(),
                        results: evaluation.results.iter().map(ResultRecord::from).collect(),
                    };
                    let fast: Value = serde_json::from_slice(&fast).unwrap();
                    assert_eq!(fast, serde_json::to_value(&owned).unwrap(), "{line}");
                }
            }
        }
    }
}

#[test]
fn brief_is_full_without_reasons_parameters_pack_and_a_null_note() {
    let [pack, _] = packs();
    let lines = population(&pack);
    let mut notes = 0;
    for as_of in AS_OF {
        let at = pack.at(as_of.parse().unwrap());
        for line in &lines {
            let (mut full, mut brief) = (Vec::new(), Vec::new());
            let ok = batch::evaluate_json(&at, Detail::Full, line, &mut full).is_ok();
            let _ = batch::evaluate_json(&at, Detail::Brief, line, &mut brief);
            let mut full: Value = serde_json::from_slice(&full).unwrap();
            let brief: Value = serde_json::from_slice(&brief).unwrap();
            if ok {
                for result in full["results"].as_array_mut().unwrap() {
                    let result = result.as_object_mut().unwrap();
                    assert!(result.remove("reasons").is_some());
                    assert!(result.remove("parameters").is_some());
                    let pack = match result["programme"].as_str().unwrap() {
                        id if id.starts_with("gd.") => "guangdong-2026",
                        _ => "shenzhen-2026",
                    };
                    assert_eq!(result.remove("pack").unwrap(), pack);
                    if result["note"].is_null() {
                        result.remove("note");
                    } else {
                        notes += 1;
                    }
                }
            }
            assert_eq!(brief, full, "{as_of} {line}");
        }
    }
    // Unset parameters, missing tiers and contract shares all gave notes.
    assert!(notes > 1_000, "{notes}");
}

#[test]
fn brief_keeps_the_spec_fields_in_order() {
    let [pack, _] = packs();
    let at = pack.at("2026-06-01".parse().unwrap());
    let case = r#"{"person":{"id":"p","birth_date":"1998-01-01","highest_degree":"master","hukou_shenzhen_since":"2026-02-01","works_in_ai":true,"is_founder":true}}"#;
    let mut out = Vec::new();
    batch::evaluate_json(&at, Detail::Brief, case, &mut out).unwrap();
    let out = text(&out);
    assert!(out.contains(r#"{"programme":"sz.housing.subsidy","status":"eligible","kind":"cash","amount_fen":3000000,"ceiling_fen":null,"monthly_fen":125000,"months":24,"missing_facts":[]}"#), "{out}");
    // A note that is not null stays: the master tier is unset.
    assert!(out.contains(r#"{"programme":"sz.talent.hukou_subsidy","status":"eligible","kind":"cash","amount_fen":null,"ceiling_fen":null,"monthly_fen":null,"months":null,"missing_facts":[],"note":"#), "{out}");
    assert!(!out.contains("\"parameters\""));
    assert!(!out.contains("\"reasons\""));
}
