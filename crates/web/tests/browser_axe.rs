//! Accessibility, checked by axe-core in headless Chromium: every page a
//! visitor and each role of the demo (founder, operator, district reviewer,
//! administrator, provider, investor, auditor) can reach by following links
//! from their start page, in Chinese and in English, has no violation of
//! the WCAG 2.1 A and AA rules axe knows. One page of each kind is checked
//! (`/applications/7` stands for every application's page), with the data
//! the demo seeds.
//!
//! axe-core comes from the npm registry, pinned, installed by `.ci/axe.sh`
//! (`OPCITY_AXE_JS` names its script); without it the test is SKIPPED
//! unless `OPCITY_REQUIRE_AXE=1`, as `.ci/run` sets. The markup does not
//! depend on the database, so this runs on SQLite only.

use opcity_testkit::{Browser, TestApp, TestDb};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

const AXE_ENV: &str = "OPCITY_AXE_JS";
const REQUIRE_ENV: &str = "OPCITY_REQUIRE_AXE";

/// Pages each viewer's crawl visits at most, per language.
const MAX_PAGES: usize = 80;

/// The demo's logins checked, one per role.
const ROLES: [&str; 7] = [
    "founder",
    "operator",
    "reviewer.nanshan",
    "admin",
    "provider",
    "investor",
    "auditor",
];

fn axe_source() -> Option<String> {
    let path = std::env::var(AXE_ENV).ok().filter(|p| !p.is_empty());
    let required = std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1");
    match path.map(|p| (std::fs::read_to_string(&p), p)) {
        Some((Ok(source), _)) => Some(source),
        Some((Err(e), p)) if required => panic!("{REQUIRE_ENV}=1 but {p}: {e}"),
        None if required => panic!("{REQUIRE_ENV}=1 but {AXE_ENV} is not set"),
        _ => {
            eprintln!("SKIPPED: axe-core not installed (bash .ci/axe.sh, then set {AXE_ENV})");
            None
        }
    }
}

/// The kind of page a path is: its numbers as `{n}` (`/applications/{n}`).
fn kind_of(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    path.split('/')
        .map(|s| {
            if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
                "{n}"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether a link leads to a page to check: same site, an HTML page (not
/// a download, an API call or signing out).
fn is_page(href: &str) -> bool {
    let path = href.split(['?', '#']).next().unwrap_or(href);
    href.starts_with('/')
        && !href.starts_with("//")
        && !path.starts_with("/api/")
        && !path.starts_with("/lang/")
        && !["/logout", "/static", "/healthz"]
            .iter()
            .any(|p| path.starts_with(p))
        && ![
            ".csv", ".xlsx", ".ics", ".pdf", ".json", ".css", ".js", ".png", "/export", "/content",
        ]
        .iter()
        .any(|end| path.ends_with(end))
        && !path.contains("/documents/")
        && !path.contains("/export")
}

/// The same-site links of the page shown, as `path?query`.
async fn links(browser: &Browser) -> Vec<String> {
    let out = browser
        .execute(
            "return Array.from(document.querySelectorAll('a[href]:not([download])'))
                .map(a => a.getAttribute('href'));",
            vec![],
        )
        .await
        .expect("read the links");
    out.as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .filter(|h| is_page(h))
        .collect()
}

/// axe's violations on the page shown, one line each: rule, impact, the
/// first elements it names.
async fn violations(browser: &Browser, axe: &str) -> Vec<String> {
    browser
        .execute(axe, vec![])
        .await
        .expect("load axe-core into the page");
    let script = "const done = arguments[arguments.length - 1];
        axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
          .then(r => done(r.violations.map(v => [v.id, v.impact || '', v.help,
              v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')])))
          .catch(e => done([['axe-error', '', String(e), '']]));";
    let out = browser
        .execute_async(script, vec![])
        .await
        .expect("run axe-core");
    out.as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            let part = |i: usize| v[i].as_str().unwrap_or_default().to_owned();
            format!("{} ({}): {} — {}", part(0), part(1), part(2), part(3))
        })
        .collect()
}

/// Visits every kind of page reachable from `start` (breadth first), and
/// returns each one's violations by its path.
async fn crawl(
    browser: &Browser,
    app: &TestApp,
    axe: &str,
    start: &str,
) -> BTreeMap<String, Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([start.to_owned()]);
    let mut found = BTreeMap::new();
    while let Some(path) = queue.pop_front() {
        if found.len() >= MAX_PAGES || !seen.insert(kind_of(&path)) {
            continue;
        }
        browser.goto(&app.url(&path)).await;
        found.insert(path, violations(browser, axe).await);
        queue.extend(links(browser).await);
    }
    found
}

async fn sign_in(browser: &Browser, app: &TestApp, username: &str, password: &str) {
    browser.reset().await;
    browser.goto(&app.url("/login")).await;
    browser.fill("#username", username).await;
    browser.fill("#password", password).await;
    browser.click("#login-submit").await;
    browser.wait_for_path("/home", |p| p == "/home").await;
}

/// Switches the page's language with the header's link (remembered for the
/// account, or for the visitor's session).
async fn switch_language(browser: &Browser) {
    browser.click("#lang-switch").await;
    browser.find("html[lang='en']").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_of_every_role_passes_axe_in_both_languages() {
    let Some(axe) = axe_source() else {
        return;
    };
    let Some(browser) = Browser::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(&db).await;
    let demo = app.services.load_demo(3).await.unwrap();
    let mut report = BTreeMap::new();
    let mut checked = 0;
    // Visitors first: the public pages, in both languages.
    browser.reset().await;
    for language in ["zh-CN", "en"] {
        if language == "en" {
            browser.goto(&app.url("/")).await;
            switch_language(&browser).await;
        }
        for (path, v) in crawl(&browser, &app, &axe, "/").await {
            checked += 1;
            if !v.is_empty() {
                report.insert(format!("visitor {language} {path}"), v);
            }
        }
    }
    for role in ROLES {
        let login = demo
            .logins
            .iter()
            .find(|l| l.username == role)
            .unwrap_or_else(|| panic!("the demo has no {role}"));
        sign_in(&browser, &app, &login.username, &login.password).await;
        for language in ["zh-CN", "en"] {
            if language == "en" {
                switch_language(&browser).await;
            }
            for (path, v) in crawl(&browser, &app, &axe, "/home").await {
                checked += 1;
                if !v.is_empty() {
                    report.insert(format!("{role} {language} {path}"), v);
                }
            }
        }
    }
    eprintln!("axe: {checked} pages checked");
    assert!(checked > 100, "the crawl reached only {checked} pages");
    let lines: Vec<String> = report
        .iter()
        .map(|(page, v)| format!("{page}:\n  {}", v.join("\n  ")))
        .collect();
    assert!(
        report.is_empty(),
        "{} pages with violations:\n{}",
        report.len(),
        lines.join("\n")
    );
    app.stop().await;
    browser.quit().await;
}
