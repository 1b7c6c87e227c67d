//! One's own settings over HTTP on both backends: `GET`/`PATCH /api/v1/me`
//! (e-mail address, e-mail notifications, language) with precise field
//! errors, CSRF and nothing changed on refusal; the `/settings` page without
//! JavaScript; the OpenAPI document.

use opcity_domain::Role;
use opcity_testkit::app::TEST_PASSWORD;
use opcity_testkit::{TestApp, each_backend};
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::{Value, json};

fn bare() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn audit_entries(app: &TestApp) -> i64 {
    app.services.verify_audit_log().await.unwrap().entries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_patch_sets_email_notifications() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        app.account("ana", Role::Founder, None).await;
        let ana = app.sign_in("ana").await;
        let me: Value = ana.get_json("/api/v1/me").await;
        assert_eq!(me["email"], Value::Null);
        assert_eq!(me["email_notifications"], false);
        assert_eq!(me["locale"], "zh-CN");
        let before = audit_entries(&app).await;

        // An invalid address: the field named, in the request's language; nothing changed.
        let bad = ana
            .in_language("en")
            .patch(
                "/api/v1/me",
                &json!({ "email": "ana(at)example.org", "email_notifications": true }),
            )
            .await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = bad.json().await.unwrap();
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["errors"][0]["field"], "email");
        assert_eq!(body["errors"][0]["code"], "invalid_email");
        assert_eq!(
            body["errors"][0]["message"],
            "This is not a valid e-mail address."
        );
        // Opting in without an address.
        let body: Value = ana
            .patch_json("/api/v1/me", &json!({ "email_notifications": true }))
            .await;
        assert_eq!(body["errors"][0]["field"], "email");
        assert_eq!(
            body["errors"][0]["code"],
            "email_required_for_notifications"
        );
        assert_eq!(
            body["errors"][0]["message"],
            "开启邮件通知需要填写电子邮箱。"
        );
        // An unknown field is named.
        let body: Value = ana
            .patch_json("/api/v1/me", &json!({ "emial": "ana@example.org" }))
            .await;
        assert_eq!(body["code"], "invalid_body");
        assert_eq!(body["errors"][0]["field"], "emial");
        // The session cookie without the CSRF header: refused.
        let r = bare()
            .patch(app.url("/api/v1/me"))
            .header("cookie", session_cookie(&app, "ana").await)
            .json(&json!({ "email": "ana@example.org" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(audit_entries(&app).await, before, "refusals change nothing");
        let settings = app.services.account_settings(&ana.actor).await.unwrap();
        assert_eq!(
            (settings.email, settings.email_notifications),
            (None, false)
        );

        // Valid: saved, returned, audited.
        let ok = ana
            .patch(
                "/api/v1/me",
                &json!({ "email": "ana@example.org", "email_notifications": true, "locale": "en" }),
            )
            .await;
        assert_eq!(ok.status(), StatusCode::OK);
        let me: Value = ok.json().await.unwrap();
        assert_eq!(me["email"], "ana@example.org");
        assert_eq!(me["email_notifications"], true);
        assert_eq!(me["locale"], "en");
        assert_eq!(me["username"], "ana");
        assert_eq!(audit_entries(&app).await, before + 1);
        // Fields left out stay; null removes the address (with e-mail off).
        let me: Value = ana
            .patch_json("/api/v1/me", &json!({ "email_notifications": false }))
            .await;
        assert_eq!(me["email"], "ana@example.org");
        let me: Value = ana
            .patch_json("/api/v1/me", &json!({ "email": null }))
            .await;
        assert_eq!(me["email"], Value::Null);
        assert_eq!(me["locale"], "en");
        app.stop().await;
    })
    .await;
}

/// `opcity_session=…` for `username`.
async fn session_cookie(app: &TestApp, username: &str) -> String {
    let r = bare()
        .post(app.url("/api/v1/session"))
        .json(&json!({ "username": username, "password": TEST_PASSWORD }))
        .send()
        .await
        .unwrap();
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .find_map(|v| {
            let v = v.to_str().unwrap();
            v.starts_with("opcity_session=")
                .then(|| v.split(';').next().unwrap().to_owned())
        })
        .expect("session cookie")
}

/// The value of the hidden `_csrf` field.
fn csrf_field(html: &str) -> String {
    let at = html.find("name=\"_csrf\"").expect("_csrf field");
    let tag_end = at + html[at..].find('>').unwrap();
    let tag_start = html[..at].rfind('<').unwrap();
    let tag = &html[tag_start..tag_end];
    let from = tag.find("value=\"").unwrap() + 7;
    tag[from..from + tag[from..].find('"').unwrap()].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_page_works_without_javascript() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let ana = app.account("ana", Role::Founder, None).await;
        let r = bare().get(app.url("/settings")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[LOCATION], "/login?next=%2Fsettings");

        let cookie = session_cookie(&app, "ana").await;
        let home = bare()
            .get(app.url("/home"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            home.contains("id=\"settings-card\""),
            "the workspace links the settings"
        );
        let html = bare()
            .get(app.url("/settings"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("id=\"settings-form\""));
        assert!(
            html.contains("id=\"mail-off\""),
            "says e-mail is not sent here"
        );
        let csrf = csrf_field(&html);
        let before = audit_entries(&app).await;

        // Without the token: refused.
        let r = bare()
            .post(app.url("/settings"))
            .header("cookie", &cookie)
            .form(&[("email", "ana@example.org"), ("email_notifications", "on")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        // An invalid address: 422, the message beside the field, the value kept.
        let r = bare()
            .post(app.url("/settings"))
            .header("cookie", &cookie)
            .form(&[
                ("_csrf", csrf.as_str()),
                ("email", "ana@@example.org"),
                ("email_notifications", "on"),
                ("locale", "zh-CN"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"f-email-error\""), "{html}");
        assert!(html.contains("电子邮箱格式不正确。"));
        assert!(html.contains("value=\"ana@@example.org\""));
        assert_eq!(audit_entries(&app).await, before);

        // Valid: saved, then shown checked.
        let r = bare()
            .post(app.url("/settings"))
            .header("cookie", &cookie)
            .form(&[
                ("_csrf", csrf.as_str()),
                ("email", "ana@example.org"),
                ("email_notifications", "on"),
                ("locale", "en"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[LOCATION], "/settings?saved=1");
        let html = bare()
            .get(app.url("/settings?saved=1"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("id=\"settings-saved\""));
        assert!(html.contains("value=\"ana@example.org\""));
        assert!(html.contains("checked"));
        assert!(html.contains("<option value=\"en\" selected"));
        assert_eq!(audit_entries(&app).await, before + 1);

        // Unchecking the box turns e-mail off (a form without JavaScript
        // sends nothing for an unchecked box).
        let r = bare()
            .post(app.url("/settings"))
            .header("cookie", &cookie)
            .form(&[
                ("_csrf", csrf.as_str()),
                ("email", "ana@example.org"),
                ("locale", "en"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let settings = app.services.account_settings(&ana).await.unwrap();
        assert!(!settings.email_notifications);
        assert_eq!(settings.email.as_deref(), Some("ana@example.org"));

        let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(doc["paths"]["/api/v1/me"]["patch"].is_object());
        assert!(doc["components"]["schemas"]["MeChange"].is_object());
        app.stop().await;
    })
    .await;
}
