//! The policy engine over HTTP: catalogue, parameters, one case, batch.

use opcity_domain::Role;
use opcity_testkit::{TestApp, TestDb};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn young_founder(id: &str) -> Value {
    json!({
        "person": { "id": id, "birth_date": "1995-03-01", "works_in_ai": true, "is_founder": true,
                    "highest_degree": "master", "degree_date": "2022-07-01", "hukou_shenzhen_since": null },
        "granted": []
    })
}

fn result<'a>(body: &'a Value, programme: &str) -> &'a Value {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["programme"] == programme)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_parameters_and_one_case() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(&db).await;

    let r = reqwest::get(app.url("/api/v1/programmes")).await.unwrap();
    let pack_header = r.headers()["x-opcity-pack"].to_str().unwrap().to_owned();
    let catalogue: Value = r.json().await.unwrap();
    assert_eq!(
        pack_header,
        format!(
            "{}@{}",
            catalogue["pack"]["id"].as_str().unwrap(),
            catalogue["pack"]["version"].as_str().unwrap()
        )
    );
    let ids: Vec<&str> = catalogue["programmes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    // Shenzhen's twenty, then the compute voucher it inherits from Guangdong.
    assert_eq!(ids.len(), 21);
    assert_eq!(ids[0], "sz.talent.hukou_subsidy");
    assert_eq!(ids[20], "gd.voucher.compute");

    let housing: Value = reqwest::get(app.url("/api/v1/programmes/sz.housing.subsidy"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(housing["programme"]["measure"], 4);
    assert!(housing["pack"]["version"].is_string());
    assert_eq!(
        reqwest::get(app.url("/api/v1/programmes/sz.nope"))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    let youth: Value = reqwest::get(app.url("/api/v1/parameters/youth_max_age?at=2026-06-01"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(youth["value"], 35);
    assert_eq!(youth["at"], "2026-06-01");
    assert!(youth["reference"].as_str().is_some_and(|r| !r.is_empty()));
    let bad_date = reqwest::get(app.url("/api/v1/parameters/youth_max_age?at=2026-02-30"))
        .await
        .unwrap();
    assert_eq!(bad_date.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let client = reqwest::Client::new();
    let answer = client
        .post(app.url("/api/v1/eligibility?as_of=2026-06-01"))
        .json(&young_founder("p1"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["content-type"], "application/json");
    assert_eq!(answer.headers()["x-opcity-pack"], pack_header.as_str());
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["id"], "p1");
    assert_eq!(body["as_of"], "2026-06-01");
    assert!(body["pack"]["id"].is_string());
    let subsidy = result(&body, "sz.housing.subsidy");
    assert_eq!(subsidy["status"], "eligible");
    assert_eq!(subsidy["amount_fen"], 3_000_000);
    assert_eq!(subsidy["monthly_fen"], 125_000);
    assert!(subsidy["reasons"].as_array().is_some_and(|r| !r.is_empty()));
    // No enterprise: enterprise programmes are ineligible, not undetermined.
    assert_eq!(result(&body, "sz.voucher.model")["status"], "ineligible");

    let brief: Value = client
        .post(app.url("/api/v1/eligibility?as_of=2026-06-01&detail=brief"))
        .json(&young_founder("p1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        result(&brief, "sz.housing.subsidy")
            .get("reasons")
            .is_none()
    );

    // A bad case names the field.
    let mut bad = young_founder("p2");
    bad["person"]["birth_date"] = json!("1995-02-30");
    let r = client
        .post(app.url("/api/v1/eligibility?as_of=2026-06-01"))
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "person.birth_date");
    app.stop().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_streams_results_in_order_and_reports_bad_lines() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(&db).await;
    let anonymous = reqwest::Client::new()
        .post(app.url("/api/v1/eligibility/batch"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    app.account("analyst", Role::MunicipalAdmin, None).await;
    let client = app.sign_in("analyst").await;
    let mut lines = Vec::new();
    for i in 0..5_000 {
        if i == 1_234 {
            lines.push(r#"{"person": {"id": "bad", "birth_date": "yesterday"}}"#.to_owned());
        } else {
            lines.push(young_founder(&format!("c{i}")).to_string());
        }
    }
    let r = client
        .http
        .post(app.url("/api/v1/eligibility/batch?as_of=2026-06-01&detail=brief"))
        .header("content-type", "application/x-ndjson")
        .body(lines.join("\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("x-opcity-pack"));
    let text = r.text().await.unwrap();
    let out: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(out.len(), 5_000);
    assert_eq!(out[0]["id"], "c0");
    assert_eq!(out[4_999]["id"], "c4999");
    assert_eq!(out[1_234]["id"], "bad");
    assert_eq!(out[1_234]["error"]["field"], "person.birth_date");
    assert_eq!(out[1_235]["id"], "c1235");
    app.stop().await;
    db.cleanup().await;
}
