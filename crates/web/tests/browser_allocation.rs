//! Allocation that fits, in headless Chromium: a founder waits for a desk
//! the site cannot give soon; the operator proposes an office instead (a
//! proposal without its reason is refused beside the field, what was typed
//! kept), the founder reads the reason and accepts, the office's waitlist
//! serves the amended request and the founder accepts the offer. SQLite
//! and, when configured, PostgreSQL; SKIPPED without Chromium unless
//! `OPCITY_REQUIRE_BROWSER=1`.

use opcity_domain::Role;
use opcity_services::spaces::agreements::SpaceRequestInput;
use opcity_testkit::{Browser, FounderSpec, TestApp, each_backend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_space_request_amended_and_accepted() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let s = &app.services;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        let operator = app.account("operator", Role::CommunityOperator, None).await;
        let (community, desk) = opcity_testkit::nanshan_desk(s, &admin, &operator).await;
        let office = opcity_testkit::office_beside(s, &admin, desk).await;
        let spec = FounderSpec::young_ai("founder", 0).named("林晨曦", "晨曦智能");
        let founder = app.founder(&admin, spec).await;
        let asked = s
            .request_space(
                &founder.actor,
                &SpaceRequestInput {
                    enterprise_id: Some(founder.enterprise_id),
                    community_id: Some(community),
                    kind: "desk".into(),
                    team_size: 1,
                    wanted_from: "2030-09-01".into(),
                    months: 12,
                    ..Default::default()
                },
            )
            .await
            .unwrap();

        // The operator proposes an office; without the reason it is refused
        // beside the field, and the kind and team size stay as typed.
        browser.sign_in(&app, "operator").await;
        browser.goto(&app.url("/spaces")).await;
        let form = "#propose-form";
        browser
            .select(
                &format!("{form} #propose-f-for_request"),
                &asked.id.to_string(),
            )
            .await;
        browser
            .select(&format!("{form} #propose-f-kind"), "office")
            .await;
        browser
            .fill(&format!("{form} #propose-f-team_size"), "2")
            .await;
        browser
            .set_date(&format!("{form} #propose-f-wanted_from"), "2030-09-01")
            .await;
        browser
            .fill(&format!("{form} #propose-f-months"), "12")
            .await;
        browser.submit_and_wait("#propose-form-submit").await;
        assert!(
            browser.exists("#propose-f-reason-error").await,
            "{}",
            browser.text("main").await
        );
        assert_eq!(
            browser.value(&format!("{form} #propose-f-team_size")).await,
            "2"
        );
        browser
            .fill(
                &format!("{form} #propose-f-reason"),
                "No desk is free before spring; this office is, at the programme rent.",
            )
            .await;
        browser
            .set_date(&format!("{form} #propose-f-wanted_from"), "2030-09-01")
            .await;
        browser.submit_and_wait("#propose-form-submit").await;
        assert_eq!(
            browser.attr("#result", "data-done").await.as_deref(),
            Some("proposed"),
            "{}",
            browser.text("main").await
        );

        // The founder reads the reason and accepts the change.
        browser.sign_in(&app, "founder").await;
        browser.goto(&app.url("/spaces")).await;
        let row = format!("#request-{}", asked.id);
        let text = browser.text(&row).await;
        assert!(text.contains("No desk is free before spring"), "{text}");
        let listed = s
            .list_space_requests(&founder.actor, &Default::default())
            .await
            .unwrap();
        let proposal = listed[0].proposal.as_ref().expect("a proposal is open").id;
        browser
            .submit_and_wait(&format!("#accept-change-{proposal}"))
            .await;
        assert_eq!(
            browser.attr("#result", "data-done").await.as_deref(),
            Some("change_accept"),
            "{}",
            browser.text("main").await
        );
        assert!(!browser.exists(&format!("{row} .proposal")).await);
        let amended = s
            .list_space_requests(&founder.actor, &Default::default())
            .await
            .unwrap();
        assert_eq!(
            (amended[0].kind.as_str(), amended[0].team_size),
            ("office", 2)
        );

        // The operator offers the office to the amended request; the founder takes it.
        browser.sign_in(&app, "operator").await;
        browser.goto(&app.url("/spaces")).await;
        browser
            .select("#offer-form #f-request_id", &asked.id.to_string())
            .await;
        browser
            .select("#offer-form #f-unit_id", &office.to_string())
            .await;
        browser.set_date("#offer-form #f-start", "2030-09-01").await;
        browser.set_date("#offer-form #f-end", "2031-09-01").await;
        browser.submit_and_wait("#offer-form-submit").await;
        let offer: i64 = browser
            .attr("#result", "data-id")
            .await
            .and_then(|id| id.parse().ok())
            .expect("the offer is made");
        browser.sign_in(&app, "founder").await;
        browser.goto(&app.url("/spaces")).await;
        browser.submit_and_wait(&format!("#accept-{offer}")).await;
        assert_eq!(
            browser
                .attr(&format!("#agreement-{offer}"), "data-status")
                .await
                .as_deref(),
            Some("active")
        );
        app.stop().await;
    })
    .await;
    browser.quit().await;
}
