//! The portal end to end in headless Chromium: the real server over a fresh
//! database, driven through its pages like a person would.
//!
//! Each test starts one browser and runs its story on every backend
//! (`each_backend`: SQLite, and PostgreSQL when configured), forgetting
//! cookies between the two servers. Both backends stay affordable (about
//! 20 s for the file on two cores, most of it Chromium) and worth it: the
//! pages run real queries, and some failures only show on one engine. Without Chromium the tests print
//! `SKIPPED` and pass, unless `OPCITY_REQUIRE_BROWSER=1` (see
//! `opcity_testkit::browser`). Each test leaves one screenshot per backend
//! in `target/e2e-screenshots/`.

use opcity_domain::Role;
use opcity_services::registry::communities::CommunityInput;
use opcity_testkit::app::TEST_PASSWORD;
use opcity_testkit::{Browser, FounderSpec, TestApp, TestDb, each_backend};

const USCC_A: &str = "91440300708461136T";
const USCC_A_WRONG_CHECK: &str = "91440300708461136U";
const USCC_B: &str = "914403001922038216";

/// Every text of every chart on the page must be readable (rendered at 10 px
/// or more), lie inside its chart, and not collide with a bar. Returns the
/// texts that break a rule.
const CHART_TEXT_PROBLEMS: &str = r#"
const problems = [];
for (const svg of document.querySelectorAll('svg.chart')) {
  const box = svg.getBoundingClientRect();
  const bars = [...svg.querySelectorAll('rect')].map(r => r.getBoundingClientRect());
  for (const t of svg.querySelectorAll('text')) {
    const r = t.getBoundingClientRect();
    const name = `${svg.id}: "${t.textContent}"`;
    if (r.height < 10) problems.push(`${name} is ${r.height.toFixed(1)} px high`);
    if (r.left < box.left - 0.5 || r.right > box.right + 0.5)
      problems.push(`${name} runs out of the chart`);
    for (const b of bars) {
      const overlap = Math.min(r.right, b.right) - Math.max(r.left, b.left);
      const vertical = Math.min(r.bottom, b.bottom) - Math.max(r.top, b.top);
      if (overlap > 1 && vertical > 1) { problems.push(`${name} overlaps a bar`); break; }
    }
  }
}
return problems;
"#;

async fn chart_text_problems(browser: &Browser) -> Vec<String> {
    let found = browser.execute(CHART_TEXT_PROBLEMS, vec![]).await.unwrap();
    serde_json::from_value(found).unwrap()
}

fn backend_name(db: &TestDb) -> String {
    format!("{:?}", db.backend()).to_lowercase()
}

/// A founder writing in Chinese, with his enterprise `name` in Nanshan.
fn chinese_founder(username: &str, uscc: &str, name: &str) -> FounderSpec {
    FounderSpec::young_ai(username, 0)
        .locale("zh-CN")
        .uscc(uscc)
        .named(&format!("{username} 本人"), name)
}

