//! A founder's own account in headless Chromium, with e-mail through the
//! test SMTP sink: sign up (a refusal first, shown beside its field), open
//! the mailed link and confirm, sign in, forget the password, reset it
//! through the second mailed link, sign in with the new one. SQLite only
//! (the HTTP tests cover both backends); SKIPPED without Chromium unless
//! `OPCITY_REQUIRE_BROWSER=1`.

use opcity_services::mail::Mailer;
use opcity_testkit::smtp::SmtpSink;
use opcity_testkit::{Browser, TestApp, TestDb};
use opcity_web::WebConfig;
use std::time::Duration;

const PASSWORD: &str = "kumquat lantern orbit 42";
const NEW_PASSWORD: &str = "velvet harbour quince 9";

/// The link under `path` in the `n`-th mail, on `app`'s address.
async fn link_in(app: &TestApp, sink: &SmtpSink, n: usize, path: &str) -> String {
    let mails = sink.wait_for(n, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), n, "{n} mails");
    let text = mails[n - 1].text();
    let start = text.find(&format!("/{path}?k=")).expect("a link");
    let rest = text[start..].split_whitespace().next().unwrap();
    app.url(rest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_verify_sign_in_and_reset_the_password() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let sink = SmtpSink::start().await;
    // Links in the mails point at a public address; the test opens their
    // paths on the server it runs.
    let mailer = Mailer::new(
        &sink.url(),
        "OPC <noreply@example.org>",
        "https://opc.example.org",
    );
    let services = opcity_testkit::services(&db).with_mailer(mailer.unwrap());
    let app = TestApp::spawn_services(services, WebConfig::default()).await;

    browser.reset().await;
    browser.goto(&app.url("/login")).await;
    browser.click("#sign-up-link").await;
    browser.wait_for_path("/sign-up", |p| p == "/sign-up").await;
    browser.fill("#f-display_name", "陈美").await;
    browser.fill("#f-username", "Mei Chen").await;
    browser.fill("#f-email", "mei@example.org").await;
    browser.fill("#f-password", PASSWORD).await;
    browser.fill("#f-confirm_password", PASSWORD).await;
    browser.submit_and_wait("#sign-up-submit").await;
    browser.find("#f-username-error").await;
    assert_eq!(browser.value("#f-username").await, "Mei Chen");
    assert_eq!(
        browser.value("#f-password").await,
        "",
        "passwords are never sent back"
    );
    assert!(browser.exists("#form-errors").await);
    browser.screenshot("sign-up-refused").await;

    browser.fill("#f-username", "mei").await;
    browser.fill("#f-password", PASSWORD).await;
    browser.fill("#f-confirm_password", PASSWORD).await;
    browser.submit_and_wait("#sign-up-submit").await;
    browser
        .wait_for_path("the sign-up's next step", |p| {
            p.starts_with("/sign-up/sent")
        })
        .await;
    assert!(browser.text("#sign-up-done").await.contains("请查收邮件"));

    browser
        .goto(&link_in(&app, &sink, 1, "verify-email").await)
        .await;
    browser.submit_and_wait("#verify-submit").await;
    browser
        .wait_for_path("sign-in", |p| p == "/login?done=confirmed")
        .await;
    assert!(browser.exists("#login-done").await);
    browser.fill("#username", "mei").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("#login-submit").await;
    browser.wait_for_path("/home", |p| p == "/home").await;

    // Forgotten: from the sign-in page, by address.
    browser.reset().await;
    browser.goto(&app.url("/login")).await;
    browser.click("#forgot-link").await;
    browser
        .wait_for_path("/password/forgot", |p| p == "/password/forgot")
        .await;
    browser.fill("#f-who", "mei@example.org").await;
    browser.submit_and_wait("#forgot-submit").await;
    browser.find("#forgot-sent").await;
    browser
        .goto(&link_in(&app, &sink, 2, "password/reset").await)
        .await;
    browser.fill("#f-new_password", NEW_PASSWORD).await;
    browser.fill("#f-confirm_password", NEW_PASSWORD).await;
    browser.submit_and_wait("#reset-submit").await;
    browser
        .wait_for_path("sign-in", |p| p == "/login?done=reset")
        .await;
    browser.fill("#username", "mei").await;
    browser.fill("#password", NEW_PASSWORD).await;
    browser.click("#login-submit").await;
    browser.wait_for_path("/home", |p| p == "/home").await;
    browser.screenshot("sign-up-home").await;

    app.stop().await;
    db.cleanup().await;
    browser.quit().await;
}
