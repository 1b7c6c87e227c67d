//! A founder whose account has no personal record yet (made by sign-up)
//! is told so on the workspace and enters it from there, on both backends:
//! the form refuses a missing name beside the field, keeping what was
//! typed; the saved record is the founder's own, and the prompt is gone.

use opcity_domain::Role;
use opcity_testkit::{TestApp, each_backend};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_founder_enters_their_record_from_the_workspace() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        app.account("newbie", Role::Founder, None).await;
        let me = app.sign_in("newbie").await.in_language("en");
        let home = me.text("/home").await;
        assert!(home.contains("id=\"no-record\""), "{home}");
        assert!(home.contains("href=\"/persons/new\""), "{home}");
        assert_eq!(me.get("/persons/new").await.status(), StatusCode::OK);

        let form = |name: &str| {
            vec![
                ("_csrf", me.csrf.clone()),
                ("full_name", name.to_owned()),
                ("district", "nanshan".to_owned()),
                ("birth_date", "1998-04-01".to_owned()),
            ]
        };
        let refused = me.post_form("/persons", &form("")).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = refused.text().await.unwrap();
        assert!(page.contains("id=\"f-full_name-error\""), "{page}");
        assert!(page.contains("1998-04-01"), "what was typed stays: {page}");

        let saved = me.post_form("/persons", &form("林新")).await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER);
        let location = saved.headers()["location"].to_str().unwrap().to_owned();
        let record = me.text(&location).await;
        assert!(record.contains("林新"), "{record}");
        let home = me.text("/home").await;
        assert!(!home.contains("id=\"no-record\""), "{home}");
        // A second record is not offered, and not accepted.
        assert_eq!(me.get("/persons/new").await.status(), StatusCode::FORBIDDEN);
        let again = me.post_form("/persons", &form("林新二")).await;
        assert_eq!(again.status(), StatusCode::FORBIDDEN);
    })
    .await;
}
