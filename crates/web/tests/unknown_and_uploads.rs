//! Issue 14, finding 13 (in part): an unknown `/api/v1` route answers a
//! problem document and an unknown page the portal's "not found" page;
//! an upload with two file parts is refused rather than keeping the last;
//! a text part that is too long says how long it may be.

use opcity_domain::Role;
use opcity_testkit::{TestApp, each_backend};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_malformed_uploads_are_explained() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;

        let api = reqwest::get(app.url("/api/v1/no-such-thing"))
            .await
            .unwrap();
        assert_eq!(api.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            api.headers()["content-type"].to_str().unwrap(),
            "application/problem+json"
        );
        let problem: serde_json::Value = api.json().await.unwrap();
        assert_eq!(problem["code"], "not_found", "{problem}");

        let page = reqwest::get(app.url("/no-such-page")).await.unwrap();
        assert_eq!(page.status(), StatusCode::NOT_FOUND);
        assert!(
            page.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );

        app.account("ana", Role::Founder, None).await;
        let ana = app.sign_in("ana").await;
        let pdf = || Part::bytes(opcity_testkit::TINY_PDF).file_name("a.pdf");
        let two_files = Form::new()
            .text("evidence", "identity_card")
            .part("file", pdf())
            .part("file", pdf());
        let refused = ana
            .http
            .post(app.url("/api/v1/applications/1/documents"))
            .header("accept-language", "en")
            .multipart(two_files)
            .send()
            .await
            .unwrap();
        let problem: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(problem["errors"][0]["code"], "one_file_only", "{problem}");

        let long_text = Form::new()
            .text("evidence", "x".repeat(5_000))
            .part("file", pdf());
        let refused = ana
            .http
            .post(app.url("/api/v1/applications/1/documents"))
            .header("accept-language", "en")
            .multipart(long_text)
            .send()
            .await
            .unwrap();
        let problem: serde_json::Value = refused.json().await.unwrap();
        let error = &problem["errors"][0];
        assert_eq!(error["code"], "too_long", "{problem}");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains("4096") && !message.contains('{'),
            "{message}"
        );

        app.stop().await;
    })
    .await;
}
