//! Founders' own accounts (both backends, a real SMTP exchange with the test
//! sink): sign-up waits for the mailed link or, without e-mail, for an
//! administrator; a lost link is sent again at sign-in; links work once,
//! only the newest, before they expire; a forgotten password is reset by
//! a mailed link that reveals no accounts and ends every session; sign-ups
//! and links are rate limited however many arrive at once.

use opcity_domain::Role;
use opcity_services::accounts::SettingsChange;
use opcity_services::mail::Mailer;
use opcity_services::sign_up::{Awaiting, SignUp};
use opcity_services::{ErrorCode, ServiceError, Services};
use opcity_testkit::smtp::{ReceivedMail, Refusal, SmtpSink};
use opcity_testkit::{account, each_backend};
use std::net::IpAddr;
use std::time::Duration;

const BASE: &str = "https://opc.example.org";
const PASSWORD: &str = "kumquat lantern orbit 42";

fn mailing(s: &Services, sink: &SmtpSink) -> Services {
    let mailer = Mailer::new(&sink.url(), "OPC <noreply@opc.example.org>", BASE).unwrap();
    s.clone().with_mailer(mailer)
}

fn form(username: &str) -> SignUp {
    SignUp {
        username: username.into(),
        display_name: format!("{username} Chen"),
        email: format!("{username}@example.org"),
        password: PASSWORD.into(),
        confirm_password: PASSWORD.into(),
        locale: "en".into(),
        notify: true,
    }
}

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap())
}

/// The secret of the link in `mail` under `path`.
fn secret(mail: &ReceivedMail, path: &str) -> String {
    let text = mail.text();
    let start = text
        .find(&format!("{BASE}/{path}?k="))
        .unwrap_or_else(|| panic!("no {path} link in {text}"));
    let rest = &text[start + BASE.len() + path.len() + 4..];
    rest.split_whitespace().next().unwrap().to_owned()
}

fn code_of(err: &ServiceError) -> Vec<(String, &'static str)> {
    match err {
        ServiceError::Validation(fields) => {
            fields.iter().map(|f| (f.field.clone(), f.code)).collect()
        }
        ServiceError::Refused { code, field } => vec![((*field).to_owned(), code.as_str())],
        ServiceError::Conflict { code, field } => {
            vec![(field.unwrap_or("").to_owned(), code.as_str())]
        }
        other => panic!("not a refusal: {other:?}"),
    }
}

