//! The reviewers' workbench in the portal, on both backends: the queue's
//! filters and search as a form that keeps what was chosen, the queue as
//! CSV and Excel with the same rows in people's terms, saved views, and a
//! case taken and given on its page (a stale form refused beside its
//! field, nothing changed).

use opcity_domain::{District, Role};
use opcity_testkit::app::Client;
use opcity_testkit::{FounderSpec, TestApp, each_backend, supply_evidence};
use reqwest::StatusCode;

/// Founder `n`'s housing-subsidy application in Nanshan, submitted; its id.
async fn submitted(app: &TestApp, admin: &opcity_services::Actor, name: &str, n: usize) -> i64 {
    let s = &app.services;
    let username = format!("founder{n}");
    let spec = FounderSpec::young_ai(&username, n).named(name, &format!("{name} AI"));
    let founder = app.founder(admin, spec).await.actor;
    let id = opcity_testkit::housing_application(s, &founder, &username).await;
    supply_evidence(s, &founder, id).await;
    s.submit_application(&founder, id).await.unwrap();
    id
}

/// The ids of the queue's rows in `html`, in order.
fn rows(html: &str) -> Vec<i64> {
    html.split("<tr data-id=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect()
}

async fn form(client: &Client, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![("_csrf", client.csrf.as_str())];
    form.extend_from_slice(fields);
    client.in_language("en").post_form(path, &form).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_filters_exports_saves_and_takes_cases() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let s = &app.services;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        let me = app
            .account("reviewer", Role::DistrictReviewer, Some(District::Nanshan))
            .await;
        opcity_testkit::nanshan_housing_budget(s, &admin, 100_000_000).await;
        let lin = submitted(&app, &admin, "Lin Wei", 1).await;
        let zhou = submitted(&app, &admin, "Zhou, \"Yu\"", 2).await;
        let reviewer = app.sign_in("reviewer").await.in_language("en");

        // The queue and its filters, with what was chosen kept.
        let queue = reviewer.text("/applications").await;
        assert_eq!(rows(&queue), [lin, zhou]);
        assert!(queue.contains("2 applications"), "{queue}");
        let found = reviewer.text("/applications?q=lin&sort=newest").await;
        assert_eq!(rows(&found), [lin]);
        assert!(
            found.contains("name=\"q\" type=\"search\" value=\"lin\""),
            "{found}"
        );
        assert!(found.contains("value=\"newest\" selected"), "{found}");
        assert!(
            found.contains("href=\"/applications/export?format=csv&amp;q=lin&amp;sort=newest\""),
            "{found}"
        );
        // A filter that cannot be read is named beside its control.
        let bad = reviewer.text("/applications?sort=random").await;
        assert!(bad.contains("id=\"filter-sort-error\""), "{bad}");
        assert!(bad.contains("href=\"#filter-sort\""), "{bad}");

        // The export: every row in people's terms, formulas made inert.
        let csv = reviewer.get("/applications/export?format=csv").await;
        assert_eq!(csv.status(), StatusCode::OK);
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let text = csv.text().await.unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("\u{feff}Reference,Applicant,Programme,District,State"),
            "{text}"
        );
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[1].starts_with(&format!("{lin},Lin Wei,")), "{text}");
        assert!(lines[1].contains(",Nanshan,"), "{text}");
        assert!(
            lines[2].starts_with(&format!("{zhou},\"Zhou, \"\"Yu\"\"\",")),
            "{text}"
        );
        let xlsx = reviewer
            .get("/applications/export?format=xlsx&q=zhou")
            .await;
        assert_eq!(xlsx.status(), StatusCode::OK);
        assert!(
            xlsx.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .ends_with(".xlsx\"")
        );
        assert_eq!(&xlsx.bytes().await.unwrap()[..2], b"PK");

        // Over the API, a format outside the set is the caller's error.
        let bad = reviewer.get("/api/v1/applications/queue/export/AAA").await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        let problem: serde_json::Value = bad.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "format", "{problem}");
        let csv = reviewer
            .get("/api/v1/applications/queue/export/csv?q=zhou")
            .await;
        assert_eq!(csv.status(), StatusCode::OK);
        assert_eq!(csv.text().await.unwrap().lines().count(), 2);

        // A saved view comes back as a link to the same filters.
        let saved = form(
            &reviewer,
            "/applications/views",
            &[("query", "q=zhou"), ("name", "Zhou's")],
        )
        .await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER);
        let queue = reviewer.text("/applications").await;
        assert!(
            queue.contains("<a href=\"/applications?q=zhou\">Zhou&#39;s</a>")
                || queue.contains("<a href=\"/applications?q=zhou\">Zhou's</a>"),
            "{queue}"
        );
        let unnamed = form(
            &reviewer,
            "/applications/views",
            &[("query", "q=zhou"), ("name", " ")],
        )
        .await;
        assert_eq!(unnamed.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = unnamed.text().await.unwrap();
        assert!(html.contains("id=\"filter-name-error\""), "{html}");
        assert_eq!(
            rows(&html),
            [zhou],
            "the page again shows the queue it was posted from"
        );
        let view = s.saved_views(&me).await.unwrap();
        assert_eq!(view.len(), 1);

        // Taking a case, on its page; a form that saw nobody after someone
        // took it is refused beside its field and changes nothing.
        let path = format!("/applications/{lin}");
        let case = reviewer.text(&path).await;
        assert!(case.contains("id=\"assignee\">Nobody<"), "{case}");
        assert!(case.contains("id=\"take-case\""), "{case}");
        let me_id = me.account_id.to_string();
        let take = [("seen", ""), ("assignee", me_id.as_str())];
        assert_eq!(
            form(&reviewer, &format!("{path}/assign"), &take)
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
        let case = reviewer.text(&path).await;
        assert!(case.contains("id=\"assignee\">reviewer (test)<"), "{case}");
        assert!(!case.contains("id=\"take-case\""), "{case}");
        let admin_id = admin.account_id.to_string();
        let stale = form(
            &reviewer,
            &format!("{path}/assign"),
            &[("seen", ""), ("assignee", admin_id.as_str())],
        )
        .await;
        assert_eq!(stale.status(), StatusCode::CONFLICT);
        let html = stale.text().await.unwrap();
        assert!(
            html.contains("Someone else changed who works this case"),
            "{html}"
        );
        let now = s
            .get_application(&admin, lin)
            .await
            .unwrap()
            .application
            .assignee;
        assert_eq!(now.map(|a| a.id), Some(me.account_id));
        let mine = reviewer.text("/applications?assignee=me").await;
        assert_eq!(rows(&mine), [lin]);
        assert!(
            mine.contains("<td class=\"assignee\">reviewer (test)</td>"),
            "{mine}"
        );

        // The applicant's page says nothing of who works the case.
        let founder = app.sign_in("founder1").await.in_language("en");
        let own = founder.text(&path).await;
        assert!(!own.contains("id=\"assignment\""), "{own}");
        app.stop().await;
    })
    .await;
}
