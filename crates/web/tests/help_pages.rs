//! Help and trust pages, on both backends: every page links help, contact,
//! privacy, accessibility and feedback; help puts the viewer's own guide
//! first; feedback is kept with its page and who gave it, refused when
//! empty with the message beside the field, and read by administrators.

use opcity_domain::{District, Role};
use opcity_testkit::{TestApp, each_backend};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_privacy_and_feedback_from_every_page() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("reviewer", Role::DistrictReviewer, Some(District::Nanshan))
            .await;
        let visitor = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let get = async |path: &str| {
            let r = visitor
                .get(app.url(path))
                .header("accept-language", "en")
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        };
        let (_, home) = get("/self-check").await;
        for link in [
            "/help",
            "/contact",
            "/privacy",
            "/accessibility",
            "/contact?from=%2Fself-check#feedback",
        ] {
            assert!(home.contains(&format!("href=\"{link}\"")), "{link}: {home}");
        }
        let (status, privacy) = get("/privacy").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            privacy.contains("id=\"privacy-who\"") && privacy.contains("encrypted"),
            "{privacy}"
        );
        assert_eq!(get("/accessibility").await.0, StatusCode::OK);
        let (_, help) = get("/help").await;
        assert!(help.find("id=\"guide-founder\"") < help.find("id=\"guide-reviewer\""));

        // A reviewer's own guide comes first.
        let reviewer = app.sign_in("reviewer").await.in_language("en");
        let help = reviewer.text("/help").await;
        assert!(
            help.find("id=\"guide-reviewer\"") < help.find("id=\"guide-founder\""),
            "{help}"
        );

        // A visitor's feedback; an empty one is refused beside its field.
        let empty = visitor
            .post(app.url("/feedback"))
            .header("accept-language", "en")
            .form(&[("page", "/self-check"), ("message", "  ")])
            .send()
            .await
            .unwrap();
        assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            empty
                .text()
                .await
                .unwrap()
                .contains("id=\"f-message-error\"")
        );
        let sent = visitor
            .post(app.url("/feedback"))
            .form(&[
                ("page", "/self-check"),
                ("message", "The hukou question is unclear."),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), StatusCode::SEE_OTHER);
        // Five an hour from one address: the sixth is refused beside the
        // message, which is kept in the form.
        for n in 1..=5 {
            let more = visitor
                .post(app.url("/feedback"))
                .header("accept-language", "en")
                .form(&[("page", "/"), ("message", format!("more {n}").as_str())])
                .send()
                .await
                .unwrap();
            let status = more.status();
            let html = more.text().await.unwrap();
            if n < 5 {
                assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
            } else {
                assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
                assert!(html.contains("id=\"f-message-error\""), "{html}");
                assert!(html.contains("several messages from you"), "{html}");
                assert!(html.contains("more 5"), "the message is kept: {html}");
            }
        }
        // A signed-in reviewer's, with the session's token.
        let from_reviewer = reviewer
            .post_form(
                "/feedback",
                &[
                    ("_csrf", reviewer.csrf.as_str()),
                    ("page", "/applications"),
                    ("message", "Filters are great."),
                ],
            )
            .await;
        assert_eq!(from_reviewer.status(), StatusCode::SEE_OTHER);
        let forged = reviewer
            .post_form(
                "/feedback",
                &[("page", "/applications"), ("message", "forged")],
            )
            .await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);

        let admin = app.sign_in("admin").await.in_language("en");
        let list = admin.text("/feedback").await;
        assert!(
            list.contains("The hukou question is unclear.") && list.contains(">A visitor<"),
            "{list}"
        );
        assert!(
            list.contains("Filters are great.") && list.contains("reviewer (test)"),
            "{list}"
        );
        assert!(!list.contains("forged"), "{list}");
        assert_eq!(
            reviewer.get("/feedback").await.status(),
            StatusCode::FORBIDDEN
        );
        app.stop().await;
    })
    .await;
}
