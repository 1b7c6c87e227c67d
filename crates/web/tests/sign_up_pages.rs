//! Founders' own accounts in the portal, on both backends: the sign-up
//! form keeps what was typed (never a password) beside each message; with
//! e-mail the mailed link's page confirms the address on a button; without,
//! the administrator confirms the sign-up on the accounts page; a forgotten
//! password is reset through the mailed link; guest forms need their
//! double-submit cookie.

use opcity_domain::Role;
use opcity_services::Services;
use opcity_services::mail::Mailer;
use opcity_testkit::app::Guest;
use opcity_testkit::smtp::SmtpSink;
use opcity_testkit::{TestApp, TestDb, each_backend};
use opcity_web::WebConfig;
use reqwest::StatusCode;
use std::time::Duration;

const BASE: &str = "https://opc.example.org";
const PASSWORD: &str = "kumquat lantern orbit 42";

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn mailing_app(db: &TestDb, sink: &SmtpSink) -> TestApp {
    let mailer = Mailer::new(&sink.url(), "OPC <noreply@opc.example.org>", BASE).unwrap();
    let services: Services = opcity_testkit::services(db).with_mailer(mailer);
    TestApp::spawn_services(services, WebConfig::default()).await
}

/// The path and query of the link under `path` in the `n`-th mail.
async fn link_in(sink: &SmtpSink, n: usize, path: &str) -> String {
    let mails = sink.wait_for(n, Duration::from_secs(10)).await;
    let text = mails[n - 1].text();
    let start = text.find(&format!("{BASE}/{path}?k=")).expect("a link");
    let link = text[start..].split_whitespace().next().unwrap();
    link.strip_prefix(BASE).unwrap().to_owned()
}

fn sign_up_fields<'a>(username: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("display_name", "Mei Chen"),
        ("username", username),
        ("email", email),
        ("password", PASSWORD),
        ("confirm_password", PASSWORD),
        ("locale", "en"),
        ("notify", "on"),
    ]
}

