//! The consultation page in a real browser at a phone's width (390 px):
//! asking through the form, the quoted clause readable without sideways
//! scrolling, and nothing loaded from elsewhere.

use opcity_testkit::{Browser, TestApp, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consultation_works_at_390_pixels() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(&db).await;
    browser
        .client()
        .set_window_size(390, 844)
        .await
        .expect("a phone-sized window");
    browser.goto(&app.url("/consult")).await;
    assert_eq!(browser.text("label[for='q']").await, "您的问题");
    browser.fill("#q", "租房补贴每个月多少钱？").await;
    browser.click("#ask").await;
    browser
        .wait_for_path("the answer", |p| p.starts_with("/consult?q="))
        .await;
    assert!(browser.exists("#answer").await);
    assert!(
        browser
            .text("#answer blockquote")
            .await
            .contains("每月税前1250元"),
        "the quoted clause"
    );
    assert_eq!(
        browser.value("#q").await,
        "租房补贴每个月多少钱？",
        "the question kept"
    );
    let overflow = browser.overflow_x().await;
    assert!(
        overflow <= 0.0,
        "no sideways scrolling at 390 px: {overflow}"
    );
    assert!(
        browser
            .loaded_resources()
            .await
            .iter()
            .all(|u| u.starts_with(&app.url("/"))),
        "nothing from elsewhere"
    );
    browser.screenshot("consult-390").await;
    browser.reset().await;
    app.stop().await;
    browser.quit().await;
}
