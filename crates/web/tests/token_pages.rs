//! API access under Settings, on both backends: the workspace no longer
//! carries tokens; the settings page links to them; a refused name is
//! named beside its field, as typed, and makes nothing; a made token is
//! shown once and works as a bearer until it is revoked from the page.

use opcity_domain::Role;
use opcity_testkit::app::Client;
use opcity_testkit::{FounderSpec, TestApp, each_backend};
use reqwest::StatusCode;

async fn form(client: &Client, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![("_csrf", client.csrf.as_str())];
    form.extend_from_slice(fields);
    client.post_form(path, &form).await
}

/// The secret shown in `html`'s `token-secret`.
fn secret_of(html: &str) -> String {
    let at = html.find("id=\"token-secret\"").expect("a secret is shown");
    let start = at + html[at..].find('>').unwrap() + 1;
    html[start..start + html[start..].find('<').unwrap()].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_live_under_settings_and_work_until_revoked() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        app.founder(&admin, FounderSpec::young_ai("lin", 0)).await;
        let lin = app.sign_in("lin").await.in_language("en");

        let home = lin.text("/home").await;
        assert!(!home.contains("action=\"/tokens\""), "{home}");
        assert!(
            !home.contains("API"),
            "no token section on the workspace: {home}"
        );
        let settings = lin.text("/settings").await;
        assert!(settings.contains("href=\"/settings/tokens\""), "{settings}");
        let page = lin.text("/settings/tokens").await;
        assert!(page.contains("id=\"no-tokens\""), "{page}");

        // Refused names: each beside the field, as typed, nothing made.
        let long = "x".repeat(101);
        for (name, message) in [
            ("   ", "This field is required."),
            (long.as_str(), "At most 100 characters."),
        ] {
            let r = form(&lin, "/tokens", &[("name", name)]).await;
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let html = r.text().await.unwrap();
            assert!(html.contains("id=\"f-name-error\""), "{html}");
            assert!(html.contains(message), "{html}");
            assert!(html.contains(&format!("value=\"{name}\"")), "{html}");
        }
        assert!(
            app.services
                .list_api_tokens(&lin.actor)
                .await
                .unwrap()
                .is_empty()
        );

        // Made: shown once, listed as active, and it works as a bearer.
        let r = form(&lin, "/tokens", &[("name", "my scripts")]).await;
        assert_eq!(r.status(), StatusCode::OK);
        let secret = secret_of(&r.text().await.unwrap());
        let tokens = app.services.list_api_tokens(&lin.actor).await.unwrap();
        assert_eq!(tokens.len(), 1);
        let id = tokens[0].id;
        let page = lin.text("/settings/tokens").await;
        assert!(
            page.contains(&format!("id=\"token-{id}\" data-status=\"active\"")),
            "{page}"
        );
        assert!(!page.contains(&secret), "the secret is never shown again");
        let machine = reqwest::Client::new();
        let me = async || {
            machine
                .get(app.url("/api/v1/me"))
                .bearer_auth(&secret)
                .send()
                .await
                .unwrap()
                .status()
        };
        assert_eq!(me().await, StatusCode::OK);

        // Revoked from the page: said so, and the token no longer works.
        let r = form(&lin, &format!("/tokens/{id}/revoke"), &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], "/settings/tokens?done=revoked");
        let page = lin.text("/settings/tokens?done=revoked").await;
        assert!(page.contains("id=\"token-done\""), "{page}");
        assert!(
            page.contains(&format!("id=\"token-{id}\" data-status=\"revoked\"")),
            "{page}"
        );
        assert_eq!(me().await, StatusCode::UNAUTHORIZED);
        app.stop().await;
    })
    .await;
}
