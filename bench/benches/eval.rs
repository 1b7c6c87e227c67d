//! Evaluation speed: one case with full explanations, and a JSON Lines batch
//! of 10,000 cases through the streaming batch engine; and loading a chain
//! of packs (province → city → district) from their directories, beside a
//! pack that extends nothing.

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opcity_policy::{Detail, Pack, batch};
use std::hint::black_box;

const CASE: &str = r#"{"person":{"id":"p1","birth_date":"1995-03-01","highest_degree":"doctorate",
"degree_date":"2023-07-01","overseas_degree":true,"hukou_shenzhen_since":"2026-02-01",
"works_in_ai":true,"is_founder":true,"kunpeng_selected":true,"high_level_talent":false},
"enterprise":{"uscc":"91440300708461136T","registered_date":"2026-03-01","district":"nanshan",
"in_opc_community":true,"ai_business":true,"size":"micro","gov_deployed_product":false},
"granted":[{"programme":"sz.housing.transitional","from":"2026-03-01","to":null}]}"#;

fn pack() -> Pack {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/shenzhen-2026");
    Pack::load_dir(dir).expect("the Shenzhen pack loads")
}

fn single(c: &mut Criterion) {
    let pack = pack();
    let as_of = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    let case = pack.parse_case(CASE).unwrap();
    let at = pack.at(as_of);
    c.bench_function("evaluate one case, full explanation", |b| {
        b.iter(|| black_box(at.evaluate(black_box(&case), Detail::Full)))
    });
    c.bench_function("parse + evaluate + serialize one case, full", |b| {
        let mut out = Vec::with_capacity(64 * 1024);
        b.iter(|| {
            out.clear();
            let _ = batch::evaluate_json(&at, Detail::Full, black_box(CASE), &mut out);
            black_box(out.len())
        })
    });
}

fn batch_10k(c: &mut Criterion) {
    let pack = pack();
    let at = pack.at(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap());
    let line = CASE.replace('\n', "");
    let input: String = (0..10_000).map(|_| format!("{line}\n")).collect();
    let mut group = c.benchmark_group("batch of 10k cases (jsonl)");
    group.sample_size(10);
    group.throughput(Throughput::Elements(10_000));
    for (name, detail) in [("full", Detail::Full), ("brief", Detail::Brief)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                batch::evaluate_jsonl(
                    &at,
                    detail,
                    input.as_bytes(),
                    std::io::sink(),
                    |_| {},
                    |_| {},
                )
                .unwrap()
            })
        });
    }
    group.finish();
}

/// Loading (read, parse, check, compile) one, two and three levels of
/// packs: Guangdong alone, Shenzhen on it, Longgang on both.
fn pack_chain(c: &mut Criterion) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies");
    let mut group = c.benchmark_group("load a pack chain from its directories");
    group.sample_size(30);
    for (name, id) in [
        ("1 level (guangdong)", "guangdong-2026"),
        ("2 levels (shenzhen)", "shenzhen-2026"),
        ("3 levels (longgang)", "longgang-2026"),
    ] {
        let dir = format!("{root}/{id}");
        group.bench_function(name, |b| {
            b.iter(|| Pack::load_dir(black_box(&dir)).expect("the shipped pack loads"))
        });
    }
    group.finish();
}

criterion_group!(benches, single, batch_10k, pack_chain);
criterion_main!(benches);
