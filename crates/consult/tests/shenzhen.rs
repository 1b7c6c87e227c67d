//! The Shenzhen pack's clauses: they load, index in well under a second,
//! answer by quoting, abstain when the sources are silent, and meet the
//! evaluation set's targets.

use opcity_consult::{Lang, Library};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn pack_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies/shenzhen-2026")
}

fn library() -> Library {
    let pack = opcity_policy::Pack::load_dir(pack_dir()).expect("the pack loads");
    opcity_consult::load(&pack_dir(), &pack).expect("the clauses load")
}

#[test]
fn the_index_builds_in_under_a_second() {
    let pack = opcity_policy::Pack::load_dir(pack_dir()).expect("the pack loads");
    // The first build pays for jieba's dictionary; both must be quick.
    for _ in 0..2 {
        let started = Instant::now();
        let library = opcity_consult::load(&pack_dir(), &pack).expect("the clauses load");
        let took = started.elapsed();
        assert!(took < Duration::from_secs(1), "built in {took:?}");
        assert!(library.entries().len() >= 30, "{library:?}");
    }
}

#[test]
fn a_housing_question_quotes_measure_four_and_names_its_programmes() {
    let library = library();
    let c = library
        .consult(
            "Can I get both the housing subsidy and the cheap apartment?",
            Lang::En,
        )
        .unwrap();
    assert!(!c.abstained, "{c:?}");
    let ids: Vec<&str> = c.citations.iter().map(|c| c.clause_id.as_str()).collect();
    assert!(ids.contains(&"shenzhen-2026/m4.1"), "{ids:?}");
    assert!(ids.contains(&"shenzhen-2026/m4.2"), "{ids:?}");
    assert!(c.citations.iter().all(|c| c.measure == 4), "{c:?}");
    assert!(c.programmes.contains(&"sz.housing.subsidy".to_owned()));
    assert!(c.programmes.contains(&"sz.housing.transitional".to_owned()));
    for citation in &c.citations {
        assert!(
            c.answer.contains(&citation.quote),
            "the answer quotes each clause"
        );
    }
}

#[test]
fn chinese_answers_quote_the_chinese_clause() {
    let library = library();
    let c = library
        .consult("我刚硕士毕业，来深圳创业能拿多少补贴？", Lang::Zh)
        .unwrap();
    assert!(!c.abstained, "{c:?}");
    assert_eq!(c.citations[0].clause_id, "shenzhen-2026/m2.1");
    assert!(c.citations[0].quote.contains("落户补贴"), "{c:?}");
    assert_eq!(c.programmes[0], "sz.talent.hukou_subsidy");
    // The language of the answer is the one asked for, whatever the script.
    let en = library
        .consult("我刚硕士毕业，来深圳创业能拿多少补贴？", Lang::En)
        .unwrap();
    assert!(en.citations[0].quote.contains("hukou"), "{en:?}");
}

#[test]
fn a_question_the_sources_do_not_cover_abstains_with_an_adviser() {
    let library = library();
    for (q, lang) in [
        ("Is there a subsidy for buying an electric car?", Lang::En),
        ("深圳明天天气怎么样", Lang::Zh),
        ("离婚手续怎么办", Lang::Zh),
        ("?", Lang::En),
    ] {
        let c = library.consult(q, lang).unwrap();
        assert!(c.abstained, "{q}: {c:?}");
        assert!(c.citations.is_empty() && c.programmes.is_empty(), "{q}");
        assert!(c.answer.contains("12345"), "{q}: points to an adviser");
    }
}

#[test]
fn the_evaluation_set_meets_its_targets() {
    let library = library();
    let path = pack_dir().join("evaluation/consult.yaml");
    let set = opcity_consult::EvalSet::load(&path).expect("the evaluation set loads");
    assert!(set.answerable.len() >= 150 && set.out_of_scope.len() >= 30);
    let report = set.run(&library, "consult.yaml").unwrap();
    let shown = serde_json::to_string_pretty(&report).unwrap();
    assert!(report.recall_at_3 >= 0.95, "{shown}");
    assert!(report.abstention_rate >= 0.95, "{shown}");
    assert_eq!(report.wrong_citation_rate, 0.0, "{shown}");
    assert!(report.meets_targets());
}
