//! Accounts in the portal, on both backends: administrators create staff
//! accounts with their role and district in words and disable them, the
//! forms drawn for them only; a refused form keeps what was typed (never
//! the password) beside each message; everyone changes their own password.

use opcity_domain::{District, Role};
use opcity_testkit::TestApp;
use opcity_testkit::app::{Client, TEST_PASSWORD};
use opcity_testkit::each_backend;
use reqwest::StatusCode;

async fn form(client: &Client, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![("_csrf", client.csrf.as_str())];
    form.extend_from_slice(fields);
    client.in_language("en").post_form(path, &form).await
}

/// The account `username`, as `admin` lists it.
async fn account_named(
    app: &TestApp,
    admin: &Client,
    username: &str,
) -> opcity_services::accounts::AccountView {
    app.services
        .list_accounts(&admin.actor)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.username == username)
        .unwrap_or_else(|| panic!("{username} is listed"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_manage_accounts_and_everyone_their_password() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        app.account("admin", Role::MunicipalAdmin, None).await;
        app.account("auditor", Role::Auditor, None).await;
        app.account("reviewer", Role::DistrictReviewer, Some(District::Nanshan))
            .await;
        let admin = app.sign_in("admin").await.in_language("en");

        let page = admin.text("/accounts").await;
        assert!(
            page.contains(">District reviewer<") && page.contains(">Nanshan<"),
            "{page}"
        );
        assert!(page.contains("id=\"account-form\""), "{page}");
        // No button disables oneself.
        let me = admin.actor.account_id;
        assert!(!page.contains(&format!("id=\"disable-{me}\"")), "{page}");

        // A refused creation keeps the name and role, never the password.
        let weak = [
            ("_form", "account-form"),
            ("display_name", "Zhou Yu"),
            ("username", "zhou.yu"),
            ("role", "district_reviewer"),
            ("district", "futian"),
            ("locale", "en"),
            ("password", "short"),
        ];
        let refused = form(&admin, "/accounts", &weak).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = refused.text().await.unwrap();
        assert!(html.contains("id=\"f-password-error\""), "{html}");
        assert!(html.contains("value=\"Zhou Yu\""), "{html}");
        assert!(
            html.contains("value=\"district_reviewer\" selected"),
            "{html}"
        );
        assert!(!html.contains("value=\"short\""), "{html}");
        let mut good = weak;
        good[6] = ("password", "violet tangerine bicycle harbour");
        let created = form(&admin, "/accounts", &good).await;
        assert_eq!(created.status(), StatusCode::SEE_OTHER);
        let zhou = account_named(&app, &admin, "zhou.yu").await;
        assert_eq!(zhou.district, Some(District::Futian));
        // A role is changed in the account's row; a reviewer without a
        // district is refused beside that row's form, the choice kept.
        let page = admin.text("/accounts").await;
        assert!(page.contains(&format!("id=\"role-{}\"", zhou.id)), "{page}");
        assert!(
            !page.contains(&format!("id=\"role-{me}\"")),
            "not one's own: {page}"
        );
        let form_id = format!("role-{}", zhou.id);
        let change = |role: &'static str, district: &'static str| {
            [
                ("_form", form_id.clone()),
                ("role", role.to_owned()),
                ("district", district.to_owned()),
                ("seen_role", "district_reviewer".to_owned()),
                ("seen_district", "futian".to_owned()),
            ]
        };
        let path = format!("/accounts/{}/role", zhou.id);
        let fields = change("district_reviewer", "");
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = form(&admin, &path, &pairs).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = refused.text().await.unwrap();
        assert!(
            html.contains(&format!("id=\"role-{}-error\"", zhou.id)),
            "{html}"
        );
        assert!(
            html.contains("A district reviewer works in one district"),
            "{html}"
        );
        let fields = change("district_reviewer", "nanshan");
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let moved = form(&admin, &path, &pairs).await;
        assert_eq!(moved.status(), StatusCode::SEE_OTHER);
        let page = admin.text("/accounts?done=role").await;
        assert!(page.contains("id=\"account-done\""), "{page}");
        let zhou = account_named(&app, &admin, "zhou.yu").await;
        assert_eq!(zhou.district, Some(District::Nanshan));
        let disabled = form(&admin, &format!("/accounts/{}/disable", zhou.id), &[]).await;
        assert_eq!(disabled.status(), StatusCode::SEE_OTHER);
        let page = admin.text("/accounts?done=disabled").await;
        assert!(
            page.contains(&format!("id=\"enable-{}\"", zhou.id)),
            "{page}"
        );

        // Auditors read without forms; founders and reviewers may not read.
        let auditor = app.sign_in("auditor").await.in_language("en");
        let page = auditor.text("/accounts").await;
        assert!(
            page.contains("zhou.yu")
                && !page.contains("id=\"account-form\"")
                && !page.contains("id=\"enable-"),
            "{page}"
        );
        let reviewer = app.sign_in("reviewer").await.in_language("en");
        assert_eq!(
            reviewer.get("/accounts").await.status(),
            StatusCode::FORBIDDEN
        );

        // The reviewer changes their password: a wrong current one is
        // named beside its field; then it works and says so.
        let wrong = form(
            &reviewer,
            "/settings/password",
            &[
                ("current_password", "not it at all"),
                ("new_password", "violet tangerine bicycle harbour"),
                ("confirm_password", "violet tangerine bicycle harbour"),
            ],
        )
        .await;
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            wrong
                .text()
                .await
                .unwrap()
                .contains("id=\"f-current_password-error\"")
        );
        let changed = form(
            &reviewer,
            "/settings/password",
            &[
                ("current_password", TEST_PASSWORD),
                ("new_password", "violet tangerine bicycle harbour"),
                ("confirm_password", "violet tangerine bicycle harbour"),
            ],
        )
        .await;
        assert_eq!(changed.headers()["location"], "/settings?password=changed");
        assert!(
            reviewer
                .text("/settings?password=changed")
                .await
                .contains("id=\"password-changed\"")
        );
        app.sign_in_with("reviewer", "violet tangerine bicycle harbour")
            .await;
        app.stop().await;
    })
    .await;
}
