//! Policy changes in the portal and the API, on both backends: an
//! administrator drafts a change, adds a figure in yuan (a refusal keeps
//! what was typed beside its field), simulates it over the registry and
//! reads the impact in yuan with small counts withheld, then over a file
//! of cases with examples; a form drawn from an older revision is refused;
//! an auditor reads without forms, a founder is refused; the API does the
//! same with `?revision=N`.

use opcity_domain::Role;
use opcity_testkit::app::Client;
use opcity_testkit::{FounderSpec, TestApp, each_backend};
use reqwest::StatusCode;
use serde_json::json;

fn today() -> String {
    opcity_domain::today_in_shanghai(chrono::Utc::now()).to_string()
}

async fn simulate(
    client: &Client,
    id: i64,
    revision: i32,
    file: Option<&str>,
) -> (StatusCode, String) {
    let mut form = reqwest::multipart::Form::new()
        .text("_csrf", client.csrf.clone())
        .text("_form", "draft-simulate")
        .text("revision", revision.to_string())
        .text(
            "population",
            if file.is_some() { "file" } else { "registry" },
        );
    if let Some(cases) = file {
        let part =
            reqwest::multipart::Part::bytes(cases.as_bytes().to_vec()).file_name("cases.jsonl");
        form = form.part("file", part);
    }
    let response = client
        .http
        .post(client.url(&format!("/policy-drafts/{id}/simulate")))
        .header("accept-language", "en")
        .multipart(form)
        .send()
        .await
        .expect("send");
    let status = response.status();
    let page = match response.headers().get("location") {
        Some(to) => client.text(to.to_str().unwrap()).await,
        None => response.text().await.expect("a page"),
    };
    (status, page)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_drafts_simulates_and_reads_the_impact() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("aud", Role::Auditor, None).await;
        for i in 0..6 {
            app.founder(&admin, FounderSpec::young_ai(&format!("founder{i}"), i))
                .await;
        }
        let web = app.sign_in("admin").await.in_language("en");
        let budgets = web.text("/budgets").await;
        assert!(budgets.contains("id=\"policy-drafts-link\""), "{budgets}");
        let list = web.text("/policy-drafts").await;
        assert!(list.contains("id=\"draft-new\""), "{list}");

        let r = web
            .post_form(
                "/policy-drafts",
                &[
                    ("_csrf", web.csrf.as_str()),
                    ("_form", "draft-new"),
                    ("title", "Housing subsidy to 1,500 yuan"),
                    ("reason", "Rents rose."),
                    ("source_document", "深工信〔2026〕9号"),
                ],
            )
            .await;
        let to = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.ends_with("?done=created"), "{to}");
        let id: i64 = to
            .trim_start_matches("/policy-drafts/")
            .split('?')
            .next()
            .unwrap()
            .parse()
            .unwrap();

        // A figure in yuan; one that is not an amount stays typed beside
        // its message.
        let add = |value: &'static str, revision: &'static str| {
            vec![
                ("_csrf", web.csrf.clone()),
                ("_form", "draft-parameter".to_owned()),
                ("kind", "parameter".to_owned()),
                ("revision", revision.to_owned()),
                ("parameter", "housing_subsidy_monthly_fen".to_owned()),
                ("value", value.to_owned()),
                ("effective_from", today()),
            ]
        };
        let r = web
            .post_form(&format!("/policy-drafts/{id}/changes"), &add("1,5oo", "1"))
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = r.text().await.unwrap();
        assert!(page.contains("id=\"f-value-error\""), "{page}");
        assert!(page.contains("value=\"1,5oo\""), "{page}");
        let r = web
            .post_form(&format!("/policy-drafts/{id}/changes"), &add("1,500", "1"))
            .await;
        assert_eq!(
            r.headers()["location"],
            format!("/policy-drafts/{id}?done=added")
        );
        let page = web.text(&format!("/policy-drafts/{id}")).await;
        assert!(page.contains("¥1,250.00") && page.contains("¥1,500.00"), "{page}");
        // The same form again, drawn from revision 1: refused, said why.
        let r = web
            .post_form(&format!("/policy-drafts/{id}/changes"), &add("1,600", "1"))
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let page = r.text().await.unwrap();
        assert!(page.contains("Someone edited this draft"), "{page}");

        // Over the registry: six people, so their totals show, in yuan.
        let (status, page) = simulate(&web, id, 2, None).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        assert!(page.contains("id=\"draft-impact\""), "{page}");
        assert!(page.contains("Over the registry: 6 persons"), "{page}");
        assert!(page.contains("data-fen=\"3600000\""), "{page}");
        assert!(page.contains("+¥36,000.00"), "{page}");
        assert!(!page.contains("id=\"impact-stale\""), "{page}");

        // Over a file: three cases, every count, examples by line.
        let case = |id: &str| {
            format!(r#"{{"person":{{"id":"{id}","birth_date":"1996-05-20","is_founder":true,"works_in_ai":true}}}}"#)
        };
        let cases = [case("a"), case("b"), case("c")].join("\n");
        let (_, page) = simulate(&web, id, 2, Some(&cases)).await;
        assert!(page.contains("Over cases.jsonl: 3 cases"), "{page}");
        assert!(page.contains("Line 1 (a)"), "{page}");
        // No file chosen: the form says so beside the file field.
        let (status, page) = simulate(&web, id, 2, Some("")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("id=\"f-file-error\""), "{page}");

        // Submitted by its author, published by a second administrator,
        // who alone is offered the forms to do so.
        let r = web
            .post_form(
                &format!("/policy-drafts/{id}/submit"),
                &[("_csrf", web.csrf.as_str()), ("revision", "2")],
            )
            .await;
        assert_eq!(r.headers()["location"], format!("/policy-drafts/{id}?done=submitted"));
        let page = web.text(&format!("/policy-drafts/{id}")).await;
        assert!(page.contains("Submitted by admin"), "{page}");
        assert!(!page.contains("id=\"draft-publish\"") && !page.contains("id=\"draft-parameter\""), "{page}");
        app.account("second", Role::MunicipalAdmin, None).await;
        let second = app.sign_in("second").await.in_language("en");
        let page = second.text(&format!("/policy-drafts/{id}")).await;
        assert!(page.contains("id=\"draft-publish\"") && page.contains("id=\"draft-send-back\""), "{page}");
        // Sending back needs a note, kept beside its field.
        let r = second
            .post_form(
                &format!("/policy-drafts/{id}/send-back"),
                &[("_csrf", second.csrf.as_str()), ("_form", "draft-send-back"), ("revision", "2"), ("note", " ")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("id=\"f-note-error\""));
        let before = app.services.pack().version().to_owned();
        let r = second
            .post_form(
                &format!("/policy-drafts/{id}/publish"),
                &[("_csrf", second.csrf.as_str()), ("revision", "2")],
            )
            .await;
        assert_eq!(r.headers()["location"], format!("/policy-drafts/{id}?done=published"));
        let page = second.text(&format!("/policy-drafts/{id}?done=published")).await;
        assert!(page.contains("Published by second"), "{page}");
        let programme = web.get_json("/api/v1/programmes/sz.housing.subsidy").await;
        assert_eq!(programme["pack"]["version"], format!("{before}+d{id}"), "{programme}");

        // The auditor reads; nothing to submit. A founder is refused.
        let aud = app.sign_in("aud").await.in_language("en");
        let page = aud.text(&format!("/policy-drafts/{id}")).await;
        assert!(page.contains("id=\"draft-impact\""), "{page}");
        assert!(!page.contains("id=\"draft-parameter\"") && !page.contains("remove-"), "{page}");
        let founder = app.sign_in("founder0").await;
        assert_eq!(
            founder.get("/policy-drafts").await.status(),
            StatusCode::FORBIDDEN
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_names_the_revision_of_each_edit() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        for i in 0..5 {
            app.founder(&admin, FounderSpec::young_ai(&format!("founder{i}"), i))
                .await;
        }
        let api = app.sign_in("admin").await.in_language("en");
        let r = api
            .post(
                "/api/v1/policy-drafts",
                &json!({"title": "Young to 40", "reason": "More founders", "source_document": "Draft notice"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let draft: serde_json::Value = r.json().await.unwrap();
        let id = draft["id"].as_i64().unwrap();
        let change = json!({
            "kind": "condition", "effective_from": today(),
            "programme": "sz.housing.subsidy", "condition": "young", "expression": "true",
        });
        let r = api
            .post(&format!("/api/v1/policy-drafts/{id}/changes"), &change)
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "the revision is required");
        let draft = api
            .post_json(&format!("/api/v1/policy-drafts/{id}/changes?revision=1"), &change)
            .await;
        assert_eq!(draft["revision"], 2);
        assert_eq!(draft["changes"][0]["expression_before"], "age(person.birth_date) <= param.youth_max_age");
        let r = api
            .post(&format!("/api/v1/policy-drafts/{id}/changes?revision=1"), &change)
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let problem: serde_json::Value = r.json().await.unwrap();
        assert_eq!(problem["code"], "draft_changed");
        // The largest revision there is names no draft's: a conflict, no overflow.
        let r = api
            .post_empty(&format!("/api/v1/policy-drafts/{id}/withdraw?revision=2147483647"))
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);

        let r = api
            .post(
                &format!("/api/v1/policy-drafts/{id}/simulation?revision=2"),
                &json!({"population": "registry"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let draft: serde_json::Value = r.json().await.unwrap();
        assert_eq!(draft["impact_current"], true);
        assert_eq!(draft["impact"]["population"]["cases"], 5);
        // Waiving the age changes nobody here: all five are young already.
        assert_eq!(draft["impact"]["years"][0]["changed_cases"], 0);
        let r = api
            .post(
                &format!("/api/v1/policy-drafts/{id}/simulation?revision=2"),
                &json!({"population": "file"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

        let change_id = draft["changes"][0]["id"].as_i64().unwrap();
        let r = api
            .delete(&format!("/api/v1/policy-drafts/{id}/changes/{change_id}?revision=2"))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let list = api.get_json("/api/v1/policy-drafts").await;
        assert_eq!(list[0]["changes"], 0);
        assert_eq!(list[0]["impact_current"], false);
        let founder = app.sign_in("founder0").await;
        assert_eq!(
            founder.get("/api/v1/policy-drafts").await.status(),
            StatusCode::FORBIDDEN
        );
        app.stop().await;
    })
    .await;
}
