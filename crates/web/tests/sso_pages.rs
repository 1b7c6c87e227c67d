//! Single sign-on against a real OpenID Connect provider process
//! (`oidc-provider-mock`, testkit's `OidcProvider`), on both backends: the
//! sign-in page offers it; the portal sends the browser to the provider with
//! PKCE, state and nonce; coming back opens a session for a founder account
//! named by the verified claims, linked to the person recorded with the
//! resident id the provider vouched for; the same subject comes back to the
//! same account; a declined, forged or replayed answer and a disabled
//! account are refused with the sign-in page.

use opcity_domain::Role;
use opcity_services::registry::persons::PersonInput;
use opcity_services::sso::{Sso, SsoConfig};
use opcity_testkit::app::Guest;
use opcity_testkit::{OidcProvider, TestApp, account, each_backend};
use opcity_web::WebConfig;
use reqwest::StatusCode;
use serde_json::json;

/// The address the provider returns to: a public one, as in production;
/// the test opens its path on the server it runs.
const PUBLIC: &str = "https://opc.example.org";
const RESIDENT_ID: &str = "44030519880612101X";

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// Leaves for the provider from `guest`'s sign-in page: the provider's
/// authorization address.
async fn leave(guest: &Guest, next: &str) -> String {
    let r = guest.get(&format!("/login/oidc?next={next}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    location(&r)
}

/// Comes back from the provider at `returned` (its public address).
async fn come_back(guest: &Guest, returned: &str) -> reqwest::Response {
    let path = returned
        .strip_prefix(PUBLIC)
        .expect("the configured return address");
    guest.get(path).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_city_identity_signs_a_founder_in_and_finds_their_record() {
    let Some(provider) = OidcProvider::start().await else {
        return;
    };
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let person = s
            .create_person(
                &admin,
                &PersonInput {
                    full_name: "林晨".into(),
                    birth_date: Some("1988-06-12".into()),
                    resident_id: Some(RESIDENT_ID.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let sso = Sso::discover(SsoConfig {
            issuer: provider.issuer.clone(),
            client_id: "opcity".into(),
            client_secret: Some("opcity-secret".into()),
            redirect_url: format!("{PUBLIC}/login/oidc/callback"),
            resident_id_claim: Some("resident_id".into()),
        })
        .await
        .unwrap();
        let app = TestApp::spawn_services(s.clone().with_sso(sso), WebConfig::default()).await;
        // Subjects differ per backend: the provider outlives both runs.
        let sub = format!("lin-{:?}", db.backend());
        provider
            .set_user(
                &sub,
                json!({
                    "name": "林晨", "email": "lin@example.org", "email_verified": true,
                    "locale": "en", "resident_id": RESIDENT_ID,
                }),
            )
            .await;

        let guest = app.guest("en");
        let (_, page) = guest.page("/login").await;
        assert!(page.contains("id=\"sso-link\""), "{page}");
        let at_provider = leave(&guest, "/benefits").await;
        assert!(at_provider.starts_with(&provider.issuer), "{at_provider}");
        for part in [
            "code_challenge=",
            "code_challenge_method=S256",
            "state=",
            "nonce=",
        ] {
            assert!(at_provider.contains(part), "{part}: {at_provider}");
        }
        let returned = provider.authorize(&at_provider, &sub).await;
        let r = come_back(&guest, &returned).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/benefits");
        let (status, page) = guest.page("/home").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("林晨"), "{page}");

        // The account: a founder, the verified address, no password; the
        // person recorded with the resident id is now theirs.
        let accounts = s.list_accounts(&admin).await.unwrap();
        let lin = accounts.iter().find(|a| a.display_name == "林晨").unwrap();
        assert_eq!(lin.role, Role::Founder);
        assert_eq!(lin.locale, "en");
        let actor = s.system_actor(lin.id).await.unwrap();
        assert_eq!(actor.person_id, Some(person.id));
        assert_eq!(
            s.account_settings(&actor).await.unwrap().email.as_deref(),
            Some("lin@example.org")
        );
        assert!(s.sign_in(&lin.username, "", None).await.is_err());
        // Nobody gives it a password: not an administrator.
        let err = s.set_temporary_password(&admin, lin.id).await.unwrap_err();
        assert!(
            matches!(err, opcity_services::ServiceError::Validation(_)),
            "{err:?}"
        );

        // The same subject again: the same account, in another browser.
        let other = app.guest("en");
        let at_provider = leave(&other, "/home").await;
        let returned = provider.authorize(&at_provider, &sub).await;
        assert_eq!(
            come_back(&other, &returned).await.status(),
            StatusCode::SEE_OTHER
        );
        assert_eq!(s.list_accounts(&admin).await.unwrap().len(), accounts.len());

        // Declined at the provider: the sign-in page says so.
        let declined = app.guest("en");
        let at_provider = leave(&declined, "/home").await;
        let returned = provider.deny(&at_provider).await;
        let r = come_back(&declined, &returned).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let page = r.text().await.unwrap();
        assert!(page.contains("id=\"login-error\""), "{page}");
        assert!(page.contains("did not complete"), "{page}");

        // An answer brought to another browser, or with another state, or
        // used twice: refused, no session.
        let started = app.guest("en");
        let at_provider = leave(&started, "/home").await;
        let returned = provider.authorize(&at_provider, &sub).await;
        let stranger = app.guest("en");
        assert_eq!(
            come_back(&stranger, &returned).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let (status, _) = stranger.page("/home").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let at_provider = leave(&started, "/home").await;
        let returned = provider.authorize(&at_provider, &sub).await;
        let forged = returned.replace("state=", "state=x");
        assert_eq!(
            come_back(&started, &forged).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            come_back(&started, &returned).await.status(),
            StatusCode::UNAUTHORIZED,
            "the first answer ended the attempt"
        );

        // A disabled account stays out.
        s.set_account_enabled(&admin, lin.id, false).await.unwrap();
        let late = app.guest("en");
        let at_provider = leave(&late, "/home").await;
        let returned = provider.authorize(&at_provider, &sub).await;
        let r = come_back(&late, &returned).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.text().await.unwrap().contains("disabled"));
        app.stop().await;
    })
    .await;
}