async fn mails_after(sink: &SmtpSink, n: usize) -> Vec<ReceivedMail> {
    let mails = sink.wait_for(n, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), n, "{n} mails expected");
    mails
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_mail_an_administrator_confirms_a_sign_up() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;

        // What is wrong is said field by field, and nothing is made.
        let bad = SignUp {
            username: "Lin Chen".into(),
            email: "not an address".into(),
            confirm_password: "something else entirely".into(),
            ..form("lin")
        };
        let err = s.sign_up(&bad, ip("203.0.113.9")).await.unwrap_err();
        assert_eq!(
            code_of(&err),
            [
                ("username".to_owned(), "username_format"),
                ("email".to_owned(), "invalid_email"),
                ("confirm_password".to_owned(), "passwords_differ"),
            ]
        );
        let empty = SignUp {
            email: " ".into(),
            ..form("lin")
        };
        let err = s.sign_up(&empty, ip("203.0.113.9")).await.unwrap_err();
        assert_eq!(code_of(&err), [("email".to_owned(), "required")]);
        assert_eq!(s.list_accounts(&admin).await.unwrap().len(), 1);

        let made = s.sign_up(&form("lin"), ip("203.0.113.9")).await.unwrap();
        assert_eq!(made.awaiting, Awaiting::Operator);
        assert!(!made.mailed);
        assert_eq!(made.account.role, Role::Founder);
        assert_eq!(made.account.awaiting, Some(Awaiting::Operator));
        let err = s
            .sign_up(&form("lin"), ip("203.0.113.9"))
            .await
            .unwrap_err();
        assert_eq!(code_of(&err), [("username".to_owned(), "username_taken")]);
        let reserved = form("sso.0123456789ab");
        let err = s.sign_up(&reserved, ip("203.0.113.9")).await.unwrap_err();
        assert_eq!(
            code_of(&err),
            [("username".to_owned(), "username_reserved")]
        );

        // A sign-up the administrator stops stays out.
        let spam = s.sign_up(&form("spam"), ip("203.0.113.9")).await.unwrap();
        let stopped = s
            .set_account_enabled(&admin, spam.account.id, false)
            .await
            .unwrap();
        assert_eq!((stopped.awaiting, stopped.disabled), (None, true));
        assert!(matches!(
            s.sign_in("spam", PASSWORD, None).await,
            Err(ServiceError::BadCredentials)
        ));

        // A wrong password says only that; the right one says what it waits for.
        assert!(matches!(
            s.sign_in("lin", "wrong password here", None).await,
            Err(ServiceError::BadCredentials)
        ));
        let err = s.sign_in("lin", PASSWORD, None).await.unwrap_err();
        assert_eq!(
            code_of(&err),
            [("username".to_owned(), "awaiting_confirmation")]
        );

        let confirmed = s
            .set_account_enabled(&admin, made.account.id, true)
            .await
            .unwrap();
        assert_eq!(confirmed.awaiting, None);
        assert!(!confirmed.disabled);
        let session = s.sign_in("lin", PASSWORD, None).await.unwrap();
        assert_eq!(session.actor.role, Role::Founder);
        assert_eq!(session.actor.person_id, None);
        let settings = s.account_settings(&session.actor).await.unwrap();
        assert_eq!(settings.email.as_deref(), Some("lin@example.org"));
        assert!(settings.email_notifications);

        // Without e-mail an administrator gives a forgotten password a new
        // one, but never to another administrator (that would undo four
        // eyes) or an auditor.
        let password = s
            .set_temporary_password(&admin, made.account.id)
            .await
            .unwrap();
        s.sign_in("lin", &password, None).await.unwrap();
        for (name, role) in [("admin2", Role::MunicipalAdmin), ("aud", Role::Auditor)] {
            let other = account(&s, name, role, None).await;
            let err = s
                .set_temporary_password(&admin, other.account_id)
                .await
                .unwrap_err();
            assert_eq!(
                code_of(&err),
                [("account".to_owned(), "password_set_not_here")]
            );
        }

        // Without e-mail a reset cannot be asked for.
        let err = s.request_password_reset("lin").await.unwrap_err();
        assert_eq!(
            code_of(&err),
            [("who".to_owned(), ErrorCode::MailOff.as_str())]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mailed_link_confirms_the_address_once() {
    each_backend(async |db| {
        let sink = SmtpSink::start().await;
        let s = mailing(&opcity_testkit::services(db), &sink);
        let made = s.sign_up(&form("mei"), ip("203.0.113.10")).await.unwrap();
        assert_eq!((made.awaiting, made.mailed), (Awaiting::Email, true));
        let mails = mails_after(&sink, 1).await;
        assert_eq!(mails[0].to_header(), "mei@example.org");
        assert!(mails[0].subject().contains("Confirm your e-mail address"));
        let first = secret(&mails[0], "verify-email");

        // Signing in before confirming says so, and keeps the link mailed
        // (a new one would replace it while it may be on its way).
        let err = s.sign_in("mei", PASSWORD, None).await.unwrap_err();
        assert_eq!(code_of(&err), [("username".to_owned(), "awaiting_email")]);
        assert_eq!(sink.wait_for(2, Duration::from_millis(500)).await.len(), 1);
        s.verify_link_works(&first).await.unwrap();
        assert!(s.confirm_email("made-up").await.is_err());

        // A link whose mail was refused is void; signing in mails a new one,
        // and only it works.
        sink.refuse("yan@example.org", Some(Refusal::Permanent));
        let lost = s.sign_up(&form("yan"), ip("203.0.113.10")).await.unwrap();
        assert!(!lost.mailed);
        sink.refuse("yan@example.org", None);
        let err = s.sign_in("yan", PASSWORD, None).await.unwrap_err();
        assert_eq!(code_of(&err), [("username".to_owned(), "awaiting_email")]);
        let mails = mails_after(&sink, 2).await;
        s.confirm_email(&secret(&mails[1], "verify-email"))
            .await
            .unwrap();
        let second = first.clone();

        // The same link used twice at once: one confirms, the other is refused.
        let tries: Vec<_> = (0..2)
            .map(|_| {
                let (s, k) = (s.clone(), second.clone());
                tokio::spawn(async move { s.confirm_email(&k).await })
            })
            .collect();
        let mut confirmed = 0;
        for t in tries {
            match t.await.unwrap() {
                Ok(view) => {
                    assert_eq!(view.username, "mei");
                    assert_eq!(view.awaiting, None);
                    confirmed += 1;
                }
                Err(err) => assert_eq!(code_of(&err), [("link".to_owned(), "link_expired")]),
            }
        }
        assert_eq!(confirmed, 1);
        s.sign_in("mei", PASSWORD, None).await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_reset_by_a_link_that_reveals_nobody() {
    each_backend(async |db| {
        let sink = SmtpSink::start().await;
        let s = mailing(&opcity_testkit::services(db), &sink);
        let ana = account(&s, "ana", Role::Founder, None).await;
        let change = SettingsChange {
            email: Some(Some("Ana.Lin@Example.org".into())),
            ..Default::default()
        };
        s.update_account_settings(&ana, change).await.unwrap();
        let kept = s
            .sign_in("ana", opcity_testkit::fixtures::PASSWORD, None)
            .await
            .unwrap();

        // Nobody, an empty answer and a real account are answered alike.
        s.request_password_reset("nobody@example.org")
            .await
            .unwrap();
        let err = s.request_password_reset("  ").await.unwrap_err();
        assert_eq!(code_of(&err), [("who".to_owned(), "required")]);
        s.request_password_reset("ana.lin@example.org")
            .await
            .unwrap();
        let mails = mails_after(&sink, 1).await;
        assert_eq!(mails[0].to_header(), "Ana.Lin@Example.org");
        let k = secret(&mails[0], "password/reset");
        s.reset_link_works(&k).await.unwrap();

        // A weak or repeated password is refused and the link still works.
        let err = s
            .reset_password(&k, "password", "password")
            .await
            .unwrap_err();
        assert_eq!(
            code_of(&err),
            [("new_password".to_owned(), "password_too_short")]
        );
        let same = opcity_testkit::fixtures::PASSWORD;
        let err = s.reset_password(&k, same, same).await.unwrap_err();
        assert_eq!(
            code_of(&err),
            [("new_password".to_owned(), "password_unchanged")]
        );
        let err = s.reset_password(&k, PASSWORD, "other").await.unwrap_err();
        assert_eq!(
            code_of(&err),
            [("confirm_password".to_owned(), "passwords_differ")]
        );
        s.reset_link_works(&k).await.unwrap();

        s.reset_password(&k, PASSWORD, PASSWORD).await.unwrap();
        assert!(
            s.session_actor(&kept.token).await.is_err(),
            "every session ended"
        );
        assert!(s.sign_in("ana", same, None).await.is_err());
        s.sign_in("ana", PASSWORD, None).await.unwrap();
        let err = s.reset_password(&k, "another long passphrase 7", "another long passphrase 7");
        assert_eq!(
            code_of(&err.await.unwrap_err()),
            [("link".to_owned(), "link_expired")]
        );
        assert!(s.reset_link_works(&k).await.is_err());

        // Three links an hour: a fourth request mails nothing.
        for _ in 0..3 {
            s.request_password_reset("ana").await.unwrap();
        }
        let mails = sink.wait_for(4, Duration::from_secs(10)).await;
        assert_eq!(mails.len(), 3, "the first link and two of three more");
        // The requests ran at once, so their mails may arrive in any order:
        // of the two new links exactly one, the newest, works.
        let mut working = 0;
        for mail in &mails[1..] {
            if s.reset_link_works(&secret(mail, "password/reset"))
                .await
                .is_ok()
            {
                working += 1;
            }
        }
        assert_eq!(working, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_sign_ups_an_hour_from_one_address_however_they_arrive() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let tasks: Vec<_> = (0..12)
            .map(|n| {
                let s = s.clone();
                tokio::spawn(async move {
                    let name = format!("burst{n}");
                    (
                        name.clone(),
                        s.sign_up(&form(&name), ip("198.51.100.4")).await,
                    )
                })
            })
            .collect();
        let mut made = Vec::new();
        for t in tasks {
            let (name, outcome) = t.await.unwrap();
            match outcome {
                Ok(done) => {
                    assert_eq!(done.account.username, name, "each answer is its own");
                    made.push(name);
                }
                Err(err) => {
                    let codes = code_of(&err);
                    assert_eq!(
                        codes,
                        [("username".to_owned(), "sign_up_too_often")],
                        "{name}"
                    );
                }
            }
        }
        assert_eq!(made.len(), 5);
        let listed: Vec<String> = s
            .list_accounts(&admin)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.awaiting.is_some())
            .map(|a| a.username)
            .collect();
        made.sort();
        let mut listed = listed;
        listed.sort();
        assert_eq!(listed, made, "exactly the answered ones exist");
        // Another address is not held up.
        s.sign_up(&form("elsewhere"), ip("198.51.100.5"))
            .await
            .unwrap();
    })
    .await;
}