/// The hrefs of the main navigation, in order.
async fn nav_links(browser: &Browser) -> Vec<String> {
    let mut out = Vec::new();
    for link in browser.find_all("header.top nav a").await {
        out.push(link.attr("href").await.unwrap().unwrap_or_default());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_shows_errors_and_the_role_aware_navigation() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("founder", Role::Founder, None).await;

        // Signed out: only the home link, and a sign-in button.
        browser.goto(&app.url("/login")).await;
        assert_eq!(nav_links(&browser).await, ["/", "/self-check", "/consult"]);
        assert!(browser.exists("#sign-in").await);

        // A wrong password: the message, the username kept, still on /login.
        browser.fill("#username", "admin").await;
        browser.fill("#password", "not the password").await;
        browser.click("#login-submit").await;
        assert_eq!(browser.text("#login-error").await, "用户名或密码错误。");
        assert_eq!(browser.value("#username").await, "admin");
        assert_eq!(browser.value("#password").await, "", "never echoed");
        assert!(browser.path().await.starts_with("/login"));
        browser
            .screenshot(&format!("sign-in-error-{}", backend_name(db)))
            .await;

        // The right password, on the same form: the workspace.
        browser.fill("#password", TEST_PASSWORD).await;
        browser.click("#login-submit").await;
        browser.wait_for_path("/home", |p| p == "/home").await;
        assert_eq!(
            browser.text("main h1").await,
            "您好，admin (test)",
            "the workspace greets the account"
        );
        let nav = nav_links(&browser).await;
        assert_eq!(
            nav,
            [
                "/home",
                "/dashboard",
                "/communities",
                "/enterprises",
                "/persons",
                "/applications",
                "/budgets",
                "/vouchers",
                "/spaces",
                "/housing",
                "/instruments",
                "/audit"
            ]
        );
        assert_eq!(
            browser
                .attr("header.top nav a[href='/home']", "aria-current")
                .await
                .as_deref(),
            Some("page")
        );
        assert_eq!(
            browser.text("header.top nav a[href='/audit']").await,
            "审计日志"
        );
        assert!(browser.text(".session .who").await.contains("市级管理员"));

        // On a 1280-pixel screen the administrator's navigation is one
        // line, in either language.
        browser
            .client()
            .set_window_size(1280, 800)
            .await
            .expect("a laptop-sized window");
        for lang in ["en", "zh-CN"] {
            browser
                .goto(&app.url(&format!("/lang/{lang}?next=/home")))
                .await;
            browser.find("main h1").await;
            let lines = browser
                .execute(
                    "return new Set([...document.querySelectorAll('#site-nav a')]\
                     .map(a => Math.round(a.getBoundingClientRect().top))).size;",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(lines, 1, "{lang}: the navigation wraps at 1280 px");
        }

        // The audit page opens for the administrator.
        browser.click("header.top nav a[href='/audit']").await;
        browser.find("#audit-status.success").await;

        // Signing out returns to the public page.
        browser.click("#logout").await;
        browser.wait_for_path("/", |p| p == "/").await;
        browser.find("#sign-in").await;

        // A founder has no audit link (and no such page).
        browser.sign_in(&app, "founder").await;
        let nav = nav_links(&browser).await;
        assert!(!nav.iter().any(|h| h == "/audit"), "{nav:?}");
        assert!(nav.iter().any(|h| h == "/enterprises"), "{nav:?}");
        browser.goto(&app.url("/audit")).await;
        assert_eq!(browser.text("main h1").await, "您没有权限访问此内容。");

        browser.reset().await;
        app.stop().await;
    })
    .await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enterprise_form_keeps_values_beside_a_validation_error_then_saves_and_edits() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        let community = app
            .services
            .create_community(
                &admin,
                &CommunityInput {
                    name_zh: "南山智能体社区".into(),
                    name_en: "Nanshan Agents Community".into(),
                    district: "nanshan".into(),
                    address: "南山区科技园".into(),
                    area_m2: 12_000,
                    operator_name: "运营公司".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        browser.sign_in(&app, "admin").await;
        let audit_before = app.services.verify_audit_log().await.unwrap().entries;

        browser.goto(&app.url("/enterprises/new")).await;
        browser.fill("#f-uscc", USCC_A_WRONG_CHECK).await;
        browser.fill("#f-name", "深圳前沿智能科技有限公司").await;
        browser.select("#f-district", "nanshan").await;
        browser
            .select("#f-community_id", &community.id.to_string())
            .await;
        browser.select("#f-size", "micro").await;
        browser.select("#f-ai_business", "true").await;
        browser.select("#f-consortium_lead", "false").await;
        browser.click("#save").await;

        // The message sits beside the field; every value is still there.
        assert_eq!(
            browser.text("#f-uscc-error").await,
            "校验码应为 T，实际为 U，请核对。"
        );
        assert!(
            browser
                .attr("#f-uscc-error", "class")
                .await
                .is_some_and(|c| c.contains("error"))
        );
        browser.find(".field.invalid #f-uscc").await;
        assert!(browser.exists("#form-errors").await);
        assert_eq!(browser.find_all(".field div.error").await.len(), 1);
        assert_eq!(browser.value("#f-uscc").await, USCC_A_WRONG_CHECK);
        assert_eq!(browser.value("#f-name").await, "深圳前沿智能科技有限公司");
        assert_eq!(browser.value("#f-district").await, "nanshan");
        assert_eq!(
            browser.value("#f-community_id").await,
            community.id.to_string()
        );
        assert_eq!(browser.value("#f-size").await, "micro");
        assert_eq!(browser.value("#f-ai_business").await, "true");
        assert_eq!(browser.value("#f-consortium_lead").await, "false");
        assert_eq!(browser.value("#f-gov_deployed_product").await, "");
        browser
            .screenshot(&format!("enterprise-invalid-{}", backend_name(db)))
            .await;
        assert_eq!(
            app.services.verify_audit_log().await.unwrap().entries,
            audit_before,
            "nothing was written"
        );

        // Corrected: saved, and shown with the confirmation.
        browser.fill("#f-uscc", USCC_A).await;
        browser.click("#save").await;
        let path = browser
            .wait_for_path("the enterprise page", |p| {
                p.starts_with("/enterprises/") && p.ends_with("?saved=1")
            })
            .await;
        let id: i64 = path
            .trim_start_matches("/enterprises/")
            .trim_end_matches("?saved=1")
            .parse()
            .unwrap();
        assert_eq!(browser.text("#saved").await, "已保存。");
        assert_eq!(browser.text("main h1").await, "深圳前沿智能科技有限公司");
        assert_eq!(browser.text("#v-uscc").await, USCC_A);
        assert_eq!(browser.text("#v-district").await, "南山区");
        assert_eq!(
            browser.text("#v-community_id").await,
            "南山智能体社区 (Nanshan Agents Community)"
        );
        assert_eq!(browser.text("#v-ai_business").await, "是");
        let stored = app.services.get_enterprise(&admin, id).await.unwrap();
        assert_eq!(stored.uscc, USCC_A);
        assert_eq!(stored.community_id, Some(community.id));
        assert_eq!(stored.size.as_deref(), Some("micro"));
        assert_eq!(stored.consortium_lead, Some(false));
        assert_eq!(stored.gov_deployed_product, None);

        // Edit: the form comes filled in; a new name shows, the rest is kept.
        browser.click("#edit-record").await;
        browser
            .wait_for_path("the edit form", |p| p == format!("/enterprises/{id}/edit"))
            .await;
        assert_eq!(browser.value("#f-uscc").await, USCC_A);
        assert_eq!(browser.value("#f-size").await, "micro");
        browser.fill("#f-name", "深圳前沿智能体科技有限公司").await;
        browser.click("#save").await;
        browser
            .wait_for_path("the saved enterprise", |p| {
                p == format!("/enterprises/{id}?saved=1")
            })
            .await;
        assert_eq!(browser.text("main h1").await, "深圳前沿智能体科技有限公司");
        assert_eq!(browser.text("#v-name").await, "深圳前沿智能体科技有限公司");
        let stored = app.services.get_enterprise(&admin, id).await.unwrap();
        assert_eq!(stored.name, "深圳前沿智能体科技有限公司");
        assert_eq!(stored.uscc, USCC_A);
        assert_eq!(stored.community_id, Some(community.id));
        assert_eq!(stored.ai_business, Some(true));
        assert_eq!(stored.consortium_lead, Some(false));

        // The list shows it under its new name.
        browser.goto(&app.url("/enterprises")).await;
        assert!(
            browser
                .text("#records tbody")
                .await
                .contains("深圳前沿智能体科技有限公司")
        );

        browser.reset().await;
        app.stop().await;
    })
    .await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_switch_changes_every_text_and_comes_back() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        app.account("admin", Role::MunicipalAdmin, None).await;
        browser.sign_in(&app, "admin").await;
        browser.goto(&app.url("/enterprises?q=abc")).await;
        assert_eq!(browser.attr("html", "lang").await.as_deref(), Some("zh-CN"));
        assert_eq!(
            browser.text("header.top nav a[href='/dashboard']").await,
            "计划看板"
        );
        assert_eq!(browser.text("#lang-switch").await, "English");

        browser.click("#lang-switch").await;
        browser.find("html[lang='en']").await;
        assert_eq!(
            browser.path().await,
            "/enterprises?q=abc",
            "back on the same page"
        );
        assert_eq!(
            browser.text("header.top nav a[href='/dashboard']").await,
            "Plan dashboard"
        );
        assert_eq!(browser.text("main h1").await, "Enterprises");
        assert_eq!(browser.text("#lang-switch").await, "中文");
        assert_eq!(browser.value("#filter-q").await, "abc");
        browser
            .screenshot(&format!("language-en-{}", backend_name(db)))
            .await;

        // The choice sticks across pages.
        browser.goto(&app.url("/dashboard")).await;
        assert_eq!(browser.attr("html", "lang").await.as_deref(), Some("en"));
        assert_eq!(browser.text("main h1").await, "Plan dashboard");

        browser.click("#lang-switch").await;
        browser.find("html[lang='zh-CN']").await;
        assert_eq!(browser.path().await, "/dashboard");
        assert_eq!(browser.text("main h1").await, "计划看板");
        assert_eq!(browser.text("#lang-switch").await, "English");

        // A crafted switch link cannot send the browser to another site
        // (browsers drop the tab, which would leave `//evil.example/`).
        browser
            .goto(&app.url("/lang/en?next=%2F%09%2Fevil.example%2F"))
            .await;
        let url = browser.current_url().await.unwrap();
        assert_eq!(url.host_str(), Some("127.0.0.1"), "{url}");
        assert_eq!(url.path(), "/");
        browser.find("html[lang='en']").await;

        browser.reset().await;
        app.stop().await;
    })
    .await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_targets_and_charts_of_live_data() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        for (name, district, area) in [
            ("南山一号", "nanshan", 12_000),
            ("福田一号", "futian", 8_000),
        ] {
            app.services
                .create_community(
                    &admin,
                    &CommunityInput {
                        name_zh: name.into(),
                        name_en: format!("{district} one"),
                        district: district.into(),
                        address: "深圳".into(),
                        area_m2: area,
                        operator_name: "运营公司".into(),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
        app.account("investor", Role::Investor, None).await;
        browser.sign_in(&app, "investor").await;
        browser.goto(&app.url("/dashboard")).await;

        for id in [
            "communities_at_area",
            "community_area_m2",
            "ai_startups",
            "ai_professionals",
        ] {
            browser.find(&format!("#target-{id}")).await;
        }
        assert_eq!(
            browser.text("#target-community_area_m2 .value").await,
            "20,000"
        );
        assert_eq!(
            browser.text("#target-communities_at_area .value").await,
            "1"
        );
        assert_eq!(browser.text("#target-ai_startups .value").await, "0");
        assert!(
            browser
                .text("#target-community_area_m2 .target")
                .await
                .contains("500,000")
        );

        // The area chart: one bar per district, the two figures labelled.
        let chart = browser.find("svg#chart-area").await;
        let (_, _, width, height) = chart.rectangle().await.unwrap();
        assert!(
            width > 100.0 && height > 100.0,
            "chart is drawn ({width}×{height})"
        );
        assert_eq!(browser.find_all("svg#chart-area rect").await.len(), 10);
        let svg = browser.html("svg#chart-area").await;
        assert!(svg.contains(">12,000<") && svg.contains(">8,000<"), "{svg}");
        assert!(browser.exists("svg#chart-targets").await);
        let mut nanshan = None;
        for row in browser.find_all("#district-table tbody tr").await {
            let mut cells = Vec::new();
            for cell in row.find_all(fantoccini::Locator::Css("td")).await.unwrap() {
                cells.push(cell.text().await.unwrap());
            }
            if cells.first().is_some_and(|c| c == "南山区") {
                nanshan = Some(cells);
            }
        }
        assert_eq!(
            nanshan.expect("a row for Nanshan"),
            ["南山区", "1", "1", "12,000", "0", "0"]
        );

        // Every chart is legible, in both languages.
        assert_eq!(chart_text_problems(&browser).await, Vec::<String>::new());
        browser.click("#lang-switch").await;
        browser.find("html[lang='en']").await;
        assert_eq!(chart_text_problems(&browser).await, Vec::<String>::new());
        browser
            .screenshot(&format!("dashboard-en-{}", backend_name(db)))
            .await;
        browser.click("#lang-switch").await;
        browser.find("html[lang='zh-CN']").await;

        // Nothing came from another host.
        let resources = browser.loaded_resources().await;
        assert!(
            resources.iter().all(|r| r.starts_with(&app.address)),
            "{resources:?}"
        );

        browser
            .screenshot(&format!("dashboard-{}", backend_name(db)))
            .await;
        browser.reset().await;
        app.stop().await;
    })
    .await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_founder_cannot_open_another_founders_enterprise() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        let own = app
            .founder(&admin, chinese_founder("founder.a", USCC_A, "甲智能"))
            .await
            .enterprise_id;
        let other = app
            .founder(&admin, chinese_founder("founder.b", USCC_B, "乙智能"))
            .await
            .enterprise_id;

        browser.sign_in(&app, "founder.a").await;
        browser.goto(&app.url("/enterprises")).await;
        let listed = browser.text("#records tbody").await;
        assert!(
            listed.contains("甲智能") && !listed.contains("乙智能"),
            "{listed}"
        );

        browser.goto(&app.url(&format!("/enterprises/{own}"))).await;
        assert_eq!(browser.text("main h1").await, "甲智能");

        for path in [
            format!("/enterprises/{other}"),
            format!("/enterprises/{other}/edit"),
        ] {
            browser.goto(&app.url(&path)).await;
            assert_eq!(
                browser.text("main h1").await,
                "您没有权限访问此内容。",
                "{path}"
            );
            assert!(!browser.text("main").await.contains("乙智能"));
        }
        let status = reqwest::Client::new()
            .get(app.url(&format!("/enterprises/{other}")))
            .header(
                "cookie",
                format!(
                    "opcity_session={}",
                    browser
                        .get_named_cookie("opcity_session")
                        .await
                        .unwrap()
                        .value()
                ),
            )
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 403);

        browser
            .screenshot(&format!("forbidden-{}", backend_name(db)))
            .await;
        browser.reset().await;
        app.stop().await;
    })
    .await;
    browser.quit().await;
}
