//! The founder's path in the portal, on both backends: "apply" from a
//! self-check result (through sign-in for a visitor; not offered to staff),
//! a start page that says what the engine finds and what will be asked, a
//! draft that is not sent until its answers are checked, a check page that
//! names what is missing and links to it, and a confirmation with the
//! reference and the date a decision is due.

use opcity_domain::{District, Role};
use opcity_testkit::{FounderSpec, TestApp, each_backend, supply_evidence};
use reqwest::StatusCode;

const SELF_CHECK: &str = "/self-check?birth_date=1996-05-20&highest_degree=master&hukou=none&works_in_ai=true&is_founder=true";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_result_through_checked_answers_to_a_reference() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let s = &app.services;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("reviewer", Role::DistrictReviewer, Some(District::Nanshan))
            .await;
        let founder = app
            .founder(&admin, FounderSpec::young_ai("founder", 1))
            .await
            .actor;
        opcity_testkit::nanshan_housing_budget(s, &admin, 10_000_000).await;
        let start = "/applications/new?programme=sz.housing.subsidy";

        // A visitor's "apply" goes through sign-in; staff are offered none.
        let visitor = reqwest::get(app.url(SELF_CHECK))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            visitor.contains(
                "href=\"/login?next=%2Fapplications%2Fnew%3Fprogramme%3Dsz.housing.subsidy\""
            ),
            "{visitor}"
        );
        let reviewer = app.sign_in("reviewer").await.in_language("en");
        assert!(
            !reviewer
                .text(SELF_CHECK)
                .await
                .contains("id=\"apply-sz.housing.subsidy\"")
        );

        // The founder's start page.
        let me = app.sign_in("founder").await.in_language("en");
        assert!(
            me.text(SELF_CHECK)
                .await
                .contains(&format!("href=\"{}\"", start.replace('&', "&amp;")))
        );
        let page = me.text(start).await;
        assert!(page.contains("data-status=\"eligible\""), "{page}");
        assert!(page.contains("id=\"you-will-need\""), "{page}");
        assert!(page.contains("You apply as founder."), "{page}");

        // Starting makes a draft and opens its form; nothing is sent.
        let key = [
            ("programme", "sz.housing.subsidy"),
            ("idempotency_key", "k1"),
        ];
        let mut form = vec![("_csrf", me.csrf.as_str())];
        form.extend_from_slice(&key);
        let started = me.post_form("/applications", &form).await;
        assert_eq!(started.status(), StatusCode::SEE_OTHER);
        let location = started.headers()["location"].to_str().unwrap().to_owned();
        let id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
        assert_eq!(
            s.get_application(&founder, id)
                .await
                .unwrap()
                .application
                .state,
            "draft"
        );
        // Twice is the same draft, and the start page now says so.
        let again = me.post_form("/applications", &form).await;
        assert_eq!(again.headers()["location"], location.as_str());
        assert!(me.text(start).await.contains("id=\"in-progress\""));

        // The check page names what is missing, links to it, offers no send.
        let check = me.text(&format!("/applications/{id}/check")).await;
        assert!(check.contains("id=\"form-errors\""), "{check}");
        assert!(
            check.contains(&format!(
                "href=\"/applications/{id}#document-identity_card\""
            )),
            "{check}"
        );
        assert!(!check.contains("id=\"send-application\""), "{check}");

        supply_evidence(s, &founder, id).await;
        let check = me.text(&format!("/applications/{id}/check")).await;
        assert!(!check.contains("id=\"form-errors\""), "{check}");
        assert!(check.contains("id=\"send-application\""), "{check}");
        let sent = me
            .post_form(
                &format!("/applications/{id}/submit"),
                &[("_csrf", me.csrf.as_str())],
            )
            .await;
        assert_eq!(sent.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            sent.headers()["location"],
            format!("/applications/{id}/submitted").as_str()
        );
        let done = me.text(&format!("/applications/{id}/submitted")).await;
        assert!(done.contains(&format!("id=\"reference\">#{id}<")), "{done}");
        let due = s
            .get_application(&founder, id)
            .await
            .unwrap()
            .expected_decision_on;
        if let Some(due) = due {
            assert!(
                done.contains(&format!("A decision is due by {due}.")),
                "{done}"
            );
        }
        // Sent, the check page leads back to the application.
        let late = me.get(&format!("/applications/{id}/check")).await;
        assert_eq!(late.status(), StatusCode::SEE_OTHER);

        // The founder's list says what comes next.
        let list = me.text("/applications").await;
        let row = list.split(&format!("data-id=\"{id}\"")).nth(1).unwrap();
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains("class=\"next\""), "{row}");
        if let Some(due) = due {
            assert!(row.contains(&format!("Decision due by {due}")), "{row}");
        }
        app.stop().await;
    })
    .await;
}
