//! Single sign-on in headless Chromium against a real OpenID Connect
//! provider process: from the sign-in page to the provider's page, the
//! subject typed and authorized there, and back to the workspace signed in.
//! SQLite only (`sso_pages.rs` covers both backends and the refusals);
//! SKIPPED without Chromium or the provider unless they are required.

use opcity_services::sso::{Sso, SsoConfig};
use opcity_testkit::{Browser, OidcProvider, TestApp, TestDb};
use opcity_web::WebConfig;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_founder_signs_in_with_the_city_identity() {
    let Some(provider) = OidcProvider::start().await else {
        return;
    };
    let Some(browser) = Browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let issuer = provider.issuer.clone();
    let app = TestApp::spawn_made(
        async |address| {
            let sso = Sso::discover(SsoConfig {
                issuer,
                client_id: "opcity".into(),
                client_secret: Some("opcity-secret".into()),
                redirect_url: format!("{address}/login/oidc/callback"),
                resident_id_claim: None,
            })
            .await
            .unwrap();
            opcity_testkit::services(&db).with_sso(sso)
        },
        WebConfig::default(),
    )
    .await;
    provider
        .set_user("zhou", json!({ "name": "周宁", "locale": "zh-CN" }))
        .await;

    browser.reset().await;
    browser.goto(&app.url("/login?next=/benefits")).await;
    browser.click("#sso-link").await;
    browser
        .wait_for_path("the provider's page", |p| {
            p.starts_with("/oauth2/authorize")
        })
        .await;
    browser.fill("input[name=sub]", "zhou").await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_path("/benefits", |p| p == "/benefits")
        .await;
    assert!(browser.text(".who").await.contains("周宁"));
    browser.screenshot("sso-signed-in").await;

    app.stop().await;
    db.cleanup().await;
    browser.quit().await;
}