async fn sign_in(guest: &Guest, username: &str, password: &str) -> reqwest::Response {
    let fields = [
        ("username", username),
        ("password", password),
        ("next", "/home"),
    ];
    guest.submit("/login", "/login", &fields).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_then_an_administrator_confirms_without_mail() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        app.account("admin", Role::MunicipalAdmin, None).await;
        let guest = app.guest("en");

        let (status, page) = guest.page("/login").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("href=\"/sign-up\""), "{page}");
        assert!(page.contains("ask the programme office"), "{page}");
        let (_, page) = guest.page("/sign-up").await;
        assert!(
            page.contains("An administrator confirms new accounts"),
            "{page}"
        );

        // Refused: each message beside its field, what was typed kept but
        // the passwords.
        let mut bad = sign_up_fields("Mei Chen", "mei@example.org");
        bad[4] = ("confirm_password", "something else entirely");
        let r = guest.submit("/sign-up", "/sign-up", &bad).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = r.text().await.unwrap();
        assert!(page.contains("id=\"f-username-error\""), "{page}");
        assert!(page.contains("id=\"f-confirm_password-error\""), "{page}");
        assert!(page.contains("value=\"Mei Chen\""), "{page}");
        assert!(page.contains("value=\"mei@example.org\""), "{page}");
        assert!(!page.contains(PASSWORD), "{page}");
        assert!(page.contains("href=\"#f-username\""), "{page}");

        // Without the guest cookie's token: refused, nothing made.
        let r = app
            .guest("en")
            .http
            .post(app.url("/sign-up"))
            .form(&sign_up_fields("mei", "mei@example.org"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        let fields = sign_up_fields("mei", "mei@example.org");
        let r = guest.submit("/sign-up", "/sign-up", &fields).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let next = location(&r);
        assert_eq!(next, "/sign-up/sent?awaiting=operator&mailed=0");
        let (_, page) = guest.page(&next).await;
        assert!(
            page.contains("An administrator will confirm your account"),
            "{page}"
        );

        let r = sign_in(&guest, "mei", PASSWORD).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let page = r.text().await.unwrap();
        assert!(page.contains("waits for an administrator"), "{page}");

        // The administrator sees the sign-up and confirms it.
        let admin = app.sign_in("admin").await.in_language("en");
        let page = admin.text("/accounts").await;
        assert!(
            page.contains("Signed up: waits for your confirmation"),
            "{page}"
        );
        let mei = app
            .services
            .list_accounts(&admin.actor)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.username == "mei")
            .unwrap();
        assert!(
            page.contains(&format!("id=\"enable-{}\"", mei.id)),
            "{page}"
        );
        assert!(page.contains("Confirm the sign-up of Mei Chen"), "{page}");
        let r = admin
            .post_form(
                &format!("/accounts/{}/enable", mei.id),
                &[("_csrf", admin.csrf.as_str())],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);

        let r = sign_in(&guest, "mei", PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/home");
        let (status, _) = guest.page("/home").await;
        assert_eq!(status, StatusCode::OK);

        // Without mail nobody is offered a reset form: an administrator
        // gives a forgotten password a new one, shown once, and the
        // account's sessions end.
        let (_, page) = app.guest("en").page("/password/forgot").await;
        assert!(page.contains("id=\"forgot-without-mail\""), "{page}");
        assert!(!page.contains("id=\"forgot-form\""), "{page}");
        let page = admin.text("/accounts").await;
        assert!(
            page.contains(&format!("id=\"password-{}\"", mei.id)),
            "{page}"
        );
        let me = admin.actor.account_id;
        assert!(!page.contains(&format!("id=\"password-{me}\"")), "{page}");
        let r = admin
            .post_form(
                &format!("/accounts/{}/password", mei.id),
                &[("_csrf", admin.csrf.as_str())],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let page = r.text().await.unwrap();
        assert!(page.contains("Mei Chen has a new password"), "{page}");
        let marker = "id=\"new-password\">";
        let start = page.find(marker).expect("the password") + marker.len();
        let password = page[start..page[start..].find('<').unwrap() + start].to_owned();
        assert_eq!(password.len(), 16);
        let (status, _) = guest.page("/home").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "the old session ended");
        assert_eq!(
            sign_in(&guest, "mei", PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            sign_in(&guest, "mei", &password).await.status(),
            StatusCode::SEE_OTHER
        );
        let r = admin
            .post_form(
                &format!("/accounts/{me}/password"),
                &[("_csrf", admin.csrf.as_str())],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = r.text().await.unwrap();
        assert!(
            page.contains("Change your own password under Settings"),
            "{page}"
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mailed_links_confirm_the_address_and_reset_the_password() {
    each_backend(async |db| {
        let sink = SmtpSink::start().await;
        let app = mailing_app(db, &sink).await;
        let guest = app.guest("en");

        let fields = sign_up_fields("mei", "mei@example.org");
        let r = guest.submit("/sign-up", "/sign-up", &fields).await;
        assert_eq!(location(&r), "/sign-up/sent?awaiting=email&mailed=1");
        let (_, page) = guest.page(&location(&r)).await;
        assert!(page.contains("Check your e-mail"), "{page}");

        // Opening the link confirms nothing until the button is pressed.
        let link = link_in(&sink, 1, "verify-email").await;
        let (status, page) = guest.page(&link).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("id=\"verify-submit\""), "{page}");
        assert_eq!(
            sign_in(&guest, "mei", PASSWORD).await.status(),
            StatusCode::FORBIDDEN
        );
        // Refused; the link mailed stays the one to use.
        let secret = link.split("k=").nth(1).unwrap().to_owned();
        let r = guest
            .submit(&link, "/verify-email", &[("k", secret.as_str())])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/login?done=confirmed");
        let (_, page) = guest.page("/login?done=confirmed").await;
        assert!(page.contains("id=\"login-done\""), "{page}");
        // Used: its page says so, and posting it again changes nothing.
        let (status, page) = guest.page(&link).await;
        assert_eq!(status, StatusCode::GONE, "a link works once");
        assert!(!page.contains("id=\"verify-submit\""), "{page}");
        let r = guest
            .submit("/login", "/verify-email", &[("k", secret.as_str())])
            .await;
        assert_eq!(r.status(), StatusCode::GONE);
        assert!(r.text().await.unwrap().contains("id=\"verify-error\""));
        assert_eq!(
            sign_in(&guest, "mei", PASSWORD).await.status(),
            StatusCode::SEE_OTHER
        );

        // A forgotten password, asked for by address.
        let other = app.guest("en");
        let r = other
            .submit(
                "/password/forgot",
                "/password/forgot",
                &[("who", "MEI@example.org")],
            )
            .await;
        assert_eq!(location(&r), "/password/forgot?done=sent");
        let (_, page) = other.page("/password/forgot?done=sent").await;
        assert!(page.contains("id=\"forgot-sent\""), "{page}");
        let link = link_in(&sink, 2, "password/reset").await;
        let secret = link.split("k=").nth(1).unwrap().to_owned();
        let (status, page) = other.page(&link).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("id=\"reset-form\""), "{page}");
        let new = "velvet harbour quince 9";
        let differ = [
            ("k", secret.as_str()),
            ("new_password", new),
            ("confirm_password", "x"),
        ];
        let r = other.submit(&link, "/password/reset", &differ).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = r.text().await.unwrap();
        assert!(page.contains("id=\"f-confirm_password-error\""), "{page}");
        assert!(!page.contains(new), "{page}");
        let good = [
            ("k", secret.as_str()),
            ("new_password", new),
            ("confirm_password", new),
        ];
        let r = other.submit(&link, "/password/reset", &good).await;
        assert_eq!(location(&r), "/login?done=reset");

        // The session opened before the reset has ended.
        let (status, _) = guest.page("/home").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, page) = other.page(&link).await;
        assert_eq!(status, StatusCode::GONE);
        assert!(page.contains("id=\"reset-again\""), "{page}");
        assert_eq!(
            sign_in(&other, "mei", PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            sign_in(&other, "mei", new).await.status(),
            StatusCode::SEE_OTHER
        );
        app.stop().await;
    })
    .await;
}
