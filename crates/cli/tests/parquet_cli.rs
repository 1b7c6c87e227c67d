//! Apache Parquet through `opcity policy eval` and `whatif`: cases read
//! from Parquet give exactly what the same cases give as JSON Lines, and
//! results written as Parquet read back to the brief JSON Lines output.

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Fields, Schema};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Value, json};
use std::process::{Command, Output};
use std::sync::Arc;

fn opcity(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opcity"))
        .args(args)
        .output()
        .expect("runs opcity")
}

fn date(n: u64, from_year: u64) -> String {
    format!("{}-{:02}-{:02}", from_year + n % 12, 1 + n % 12, 1 + n % 28)
}

/// A varied population in JSON: every fact sometimes known, sometimes not.
fn population(n: u64) -> Vec<Value> {
    let pick = |i: u64, k: u64| (i.wrapping_mul(2_654_435_761).rotate_left(k as u32) >> 7) % 5;
    (0..n)
        .map(|i| {
            let mut person = Map::new();
            person.insert("id".into(), json!(format!("p{i}")));
            if pick(i, 1) > 0 {
                person.insert("birth_date".into(), json!(date(i, 1986)));
            }
            let degrees = ["none", "associate", "bachelor", "master", "doctorate"];
            if pick(i, 2) > 0 {
                person.insert("highest_degree".into(), json!(degrees[(i % 5) as usize]));
                person.insert("degree_date".into(), json!(date(i + 3, 2016)));
            }
            if pick(i, 3) > 1 {
                person.insert("hukou_shenzhen_since".into(), json!(date(i, 2020)));
            }
            for (k, flag) in ["works_in_ai", "is_founder", "overseas_degree", "kunpeng_selected", "high_level_talent"]
                .iter()
                .enumerate()
            {
                if pick(i, 4 + k as u64) > 0 {
                    person.insert((*flag).into(), json!(pick(i, 9 + k as u64) > 1));
                }
            }
            let mut case = Map::new();
            case.insert("person".into(), Value::Object(person));
            if pick(i, 15) > 1 {
                let districts = ["futian", "nanshan", "longgang", "baoan"];
                case.insert(
                    "enterprise".into(),
                    json!({"uscc": "91440300708461136T", "registered_date": date(i, 2019),
                           "district": districts[(i % 4) as usize], "in_opc_community": pick(i, 16) > 1,
                           "ai_business": pick(i, 17) > 0, "size": "micro"}),
                );
            }
            if pick(i, 18) == 0 {
                case.insert(
                    "granted".into(),
                    json!([{"programme": "sz.housing.subsidy", "from": "2026-02-01", "to": null}]),
                );
            }
            Value::Object(case)
        })
        .collect()
}

fn cases_schema() -> Arc<Schema> {
    let date = || DataType::Date32;
    let person = Fields::from(vec![
        Field::new("id", DataType::Utf8, true),
        Field::new("birth_date", date(), true),
        Field::new("highest_degree", DataType::Utf8, true),
        Field::new("degree_date", date(), true),
        Field::new("overseas_degree", DataType::Boolean, true),
        Field::new("hukou_shenzhen_since", date(), true),
        Field::new("works_in_ai", DataType::Boolean, true),
        Field::new("is_founder", DataType::Boolean, true),
        Field::new("kunpeng_selected", DataType::Boolean, true),
        Field::new("high_level_talent", DataType::Boolean, true),
    ]);
    let enterprise = Fields::from(vec![
        Field::new("uscc", DataType::Utf8, true),
        Field::new("registered_date", date(), true),
        Field::new("district", DataType::Utf8, true),
        Field::new("in_opc_community", DataType::Boolean, true),
        Field::new("ai_business", DataType::Boolean, true),
        Field::new("size", DataType::Utf8, true),
    ]);
    let grant = Fields::from(vec![
        Field::new("programme", DataType::Utf8, false),
        Field::new("from", date(), false),
        Field::new("to", date(), true),
    ]);
    Arc::new(Schema::new(vec![
        Field::new("person", DataType::Struct(person), false),
        Field::new("enterprise", DataType::Struct(enterprise), true),
        Field::new(
            "granted",
            DataType::List(Arc::new(Field::new("item", DataType::Struct(grant), false))),
            true,
        ),
    ]))
}

