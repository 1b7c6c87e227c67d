//! The JSON API end to end: the real server over a fresh database on each
//! backend, driven over HTTP.

use opcity_domain::{District, Role};
use opcity_testkit::{TestApp, each_backend};
use reqwest::StatusCode;
use serde_json::{Value, json};

const USCC_A: &str = "91440300708461136T";
const USCC_B: &str = "914403001922038216";

fn enterprise(uscc: &str, district: &str) -> Value {
    json!({ "uscc": uscc, "name": "测试智能科技有限公司", "district": district, "size": "micro", "ai_business": true })
}

async fn audit_entries(app: &TestApp) -> i64 {
    app.services.verify_audit_log().await.unwrap().entries
}

fn assert_problem(body: &Value, status: u16, code: &str) {
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], format!("/problems/{code}"), "{body}");
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_round_trip_with_precise_errors() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        app.account("admin", Role::MunicipalAdmin, None).await;
        let admin = app.sign_in("admin").await;

        let created = admin
            .post("/api/v1/enterprises", &enterprise(USCC_A, "nanshan"))
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let location = created.headers()["location"].to_str().unwrap().to_owned();
        let body: Value = created.json().await.unwrap();
        assert_eq!(location, format!("/api/v1/enterprises/{}", body["id"]));
        assert_eq!(body["in_opc_community"], false);

        let fetched: Value = admin.get_json(&location).await;
        assert_eq!(fetched["uscc"], USCC_A);

        let before = audit_entries(&app).await;
        // A wrong check character: named field, reason, Chinese by default.
        let bad = admin
            .post(
                "/api/v1/enterprises",
                &enterprise("91440300708461136U", "nanshan"),
            )
            .await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.headers()["content-type"], "application/problem+json");
        let body: Value = bad.json().await.unwrap();
        assert_problem(&body, 422, "validation_failed");
        assert_eq!(body["errors"][0]["field"], "uscc");
        assert_eq!(body["errors"][0]["code"], "uscc_check");
        assert_eq!(
            body["errors"][0]["message"],
            "校验码应为 T，实际为 U，请核对。"
        );

        // The same in English.
        let bad: Value = admin
            .in_language("en-GB,en;q=0.9")
            .post_json(
                "/api/v1/enterprises",
                &enterprise("91440300708461136U", "atlantis"),
            )
            .await;
        assert_eq!(
            bad["errors"][0]["message"],
            "The check character should be T, not U; please check the code."
        );
        assert_eq!(bad["errors"][1]["field"], "district");
        assert_eq!(
            bad["errors"][1]["message"],
            "\"atlantis\" is not a district of Shenzhen."
        );

        // Duplicate credit code.
        let dup = admin
            .post("/api/v1/enterprises", &enterprise(USCC_A, "futian"))
            .await;
        assert_eq!(dup.status(), StatusCode::CONFLICT);
        let body: Value = dup.json().await.unwrap();
        assert_problem(&body, 409, "uscc_taken");
        assert_eq!(body["errors"][0]["field"], "uscc");

        // Unknown field, wrong type, malformed JSON, wrong media type.
        let mut extra = enterprise(USCC_B, "futian");
        extra["colour"] = json!("red");
        let body: Value = admin.post_json("/api/v1/enterprises", &extra).await;
        assert_problem(&body, 422, "invalid_body");
        assert_eq!(body["errors"][0]["field"], "colour");
        assert_eq!(body["errors"][0]["code"], "not_a_field");
        assert!(
            body["errors"][0]["params"]["allowed"]
                .as_str()
                .unwrap()
                .contains("uscc"),
            "{body}"
        );
        let mut typed = enterprise(USCC_B, "futian");
        typed["ai_business"] = json!("yes");
        let body: Value = admin.post_json("/api/v1/enterprises", &typed).await;
        assert_eq!(body["errors"][0]["field"], "ai_business");
        // Said in the user's words, not serde's.
        assert_eq!(body["errors"][0]["code"], "expected_boolean");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("true") && !message.contains("invalid type"),
            "{body}"
        );
        let malformed = admin
            .http
            .post(app.url("/api/v1/enterprises"))
            .header("content-type", "application/json")
            .body("{\n  \"uscc\": \"x\",\n  oops\n}")
            .send()
            .await
            .unwrap();
        assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
        let body: Value = malformed.json().await.unwrap();
        assert_problem(&body, 400, "malformed_json");
        assert_eq!(body["errors"][0]["params"]["line"], "3");
        let text = admin
            .http
            .post(app.url("/api/v1/enterprises"))
            .body("uscc=1")
            .send()
            .await
            .unwrap();
        assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

        // Query and path parameters that do not parse: problem details that
        // name the parameter and say what is wrong in the user's language.
        let cases = [
            (
                "/api/v1/persons?page=abc",
                422,
                "invalid_query",
                "page",
                "expected_integer",
            ),
            (
                "/api/v1/audit?foo=1",
                422,
                "invalid_query",
                "foo",
                "not_a_field",
            ),
            (
                "/api/v1/persons/abc",
                400,
                "invalid_path",
                "id",
                "expected_integer",
            ),
            (
                "/api/v1/persons/99999999999999999999",
                400,
                "invalid_path",
                "id",
                "expected_integer",
            ),
        ];
        for (path, status, code, field, field_code) in cases {
            let response = admin.in_language("zh-CN").get(path).await;
            let content_type = response.headers().get("content-type").cloned();
            assert_eq!(
                content_type.as_ref().map(|v| v.to_str().unwrap()),
                Some("application/problem+json"),
                "{path}: {}",
                response.status()
            );
            let body: Value = response.json().await.unwrap();
            assert_problem(&body, status, code);
            let error = &body["errors"][0];
            assert_eq!(
                (error["field"].as_str(), error["code"].as_str()),
                (Some(field), Some(field_code)),
                "{path}: {body}"
            );
            let message = error["message"].as_str().unwrap();
            assert!(
                !message.contains('{') && !message.contains("[?]"),
                "{path}: {body}"
            );
        }

        assert_eq!(
            audit_entries(&app).await,
            before,
            "refused requests wrote nothing"
        );

        // Pagination.
        for (i, code) in [USCC_B, "91440300MA5DC1Q12N"].iter().enumerate() {
            let code = opcity_domain::Uscc::complete(&code[..16])
                .map(|u| u.to_string())
                .unwrap_or_else(|_| code.to_string());
            let r = admin
                .post("/api/v1/enterprises", &enterprise(&code, "futian"))
                .await;
            assert_eq!(r.status(), StatusCode::CREATED, "enterprise {i}");
        }
        let page: Value = admin
            .get_json("/api/v1/enterprises?per_page=2&page=2")
            .await;
        assert_eq!(page["total"], 3);
        assert_eq!(page["page"], 2);
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        let bad_query = admin.get("/api/v1/enterprises?district=atlantis").await;
        assert_eq!(bad_query.status(), StatusCode::UNPROCESSABLE_ENTITY);
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_csrf_tokens_and_scoping() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        app.account("admin", Role::MunicipalAdmin, None).await;
        app.account(
            "rev.longgang",
            Role::DistrictReviewer,
            Some(District::Longgang),
        )
        .await;
        let anon: Value = reqwest::get(app.url("/api/v1/enterprises"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_problem(&anon, 401, "unauthenticated");

        let admin = app.sign_in("admin").await;
        let me: Value = admin.get_json("/api/v1/me").await;
        assert_eq!(me["role"], "municipal_admin");

        // A cookie without the CSRF header cannot change anything.
        let no_csrf = admin
            .http
            .post(app.url("/api/v1/enterprises"))
            .header("x-csrf-token", "forged")
            .json(&enterprise(USCC_A, "nanshan"))
            .send()
            .await
            .unwrap();
        assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
        let body: Value = no_csrf.json().await.unwrap();
        assert_problem(&body, 403, "csrf_failed");

        let e: Value = admin
            .post_json("/api/v1/enterprises", &enterprise(USCC_A, "nanshan"))
            .await;
        let path = format!("/api/v1/enterprises/{}", e["id"]);

        // A bearer token works without cookies or CSRF, until revoked.
        let token: Value = admin
            .post_json("/api/v1/tokens", &json!({"name": "ci"}))
            .await;
        let secret = token["secret"].as_str().unwrap();
        let machine = reqwest::Client::new();
        let r = machine
            .get(app.url(&path))
            .bearer_auth(secret)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let revoked = admin
            .delete(&format!("/api/v1/tokens/{}", token["token"]["id"]))
            .await;
        assert_eq!(revoked.status(), StatusCode::OK);
        let r = machine
            .get(app.url(&path))
            .bearer_auth(secret)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

        // Longgang's reviewer can neither read nor change a Nanshan enterprise.
        let reviewer = app.sign_in("rev.longgang").await;
        let before = audit_entries(&app).await;
        let r = reviewer.get(&path).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = reviewer.put(&path, &enterprise(USCC_A, "longgang")).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = reviewer.get("/api/v1/audit").await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(audit_entries(&app).await, before);

        // Signing out ends the session.
        let out = admin.delete("/api/v1/session").await;
        assert_eq!(out.status(), StatusCode::NO_CONTENT);
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused() {
    let db = opcity_testkit::TestDb::sqlite().await;
    let app = TestApp::spawn_with(
        &db,
        opcity_web::WebConfig {
            secure_cookies: false,
            body_limit: 2048,
            ..Default::default()
        },
    )
    .await;
    app.account("admin", Role::MunicipalAdmin, None).await;
    let admin = app.sign_in("admin").await;
    let mut big = enterprise(USCC_A, "nanshan");
    big["name"] = json!("x".repeat(4096));
    let r = admin.post("/api/v1/enterprises", &big).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = r.json().await.unwrap();
    assert_problem(&body, 413, "payload_too_large");
    app.stop().await;
    db.cleanup().await;
}

/// The token the metrics scraper of these tests sends.
const METRICS_TOKEN: &str = "scrape-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_docs_health_and_metrics() {
    let db = opcity_testkit::TestDb::sqlite().await;
    let app = TestApp::spawn_with(
        &db,
        opcity_web::WebConfig {
            metrics_token: Some(METRICS_TOKEN.into()),
            ..Default::default()
        },
    )
    .await;
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for path in [
        "/api/v1/enterprises",
        "/api/v1/enterprises/{id}",
        "/api/v1/persons",
        "/api/v1/communities",
        "/api/v1/dashboard",
        "/api/v1/session",
        "/api/v1/tokens",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"].get("ProblemDoc").is_some());
    // Errors are documented with the content type they are sent with, and
    // a parameter is `in: path` only where the path names it.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    let content = response["content"].as_object().unwrap();
                    assert!(
                        content.contains_key("application/problem+json")
                            && !content.contains_key("application/json"),
                        "{method} {path} {status}"
                    );
                }
            }
            if operation["requestBody"]["content"]
                .get("application/json")
                .is_some()
            {
                for status in ["400", "415"] {
                    assert!(
                        operation["responses"].get(status).is_some(),
                        "{method} {path} {status}"
                    );
                }
            }
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(parameter["in"] == "path", in_path, "{method} {path} {name}");
            }
        }
    }
    let nullable = |schema: &str, field: &str| {
        let types = &doc["components"]["schemas"][schema]["properties"][field]["type"];
        types
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "null"))
            || !doc["components"]["schemas"][schema]["required"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r == field))
    };
    assert!(
        nullable("ApplicationView", "explanation"),
        "null until submitted"
    );
    assert!(
        nullable("DistrictFigures", "district"),
        "null for the unplaced row"
    );

    let docs_page = reqwest::get(app.url("/api/v1/docs/")).await.unwrap();
    assert_eq!(docs_page.status(), StatusCode::OK);
    let html = docs_page.text().await.unwrap();
    assert!(html.contains("swagger"), "Swagger UI is served");
    assert!(
        !html.contains("https://"),
        "the docs page loads nothing from other hosts"
    );

    assert_eq!(
        reqwest::get(app.url("/healthz"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    assert_eq!(
        reqwest::get(app.url("/readyz")).await.unwrap().status(),
        StatusCode::OK
    );
    // Metrics only for the scraper with the configured token.
    let anonymous = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // Every response: no framing, this origin only, nothing cached.
    let page = reqwest::get(app.url("/login")).await.unwrap();
    let header = |name: &str| page.headers()[name].to_str().unwrap().to_owned();
    assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
    assert!(header("content-security-policy").contains("default-src 'self'"));
    assert_eq!(header("x-frame-options"), "DENY");
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("x-content-type-options"), "nosniff");
    let metrics = reqwest::Client::new()
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("http_requests_total{"), "{metrics}");
    assert!(
        metrics.contains("route=\"/api/v1/openapi.json\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("http_request_duration_seconds_bucket"),
        "{metrics}"
    );
    app.stop().await;
    db.cleanup().await;
}
