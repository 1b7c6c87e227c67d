//! Applications over HTTP on both backends: Idempotency-Key, review, accept,
//! the treasury export, and problem details for refusals.

use chrono::Datelike;
use opcity_domain::{District, Role};
use opcity_services::registry::enterprises::EnterpriseInput;
use opcity_services::registry::persons::PersonInput;
use opcity_testkit::{TestApp, each_backend};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_review_accept_and_export() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("reviewer", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let founder = app.account("founder", Role::Founder, None).await;
        let person = app
            .services
            .create_person(
                &admin,
                &PersonInput {
                    full_name: "x".into(),
                    district: Some("nanshan".into()),
                    birth_date: Some("1996-05-20".into()),
                    works_in_ai: Some(true),
                    account_id: Some(founder.account_id),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let company = EnterpriseInput {
            uscc: "91440300708461136T".into(),
            name: "x".into(),
            district: "nanshan".into(),
            ai_business: Some(true),
            founder_person_id: Some(person.id),
            ..Default::default()
        };
        app.services.create_enterprise(&admin, &company).await.unwrap();
        let admin_http = app.sign_in("admin").await;
        let year = opcity_domain::today_in_shanghai(app.services.now()).year();
        let budget = admin_http.post("/api/v1/budgets", &json!({ "programme": "sz.housing.subsidy", "year": year, "authority": "nanshan", "total_fen": 1_000_000 })).await;
        assert_eq!(budget.status(), StatusCode::CREATED);

        let f = app.sign_in("founder").await;
        let body = json!({ "programme": "sz.housing.subsidy" });
        let first: Value = f.http.post(app.url("/api/v1/applications")).header("idempotency-key", "abc").json(&body).send().await.unwrap().json().await.unwrap();
        let again: Value = f.http.post(app.url("/api/v1/applications")).header("idempotency-key", "abc").json(&body).send().await.unwrap().json().await.unwrap();
        assert_eq!(first["id"], again["id"], "one application for a retried request");
        let id = first["id"].as_i64().unwrap();
        supply_evidence_over_http(&app, &f.http, id).await;
        let submitted: Value = f.post_empty_json(&format!("/api/v1/applications/{id}/submit")).await;
        assert_eq!(submitted["state"], "district_review");

        // Accepting before approval: the problem names the state.
        let early = f.in_language("en").post_empty(&format!("/api/v1/applications/{id}/accept")).await;
        assert_eq!(early.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let problem: Value = early.json().await.unwrap();
        assert_eq!(problem["errors"][0]["code"], "illegal_transition");
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains("district_review"));

        let r = app.sign_in("reviewer").await;
        let over = r.post(&format!("/api/v1/applications/{id}/review"), &json!({ "decision": "approve", "amount_fen": 2_000_000, "no_conflict_declared": true })).await;
        let problem: Value = over.json().await.unwrap();
        assert_eq!(problem["errors"][0]["code"], "budget_insufficient");
        assert_eq!(problem["errors"][0]["params"]["remaining_fen"], "1000000");
        let ok = r.post(&format!("/api/v1/applications/{id}/review"), &json!({ "decision": "approve", "amount_fen": 800_000, "no_conflict_declared": true })).await;
        assert_eq!(ok.status(), StatusCode::OK);
        let accepted: Value = f.post_empty_json(&format!("/api/v1/applications/{id}/accept")).await;
        assert_eq!(accepted["state"], "disbursing");

        let today = opcity_domain::today_in_shanghai(app.services.now());
        let csv = admin_http.get(&format!("/api/v1/disbursements?from={today}&to={today}")).await;
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let text = csv.text().await.unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert!(text.contains(",800000,8000.00,scheduled,"), "{text}");
        let xlsx = admin_http.get(&format!("/api/v1/disbursements?from={today}&to={today}&format=xlsx")).await;
        assert_eq!(xlsx.status(), StatusCode::OK);
        assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
        // The founder may not export the treasury file.
        let denied = f.get(&format!("/api/v1/disbursements?from={today}&to={today}")).await;
        assert_eq!(denied.status(), StatusCode::FORBIDDEN);
        // A reviewer exports the district's lines, another district's none of them.
        app.account("reviewer.longgang", Role::DistrictReviewer, Some(District::Longgang)).await;
        let far = app.sign_in("reviewer.longgang").await;
        let all = "/api/v1/disbursements?from=2000-01-01&to=2100-01-01&format=json";
        let lines: Value = r.get_json(all).await;
        assert_eq!(lines.as_array().unwrap().len(), 1, "{lines}");
        let lines: Value = far.get_json(all).await;
        assert_eq!(lines, json!([]));
        app.stop().await;
    })
    .await;
}

