//! Choosing a region: the self-check, the one-case API, the catalogue and
//! consultation follow it, applying stays with the pack in force, and an
//! unknown region is a 404 problem.

use opcity_domain::Role;
use opcity_testkit::{FounderSpec, TestApp, TestDb};
use reqwest::StatusCode;
use serde_json::{Value, json};

const WUHAN_CHECK: &str = "/self-check?region=wuhan-2026&works_in_ai=true&is_founder=true&has_enterprise=true&e_ai_business=true&e_registered_date=2026-03-01&as_of=2026-06-01&granted_sz.housing.subsidy=on";

async fn json_at(app: &TestApp, path: &str) -> Value {
    let r = reqwest::get(app.url(path)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_follows_the_region_chosen() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(&db).await;
    let regions: Value = reqwest::get(app.url("/api/v1/regions"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(regions[0]["pack"]["id"], "shenzhen-2026");
    assert_eq!(regions[0]["in_force"], true);
    assert!(
        regions
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["pack"]["id"] == "jinan-2026" && r["region"]["zh"] == "济南市")
    );

    let case = json!({"person": {"id": "p1", "works_in_ai": true, "highest_degree": "doctorate"}});
    let client = reqwest::Client::new();
    let r = client
        .post(app.url("/api/v1/eligibility?region=jinan-2026&as_of=2026-06-01"))
        .json(&case)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-opcity-pack"], "jinan-2026@2026.1.0");
    let body: Value = r.json().await.unwrap();
    let doctorate = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["programme"] == "jn.talent.doctorate_living")
        .unwrap();
    assert_eq!(doctorate["amount_fen"], 5_400_000);
    assert_eq!(doctorate["pack"], "jinan-2026");

    let catalogue: Value = reqwest::get(app.url("/api/v1/programmes?region=longgang-2026"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(catalogue["programmes"][0]["id"], "lg.openclaw.project");
    assert_eq!(catalogue["programmes"][0]["pack"], "longgang-2026");

    let voucher = json_at(
        &app,
        "/api/v1/programmes/wh.voucher.compute?region=wuhan-2026",
    )
    .await;
    assert_eq!(voucher["pack"]["id"], "wuhan-2026", "{voucher}");
    assert_eq!(voucher["programme"]["pack"], "wuhan-2026");
    let startup = json_at(
        &app,
        "/api/v1/parameters/gd_startup_stage_years?at=2026-06-01",
    )
    .await;
    assert_eq!(startup["pack"]["id"], "shenzhen-2026", "{startup}");
    assert_eq!(startup["defined_by"], "guangdong-2026");
    assert!(
        startup["flagged"]
            .as_str()
            .is_some_and(|f| f.contains("初创期")),
        "{startup}"
    );
    assert_eq!(startup["value"], 3);
    let not_here = reqwest::get(app.url("/api/v1/programmes/wh.voucher.compute"))
        .await
        .unwrap();
    assert_eq!(not_here.status(), StatusCode::NOT_FOUND);

    for path in [
        "/api/v1/programmes?region=atlantis",
        "/api/v1/parameters/youth_max_age?region=atlantis",
        "/api/v1/consult?q=%E8%A1%A5%E8%B4%B4&region=atlantis",
    ] {
        let r = reqwest::get(app.url(path)).await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["code"], "not_found", "{problem}");
    }
    let r = client
        .post(app.url("/api/v1/eligibility?region=atlantis"))
        .json(&case)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let answer: Value = reqwest::get(app.url(
        "/api/v1/consult?lang=en&region=wuhan-2026&q=Can%20I%20get%20a%20compute%20voucher%3F",
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(answer["abstained"], true, "{answer}");
    assert!(answer["answer"].as_str().unwrap().contains("Wuhan"));
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_self_check_follows_the_region_and_offers_applying_only_at_home() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(&db).await;
    let admin = app.account("admin", Role::MunicipalAdmin, None).await;
    app.founder(&admin, FounderSpec::young_ai("founder", 1))
        .await;
    let me = app.sign_in("founder").await.in_language("en");

    let page = me.text(WUHAN_CHECK).await;
    assert!(
        page.contains("<option value=\"wuhan-2026\" selected>Wuhan</option>"),
        "{page}"
    );
    assert!(
        page.contains("id=\"result-wh.voucher.compute\" data-status=\"eligible\""),
        "{page}"
    );
    assert!(page.contains("Policy pack wuhan-2026"), "{page}");
    // Shenzhen's benefits are not offered as already received, and the one
    // left in the address does not reach Wuhan's rules.
    assert!(
        !page.contains("name=\"granted_sz.housing.subsidy\""),
        "{page}"
    );
    // Applying is for the pack in force only.
    assert!(!page.contains("id=\"apply-"), "{page}");
    // The form asks only what Wuhan's rules read: no Shenzhen hukou, no
    // Shenzhen district, but the company's registration date.
    for absent in ["id=\"hukou\"", "id=\"e_district\"", "id=\"birth_date\""] {
        assert!(!page.contains(absent), "{absent}: {page}");
    }
    assert!(page.contains("id=\"e_registered_date\""), "{page}");
    assert!(!page.contains("Measure (0)"), "{page}");

    let home = me
        .text("/self-check?region=shenzhen-2026&birth_date=1996-05-20&highest_degree=master&hukou=none&works_in_ai=true&is_founder=true")
        .await;
    assert!(home.contains("id=\"apply-sz.housing.subsidy\""), "{home}");
    for asked in ["id=\"hukou\"", "id=\"e_district\"", "id=\"birth_date\""] {
        assert!(home.contains(asked), "{asked}");
    }
    assert!(home.contains("<option value=\"shenzhen-2026\" selected>Shenzhen</option>"));

    let consult = me
        .text("/consult?region=jinan-2026&q=%E8%A1%A5%E8%B4%B4")
        .await;
    assert!(consult.contains("id=\"abstained\""), "{consult}");
    assert!(
        consult.contains("<option value=\"jinan-2026\" selected>Jinan</option>"),
        "{consult}"
    );

    let (status, _) = app
        .guest("en")
        .page("/self-check?region=atlantis&works_in_ai=true")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A link to another region's self-check opens its form, not results.
    let (status, page) = app.guest("en").page("/self-check?region=jinan-2026").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<option value=\"jinan-2026\" selected>Jinan</option>"),
        "{page}"
    );
    assert!(!page.contains("id=\"results\""), "{page}");
    assert!(page.contains("id=\"high_level_talent\""), "{page}");
    assert!(!page.contains("id=\"hukou\""), "{page}");
    // Jinan's one-time living subsidies may be said to be received.
    assert!(
        page.contains("name=\"granted_jn.talent.doctorate_living\""),
        "{page}"
    );
    db.cleanup().await;
}
