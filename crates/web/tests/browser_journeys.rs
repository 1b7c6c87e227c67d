//! Two journeys in headless Chromium: the public self-check, and a housing
//! subsidy from application to first payment (founder applies → two district
//! reviewers approve, since 30,000 yuan is above the second-review line →
//! founder accepts → the first instalment is paid and shows). SQLite and, when
//! configured, PostgreSQL; SKIPPED without Chromium unless
//! `OPCITY_REQUIRE_BROWSER=1`.

use chrono::Datelike;
use opcity_domain::{District, Role};
use opcity_services::applications::budgets::BudgetInput;
use opcity_services::registry::enterprises::EnterpriseInput;
use opcity_services::registry::persons::PersonInput;
use opcity_testkit::app::TEST_PASSWORD;
use opcity_testkit::{Browser, TestApp, each_backend};

/// Date inputs take typed text in the browser's locale format; set the ISO
/// value the form submits directly instead.
async fn set_date(browser: &Browser, css: &str, iso: &str) {
    let script = format!("document.querySelector('{css}').value = '{iso}';");
    browser.execute(&script, vec![]).await.unwrap();
}

/// Clicks a submit button and waits until the next page has loaded, even
/// when it has the same address as this one.
async fn submit_and_wait(browser: &Browser, css: &str) {
    browser
        .execute("document.body.dataset.stale = '1';", vec![])
        .await
        .unwrap();
    browser.click(css).await;
    for _ in 0..200 {
        let stale = browser
            .execute(
                "return document.body && document.body.dataset.stale === '1';",
                vec![],
            )
            .await;
        if matches!(stale, Ok(serde_json::Value::Bool(false))) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no new page after clicking {css}");
}

async fn sign_in(browser: &Browser, app: &TestApp, username: &str) {
    browser.reset().await;
    browser.goto(&app.url("/login")).await;
    browser.fill("#username", username).await;
    browser.fill("#password", TEST_PASSWORD).await;
    browser.click("#login-submit").await;
    browser.wait_for_path("/home", |p| p == "/home").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_self_check_answers_without_signing_in() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        browser.goto(&app.url("/")).await;
        browser.click("#cta-self-check").await;
        browser
            .wait_for_path("/self-check", |p| p.starts_with("/self-check"))
            .await;
        set_date(&browser, "#birth_date", "1995-03-01").await;
        browser.select("#highest_degree", "master").await;
        browser.select("#hukou", "none").await;
        browser.select("#works_in_ai", "true").await;
        browser.select("#is_founder", "true").await;
        browser.click("#check").await;
        browser.find("#results").await;
        assert_eq!(
            browser
                .attr("#result-sz\\.housing\\.subsidy", "data-status")
                .await
                .as_deref(),
            Some("eligible")
        );
        assert!(
            browser
                .text("#result-sz\\.housing\\.subsidy .figure")
                .await
                .contains("¥1,250.00")
        );
        assert_eq!(
            browser
                .attr("#result-sz\\.voucher\\.model", "data-status")
                .await
                .as_deref(),
            Some("ineligible")
        );
        // Unknown Kunpeng selection: the answer waits for that fact.
        assert_eq!(
            browser
                .attr("#result-sz\\.funding\\.kunpeng_reward", "data-status")
                .await
                .as_deref(),
            Some("undetermined")
        );
        // The answers stay in the form, so one can change one fact and check again.
        assert_eq!(browser.value("#birth_date").await, "1995-03-01");
        browser
            .screenshot(&format!("self-check-{:?}", db.backend()).to_lowercase())
            .await;
        app.stop().await;
    })
    .await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn housing_subsidy_from_application_to_first_payment() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let s = &app.services;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("rev.one", Role::DistrictReviewer, Some(District::Nanshan))
            .await;
        app.account("rev.two", Role::DistrictReviewer, Some(District::Nanshan))
            .await;
        let founder = app.account("founder", Role::Founder, None).await;
        s.create_person(
            &admin,
            &PersonInput {
                full_name: "林晨曦".into(),
                district: Some("nanshan".into()),
                birth_date: Some("1996-05-20".into()),
                highest_degree: Some("master".into()),
                degree_date: Some("2023-07-01".into()),
                works_in_ai: Some(true),
                account_id: Some(founder.account_id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let founder = s.system_actor(founder.account_id).await.unwrap();
        s.create_enterprise(
            &founder,
            &EnterpriseInput {
                uscc: "91440300708461136T".into(),
                name: "晨曦智能".into(),
                district: "nanshan".into(),
                ai_business: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let year = opcity_domain::today_in_shanghai(s.now()).year();
        s.create_budget(
            &admin,
            &BudgetInput {
                programme: "sz.housing.subsidy".into(),
                year,
                authority: "nanshan".into(),
                total_fen: 30_000_000,
            },
        )
        .await
        .unwrap();

        // The founder applies from their applications page.
        sign_in(&browser, &app, "founder").await;
        browser.goto(&app.url("/applications")).await;
        browser.click("#apply-sz\\.housing\\.subsidy").await;
        browser
            .wait_for_path("an application page", |p| p.starts_with("/applications/"))
            .await;
        let path = browser.path().await;
        // A draft first: the programme's form and documents come before submitting.
        assert_eq!(
            browser
                .attr(".badge[data-state]", "data-state")
                .await
                .as_deref(),
            Some("draft")
        );
        assert!(browser.text("#missing-evidence").await.contains("身份证"));
        browser
            .fill("#form-bank_account", "6222 0000 1111 2222")
            .await;
        submit_and_wait(&browser, "#form-fields-submit").await;
        let dir = tempfile::tempdir().unwrap();
        for item in ["identity_card", "founder_proof"] {
            let file = dir.path().join(format!("{item}.pdf"));
            std::fs::write(&file, opcity_testkit::TINY_PDF).unwrap();
            browser.attach(&format!("#file-{item}"), &file).await;
            submit_and_wait(&browser, &format!("#upload-{item}-submit")).await;
            assert!(
                !browser.exists("#form-errors").await,
                "{item}: {}",
                browser.text("main").await
            );
            assert!(
                browser
                    .text(&format!("#document-{item}"))
                    .await
                    .contains(&format!("{item}.pdf"))
            );
        }
        assert!(!browser.exists("#missing-evidence").await);
        submit_and_wait(&browser, "#action-submit").await;
        assert_eq!(
            browser
                .attr(".badge[data-state]", "data-state")
                .await
                .as_deref(),
            Some("district_review")
        );
        browser.find("#explanation").await;

        // Two district reviewers approve 30,000 yuan.
        for reviewer in ["rev.one", "rev.two"] {
            sign_in(&browser, &app, reviewer).await;
            browser.goto(&app.url(&path)).await;
            browser.select("#decision", "approve").await;
            browser.fill("#amount_yuan", "30000").await;
            browser.click("#no_conflict_declared").await;
            submit_and_wait(&browser, "#review-submit").await;
            assert!(
                !browser.exists("#form-errors").await,
                "{reviewer}: {}",
                browser.text("main").await
            );
        }
        assert_eq!(
            browser
                .attr("main p .badge[data-state]", "data-state")
                .await
                .as_deref(),
            Some("approved")
        );

        // The founder accepts; the first instalment is due today and is paid.
        sign_in(&browser, &app, "founder").await;
        browser.goto(&app.url(&path)).await;
        submit_and_wait(&browser, "#action-accept").await;
        assert_eq!(browser.find_all("#payments tbody tr").await.len(), 24);
        let run = s
            .pay_due(opcity_domain::today_in_shanghai(s.now()))
            .await
            .unwrap();
        assert_eq!(run.paid, 1);
        browser.goto(&app.url(&path)).await;
        assert_eq!(
            browser
                .attr("#payments tbody tr:first-child", "data-status")
                .await
                .as_deref(),
            Some("paid")
        );
        assert!(
            browser
                .text("#payments tbody tr:first-child")
                .await
                .contains("¥1,250.00")
        );
        browser
            .screenshot(&format!("first-payment-{:?}", db.backend()).to_lowercase())
            .await;
        app.stop().await;
    })
    .await;
    browser.quit().await;
}