fn pdf_part(name: &str, content: &'static [u8]) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(content).file_name(name.to_owned())
}

async fn upload(
    app: &TestApp,
    http: &reqwest::Client,
    id: i64,
    evidence: &str,
    file: reqwest::multipart::Part,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("evidence", evidence.to_owned())
        .part("file", file);
    http.post(app.url(&format!("/api/v1/applications/{id}/documents")))
        .header("accept-language", "en")
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The housing subsidy's evidence over HTTP: refusals that store nothing,
/// the form, two documents and a checked download.
async fn supply_evidence_over_http(app: &TestApp, http: &reqwest::Client, id: i64) {
    // Submitting with nothing supplied names each missing item.
    let early = http
        .post(app.url(&format!("/api/v1/applications/{id}/submit")))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(early.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = early.json().await.unwrap();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "evidence.identity_card",
            "evidence.founder_proof",
            "evidence.bank_account"
        ]
    );
    assert_eq!(
        problem["errors"][0]["message"],
        "\"Resident identity card\" is missing."
    );

    // The type is read from the content, whatever the name says.
    let fake = upload(
        app,
        http,
        id,
        "identity_card",
        pdf_part("id.pdf", b"MZ\x90\0 not a pdf"),
    )
    .await;
    assert_eq!(fake.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = fake.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "file");
    assert_eq!(problem["errors"][0]["code"], "unsupported_type");
    assert_eq!(
        problem["errors"][0]["message"],
        "Only PDF, PNG, JPEG files are accepted."
    );
    // Over the limit: refused while reading, before storage.
    let big: &'static [u8] = Box::leak(vec![b'%'; 10 * 1024 * 1024 + 1].into_boxed_slice());
    let large = upload(app, http, id, "identity_card", pdf_part("big.pdf", big)).await;
    assert_eq!(large.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = large.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "file_too_large");
    let unknown = upload(
        app,
        http,
        id,
        "passport",
        pdf_part("p.pdf", opcity_testkit::TINY_PDF),
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let detail: Value = http
        .get(app.url(&format!("/api/v1/applications/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        detail["documents"],
        json!([]),
        "nothing stored by refused uploads"
    );

    // The form takes only the programme's fields.
    let bad_form = http
        .patch(app.url(&format!("/api/v1/applications/{id}/form")))
        .json(&json!({ "salary": "1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_form.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let form: Value = http
        .patch(app.url(&format!("/api/v1/applications/{id}/form")))
        .json(&json!({ "bank_account": "6222 0000 1111 2222" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(form["bank_account"], "6222 0000 1111 2222");

    for item in ["identity_card", "founder_proof"] {
        let stored = upload(
            app,
            http,
            id,
            item,
            pdf_part(&format!("{item}.pdf"), opcity_testkit::TINY_PDF),
        )
        .await;
        assert_eq!(stored.status(), StatusCode::CREATED);
        let doc: Value = stored.json().await.unwrap();
        assert_eq!(doc["content_type"], "application/pdf");
        assert_eq!(doc["size_bytes"], opcity_testkit::TINY_PDF.len());
        assert_eq!(doc["sha256"].as_str().unwrap().len(), 64);
        let got = http
            .get(app.url(&format!(
                "/api/v1/applications/{id}/documents/{}",
                doc["id"]
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), StatusCode::OK);
        assert_eq!(got.headers()["x-content-type-options"], "nosniff");
        assert!(
            got.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains(&format!("{item}.pdf"))
        );
        assert!(
            got.headers()["repr-digest"]
                .to_str()
                .unwrap()
                .starts_with("sha-256=:")
        );
        assert_eq!(
            got.bytes().await.unwrap().as_ref(),
            opcity_testkit::TINY_PDF
        );
    }
    let detail: Value = http
        .get(app.url(&format!("/api/v1/applications/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["missing"], json!([]));
}

/// Issue 14 over HTTP: a founder applies only for an enterprise they
/// represent; reviewers neither edit nor list drafts; a grant is recorded by
/// the subject's district; an institution does not site an instrument in a
/// community it does not operate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ownership_and_districts_over_http() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("reviewer.nanshan", Role::DistrictReviewer, Some(District::Nanshan)).await;
        app.account("reviewer.longgang", Role::DistrictReviewer, Some(District::Longgang)).await;
        app.account("provider.model", Role::ServiceProvider, None).await;
        let operator = app.account("operator", Role::CommunityOperator, None).await;
        let mut firms = Vec::new();
        for (name, uscc) in [("founder", "91440300708461136T"), ("other", "914403001922038216")] {
            let account = app.account(name, Role::Founder, None).await;
            let person = app
                .services
                .create_person(
                    &admin,
                    &PersonInput {
                        full_name: name.into(),
                        district: Some("nanshan".into()),
                        birth_date: Some("1996-05-20".into()),
                        works_in_ai: Some(true),
                        account_id: Some(account.account_id),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            let firm = EnterpriseInput {
                uscc: uscc.into(),
                name: name.into(),
                district: "nanshan".into(),
                ai_business: Some(true),
                founder_person_id: Some(person.id),
                ..Default::default()
            };
            firms.push(app.services.create_enterprise(&admin, &firm).await.unwrap().id);
        }
        let longgang_firm = EnterpriseInput {
            uscc: "91440307MA5ABCDE53".into(),
            name: "龙岗".into(),
            district: "longgang".into(),
            ..Default::default()
        };
        let longgang_firm = app.services.create_enterprise(&admin, &longgang_firm).await.unwrap().id;
        let community = app
            .services
            .create_community(&admin, &opcity_testkit::bay_community(operator.account_id))
            .await
            .unwrap()
            .id;

        // 1. Another founder's enterprise.
        let f = app.sign_in("founder").await;
        let theirs = f.post("/api/v1/applications", &json!({ "programme": "sz.voucher.model", "enterprise_id": firms[1] })).await;
        assert_eq!(theirs.status(), StatusCode::FORBIDDEN);
        let own = f.post("/api/v1/applications", &json!({ "programme": "sz.voucher.model", "enterprise_id": firms[0] })).await;
        assert_eq!(own.status(), StatusCode::CREATED);

        // 4 and 9. Another person's draft: not edited, not listed.
        let draft: Value = f.post_json("/api/v1/applications", &json!({ "programme": "sz.housing.subsidy" })).await;
        let id = draft["id"].as_i64().unwrap();
        for reviewer in ["reviewer.longgang", "reviewer.nanshan"] {
            let r = app.sign_in(reviewer).await;
            let form = r.patch(&format!("/api/v1/applications/{id}/form"), &json!({ "bank_account": "6222 0000 1111 2222" })).await;
            assert_eq!(form.status(), StatusCode::FORBIDDEN, "{reviewer}");
            let document = upload(&app, &r.http, id, "identity_card", pdf_part("id.pdf", opcity_testkit::TINY_PDF)).await;
            assert_eq!(document.status(), StatusCode::FORBIDDEN, "{reviewer}");
            let drafts: Value = r.get_json("/api/v1/applications/queue?state=draft").await;
            assert_eq!(drafts["items"], json!([]), "{reviewer}");
            assert_eq!(drafts["total"], 0, "{reviewer}");
        }

        // 3. A grant for another district's enterprise.
        let grant = |subject: String| json!({ "subject": subject, "programme": "sz.voucher.model", "from": "2026-08-01", "source": "决定书 14" });
        let nanshan = app.sign_in("reviewer.nanshan").await;
        let far = nanshan.post("/api/v1/grants", &grant(format!("enterprise:{longgang_firm}"))).await;
        assert_eq!(far.status(), StatusCode::FORBIDDEN);
        let near = nanshan.post("/api/v1/grants", &grant(format!("enterprise:{}", firms[1]))).await;
        assert_eq!(near.status(), StatusCode::CREATED);

        // 12. An instrument in a community the institution does not operate.
        let provider = app.sign_in("provider.model").await;
        let instrument = |community: Option<i64>| json!({
            "name": "A100", "kind": "gpu_server", "institution": "模型公司", "district": "nanshan",
            "community_id": community,
            "slot_minutes": 60, "opens": "09:00", "closes": "21:00", "open_days": "12345",
            "requires_approval": false, "cancel_notice_hours": 24, "no_show_grace_minutes": 15
        });
        let placed = provider.post("/api/v1/instruments", &instrument(Some(community))).await;
        assert_eq!(placed.status(), StatusCode::FORBIDDEN);
        let outside = provider.post("/api/v1/instruments", &instrument(None)).await;
        assert_eq!(outside.status(), StatusCode::CREATED);
        app.stop().await;
    })
    .await;
}
