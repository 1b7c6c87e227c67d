//! The conflict-of-interest register's page, on both backends: a reviewer
//! finds it from the workbench, declares a tie by name (a refusal keeps what
//! was typed beside each message) and withdraws it; an auditor reads the
//! register without a form; a founder is refused.

use opcity_domain::{District, Role};
use opcity_testkit::{FounderSpec, TestApp, each_backend};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_declares_and_withdraws_a_tie() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("rev", Role::DistrictReviewer, Some(District::Nanshan))
            .await;
        app.account("aud", Role::Auditor, None).await;
        let spec = FounderSpec::young_ai("founder0", 0).named("林晓", "晓智能科技有限公司");
        app.founder(&admin, spec).await;
        let rev = app.sign_in("rev").await.in_language("en");

        let queue = rev.text("/applications").await;
        assert!(queue.contains("href=\"/interests\""), "{queue}");
        let page = rev.text("/interests").await;
        assert!(page.contains("id=\"interest-form\""), "{page}");
        assert!(page.contains("晓智能科技有限公司 · #"), "suggested: {page}");

        let form = |party: &str, relation: &str| {
            vec![
                ("_csrf", rev.csrf.clone()),
                ("_form", "interest-form".to_owned()),
                ("kind", "enterprise".to_owned()),
                ("party", party.to_owned()),
                ("relation", relation.to_owned()),
                ("note", "I hold shares.".to_owned()),
            ]
        };
        let r = rev
            .post_form("/interests", &form("nothing like it", ""))
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = r.text().await.unwrap();
        assert!(page.contains("id=\"f-party-error\""), "{page}");
        assert!(page.contains("id=\"f-relation-error\""), "{page}");
        assert!(page.contains("value=\"nothing like it\""), "{page}");
        assert!(page.contains("I hold shares."), "{page}");

        let r = rev
            .post_form("/interests", &form("晓智能", "ownership"))
            .await;
        assert_eq!(r.headers()["location"], "/interests?done=declared");
        let page = rev.text("/interests?done=declared").await;
        assert!(page.contains("id=\"interest-done\""), "{page}");
        assert!(page.contains("Shareholding or investment"), "{page}");
        let id = app.services.interest_register(&rev.actor).await.unwrap()[0].id;
        assert!(page.contains(&format!("id=\"withdraw-{id}\"")), "{page}");

        // The auditor reads it; there is nothing to submit.
        let aud = app.sign_in("aud").await.in_language("en");
        let page = aud.text("/interests").await;
        assert!(
            page.contains("晓智能科技有限公司") && page.contains("rev (test)"),
            "{page}"
        );
        assert!(
            !page.contains("id=\"interest-form\"") && !page.contains("withdraw-"),
            "{page}"
        );
        let founder = app.sign_in("founder0").await;
        assert_eq!(
            founder.get("/interests").await.status(),
            StatusCode::FORBIDDEN
        );

        let r = rev
            .post_form(
                &format!("/interests/{id}/withdraw"),
                &[("_csrf", rev.csrf.as_str())],
            )
            .await;
        assert_eq!(r.headers()["location"], "/interests?done=withdrawn");
        let page = rev.text("/interests").await;
        assert!(page.contains("Withdrawn "), "{page}");
        assert!(!page.contains(&format!("id=\"withdraw-{id}\"")), "{page}");
        app.stop().await;
    })
    .await;
}
