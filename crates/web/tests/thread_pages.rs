//! Requests for information on the application's page and through the
//! API, on both backends: the reviewer sees the form to ask (an empty
//! question is refused beside the field, and what was typed elsewhere is
//! kept; the queue marks the case as waiting for the applicant), the
//! founder reads the question without the reviewer's name and
//! answers it, and the form disappears once nothing is open; the API's
//! answer to a second reply is 409 `nothing_to_answer`.

use opcity_domain::{District, Role};
use opcity_testkit::{FounderSpec, TestApp, each_backend};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_asks_and_the_founder_answers_on_the_page() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let s = &app.services;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("rev", Role::DistrictReviewer, Some(District::Nanshan))
            .await;
        let founder = app.founder(&admin, FounderSpec::young_ai("mei", 1)).await;
        let id = opcity_testkit::housing_application(s, &founder.actor, "m").await;
        s.submit_application(&founder.actor, id).await.unwrap();
        let path = format!("/applications/{id}");

        let rev = app.sign_in("rev").await.in_language("en");
        let page = rev.text(&path).await;
        assert!(page.contains("id=\"thread\""), "{page}");
        assert!(page.contains("id=\"thread-ask\""), "{page}");
        assert!(page.contains("No questions yet."), "{page}");
        let refused = rev
            .post_form(
                &format!("{path}/ask"),
                &[
                    ("_csrf", rev.csrf.as_str()),
                    ("_form", "thread-form"),
                    ("body", "   "),
                ],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = refused.text().await.unwrap();
        assert!(page.contains("id=\"body-error\""), "{page}");
        assert!(
            page.contains("No questions yet."),
            "nothing written: {page}"
        );
        let asked = rev
            .post_form(
                &format!("{path}/ask"),
                &[
                    ("_csrf", rev.csrf.as_str()),
                    ("_form", "thread-form"),
                    ("body", "Please upload the signed lease."),
                ],
            )
            .await;
        assert_eq!(asked.status(), StatusCode::SEE_OTHER);
        let queue = rev.text("/applications").await;
        assert!(queue.contains("data-open-questions=\"1\""), "{queue}");
        assert!(
            queue.contains("Waiting for the applicant's answer"),
            "{queue}"
        );

        // The founder reads it from "a reviewer", in their language, and answers.
        let mei = app.sign_in("mei").await.in_language("en");
        let page = mei.text(&path).await;
        assert!(page.contains("Please upload the signed lease."), "{page}");
        assert!(page.contains("A reviewer"), "{page}");
        assert!(!page.contains("rev (test)"), "no reviewer's name: {page}");
        assert!(page.contains("data-status=\"open\""), "{page}");
        assert!(page.contains("id=\"thread-answer\""), "{page}");
        assert!(!page.contains("id=\"thread-ask\""), "{page}");
        let inbox = mei.text("/inbox").await;
        assert!(
            inbox.contains("A reviewer asks you for information"),
            "{inbox}"
        );
        let answered = mei
            .post_form(
                &format!("{path}/answer"),
                &[
                    ("_csrf", mei.csrf.as_str()),
                    ("_form", "thread-form"),
                    ("body", "Uploaded just now."),
                ],
            )
            .await;
        assert_eq!(answered.status(), StatusCode::SEE_OTHER);
        let page = mei.text(&path).await;
        assert!(page.contains("data-status=\"answered\""), "{page}");
        assert!(
            !page.contains("id=\"thread-answer\""),
            "nothing open: {page}"
        );

        // The reviewer reads the answer; a second answer through the API is 409.
        let page = rev.text(&path).await;
        assert!(page.contains("Uploaded just now."), "{page}");
        let queue = rev.text("/applications").await;
        assert!(!queue.contains("data-open-questions"), "{queue}");
        let zh = app.sign_in("mei").await.in_language("zh-CN");
        let again = zh
            .post(
                &format!("/api/v1/applications/{id}/answers"),
                &serde_json::json!({ "body": "And again." }),
            )
            .await;
        assert_eq!(again.status(), StatusCode::CONFLICT);
        let problem: serde_json::Value = again.json().await.unwrap();
        assert_eq!(problem["code"], "nothing_to_answer");
        let api_rev = rev
            .post(
                &format!("/api/v1/applications/{id}/questions"),
                &serde_json::json!({ "body": "One more: the invoice?" }),
            )
            .await;
        assert_eq!(api_rev.status(), StatusCode::CREATED);
        let detail = mei.get_json(&format!("/api/v1/applications/{id}")).await;
        assert_eq!(detail["messages"].as_array().unwrap().len(), 3);
        assert_eq!(detail["message_action"], "answer");
        assert!(detail["messages"][0]["author"].is_null());
    })
    .await;
}
