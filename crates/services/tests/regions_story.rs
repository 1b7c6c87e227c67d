//! Regions: the self-check, the one-case answer, batches and consultation
//! follow the region chosen, while the pack in force stays the platform's;
//! an unknown region is not found and changes nothing.

use opcity_domain::Role;
use opcity_policy::{Detail, Status};
use opcity_services::ServiceError;
use opcity_services::consult::Lang;
use opcity_testkit::{TestDb, account};

fn day() -> chrono::NaiveDate {
    "2026-06-01".parse().unwrap()
}

const WUHAN_OPC: &str = r#"{"person":{"id":"p1","works_in_ai":true,"is_founder":true},
"enterprise":{"uscc":"91440300708461136T","registered_date":"2026-03-01","ai_business":true,"size":"micro"}}"#;

#[tokio::test]
async fn the_chosen_region_answers_and_the_pack_in_force_stays() {
    let db = TestDb::sqlite().await;
    let s = opcity_testkit::services(&db);
    let regions = s.regions();
    let ids: Vec<&str> = regions.iter().map(|r| r.pack.id.as_str()).collect();
    // The pack in force first, then the other built-in packs with
    // programmes (Hubei and Shandong have none yet).
    assert_eq!(
        ids,
        [
            "shenzhen-2026",
            "guangdong-2026",
            "jinan-2026",
            "longgang-2026",
            "wuhan-2026"
        ]
    );
    assert!(regions[0].in_force && regions[1..].iter().all(|r| !r.in_force));
    let longgang = &regions[3];
    assert_eq!(longgang.region.en, "Shenzhen · Longgang");
    assert_eq!(
        longgang.lineage,
        ["guangdong-2026", "shenzhen-2026", "longgang-2026"]
    );

    let wuhan = s
        .evaluate_case(Some("wuhan-2026"), WUHAN_OPC, day(), Detail::Full)
        .unwrap();
    assert_eq!(wuhan.pack.id, "wuhan-2026");
    let voucher = wuhan
        .results
        .iter()
        .find(|r| r.programme == "wh.voucher.compute")
        .unwrap();
    assert_eq!(voucher.status, Status::Eligible);
    assert_eq!(voucher.ceiling_fen.map(|f| f.0), Some(20_000_000));
    assert_eq!(voucher.pack.as_deref(), Some("wuhan-2026"));
    // The same case in the pack in force has no Wuhan programme.
    let home = s
        .evaluate_case(None, WUHAN_OPC, day(), Detail::Brief)
        .unwrap();
    assert_eq!(home.pack.id, "shenzhen-2026");
    assert!(home.results.iter().all(|r| !r.programme.starts_with("wh.")));
    let (pack, json) = s
        .evaluate_case_json(Some("jinan-2026"), WUHAN_OPC, day(), Detail::Brief)
        .unwrap();
    assert_eq!(pack.id, "jinan-2026");
    assert!(
        String::from_utf8(json)
            .unwrap()
            .contains("jn.space.community")
    );
    assert_eq!(
        s.region_catalogue(Some("longgang-2026"))
            .unwrap()
            .programmes
            .len(),
        23
    );
    assert_eq!(s.catalogue().pack.id, "shenzhen-2026");

    for refused in [
        s.evaluate_case(Some("atlantis-2026"), WUHAN_OPC, day(), Detail::Full)
            .map(|_| ()),
        s.region_catalogue(Some("hubei-2026")).map(|_| ()),
    ] {
        assert!(
            matches!(refused, Err(ServiceError::NotFound { entity: "region" })),
            "{refused:?}"
        );
    }
    let analyst = account(&s, "analyst", Role::MunicipalAdmin, None).await;
    let batch = s.batch_evaluation(&analyst, Some("wuhan-2026")).unwrap();
    assert_eq!(batch.pack().id, "wuhan-2026");
    db.cleanup().await;
}

#[tokio::test]
async fn consultation_for_another_region_abstains_and_says_where_to_ask() {
    let db = TestDb::sqlite().await;
    let s = opcity_testkit::services(&db);
    let question = "我刚硕士毕业，来深圳创业能拿多少补贴？";
    let home = s
        .consult(None, question, Lang::Zh, day(), None)
        .await
        .unwrap();
    assert!(!home.abstained);
    let elsewhere = s
        .consult(None, question, Lang::Zh, day(), Some("wuhan-2026"))
        .await
        .unwrap();
    assert!(elsewhere.abstained);
    assert!(elsewhere.citations.is_empty() && elsewhere.programmes.is_empty());
    assert!(
        elsewhere.answer.contains("深圳市") && elsewhere.answer.contains("武汉市"),
        "{}",
        elsewhere.answer
    );
    assert!(elsewhere.next_steps[0].contains("自查"));
    let english = s
        .consult(None, "startup grant", Lang::En, day(), Some("jinan-2026"))
        .await
        .unwrap();
    assert!(
        english.answer.contains("Jinan's are not among them"),
        "{}",
        english.answer
    );
    // The question is checked first, the region next.
    let empty = s
        .consult(None, " ", Lang::Zh, day(), Some("atlantis"))
        .await;
    assert!(matches!(
        empty,
        Err(ServiceError::Refused { field: "q", .. })
    ));
    let unknown = s
        .consult(None, question, Lang::Zh, day(), Some("atlantis"))
        .await;
    assert!(matches!(
        unknown,
        Err(ServiceError::NotFound { entity: "region" })
    ));
    db.cleanup().await;
}
