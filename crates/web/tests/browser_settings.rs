//! E-mail notification settings in headless Chromium: from the workspace to
//! the settings page, a refused address shown beside its field, then saved
//! and shown checked. SQLite only (the HTTP tests cover both backends);
//! SKIPPED without Chromium unless `OPCITY_REQUIRE_BROWSER=1`.

use opcity_domain::Role;
use opcity_testkit::{Browser, TestApp, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_founder_turns_on_email_notifications() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(&db).await;
    let ana = app.account("ana", Role::Founder, None).await;
    browser.sign_in(&app, "ana").await;

    browser.click("#settings-card").await;
    browser
        .wait_for_path("/settings", |p| p == "/settings")
        .await;
    browser.fill("#f-email", "ana at example.org").await;
    browser.click("#f-email_notifications").await;
    browser.click("#settings-save").await;
    browser.find("#f-email-error").await;
    assert_eq!(browser.text("#f-email-error").await, "电子邮箱格式不正确。");
    assert_eq!(browser.value("#f-email").await, "ana at example.org");

    browser.fill("#f-email", "ana@example.org").await;
    if !browser.exists("#f-email_notifications:checked").await {
        browser.click("#f-email_notifications").await;
    }
    browser.select("#f-locale", "en").await;
    browser.click("#settings-save").await;
    browser.find("#settings-saved").await;
    assert!(browser.exists("#f-email_notifications:checked").await);
    browser.screenshot("settings-saved").await;
    let settings = app.services.account_settings(&ana).await.unwrap();
    assert_eq!(settings.email.as_deref(), Some("ana@example.org"));
    assert!(settings.email_notifications);
    assert_eq!(settings.locale, "en");
    app.stop().await;
    db.cleanup().await;
    browser.quit().await;
}
