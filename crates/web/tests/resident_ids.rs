//! Resident id numbers in the portal and the API (issue 14, finding 2): a
//! reader who is not the owner sees the number masked to its first and last
//! characters and, unless they act on the record, the birth year only, so
//! nothing on the page or in the answer completes it; those who need the whole
//! number reveal it by an explicit action (a button, a POST) that is audited
//! and refused to the others. The real server on each backend.

use opcity_domain::{District, Role};
use opcity_services::registry::persons::PersonInput;
use opcity_testkit::{TestApp, each_backend};
use reqwest::StatusCode;
use reqwest::header::CACHE_CONTROL;

/// A valid number of a person born 1988-06-12, registered in Nanshan.
const NUMBER: &str = "44030519880612101X";
const MASK: &str = "4****************X";

/// The text directly inside the element with `id` (up to its first child tag).
fn element_text(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let from = at + html[at..].find('>')? + 1;
    let len = html[from..].find('<')?;
    Some(html[from..from + len].trim().to_owned())
}

/// Nothing in `text` is the number or a part of it that completes the mask.
fn assert_no_part(what: &str, text: &str) {
    for part in [NUMBER, "440305", "101X", "19880612", "1988-06-12"] {
        assert!(!text.contains(part), "{what} shows {part}");
    }
}

async fn reveals(app: &TestApp) -> usize {
    let admin = app.services.system_actor(1).await.unwrap();
    app.services
        .audit_entries(&admin, 0, 1000)
        .await
        .unwrap()
        .entries
        .iter()
        .filter(|e| e.action == "person.reveal_resident_id")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_number_is_masked_everywhere_and_revealed_only_on_an_audited_action() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        assert_eq!(admin.account_id, 1);
        app.account(
            "rev.nanshan",
            Role::DistrictReviewer,
            Some(District::Nanshan),
        )
        .await;
        app.account(
            "rev.longgang",
            Role::DistrictReviewer,
            Some(District::Longgang),
        )
        .await;
        app.account("auditor", Role::Auditor, None).await;
        let id = app
            .services
            .create_person(
                &admin,
                &PersonInput {
                    full_name: "陈思远".into(),
                    district: Some("nanshan".into()),
                    birth_date: Some("1988-06-12".into()),
                    resident_id: Some(NUMBER.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;

        // The auditor: the mask and the year of birth, no reveal.
        let auditor = app.sign_in("auditor").await;
        let html = auditor.text(&format!("/persons/{id}")).await;
        assert!(html.contains(MASK), "{html}");
        assert_eq!(element_text(&html, "v-birth_date").as_deref(), Some("1988"));
        assert!(
            !html.contains("reveal-resident-id"),
            "no reveal for an auditor"
        );
        assert_no_part("the auditor's person page", &html);
        let html = auditor.text(&format!("/persons/{id}/edit")).await;
        assert_no_part("the auditor's edit page", &html);
        let json = auditor.text(&format!("/api/v1/persons/{id}")).await;
        assert_no_part("the auditor's API answer", &json);
        let list = auditor
            .get(&format!("/api/v1/persons?q={NUMBER}"))
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap();
        assert_eq!(list["total"], 1, "found by the whole number: {list}");
        assert_no_part("the auditor's search", &list.to_string());
        let html = auditor.text("/audit").await;
        assert_no_part("the audit log page", &html);
        let refused = auditor
            .post_empty(&format!("/api/v1/persons/{id}/resident-id/reveal"))
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let refused = auditor
            .post_form(
                &format!("/persons/{id}/resident-id"),
                &[("_csrf", auditor.csrf.as_str())],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_no_part("the refusal", &refused.text().await.unwrap());

        // Another district's reviewer cannot reveal either.
        let longgang = app.sign_in("rev.longgang").await;
        let refused = longgang
            .post_empty(&format!("/api/v1/persons/{id}/resident-id/reveal"))
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(reveals(&app).await, 0, "refusals write nothing");

        // The district's reviewer: the mask, the full birth date (they edit
        // the record), and a reveal button whose form needs the CSRF token.
        let reviewer = app.sign_in("rev.nanshan").await;
        let html = reviewer.text(&format!("/persons/{id}")).await;
        assert!(html.contains(MASK));
        assert!(!html.contains(NUMBER));
        assert_eq!(
            element_text(&html, "v-birth_date").as_deref(),
            Some("1988-06-12")
        );
        assert!(html.contains("id=\"reveal-resident-id\""), "{html}");
        let r = reviewer
            .post_form(&format!("/persons/{id}/resident-id"), &[("_csrf", "wrong")])
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(reveals(&app).await, 0);
        let r = reviewer
            .post_form(
                &format!("/persons/{id}/resident-id"),
                &[("_csrf", reviewer.csrf.as_str())],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()[CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("no-store")
        );
        let html = r.text().await.unwrap();
        assert_eq!(
            element_text(&html, "revealed-resident-id").as_deref(),
            Some(NUMBER)
        );
        assert!(html.contains("id=\"reveal-audited\""));
        assert_eq!(reveals(&app).await, 1);

        // The API's reveal, by an administrator.
        let admin = app.sign_in("admin").await;
        let r = admin
            .post_empty(&format!("/api/v1/persons/{id}/resident-id/reveal"))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()[CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("no-store")
        );
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["resident_id"], NUMBER);
        assert_eq!(body["person_id"], id);
        assert_eq!(reveals(&app).await, 2);

        // The reveals are in the audit log, without the number.
        let html = auditor.text("/audit").await;
        assert!(html.contains("person.reveal_resident_id"), "{html}");
        assert_no_part("the audit log page", &html);

        // The OpenAPI document describes the reveal.
        let doc: serde_json::Value = reqwest::get(app.url("/api/v1/openapi.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let op = &doc["paths"]["/api/v1/persons/{id}/resident-id/reveal"]["post"];
        assert!(op["responses"]["200"].is_object(), "{op}");
        assert!(op["responses"]["403"].is_object(), "{op}");
        assert_eq!(op["parameters"][0]["name"], "id");
        app.stop().await;
    })
    .await;
}