/// `cases` written as a Parquet file at `path`, the way an analyst's
/// dataframe would be.
fn write_parquet(path: &std::path::Path, cases: &[Value]) {
    let schema = cases_schema();
    let mut decoder = arrow_json::ReaderBuilder::new(schema.clone())
        .build_decoder()
        .unwrap();
    let lines: String = cases.iter().map(|c| format!("{c}\n")).collect();
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    let mut bytes = lines.as_bytes();
    while !bytes.is_empty() {
        let used = decoder.decode(bytes).unwrap();
        bytes = &bytes[used..];
        if let Some(batch) = decoder.flush().unwrap() {
            writer.write(&batch).unwrap();
        }
    }
    writer.close().unwrap();
}

/// The rows of a Parquet file as JSON objects.
fn read_parquet(path: &std::path::Path) -> Vec<Value> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    let mut out = Vec::new();
    let mut writer = arrow_json::LineDelimitedWriter::new(&mut out);
    for batch in &batches {
        writer.write(batch).unwrap();
    }
    writer.finish().unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `value` without the keys whose value is null, at every depth.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

#[test]
fn parquet_cases_read_as_their_json_lines_and_results_write_as_parquet() {
    let dir = tempfile::tempdir().unwrap();
    // More rows than a batch (8,192), so that batches meet on both sides.
    let mut cases = population(20_000);
    // A bad case: its error is reported by row, and the rest still run.
    cases[17]["person"]["highest_degree"] = json!("phd");
    let jsonl = dir.path().join("cases.jsonl");
    let lines: String = cases.iter().map(|c| format!("{c}\n")).collect();
    std::fs::write(&jsonl, lines).unwrap();
    let parquet = dir.path().join("cases.parquet");
    write_parquet(&parquet, &cases);
    let (jsonl, parquet) = (jsonl.display().to_string(), parquet.display().to_string());

    let eval = |format: &str, file: &str| {
        opcity(&[
            "policy",
            "eval",
            "--pack",
            "longgang-2026",
            "--as-of",
            "2026-06-01",
            "--format",
            format,
            file,
        ])
    };
    let from_json = eval("jsonl", &jsonl);
    let from_parquet = eval("jsonl", &parquet);
    assert_eq!(from_json.status.code(), Some(1), "one bad case");
    assert_eq!(from_parquet.status.code(), Some(1));
    assert!(
        from_json.stdout == from_parquet.stdout,
        "the same results, byte for byte"
    );
    assert_eq!(from_json.stderr, from_parquet.stderr);
    assert!(String::from_utf8_lossy(&from_parquet.stderr).contains("line 18"));

    let brief = opcity(&[
        "policy",
        "eval",
        "--pack",
        "longgang-2026",
        "--as-of",
        "2026-06-01",
        "--format",
        "jsonl",
        "--detail",
        "brief",
        &jsonl,
    ]);
    let expected: Vec<Value> = String::from_utf8(brief.stdout)
        .unwrap()
        .lines()
        .map(|l| without_nulls(serde_json::from_str(l).unwrap()))
        .collect();
    let written = eval("parquet", &parquet);
    assert_eq!(written.status.code(), Some(1));
    let results = dir.path().join("results.parquet");
    std::fs::write(&results, &written.stdout).unwrap();
    let rows: Vec<Value> = read_parquet(&results)
        .into_iter()
        .map(without_nulls)
        .collect();
    assert_eq!(rows.len(), 20_000);
    assert_eq!(rows, expected);
    assert_eq!(rows[17]["error"]["field"], "person.highest_degree");

    let whatif = |file: &str| {
        opcity(&[
            "policy",
            "whatif",
            "--pack",
            "longgang-2026",
            "--as-of",
            "2026-06-01",
            "--set",
            "lg_openclaw_project_ceiling_fen=300000000",
            file,
        ])
    };
    let (a, b) = (whatif(&jsonl), whatif(&parquet));
    assert!(!a.stdout.is_empty());
    assert_eq!(a.stdout, b.stdout, "{}", String::from_utf8_lossy(&b.stderr));

    let refused = eval("json", &parquet);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--format jsonl or --format parquet")
    );
    let full = opcity(&[
        "policy",
        "eval",
        "--pack",
        "longgang-2026",
        "--as-of",
        "2026-06-01",
        "--format",
        "parquet",
        "--detail",
        "full",
        &parquet,
    ]);
    assert_eq!(full.status.code(), Some(2));
    let broken = dir.path().join("broken.parquet");
    std::fs::write(&broken, b"not parquet").unwrap();
    let broken = eval("jsonl", &broken.display().to_string());
    assert_eq!(broken.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("broken.parquet"));
}
