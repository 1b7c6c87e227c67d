//! The founder's key pages on a phone (390 × 844) in headless Chromium:
//! no page scrolls sideways, the navigation folds behind "Menu" and opens
//! from it, and lists read as cards. SQLite and, when configured,
//! PostgreSQL; SKIPPED without Chromium unless `OPCITY_REQUIRE_BROWSER=1`.

use opcity_domain::Role;
use opcity_testkit::{Browser, FounderSpec, TestApp, each_backend, supply_evidence};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_founder_page_fits_a_phone() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let s = &app.services;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        let spec = FounderSpec::young_ai("founder", 0)
            .locale("zh-CN")
            .named("林晨曦", "晨曦智能");
        let founder = app.founder(&admin, spec).await.actor;
        opcity_testkit::nanshan_housing_budget(s, &admin, 10_000_000).await;
        let sent = opcity_testkit::housing_application(s, &founder, "sent").await;
        supply_evidence(s, &founder, sent).await;
        s.submit_application(&founder, sent).await.unwrap();
        let draft = s
            .create_application(
                &founder,
                &opcity_services::applications::NewApplication {
                    programme: "sz.voucher.model".into(),
                    enterprise_id: founder.enterprise_ids.first().copied(),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;

        browser.sign_in(&app, "founder").await;
        browser
            .client()
            .set_window_size(390, 844)
            .await
            .expect("a phone-sized window");
        let pages = [
            "/".to_owned(),
            "/self-check?birth_date=1996-05-20&highest_degree=master&hukou=none&works_in_ai=true&is_founder=true".to_owned(),
            "/home".to_owned(),
            "/applications".to_owned(),
            "/applications/new?programme=sz.housing.subsidy".to_owned(),
            format!("/applications/{sent}"),
            format!("/applications/{sent}/submitted"),
            format!("/applications/{draft}"),
            format!("/applications/{draft}/check"),
            "/inbox".to_owned(),
            "/vouchers".to_owned(),
            "/spaces".to_owned(),
            "/settings".to_owned(),
            "/settings/password".to_owned(),
        ];
        for path in &pages {
            browser.goto(&app.url(path)).await;
            browser.find("main").await;
            let overflow = browser.overflow_x().await;
            assert!(overflow <= 0.0, "{path} scrolls sideways at 390 px by {overflow}");
            let nav = browser.find("#site-nav").await;
            assert!(!nav.is_displayed().await.unwrap(), "{path}: the menu starts folded");
        }
        // The menu opens from its button; the list of applications is cards.
        browser.goto(&app.url("/applications")).await;
        browser.click("label.menu-button").await;
        assert!(browser.find("#site-nav").await.is_displayed().await.unwrap());
        let row_display = browser
            .execute(
                "return getComputedStyle(document.querySelector('#applications tbody tr')).display;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(row_display, "block", "each application is a card");
        browser
            .screenshot(&format!("phone-applications-{:?}", db.backend()).to_lowercase())
            .await;
        browser
            .client()
            .set_window_size(1280, 900)
            .await
            .expect("back to a desktop window");
        app.stop().await;
    })
    .await;
    browser.quit().await;
}
