//! Journeys in headless Chromium: the public self-check; a housing subsidy
//! from the self-check to first payment (founder checks, applies from the
//! result, fills the form, checks his answers, sends and reads the
//! reference and due date → two district
//! reviewers approve, since 30,000 yuan is above the second-review line →
//! founder accepts → the first instalment is paid and shows); one workspace
//! allocation (operator enters building, floor and unit → founder requests a
//! desk → operator offers it → founder accepts → the agreement is active);
//! one instrument booking (founder books a 09:00 slot, the slot is taken and
//! the iCalendar export carries the booking in UTC); the voucher wallet (the
//! enterprise sees its balance and captures, confirms one, disputes another;
//! an administrator reverses the dispute and the balance comes back). SQLite
//! and, when
//! configured, PostgreSQL; SKIPPED without Chromium unless
//! `OPCITY_REQUIRE_BROWSER=1`.

use opcity_domain::{District, Role};
use opcity_services::Actor;
use opcity_services::registry::communities::CommunityInput;
use opcity_services::spaces::instruments::InstrumentInput;
use opcity_services::vouchers::issue::IssueVoucher;
use opcity_services::vouchers::providers::{ProviderDecision, ProviderInput};
use opcity_services::vouchers::redeem::{CaptureInput, HoldInput};
use opcity_testkit::{Browser, FounderSpec, TestApp, each_backend};

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
        browser.set_date("#birth_date", "1995-03-01").await;
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
        let spec = FounderSpec::young_ai("founder", 0)
            .locale("zh-CN")
            .uscc("91440300708461136T")
            .named("林晨曦", "晨曦智能");
        app.founder(&admin, spec).await;
        opcity_testkit::nanshan_housing_budget(s, &admin, 30_000_000).await;

        // The founder checks what he may get and applies from the result:
        // the start page says what the engine finds on his record and
        // what he will need.
        browser.sign_in(&app, "founder").await;
        browser.goto(&app.url("/self-check")).await;
        browser.set_date("#birth_date", "1996-05-20").await;
        browser.select("#highest_degree", "master").await;
        browser.select("#hukou", "none").await;
        browser.select("#works_in_ai", "true").await;
        browser.select("#is_founder", "true").await;
        browser.click("#check").await;
        browser.find("#results").await;
        browser.click("#apply-sz\\.housing\\.subsidy").await;
        browser
            .wait_for_path("the start page", |p| p.starts_with("/applications/new"))
            .await;
        assert_eq!(
            browser.attr("#your-result", "data-status").await.as_deref(),
            Some("eligible")
        );
        assert!(browser.text("#you-will-need").await.contains("身份证"));
        browser.submit_and_wait("#start-application").await;
        let path = browser
            .wait_for_path("an application page", |p| {
                p.starts_with("/applications/") && p != "/applications/new"
            })
            .await;
        let id = path.rsplit('/').next().unwrap().to_owned();
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
        browser.submit_and_wait("#form-fields-submit").await;
        let dir = tempfile::tempdir().unwrap();
        for item in ["identity_card", "founder_proof"] {
            let file = dir.path().join(format!("{item}.pdf"));
            std::fs::write(&file, opcity_testkit::TINY_PDF).unwrap();
            browser.attach(&format!("#file-{item}"), &file).await;
            browser
                .submit_and_wait(&format!("#upload-{item}-submit"))
                .await;
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
        // Check the answers, send, and read the reference and due date.
        browser.click("#action-submit").await;
        browser
            .wait_for_path("check your answers", |p| p.ends_with("/check"))
            .await;
        let answers = browser.text("#answers").await;
        assert!(
            answers.contains("6222 0000 1111 2222") && answers.contains("identity_card.pdf"),
            "{answers}"
        );
        browser.submit_and_wait("#send-application").await;
        browser
            .wait_for_path("the confirmation", |p| p.ends_with("/submitted"))
            .await;
        assert_eq!(browser.text("#reference").await, format!("#{id}"));
        assert!(browser.exists("#decision-due").await);
        browser.goto(&app.url(&path)).await;
        assert_eq!(
            browser
                .attr(".badge[data-state]", "data-state")
                .await
                .as_deref(),
            Some("district_review")
        );
        browser.find("#explanation").await;

        // Two district reviewers approve 30,000 yuan. The second sees whose
        // approval waits; another amount, not said to differ, comes back
        // with the reason beside the amount and what was typed kept.
        for reviewer in ["rev.one", "rev.two"] {
            browser.sign_in(&app, reviewer).await;
            browser.goto(&app.url(&path)).await;
            if reviewer == "rev.two" {
                let waiting = browser.text("#second-review").await;
                assert!(
                    waiting.contains("¥30,000.00") && waiting.contains("rev.one"),
                    "{waiting}"
                );
                browser.select("#decision", "approve").await;
                browser.fill("#amount_yuan", "29000").await;
                browser.click("#no_conflict_declared").await;
                browser.submit_and_wait("#review-submit").await;
                let beside = browser.text("#amount_yuan-error").await;
                assert!(beside.contains("¥30,000.00"), "{beside}");
                assert_eq!(browser.value("#amount_yuan").await, "29000");
                assert!(browser.exists("#different_amount_confirmed").await);
                browser.goto(&app.url(&path)).await;
            }
            browser.select("#decision", "approve").await;
            browser.fill("#amount_yuan", "30000").await;
            browser.click("#no_conflict_declared").await;
            browser.submit_and_wait("#review-submit").await;
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
        browser.sign_in(&app, "founder").await;
        browser.goto(&app.url(&path)).await;
        browser.submit_and_wait("#action-accept").await;
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

/// The `data-id` of the success notice `#result` (what a form made).
async fn result_id(browser: &Browser, what: &str) -> i64 {
    assert_eq!(
        browser.attr("#result", "data-done").await.as_deref(),
        Some(what),
        "{}",
        browser.text("main").await
    );
    browser
        .attr("#result", "data-id")
        .await
        .and_then(|id| id.parse().ok())
        .expect("#result names what was made")
}

/// A founder (林晨曦, with 晨曦智能 in Nanshan) and an administrator:
/// (admin, founder's enterprise id).
async fn founder_with_enterprise(app: &TestApp) -> (Actor, i64) {
    let admin = app.account("admin", Role::MunicipalAdmin, None).await;
    let spec = FounderSpec::young_ai("founder", 0)
        .locale("zh-CN")
        .uscc("91440300708461136T")
        .named("林晨曦", "晨曦智能");
    (admin.clone(), app.founder(&admin, spec).await.enterprise_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_from_inventory_to_an_active_agreement() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let (admin, firm) = founder_with_enterprise(&app).await;
        let operator = app.account("operator", Role::CommunityOperator, None).await;
        let community = app
            .services
            .create_community(
                &admin,
                &CommunityInput {
                    name_zh: "湾区OPC社区".into(),
                    name_en: "Bay OPC Community".into(),
                    district: "nanshan".into(),
                    address: "南山区科苑路1号".into(),
                    area_m2: 10_000,
                    operator_name: "湾区运营".into(),
                    operator_account_id: Some(operator.account_id),
                    opened_on: None,
                },
            )
            .await
            .unwrap()
            .id;

        // The operator enters a building, a floor and a desk.
        browser.sign_in(&app, "operator").await;
        browser
            .goto(&app.url(&format!("/spaces/inventory?community_id={community}")))
            .await;
        browser.fill("#building-form #f-name", "A座").await;
        browser.fill("#building-form #f-address", "科苑路1号").await;
        browser.submit_and_wait("#building-form-submit").await;
        let building = result_id(&browser, "building").await;
        browser
            .select("#floor-form #f-building_id", &building.to_string())
            .await;
        browser.fill("#floor-form #f-level", "3").await;
        browser.fill("#floor-form #f-label", "3F").await;
        browser.submit_and_wait("#floor-form-submit").await;
        let floor = result_id(&browser, "floor").await;
        browser
            .select("#unit-form #f-floor_id", &floor.to_string())
            .await;
        browser.select("#unit-form #f-kind", "desk").await;
        browser.fill("#unit-form #f-code", "3D01").await;
        browser.fill("#unit-form #f-area_m2", "6").await;
        browser.fill("#unit-form #f-capacity", "2").await;
        browser.fill("#unit-form #f-list_rent_yuan", "1,200").await;
        browser
            .fill("#unit-form #f-discounted_rent_yuan", "600")
            .await;
        browser.submit_and_wait("#unit-form-submit").await;
        let unit = result_id(&browser, "unit").await;
        assert!(browser.exists(&format!("#unit-{unit}")).await);

        // The founder asks for a desk for two from 1 September.
        browser.sign_in(&app, "founder").await;
        browser.goto(&app.url("/spaces")).await;
        browser
            .select("#space-request-form #f-enterprise_id", &firm.to_string())
            .await;
        browser
            .select(
                "#space-request-form #f-community_id",
                &community.to_string(),
            )
            .await;
        browser.select("#space-request-form #f-kind", "desk").await;
        browser.fill("#space-request-form #f-team_size", "2").await;
        browser
            .set_date("#space-request-form #f-wanted_from", "2030-09-01")
            .await;
        browser.fill("#space-request-form #f-months", "12").await;
        browser.submit_and_wait("#space-request-form-submit").await;
        let request = result_id(&browser, "request").await;
        assert_eq!(
            browser
                .attr(&format!("#request-{request}"), "data-status")
                .await
                .as_deref(),
            Some("waiting")
        );
        assert_eq!(
            browser.text(&format!("#request-{request} .position")).await,
            "1"
        );

        // The operator offers the desk for a year.
        browser.sign_in(&app, "operator").await;
        browser.goto(&app.url("/spaces")).await;
        browser
            .select("#offer-form #f-request_id", &request.to_string())
            .await;
        browser
            .select("#offer-form #f-unit_id", &unit.to_string())
            .await;
        browser.set_date("#offer-form #f-start", "2030-09-01").await;
        browser.set_date("#offer-form #f-end", "2031-09-01").await;
        browser.submit_and_wait("#offer-form-submit").await;
        let offer = result_id(&browser, "offer").await;
        assert_eq!(
            browser
                .attr(&format!("#agreement-{offer}"), "data-status")
                .await
                .as_deref(),
            Some("offered")
        );

        // The founder accepts; the agreement is active for the year.
        browser.sign_in(&app, "founder").await;
        browser.goto(&app.url("/spaces")).await;
        browser.submit_and_wait(&format!("#accept-{offer}")).await;
        let row = format!("#agreement-{offer}");
        assert_eq!(
            browser.attr(&row, "data-status").await.as_deref(),
            Some("active"),
            "{}",
            browser.text("main").await
        );
        assert!(browser.text(&row).await.contains("2030-09-01 – 2031-09-01"));
        assert!(!browser.exists(&format!("#accept-{offer}")).await);
        browser
            .screenshot(&format!("space-agreement-{:?}", db.backend()).to_lowercase())
            .await;
        app.stop().await;
    })
    .await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nine_oclock_slot_booked_and_in_the_calendar() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        founder_with_enterprise(&app).await;
        let lab = app.account("lab", Role::ServiceProvider, None).await;
        let instrument = app
            .services
            .create_instrument(
                &lab,
                &InstrumentInput {
                    name: "A100 训练服务器".into(),
                    kind: "gpu_server".into(),
                    institution: "深圳大学".into(),
                    district: "nanshan".into(),
                    community_id: None,
                    manager_account_id: None,
                    description: None,
                    slot_minutes: 60,
                    opens: "09:00".into(),
                    closes: "21:00".into(),
                    open_days: "1234567".into(),
                    quota_hours_week: Some(8),
                    requires_approval: false,
                    cancel_notice_hours: 24,
                    no_show_grace_minutes: 15,
                    active: None,
                },
            )
            .await
            .unwrap()
            .id;
        // A week ahead, so 09:00 is still to come whenever the test runs.
        let day = opcity_domain::today_in_shanghai(app.services.now()) + chrono::Days::new(7);

        browser.sign_in(&app, "founder").await;
        browser.goto(&app.url("/instruments")).await;
        browser.click(&format!("#instrument-{instrument}")).await;
        browser
            .wait_for_path("the instrument's day", |p| {
                p.starts_with(&format!("/instruments/{instrument}"))
            })
            .await;
        browser.set_date("#day", &day.to_string()).await;
        browser
            .submit_and_wait("#day-form button[type=submit]")
            .await;
        assert_eq!(
            browser.attr("#slot-0900", "data-free").await.as_deref(),
            Some("true")
        );
        browser.submit_and_wait("#book-0900-submit").await;
        let booking = browser
            .attr("#booking-result", "data-id")
            .await
            .expect("the booking's id");
        assert_eq!(
            browser.attr("#slot-0900", "data-free").await.as_deref(),
            Some("false"),
            "{}",
            browser.text("main").await
        );
        assert!(
            !browser.exists("#book-0900").await,
            "a held slot has no form"
        );
        assert!(browser.exists("#book-1000").await, "the next slot is free");

        // The calendar export carries the booking, 09:00 Shanghai = 01:00 UTC.
        let href = browser
            .attr("#calendar-link", "href")
            .await
            .expect("calendar link");
        let (status, ics) = browser.fetch_text(&href).await;
        assert_eq!(status, 200, "{ics}");
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
        assert!(
            ics.contains(&format!("UID:booking-{booking}@opcity")),
            "{ics}"
        );
        let date = day.format("%Y%m%d");
        assert!(
            ics.contains(&format!("DTSTART:{date}T010000Z\r\n")),
            "{ics}"
        );
        assert!(ics.contains(&format!("DTEND:{date}T020000Z\r\n")), "{ics}");
        assert!(ics.contains("STATUS:CONFIRMED"), "{ics}");
        assert!(ics.trim_end().ends_with("END:VCALENDAR"));

        // Listed under the founder's bookings, confirmed.
        browser.goto(&app.url("/instruments")).await;
        assert_eq!(
            browser
                .attr(&format!("#booking-{booking}"), "data-status")
                .await
                .as_deref(),
            Some("confirmed")
        );
        browser
            .screenshot(&format!("instrument-booking-{:?}", db.backend()).to_lowercase())
            .await;
        app.stop().await;
    })
    .await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallet_use_confirmed_another_disputed_and_reversed() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let s = &app.services;
        let (admin, firm) = founder_with_enterprise(&app).await;
        let vendor = app.account("vendor", Role::ServiceProvider, None).await;
        const MODEL: &str = "sz.voucher.model";
        let today = opcity_domain::today_in_shanghai(s.now());
        s.issue_voucher(
            &admin,
            &IssueVoucher {
                enterprise_id: firm,
                kind: MODEL.into(),
                amount_fen: 1_000_000,
                valid_until: today + chrono::Days::new(30),
                transfer_id: Some("iss-1".into()),
            },
        )
        .await
        .unwrap();
        let p = s
            .register_provider(
                &vendor,
                &ProviderInput {
                    name: "鹏城算力服务有限公司".into(),
                    uscc: None,
                    category: "compute".into(),
                    kinds: vec![MODEL.into()],
                    account_id: None,
                },
            )
            .await
            .unwrap();
        s.decide_provider(
            &admin,
            p.id,
            &ProviderDecision {
                decision: "approve".into(),
                kinds: vec![MODEL.into()],
            },
        )
        .await
        .unwrap();
        for (n, amount) in [(1, 300_000), (2, 200_000)] {
            s.place_hold(
                &vendor,
                &HoldInput {
                    transfer_id: format!("h-{n}"),
                    enterprise_id: firm,
                    kind: MODEL.into(),
                    amount_fen: amount,
                    use_kind: "api_usage".into(),
                    reference: format!("INV-{n}"),
                    contract_amount_fen: None,
                    timeout_secs: None,
                },
            )
            .await
            .unwrap();
            s.capture_hold(
                &vendor,
                &CaptureInput {
                    transfer_id: format!("c-{n}"),
                    hold_id: format!("h-{n}"),
                    amount_fen: None,
                },
            )
            .await
            .unwrap();
        }
        let balance = format!("#wallet-{firm} tr[data-kind='{MODEL}']");

        // The enterprise sees its balance and both captures.
        browser.sign_in(&app, "founder").await;
        browser.goto(&app.url("/vouchers")).await;
        assert_eq!(
            browser.attr(&balance, "data-available").await.as_deref(),
            Some("500000")
        );
        assert!(browser.text(&balance).await.contains("¥5,000.00"));
        let history = format!("#history-{firm}");
        for c in ["c-1", "c-2"] {
            assert_eq!(
                browser
                    .attr(&format!("{history} tr[data-transfer='{c}']"), "data-kind")
                    .await
                    .as_deref(),
                Some("capture")
            );
        }

        // Confirms the first use.
        browser.submit_and_wait("#confirm-c-1").await;
        browser.find("#voucher-done").await;
        assert!(!browser.exists("#confirm-c-1").await);
        // A dispute needs a reason; with one, it is recorded.
        browser.submit_and_wait("#dispute-c-2").await;
        assert_eq!(
            browser
                .attr("#voucher-error li", "data-field")
                .await
                .as_deref(),
            Some("comment")
        );
        browser
            .fill("#review-c-2 input[name=comment]", "接口从未开通")
            .await;
        browser.submit_and_wait("#dispute-c-2").await;
        browser.find("#voucher-done").await;
        assert!(!browser.exists("#dispute-c-2").await);

        // The administrator reverses the disputed use.
        browser.sign_in(&app, "admin").await;
        browser.goto(&app.url("/vouchers")).await;
        assert_eq!(
            browser.attr("#dispute-c-2", "data-status").await.as_deref(),
            Some("open")
        );
        assert!(browser.text("#dispute-c-2").await.contains("接口从未开通"));
        browser
            .fill("#resolve-c-2 input[name=comment]", "服务商未交付")
            .await;
        browser.submit_and_wait("#reverse-c-2").await;
        browser.find("#voucher-done").await;
        assert_eq!(
            browser.attr("#dispute-c-2", "data-status").await.as_deref(),
            Some("reversed")
        );
        assert!(!browser.exists("#resolve-c-2").await);
        assert_eq!(
            browser
                .attr("#reconciliation", "data-clean")
                .await
                .as_deref(),
            Some("true")
        );

        // The enterprise has the amount back and sees why.
        browser.sign_in(&app, "founder").await;
        browser.goto(&app.url("/vouchers")).await;
        assert_eq!(
            browser.attr(&balance, "data-available").await.as_deref(),
            Some("700000")
        );
        assert_eq!(
            browser
                .attr(
                    &format!("{history} tr[data-transfer='c-2'] [data-resolution]"),
                    "data-resolution"
                )
                .await
                .as_deref(),
            Some("reversed")
        );
        assert!(
            browser
                .exists(&format!("{history} tr[data-kind='reversal']"))
                .await
        );
        browser
            .screenshot(&format!("voucher-wallet-{:?}", db.backend()).to_lowercase())
            .await;
        app.stop().await;
    })
    .await;
    browser.quit().await;
}
