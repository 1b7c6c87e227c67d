//! Issue 14, finding 13: the OpenAPI document says what the server does,
//! so that generic tools (schemathesis in CI, `.ci/schemathesis.sh`) can
//! use every operation; and the inputs the review found accepted or
//! answered in plain text are refused as problems naming the field.

use opcity_domain::Role;
use opcity_testkit::{TestApp, each_backend};
use opcity_web::api::{ApiDoc, PUBLIC_OPERATIONS, template_parameters};
use reqwest::StatusCode;
use serde_json::{Value, json};
use utoipa::OpenApi;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// Every operation of the document with its path and method.
fn operations(doc: &Value) -> Vec<(String, &'static str, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                out.push((path.clone(), method, operation.clone()));
            }
        }
    }
    out
}

#[test]
fn every_operation_declares_its_parameters_statuses_and_security() {
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
    let operations = operations(&doc);
    assert!(operations.len() > 100, "{} operations", operations.len());
    let mut ids = std::collections::HashSet::new();
    for (path, method, operation) in &operations {
        let id = operation["operationId"].as_str().expect("operationId");
        assert!(ids.insert(id.to_owned()), "{id} is not unique");
        let declared: Vec<&str> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .map(|p| {
                assert_eq!(p["required"], true, "{method} {path}: {p}");
                assert!(p["schema"].is_object(), "{method} {path}: {p}");
                p["name"].as_str().unwrap()
            })
            .collect();
        let mut wanted: Vec<&str> = template_parameters(path).collect();
        let mut declared_sorted = declared.clone();
        wanted.sort_unstable();
        declared_sorted.sort_unstable();
        assert_eq!(declared_sorted, wanted, "{method} {path} path parameters");

        let responses = operation["responses"].as_object().unwrap();
        let has = |status: &str| responses.contains_key(status);
        assert!(has("503"), "{method} {path}: 503");
        assert!(
            responses["503"]["headers"]["Retry-After"].is_object(),
            "{method} {path}: 503 names Retry-After"
        );
        let public = PUBLIC_OPERATIONS.contains(&id);
        // A public operation may still answer 401 (sign-in: wrong password).
        assert!(public || has("401"), "{method} {path}: 401");
        assert_eq!(operation["security"].is_array(), !public, "{id} security");
        if !wanted.is_empty() {
            assert!(has("404") && has("400"), "{method} {path}: 400 and 404");
        }
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                assert!(
                    response["content"]["application/problem+json"].is_object(),
                    "{method} {path} {status}: {response}"
                );
            }
        }
    }
    for id in PUBLIC_OPERATIONS {
        assert!(ids.contains(id), "public operation {id} is not documented");
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer", "{schemes}");
    assert_eq!(schemes["session"]["in"], "cookie", "{schemes}");
}

#[test]
fn downloads_name_the_media_types_they_send() {
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
    let media = |path: &str| -> Vec<String> {
        let content = &doc["paths"][path]["get"]["responses"]["200"]["content"];
        let mut types: Vec<String> = content.as_object().unwrap().keys().cloned().collect();
        types.sort_unstable();
        types
    };
    assert_eq!(
        media("/api/v1/applications/{id}/documents/{document}"),
        ["application/pdf", "image/jpeg", "image/png"]
    );
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    for path in ["/api/v1/disbursements", "/api/v1/providers/{id}/settlement"] {
        let types = media(path);
        for expected in ["application/json", "text/csv", xlsx] {
            assert!(types.iter().any(|t| t == expected), "{path}: {types:?}");
        }
    }
}

/// The field named by the first error of a problem response.
async fn first_error(response: reqwest::Response) -> (StatusCode, String, Value) {
    let status = response.status();
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(kind, "application/problem+json", "{body}");
    (status, body["code"].as_str().unwrap().to_owned(), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_range_paging_an_empty_email_and_a_boundaryless_upload_are_refused() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        app.account("ana", Role::MunicipalAdmin, None).await;
        let ana = app.sign_in("ana").await;

        for (query, field, max) in [
            ("per_page=9223372036854775808", "per_page", "100"),
            ("per_page=0", "per_page", "100"),
            ("per_page=101", "per_page", "100"),
            ("page=0", "page", "1000000000"),
        ] {
            for list in ["/api/v1/persons", "/api/v1/audit"] {
                let response = ana.in_language("en").get(&format!("{list}?{query}")).await;
                let (status, code, body) = first_error(response).await;
                assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{list}?{query}");
                assert_eq!(code, "invalid_query", "{body}");
                let error = &body["errors"][0];
                assert_eq!(error["field"], field, "{body}");
                assert_eq!(error["code"], "out_of_range", "{body}");
                assert_eq!(error["params"]["max"], max, "{body}");
            }
        }
        // A page past the end is an empty page, not an error.
        let fine = ana
            .get("/api/v1/persons?per_page=100&page=18446744073709551615")
            .await;
        assert_eq!(fine.status(), StatusCode::OK);

        let before: Value = ana
            .patch_json("/api/v1/me", &json!({ "email": "ana@example.org" }))
            .await;
        assert_eq!(before["email"], "ana@example.org", "{before}");
        for empty in ["", "   "] {
            let response = ana.patch("/api/v1/me", &json!({ "email": empty })).await;
            let (status, _, body) = first_error(response).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(body["errors"][0]["field"], "email", "{body}");
            assert_eq!(body["errors"][0]["code"], "invalid_email", "{body}");
        }
        let me: Value = ana.get_json("/api/v1/me").await;
        assert_eq!(me["email"], "ana@example.org", "a refusal changes nothing");
        let removed: Value = ana
            .patch_json("/api/v1/me", &json!({ "email": null }))
            .await;
        assert_eq!(removed["email"], Value::Null, "null removes: {removed}");

        let response = ana
            .http
            .post(app.url("/api/v1/applications/1/documents"))
            .header("content-type", "multipart/form-data")
            .body("--x\r\n\r\n")
            .send()
            .await
            .unwrap();
        let (status, code, body) = first_error(response).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(code, "validation_failed", "{body}");
        assert_eq!(body["errors"][0]["code"], "malformed_upload", "{body}");
        app.stop().await;
    })
    .await;
}

/// Issue 16: the description lists every problem code with its status.
#[test]
fn the_description_lists_every_error_code_with_its_status() {
    let doc = ApiDoc::openapi();
    let description = doc.info.description.expect("description");
    for code in opcity_services::ErrorCode::ALL {
        let row = format!("| `{code}` | {} |", code.status().as_u16());
        assert!(description.contains(&row), "{row} missing");
    }
    assert!(description.contains("| `username_taken` | 409 |"));
    assert!(description.contains("| `not_a_provider` | 403 |"));
}
