//! Decisions as the founder meets them, in headless Chromium, on SQLite
//! and (when configured) PostgreSQL: a model voucher approved by the city,
//! told on the founder's workspace, accepted, and seen in the enterprise's
//! wallet (never as instalments); a housing subsidy rejected with a reason
//! for the applicant, told on the workspace with the reason (not the
//! reviewer's internal note), its decision letter opened from there, on a
//! phone-sized window. SKIPPED without Chromium unless
//! `OPCITY_REQUIRE_BROWSER=1`.

use chrono::Datelike;
use opcity_domain::{District, Role};
use opcity_services::applications::NewApplication;
use opcity_services::applications::budgets::BudgetInput;
use opcity_services::{Actor, Services};
use opcity_testkit::{Browser, FounderSpec, TestApp, each_backend, supply_evidence};

/// `founder`'s application for `programme`, submitted with its evidence.
async fn submitted(s: &Services, founder: &Actor, programme: &str, enterprise: Option<i64>) -> i64 {
    let app = s
        .create_application(
            founder,
            &NewApplication {
                programme: programme.into(),
                enterprise_id: enterprise,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    supply_evidence(s, founder, app.id).await;
    s.submit_application(founder, app.id).await.unwrap();
    app.id
}

/// A reviewer's decision through the application page's review form.
async fn decide(browser: &Browser, decision: &str, amount_yuan: Option<&str>, reason: &str) {
    browser.select("#decision", decision).await;
    if let Some(amount) = amount_yuan {
        browser.fill("#amount_yuan", amount).await;
    }
    browser.fill("#applicant_reason", reason).await;
    browser
        .fill("#comment", "internal: second check done")
        .await;
    browser.click("#no_conflict_declared").await;
    browser.submit_and_wait("#review-submit").await;
    assert!(
        !browser.exists("#form-errors").await,
        "{}",
        browser.text("main").await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voucher_approved_arrives_in_the_wallet() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let s = &app.services;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("rev", Role::DistrictReviewer, Some(District::Nanshan))
            .await;
        let spec = FounderSpec::young_ai("vera", 3);
        let founder = app.founder(&admin, spec).await;
        let year = opcity_domain::today_in_shanghai(s.now()).year();
        s.create_budget(
            &admin,
            &BudgetInput {
                programme: "sz.voucher.model".into(),
                year,
                authority: "municipal".into(),
                total_fen: 500_000_000,
            },
        )
        .await
        .unwrap();
        let firm = founder.enterprise_id;
        let id = submitted(s, &founder.actor, "sz.voucher.model", Some(firm)).await;
        let path = format!("/applications/{id}");

        // The district forwards, the city approves 800,000 yuan.
        browser.sign_in(&app, "rev").await;
        browser.goto(&app.url(&path)).await;
        decide(&browser, "forward", None, "Forwarded to the city.").await;
        browser.sign_in(&app, "admin").await;
        browser.goto(&app.url(&path)).await;
        decide(
            &browser,
            "approve",
            Some("800000"),
            "Approved for the agent platform.",
        )
        .await;

        // The founder is told on the workspace, accepts, and finds the
        // voucher in the wallet, with no payment schedule.
        browser.sign_in(&app, "vera").await;
        browser.goto(&app.url("/home")).await;
        let news = browser
            .text("#latest-news [data-kind='application_approved']")
            .await;
        assert!(news.contains("¥800,000.00"), "{news}");
        assert!(news.contains("发放至企业券钱包"), "{news}");
        browser.goto(&app.url(&path)).await;
        browser.submit_and_wait("#action-accept").await;
        assert_eq!(
            browser.attr("#delivery", "data-delivery").await.as_deref(),
            Some("voucher")
        );
        assert!(!browser.exists("#payments").await);
        browser.click("#delivery a").await;
        browser
            .wait_for_path("the wallet", |p| p == "/vouchers")
            .await;
        let balance = format!("#wallet-{firm} tr[data-kind='sz.voucher.model']");
        assert_eq!(
            browser.attr(&balance, "data-available").await.as_deref(),
            Some("80000000")
        );
        assert!(browser.text(&balance).await.contains("¥800,000.00"));
        browser
            .screenshot(&format!("voucher-delivered-{:?}", db.backend()).to_lowercase())
            .await;
        app.stop().await;
    })
    .await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_is_told_on_the_workspace_with_its_reason_and_letter() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let s = &app.services;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("rev", Role::DistrictReviewer, Some(District::Nanshan))
            .await;
        let spec = FounderSpec::young_ai("lin", 4)
            .locale("zh-CN")
            .named("林晨曦", "晨曦智能");
        let founder = app.founder(&admin, spec).await;
        let id = submitted(s, &founder.actor, "sz.housing.subsidy", None).await;
        let path = format!("/applications/{id}");

        browser.sign_in(&app, "rev").await;
        browser.goto(&app.url(&path)).await;
        decide(&browser, "reject", None, "租赁合同所列房屋不在深圳市。").await;

        // On a phone-sized window: the workspace tells the reason, never
        // the internal note, and links the letter.
        browser.sign_in(&app, "lin").await;
        browser
            .client()
            .set_window_size(390, 844)
            .await
            .expect("a phone-sized window");
        browser.goto(&app.url("/home")).await;
        let news = browser
            .text("#latest-news [data-kind='application_rejected']")
            .await;
        assert!(news.contains("租赁合同所列房屋不在深圳市。"), "{news}");
        assert!(!browser.text("main").await.contains("internal"));
        browser.click("#latest-news .letter-link").await;
        browser
            .wait_for_path("the letter", |p| p.ends_with("/letters/1"))
            .await;
        let letter = browser.text("#letter").await;
        assert!(letter.contains("审批决定书"), "{letter}");
        assert!(letter.contains("未获批准"), "{letter}");
        assert!(
            letter.contains("理由：租赁合同所列房屋不在深圳市。"),
            "{letter}"
        );
        assert!(letter.contains("林晨曦"), "{letter}");
        let reference = browser.attr("#letter", "data-reference").await.unwrap();
        assert!(reference.starts_with("OPC-") && reference.ends_with(&format!("{id:06}-1")));
        assert!(browser.exists("#letter-pdf").await);
        let overflow = browser.overflow_x().await;
        assert!(
            overflow <= 0.0,
            "no sideways scrolling at 390 px: {overflow}"
        );
        browser
            .screenshot(&format!("decision-letter-{:?}", db.backend()).to_lowercase())
            .await;
        app.stop().await;
    })
    .await;
    browser.quit().await;
}
