//! Policy consultation over HTTP: answers that quote and cite, abstention,
//! refused questions with their codes in both languages, and a founder's
//! answer carrying the engine's results for the cited programmes.

use opcity_domain::Role;
use opcity_testkit::{FounderSpec, TestApp, TestDb, each_backend};
use reqwest::StatusCode;
use serde_json::Value;

fn path(q: &str, lang: &str) -> String {
    format!("/api/v1/consult?q={}&lang={lang}", urlencoding::encode(q))
}

async fn get(app: &TestApp, path: &str, language: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(app.url(path))
        .header("accept-language", language)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn cited(body: &Value) -> Vec<&str> {
    body["citations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["clause_id"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anyone_gets_quoted_clauses_or_an_abstention() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(&db).await;

    let (status, body) = get(
        &app,
        &path(
            "Can I get both the housing subsidy and the cheap apartment?",
            "en",
        ),
        "en",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["abstained"], false, "{body}");
    let ids = cited(&body);
    assert!(
        ids.contains(&"shenzhen-2026/m4.1") && ids.contains(&"shenzhen-2026/m4.2"),
        "{body}"
    );
    for c in body["citations"].as_array().unwrap() {
        assert_eq!(c["measure"], 4, "{body}");
        assert!(
            body["answer"]
                .as_str()
                .unwrap()
                .contains(c["quote"].as_str().unwrap())
        );
    }
    assert!(
        body["programmes"]
            .as_array()
            .unwrap()
            .contains(&"sz.housing.subsidy".into())
    );
    assert!(
        body.get("eligibility").is_none(),
        "anonymous: no engine results: {body}"
    );

    // Chinese by default, whatever the question's script.
    let (status, body) = get(
        &app,
        &path("我刚硕士毕业，来深圳创业能拿多少补贴？", "zh"),
        "zh",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(cited(&body)[0], "shenzhen-2026/m2.1", "{body}");
    assert!(
        body["citations"][0]["quote"]
            .as_str()
            .unwrap()
            .contains("落户补贴")
    );
    let (_, default) = get(
        &app,
        &format!(
            "/api/v1/consult?q={}",
            urlencoding::encode("落户补贴最高多少？")
        ),
        "en",
    )
    .await;
    assert!(
        default["answer"]
            .as_str()
            .unwrap()
            .contains("据《行动计划》"),
        "{default}"
    );

    let (status, body) = get(&app, &path("How do I renew my passport?", "en"), "en").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["abstained"], true, "{body}");
    assert!(cited(&body).is_empty() && body["programmes"].as_array().unwrap().is_empty());
    assert!(
        body["answer"].as_str().unwrap().contains("human adviser"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_says_what_is_sent() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(&db).await;
    let (_, doc) = get(&app, "/api/v1/openapi.json", "en").await;
    let op = &doc["paths"]["/api/v1/consult"]["get"];
    assert!(
        op["security"].is_null()
            || op["security"].as_array().is_some_and(|s| s
                .iter()
                .any(|r| r.as_object().is_some_and(|o| o.is_empty()))),
        "public: {op}"
    );
    let view = &doc["components"]["schemas"]["ConsultView"];
    let required: Vec<&str> = view["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    for field in [
        "abstained",
        "answer",
        "citations",
        "programmes",
        "next_steps",
    ] {
        assert!(required.contains(&field), "{field}: {view}");
    }
    assert!(
        !required.contains(&"eligibility"),
        "left out for anyone but a founder: {view}"
    );
    assert!(op["responses"]["400"].is_object(), "{op}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_questions_are_400s_with_their_codes_in_both_languages() {
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(&db).await;
    let long = "房".repeat(501);
    let cases = [
        (
            "/api/v1/consult?q=".to_owned(),
            "question_empty",
            "The question is empty",
            "问题为空",
        ),
        (
            "/api/v1/consult".to_owned(),
            "question_empty",
            "The question is empty",
            "问题为空",
        ),
        (
            path("   ", "en"),
            "question_empty",
            "The question is empty",
            "问题为空",
        ),
        (
            path(&long, "zh"),
            "question_too_long",
            "The question is too long",
            "问题过长",
        ),
        (
            "/api/v1/consult?q=%FF%FE%00%01".to_owned(),
            "question_not_text",
            "The question holds characters that are not text",
            "问题含有非文本字符",
        ),
        (
            "/api/v1/consult?q=housing%07subsidy".to_owned(),
            "question_not_text",
            "The question holds characters that are not text",
            "问题含有非文本字符",
        ),
        (
            "/api/v1/consult?q=housing&lang=e%00n".to_owned(),
            "",
            "",
            "",
        ),
        (
            "/api/v1/consult?q=%FF%FE%FD".to_owned(),
            "question_not_text",
            "The question holds characters that are not text",
            "问题含有非文本字符",
        ),
        (
            path("<script>alert(1)</script> housing", "en"),
            "question_markup",
            "The question holds markup or script",
            "问题含有标记或脚本",
        ),
        (
            path("<img src=x onerror=alert(1)>", "en"),
            "question_markup",
            "The question holds markup or script",
            "问题含有标记或脚本",
        ),
    ];
    for (url, code, en, zh) in &cases {
        if code.is_empty() {
            // Control characters elsewhere than in the question meet the
            // guard every input meets first.
            let (status, body) = get(&app, url, "en").await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {body}");
            assert_eq!(body["code"], "invalid_query", "{body}");
            assert_eq!(body["errors"][0]["field"], "lang", "{body}");
            continue;
        }
        let (status, body) = get(&app, url, "en").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
        assert_eq!(body["code"], *code, "{url}: {body}");
        assert_eq!(body["title"], *en, "{url}: {body}");
        assert_eq!(body["errors"][0]["field"], "q", "{url}: {body}");
        let (_, body) = get(&app, url, "zh-CN").await;
        assert_eq!(body["title"], *zh, "{url}: {body}");
    }
    // 500 characters are accepted.
    let (status, body) = get(&app, &path(&"房".repeat(500), "zh"), "zh").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = get(&app, &path("housing", "fr"), "en").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "lang", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_founder_gets_the_engines_results_for_the_cited_programmes() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("auditor", Role::Auditor, None).await;
        app.founder(&admin, FounderSpec::young_ai("founder", 1))
            .await;
        let founder = app.sign_in("founder").await;
        let q = path("How much is the housing subsidy per month?", "en");

        let body = founder.get_json(&q).await;
        assert_eq!(body["abstained"], false, "{body}");
        let programmes = body["programmes"].as_array().unwrap().clone();
        assert!(programmes.contains(&"sz.housing.subsidy".into()), "{body}");
        let eligibility = body["eligibility"].as_array().expect("engine results");
        assert_eq!(eligibility.len(), 1, "one enterprise: {body}");
        let results = eligibility[0]["results"].as_array().unwrap();
        let named: Vec<&Value> = results.iter().map(|r| &r["programme"]).collect();
        assert_eq!(named.len(), programmes.len(), "{body}");
        assert!(programmes.iter().all(|p| named.contains(&p)), "{body}");
        let subsidy = results
            .iter()
            .find(|r| r["programme"] == "sz.housing.subsidy")
            .unwrap();
        // The engine's own verdict for this founder (young, founder, in AI),
        // with its reasons: eligible, 1,250 yuan a month for 24 months.
        assert_eq!(subsidy["status"], "eligible", "{subsidy}");
        assert_eq!(subsidy["monthly_fen"], 125_000, "{subsidy}");
        assert!(
            !subsidy["reasons"].as_array().unwrap().is_empty(),
            "{subsidy}"
        );

        // Other roles get the text alone.
        let auditor = app.sign_in("auditor").await;
        let body = auditor.get_json(&q).await;
        assert!(body.get("eligibility").is_none(), "{body}");
        // An abstention asks the engine nothing.
        let body = founder
            .get_json(&path("How do I renew my passport?", "en"))
            .await;
        assert_eq!(body["abstained"], true);
        assert!(body.get("eligibility").is_none(), "{body}");
    })
    .await;
}
