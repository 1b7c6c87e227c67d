//! The batch path's hand-written JSON writer against serde: for a varied,
//! generated population (missing facts, no enterprise, grants of every kind,
//! unset parameters, strings that need escaping, bad cases), every output
//! object is byte for byte what `serde_json` writes for the same structs,
//! with full and brief detail, through `evaluate_json`, `evaluate_jsonl` and
//! `evaluate_document`; and a brief result is the full one without
//! `reasons`, `parameters` and a null `note`.

use chrono::NaiveDate;
use opcity_policy::{Detail, Pack, PackAt, ProgrammeResult, batch};
use serde::Serialize;
use serde_json::{Value, json};
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
    let escaped = Pack::from_sources(sources).expect("the edited pack loads");
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

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A date `days` around `base`, either way.
    fn date_around(&mut self, base: &str, days: i64) -> String {
        let base: NaiveDate = base.parse().unwrap();
        let offset = self.below(2 * days as u64 + 1) as i64 - days;
        (base + chrono::Duration::days(offset)).to_string()
    }
}

/// Sets a fact, except about 8% of the time (missing facts).
fn put(map: &mut serde_json::Map<String, Value>, rng: &mut Rng, key: &str, v: Value) {
    if !rng.chance(8) {
        map.insert(key.to_owned(), v);
    }
}

const AS_OF: [&str; 4] = ["2025-12-31", "2026-06-01", "2027-12-31", "2028-02-29"];

fn case(rng: &mut Rng, i: usize, programmes: &[&str]) -> Value {
    let mut person = serde_json::Map::new();
    let id = match rng.below(20) {
        0 => Value::Null,
        1 => json!(format!("p{i} \"quoted\" \\ 深圳 \u{1}\t")),
        2 => json!(format!("p{i}\u{7f}\u{2028}🦀")),
        _ => json!(format!("p{i:07}")),
    };
    if !id.is_null() || rng.chance(50) {
        person.insert("id".into(), id);
    }
    let birth = match rng.below(4) {
        // Around the 36th birthday on the evaluation dates.
        0 => rng.date_around("1990-06-01", 3),
        1 => rng.date_around("1991-12-31", 400),
        2 => rng
            .pick(&["1996-02-29", "2000-02-29", "1992-03-01"])
            .to_string(),
        _ => rng.date_around("1985-01-01", 6000),
    };
    put(&mut person, rng, "birth_date", json!(birth));
    let degree = *rng.pick(&["none", "associate", "bachelor", "master", "doctorate"]);
    put(&mut person, rng, "highest_degree", json!(degree));
    let degree_date = match rng.below(3) {
        0 => rng.date_around("2021-06-01", 3),
        1 => rng.date_around("2024-02-29", 800),
        _ => rng.date_around("2026-07-01", 60),
    };
    put(&mut person, rng, "degree_date", json!(degree_date));
    let overseas = rng.chance(30);
    put(&mut person, rng, "overseas_degree", json!(overseas));
    let hukou = match rng.below(5) {
        0 => Value::Null,
        1 => json!(*rng.pick(&["2025-12-31", "2026-01-01", "2026-06-01", "2026-06-02"])),
        _ => json!(rng.date_around("2026-03-01", 200)),
    };
    put(&mut person, rng, "hukou_shenzhen_since", hukou);
    for key in ["works_in_ai", "is_founder", "kunpeng_selected"] {
        let v = rng.chance(70);
        put(&mut person, rng, key, json!(v));
    }
    let high_level = rng.chance(10);
    put(&mut person, rng, "high_level_talent", json!(high_level));
    let mut case = serde_json::Map::new();
    case.insert("person".into(), Value::Object(person));
    // 30% without an enterprise.
    if rng.chance(70) {
        let mut e = serde_json::Map::new();
        if rng.chance(30) {
            put(&mut e, rng, "uscc", json!("91440300708461136T"));
        }
        let registered = rng.date_around("2025-06-01", 800);
        put(&mut e, rng, "registered_date", json!(registered));
        let district = *rng.pick(&[
            "futian",
            "luohu",
            "nanshan",
            "yantian",
            "baoan",
            "longgang",
            "longhua",
            "pingshan",
            "guangming",
            "dapeng",
        ]);
        put(&mut e, rng, "district", json!(district));
        for key in ["in_opc_community", "ai_business"] {
            let v = rng.chance(60);
            put(&mut e, rng, key, json!(v));
        }
        let size = *rng.pick(&["micro", "small", "medium", "large"]);
        put(&mut e, rng, "size", json!(size));
        for key in [
            "gov_deployed_product",
            "demonstration_project",
            "consortium_lead",
        ] {
            let v = rng.chance(20);
            put(&mut e, rng, key, json!(v));
        }
        case.insert("enterprise".into(), Value::Object(e));
    }
    // 40% with grants: open-ended, ended the day before, ending on the
    // date, starting later.
    if rng.chance(40) {
        let grants: Vec<Value> = (0..1 + rng.below(3))
            .map(|_| {
                let mut g = serde_json::Map::new();
                g.insert("programme".into(), json!(*rng.pick(programmes)));
                let from = rng.date_around("2025-06-01", 500);
                match rng.below(4) {
                    0 => {}
                    1 => {
                        g.insert("to".into(), Value::Null);
                    }
                    2 => {
                        // Ending on an evaluation date (ISO dates sort as text).
                        let to = (*rng.pick(&AS_OF)).max(from.as_str()).to_owned();
                        g.insert("to".into(), json!(to));
                    }
                    _ => {
                        g.insert("to".into(), json!("2028-12-31"));
                    }
                }
                g.insert("from".into(), json!(from));
                Value::Object(g)
            })
            .collect();
        case.insert("granted".into(), Value::Array(grants));
    }
    Value::Object(case)
}

/// Case lines: generated cases, a few bad ones (each kind of error) and
/// texts that need more than the fast path.
fn population(pack: &Pack) -> Vec<String> {
    let programmes: Vec<&str> = pack.programmes().iter().map(|p| p.id.as_str()).collect();
    let mut rng = Rng(0x0dd_c0ffee);
    let mut lines: Vec<String> = (0..2_000)
        .map(|i| case(&mut rng, i, &programmes).to_string())
        .collect();
    let bad = [
        r#"{"person":{"id":"bad1","nickname":"x"}}"#,
        r#"{"person":{"id":"bad \"2\"","birth_date":"1990-02-30"}}"#,
        r#"{"person":{"id":"bad3"},"enterprise":{"uscc":"91440300708461136U"}}"#,
        r#"{"person":{"id":"bad4"},"granted":[{"programme":"sz.nope","from":"2026-01-01"}]}"#,
        r#"{"person":{"id":"bad5"},"granted":[{"programme":"sz.voucher.data","from":"2026-01-02","to":"2026-01-01"}]}"#,
        r#"{"person":{"works_in_ai":"yes"}}"#,
        r#"[1, 2]"#,
        r#"{"person": {"id": "spaced \u00e9\n", "works_in_ai" : true} }"#,
        r#"{"person":{"id":"escaped \u0041 \ud83e\udd80","birth_date":"1995-03-01","is_founder":true,"works_in_ai":true}}"#,
    ];
    for (k, b) in bad.iter().enumerate() {
        lines.insert(k * 211 + 7, (*b).to_owned());
    }
    lines
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

#[test]
fn brief_is_full_without_reasons_parameters_and_a_null_note() {
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
