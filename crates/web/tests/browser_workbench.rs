//! The reviewers' workbench in headless Chromium: a reviewer searches and
//! sorts the queue through its form, downloads what the filters select
//! (the same rows, with the filters kept in the link), saves the view and
//! comes back to it, and takes a case from its page, after which "assigned
//! to me" finds it. SQLite and, when configured, PostgreSQL; SKIPPED
//! without Chromium unless `OPCITY_REQUIRE_BROWSER=1`.

use opcity_domain::{District, Role};
use opcity_testkit::{Browser, FounderSpec, TestApp, each_backend, supply_evidence};

/// The ids of the queue's rows on the page, in order.
async fn rows(browser: &Browser) -> Vec<i64> {
    let mut ids = Vec::new();
    for row in browser.find_all("#applications tbody tr").await {
        let id = row.attr("data-id").await.unwrap().unwrap();
        ids.push(id.parse().unwrap());
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_searches_downloads_saves_and_takes_a_case() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let s = &app.services;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("reviewer", Role::DistrictReviewer, Some(District::Nanshan))
            .await;
        opcity_testkit::nanshan_housing_budget(s, &admin, 100_000_000).await;
        let mut cases = Vec::new();
        for (n, name) in ["林晨曦", "周宇", "林小雨"].iter().enumerate() {
            let username = format!("founder{n}");
            let spec = FounderSpec::young_ai(&username, n).named(name, &format!("{name}智能"));
            let founder = app.founder(&admin, spec).await.actor;
            let id = opcity_testkit::housing_application(s, &founder, &username).await;
            supply_evidence(s, &founder, id).await;
            s.submit_application(&founder, id).await.unwrap();
            cases.push(id);
        }

        browser.sign_in(&app, "reviewer").await;
        browser.goto(&app.url("/applications")).await;
        assert_eq!(rows(&browser).await, cases);
        // Search by part of a name, newest first.
        browser.fill("#filter-q", "林").await;
        browser.select("#filter-sort", "newest").await;
        browser.submit_and_wait("#filter-apply").await;
        assert_eq!(rows(&browser).await, [cases[2], cases[0]]);
        assert_eq!(browser.value("#filter-q").await, "林");

        // The download holds the same rows.
        let href = browser.attr("#export-csv", "href").await.unwrap();
        assert!(href.contains("sort=newest"), "{href}");
        let (status, csv) = browser.fetch_text(&href).await;
        assert_eq!(status, 200);
        let names: Vec<&str> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap())
            .collect();
        assert_eq!(names, ["林小雨", "林晨曦"], "{csv}");

        // A saved view brings the filters back.
        browser.fill("#filter-name", "林").await;
        browser.submit_and_wait("#save-view").await;
        browser.goto(&app.url("/applications")).await;
        assert_eq!(rows(&browser).await.len(), 3);
        browser.click(".saved-views a").await;
        browser
            .wait_for_path("the saved view", |p| p.contains("sort=newest"))
            .await;
        assert_eq!(rows(&browser).await, [cases[2], cases[0]]);

        // Taking a case from its page.
        browser.click("#filter-clear").await;
        browser
            .wait_for_path("the whole queue", |p| p == "/applications")
            .await;
        browser
            .click(&format!("tr[data-id=\"{}\"] td a", cases[1]))
            .await;
        browser
            .wait_for_path("the case", |p| {
                p.ends_with(&format!("/applications/{}", cases[1]))
            })
            .await;
        // On a laptop's screen the materials come first and the decision
        // sits beside them, level with them.
        browser
            .client()
            .set_window_size(1280, 800)
            .await
            .expect("a laptop-sized window");
        let layout = browser
            .execute(
                "const m = document.querySelector('#evidence').getBoundingClientRect();\
                 const d = document.querySelector('#case-decision').getBoundingClientRect();\
                 return [m.left < d.left, d.left >= m.right, Math.abs(d.top - m.top) < 2];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(layout, serde_json::json!([true, true, true]), "{layout}");
        browser.submit_and_wait("#take-case").await;
        assert_eq!(browser.text("#assignee").await, "reviewer (test)");
        browser.goto(&app.url("/applications?assignee=me")).await;
        assert_eq!(rows(&browser).await, [cases[1]]);
        app.stop().await;
    })
    .await;
    browser.quit().await;
}
