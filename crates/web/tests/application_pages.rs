//! The application and budget pages answer a refused form as every page
//! does (`pages/flow.rs`): the status of the problem, a summary linking to
//! the fields, each message beside its field, what was typed kept in the
//! form that was posted and nothing written.

use opcity_domain::{District, Role};
use opcity_services::applications::NewApplication;
use opcity_testkit::app::Client;
use opcity_testkit::{FounderSpec, TestApp, each_backend, supply_evidence};
use reqwest::StatusCode;

/// The `value` of the input named `name` in `html`.
fn value_of(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..at + html[at..].find('>')?];
    let value = tag.split("value=\"").nth(1)?;
    Some(value[..value.find('"')?].to_owned())
}

/// An approval posted from the review form of the application at `path`,
/// with `fields` besides the decision and the declaration.
async fn review(reviewer: &Client, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![
        ("_csrf", reviewer.csrf.as_str()),
        ("_form", "review"),
        ("decision", "approve"),
        ("no_conflict_declared", "true"),
    ];
    form.extend_from_slice(fields);
    reviewer
        .in_language("en")
        .post_form(&format!("{path}/review"), &form)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_review_keeps_what_was_typed_beside_each_message() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let s = &app.services;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("reviewer", Role::DistrictReviewer, Some(District::Nanshan))
            .await;
        let founder = app
            .founder(&admin, FounderSpec::young_ai("founder", 1))
            .await;
        opcity_testkit::nanshan_housing_budget(s, &admin, 10_000_000).await;
        let application = s
            .create_application(
                &founder.actor,
                &NewApplication {
                    programme: "sz.housing.subsidy".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        supply_evidence(s, &founder.actor, application.id).await;
        s.submit_application(&founder.actor, application.id)
            .await
            .unwrap();
        let path = format!("/applications/{}", application.id);
        let before = s.get_application(&admin, application.id).await.unwrap();

        let reviewer = app.sign_in("reviewer").await;
        // The reviewer sees who applied, in the queue and on the case, and
        // the district by its name.
        let queue = reviewer.in_language("en").text("/applications").await;
        let row = queue
            .split(&format!("data-id=\"{}\"", application.id))
            .nth(1)
            .and_then(|rest| rest.split("</tr>").next())
            .expect("the application in the queue");
        assert!(row.contains(">founder</a></td>"), "{row}");
        let case = reviewer.in_language("en").text(&path).await;
        assert!(case.contains("id=\"applicant\">founder<"), "{case}");
        assert!(case.contains("<dd>Nanshan</dd>"), "{case}");
        // The history names who acted: the applicant, and the platform's
        // pre-check in words, never an internal label.
        let history = case.split("id=\"history\"").nth(1).expect("a history");
        assert!(history.contains(">Policy pre-check<"), "{history}");
        assert!(history.contains(">founder<"), "{history}");
        assert!(!history.contains("system:") && !history.contains("account:"));
        let refused = review(
            &reviewer,
            &path,
            &[("amount_yuan", "1.-5"), ("comment", "looks right")],
        )
        .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = refused.text().await.unwrap();
        assert!(html.contains("id=\"form-errors\""), "{html}");
        assert!(html.contains("href=\"#amount_yuan\""), "{html}");
        assert!(html.contains("id=\"amount_yuan-error\""), "{html}");
        assert_eq!(value_of(&html, "amount_yuan").as_deref(), Some("1.-5"));
        assert_eq!(value_of(&html, "comment").as_deref(), Some("looks right"));
        assert!(
            html.contains("value=\"approve\" selected"),
            "the decision is kept: {html}"
        );
        let after = s.get_application(&admin, application.id).await.unwrap();
        assert_eq!(after.application.state, before.application.state);
        assert_eq!(after.reviews.len(), before.reviews.len());

        // A refusal by the service (an amount above the programme's figure)
        // comes back the same way, with the service's field.
        let refused = review(&reviewer, &path, &[("amount_yuan", "99,000,000")]).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = refused.text().await.unwrap();
        assert!(html.contains("id=\"amount_yuan-error\""), "{html}");
        assert_eq!(
            value_of(&html, "amount_yuan").as_deref(),
            Some("99,000,000")
        );
        let after = s.get_application(&admin, application.id).await.unwrap();
        assert_eq!(after.reviews.len(), before.reviews.len());

        // A review recorded shows its reviewer and its time in Shanghai.
        let done = review(&reviewer, &path, &[("amount_yuan", "10,000")]).await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        let recorded = s.get_application(&admin, application.id).await.unwrap();
        let at = recorded.reviews[0]
            .at
            .with_timezone(&opcity_domain::civil_date::shanghai())
            .format("%Y-%m-%d %H:%M")
            .to_string();
        let case = reviewer.in_language("en").text(&path).await;
        let table = case.split("id=\"reviews\"").nth(1).expect("reviews");
        assert!(
            table.contains(&format!("class=\"at\">{at}<")) && table.contains(">reviewer (test)<"),
            "{table}"
        );
        // The audit log names the accounts that acted.
        let audit = app
            .sign_in("admin")
            .await
            .in_language("en")
            .text("/audit")
            .await;
        assert!(
            audit.contains("class=\"actor\">reviewer (test)<"),
            "{audit}"
        );
        assert!(!audit.contains(">account:"), "{audit}");
        // Actions and records in words, the code kept for the curious.
        assert!(
            audit.contains("title=\"application.transition\">Moved an application on<"),
            "{audit}"
        );
        assert!(audit.contains(">Application #"), "{audit}");
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_budget_keeps_what_was_typed() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        let client = app.sign_in("admin").await;
        let refused = client
            .in_language("en")
            .post_form(
                "/budgets",
                &[
                    ("_csrf", client.csrf.as_str()),
                    ("programme", "sz.housing.subsidy"),
                    ("year", "2027"),
                    ("authority", "futian"),
                    ("total_yuan", "a lot"),
                ],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = refused.text().await.unwrap();
        assert!(html.contains("id=\"total_yuan-error\""), "{html}");
        assert!(html.contains("href=\"#total_yuan\""), "{html}");
        assert_eq!(value_of(&html, "total_yuan").as_deref(), Some("a lot"));
        assert_eq!(value_of(&html, "authority").as_deref(), Some("futian"));
        assert_eq!(value_of(&html, "year").as_deref(), Some("2027"));
        assert!(app.services.list_budgets(&admin).await.unwrap().is_empty());
        app.stop().await;
    })
    .await;
}
