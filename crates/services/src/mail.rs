//! Optional e-mail notifications over SMTP (lettre), sent outbox style.
//!
//! Every notification is written in the transaction of the change it reports
//! (`matching`, `applications`); [`Services::send_pending_mail`] mails those
//! of accounts that opted in and have an address, in the account's language.
//! It never holds a transaction open while it talks to the SMTP server
//! (the outbox bookkeeping is `opcity_store::notifications`, which states
//! the invariants; this module decides the cap, the lease and the back-off):
//!
//! 1. it claims a notification with a conditional UPDATE (not e-mailed, under
//!    the attempt cap, not held or waiting) that counts one attempt and holds
//!    it for [`LEASE`];
//! 2. it sends the message;
//! 3. it marks the notification `emailed_at` — or, when sending failed,
//!    records why and when it may be tried again (a back-off), or gives up at
//!    once when the server refused permanently (5xx).
//!
//! So runs on one instance or several, at the same time or not, send each
//! notification once; a crash between 2 and 3 sends it again after the lease
//! (at least once, never lost). The Message-ID is fixed per notification, so
//! a receiver can recognise such a repeat. Causes of failures go to the log
//! and to the `email_error` column for operators, never to users.
//!
//! Who is mailed: an account gives an address (checked with lettre's
//! `Address`, so every accepted address can be mailed; a refusal is
//! `email: invalid_email` and changes nothing) and opts in
//! (`Services::update_account_settings`, audited as `account.settings`;
//! opting in needs an address). Only notifications created since the
//! account opted in are mailed (`accounts.email_since`: opting in or
//! changing the address does not mail the backlog). A failed attempt waits
//! 5 min × 4ⁿ, at most a day; after [`MAX_ATTEMPTS`] it gives up.
//!
//! Texts are `locales/{zh-CN,en}/mail.toml` (and the application states of
//! `applications.toml`), in the account's language, with links under the
//! configured public base URL. `serve` runs the sender every minute when
//! `smtp_url` is set; `opcity mail send-pending` runs it once.
//! `tests/mail_story.rs` proves it against a real SMTP exchange (testkit's
//! `SmtpSink`) on both backends.

use crate::Services;
use crate::error::Result;
use crate::sign_up::{RESET_LASTS, VERIFY_LASTS};
use chrono::{DateTime, Duration, Utc};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use opcity_store::account_links::Purpose;
use opcity_store::notifications::{self, Due, DueMail, Failure};
use std::str::FromStr;
use std::sync::LazyLock;

/// Attempts per notification before the sender gives up on it.
pub const MAX_ATTEMPTS: i32 = 6;
/// How long a claimed notification is held by its sender. Longer than any
/// send takes (lettre's timeout is a minute per command), so a live sender
/// never loses its claim; after a crash the notification is sent again.
pub const LEASE: Duration = Duration::minutes(10);
/// Notifications looked at per run.
const BATCH: u64 = 200;

/// What is due at `now`: not e-mailed, under [`MAX_ATTEMPTS`], not held.
fn due(now: DateTime<Utc>) -> Due {
    Due {
        now,
        max_attempts: MAX_ATTEMPTS,
    }
}

/// When a notification whose `attempts`-th attempt failed may be tried
/// again: 5 minutes, then 20, 80, … at most a day (six attempts span a day
/// and more, enough to ride out an outage of the mail server).
pub fn retry_after(attempts: i32) -> Duration {
    let exponent = std::cmp::min(u32::try_from(attempts.saturating_sub(1)).unwrap_or(0), 10);
    std::cmp::min(
        Duration::minutes(5) * 4_i32.pow(exponent),
        Duration::days(1),
    )
}

/// The mail configuration is wrong; the message names the setting.
#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    #[error("smtp_url: {0}")]
    SmtpUrl(String),
    #[error("mail_from: {0}")]
    MailFrom(String),
    #[error("public_base_url: {0}")]
    PublicBaseUrl(String),
}

/// An SMTP transport with the sender address and the portal's public URL
/// (for links in the messages). Cheap to clone; connections are pooled.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    base_url: String,
    host: String,
}

impl std::fmt::Debug for Mailer {
    // The transport holds the SMTP credentials: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// `smtp_url` as lettre reads it (`smtp://HOST:PORT`,
    /// `smtp://USER:PASSWORD@HOST:587?tls=required`, `smtps://HOST`),
    /// `mail_from` an address with an optional name
    /// (`深圳 OPC <noreply@example.org>`), `public_base_url` the portal's
    /// address as users reach it (`https://opc.example.org`).
    pub fn new(
        smtp_url: &str,
        mail_from: &str,
        public_base_url: &str,
    ) -> std::result::Result<Mailer, MailConfigError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| MailConfigError::SmtpUrl(e.to_string()))?
            .build();
        let from = Mailbox::from_str(mail_from.trim())
            .map_err(|e| MailConfigError::MailFrom(e.to_string()))?;
        let base_url = public_base_url.trim().trim_end_matches('/').to_owned();
        let host = base_url
            .strip_prefix("https://")
            .or_else(|| base_url.strip_prefix("http://"))
            .map(|rest| rest.split(['/', ':', '?', '#']).next().unwrap_or(""))
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                MailConfigError::PublicBaseUrl(
                    "must be an http:// or https:// address with a host".to_owned(),
                )
            })?
            .to_owned();
        Ok(Mailer {
            transport,
            from,
            base_url,
            host,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends a one-time link at once (`sign_up`); the cause of a failure is
    /// for the log.
    pub(crate) async fn send_link(&self, mail: &LinkMail<'_>) -> std::result::Result<(), String> {
        let rendered = render_link(mail, &self.base_url);
        let address = Address::from_str(mail.email).map_err(|e| e.to_string())?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(Some(mail.name.to_owned()), address))
            .subject(rendered.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(rendered.body)
            .map_err(|e| e.to_string())?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// A one-time link to mail to an account (`sign_up`).
#[derive(Debug, Clone, Copy)]
pub struct LinkMail<'a> {
    pub locale: &'a str,
    pub name: &'a str,
    pub username: &'a str,
    pub email: &'a str,
    pub purpose: Purpose,
    pub secret: &'a str,
}

/// What a link's e-mail says, in the account's language: who asked for
/// what, the link, how long it works, and what to do if it was not them.
pub fn render_link(mail: &LinkMail<'_>, base_url: &str) -> Rendered {
    let (key, path, hours) = match mail.purpose {
        Purpose::VerifyEmail => ("mail.verify_email", "verify-email", VERIFY_LASTS),
        Purpose::ResetPassword => ("mail.reset_password", "password/reset", RESET_LASTS),
    };
    let link = format!("{base_url}/{path}?k={}", mail.secret);
    let hours = hours.num_hours().to_string();
    let values = [
        ("name", mail.name),
        ("username", mail.username),
        ("link", link.as_str()),
        ("hours", hours.as_str()),
    ];
    let locale = mail.locale;
    Rendered {
        subject: format!(
            "[{}] {}",
            text(locale, "mail.brand"),
            text(locale, &format!("{key}.subject"))
        ),
        body: [
            fill(text(locale, "mail.greeting"), &values),
            fill(text(locale, &format!("{key}.body")), &values),
            "-- ".to_owned(),
            text(locale, "mail.link_footer"),
        ]
        .join("\n\n"),
    }
}

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct MailRun {
    /// Accepted by the SMTP server and marked e-mailed.
    pub sent: usize,
    /// Failed this time (retried later unless `gave_up`).
    pub failed: usize,
    /// Failed for the last time (the cap, or a permanent refusal).
    pub gave_up: usize,
    /// Claimed by another sender first.
    pub skipped: usize,
}

/// The interface texts of e-mails, from `locales/{zh-CN,en}/mail.toml`, and
/// the application states' names from `applications.toml`.
use crate::locale_files::Texts;

fn load(sources: &[(&str, &str)]) -> Texts {
    let mut out = Texts::new();
    for (name, source) in sources {
        crate::locale_files::read_into(name, source, &mut out);
    }
    out
}

static ZH: LazyLock<Texts> = LazyLock::new(|| {
    load(&[
        (
            "zh-CN/mail.toml",
            include_str!("../../../locales/zh-CN/mail.toml"),
        ),
        (
            "zh-CN/applications.toml",
            include_str!("../../../locales/zh-CN/applications.toml"),
        ),
    ])
});
static EN: LazyLock<Texts> = LazyLock::new(|| {
    load(&[
        (
            "en/mail.toml",
            include_str!("../../../locales/en/mail.toml"),
        ),
        (
            "en/applications.toml",
            include_str!("../../../locales/en/applications.toml"),
        ),
    ])
});

fn texts(locale: &str) -> &'static Texts {
    if locale == "en" { &EN } else { &ZH }
}

fn text(locale: &str, key: &str) -> String {
    texts(locale)
        .get(key)
        .or_else(|| EN.get(key))
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

fn fill(template: String, values: &[(&str, &str)]) -> String {
    values.iter().fold(template, |text, (name, value)| {
        text.replace(&format!("{{{name}}}"), value)
    })
}

/// A rendered e-mail: subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// The notices about an application that are not its state's change — a
/// case given to a reviewer (`applications::workbench`), a request for
/// information and its answer (`applications::messages`), the notices of
/// continuous eligibility (`applications::recheck`) — and their messages.
const FLAG_MAIL: [(&str, &str); 8] = [
    ("case_assigned", "mail.case_assigned"),
    ("information_requested", "mail.information_requested"),
    ("information_answered", "mail.information_answered"),
    ("benefit_flagged", "mail.benefit_flagged"),
    ("flag_to_review", "mail.flag_to_review"),
    ("flag_answered", "mail.flag_answered"),
    ("flag_lifted", "mail.flag_lifted"),
    ("benefit_ended", "mail.benefit_ended"),
];

/// What a notification says, in `locale` (`zh-CN` or `en`): what changed,
/// which programme or application, and a link into the portal.
pub fn render(
    locale: &str,
    base_url: &str,
    name: &str,
    kind: &str,
    programme_title: &str,
    subject: Option<&str>,
) -> Rendered {
    let home = format!("{base_url}/home");
    let flagged = FLAG_MAIL
        .iter()
        .find(|(k, _)| *k == kind)
        .zip(subject.and_then(|s| s.strip_prefix("application:")));
    let (key, link, id, state) = match kind {
        "may_qualify" => ("mail.may_qualify", home, String::new(), String::new()),
        // A change proposed to a space request, and its answer.
        "space_change_proposed" | "space_change_accepted" | "space_change_declined" => (
            match kind {
                "space_change_proposed" => "mail.space_change_proposed",
                "space_change_accepted" => "mail.space_change_accepted",
                _ => "mail.space_change_declined",
            },
            format!("{base_url}/spaces"),
            String::new(),
            String::new(),
        ),
        _ if let Some((&(_, key), id)) = flagged => (
            key,
            format!("{base_url}/applications/{id}"),
            id.to_owned(),
            String::new(),
        ),
        _ => match (
            kind.strip_prefix("application_"),
            subject.and_then(|s| s.strip_prefix("application:")),
        ) {
            (Some(state), Some(id)) => (
                "mail.application",
                format!("{base_url}/applications/{id}"),
                id.to_owned(),
                text(locale, &format!("application.state.{state}")),
            ),
            _ => ("mail.other", home, String::new(), String::new()),
        },
    };
    let values = [
        ("programme", programme_title),
        ("id", id.as_str()),
        ("state", state.as_str()),
        ("link", link.as_str()),
        ("name", name),
        ("settings", &format!("{base_url}/settings")),
    ];
    let subject = format!(
        "[{}] {}",
        text(locale, "mail.brand"),
        fill(text(locale, &format!("{key}.subject")), &values)
    );
    let body = [
        fill(text(locale, "mail.greeting"), &values),
        fill(text(locale, &format!("{key}.body")), &values),
        "-- ".to_owned(),
        fill(text(locale, "mail.footer"), &values),
    ]
    .join("\n\n");
    Rendered { subject, body }
}

impl Services {
    /// Mails the notifications due (see the module docs); returns what it
    /// did. Safe to run at any time, twice, or on several instances at once.
    pub async fn send_pending_mail(&self, mailer: &Mailer, now: DateTime<Utc>) -> Result<MailRun> {
        let mut run = MailRun::default();
        for pending in self.pending_mail(now).await? {
            if !self.claim_mail(pending.id, now).await? {
                run.skipped += 1;
                continue;
            }
            let attempt = pending.attempts + 1;
            let outcome = match self.message_for(mailer, &pending) {
                Ok(message) => mailer
                    .transport
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| (e.is_permanent(), e.to_string())),
                Err(e) => Err((true, e)),
            };
            match outcome {
                Ok(()) => {
                    self.mark_mailed(pending.id, now).await?;
                    run.sent += 1;
                }
                Err((permanent, cause)) => {
                    let gave_up = permanent || attempt >= MAX_ATTEMPTS;
                    self.mark_mail_failed(pending.id, now, attempt, gave_up, &cause)
                        .await?;
                    run.failed += 1;
                    if gave_up {
                        run.gave_up += 1;
                        tracing::error!(notification = pending.id, account = pending.account_id,
                            attempt, permanent, error = %cause, "e-mail notification not sent; giving up");
                    } else {
                        tracing::warn!(notification = pending.id, account = pending.account_id,
                            attempt, error = %cause, "e-mail notification not sent; will retry");
                    }
                }
            }
        }
        Ok(run)
    }

    /// Notifications due, oldest first: not e-mailed, under the cap, not
    /// held, of an enabled account that opted in with an address, created
    /// since it did.
    async fn pending_mail(&self, now: DateTime<Utc>) -> Result<Vec<DueMail>> {
        Ok(notifications::due_mail(self.store().db(), due(now), BATCH).await?)
    }

    /// Claims a notification for this sender: one attempt counted, held for
    /// [`LEASE`]. False when another sender holds it or it is done.
    async fn claim_mail(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        let tx = self.store().begin().await?;
        let claimed = notifications::claim(&tx, id, due(now), now + LEASE).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn mark_mailed(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        let tx = self.store().begin().await?;
        notifications::mark_emailed(&tx, id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn mark_mail_failed(
        &self,
        id: i64,
        now: DateTime<Utc>,
        attempt: i32,
        gave_up: bool,
        cause: &str,
    ) -> Result<()> {
        let failure = Failure {
            retry_at: now + retry_after(attempt),
            cause,
            give_up_at: gave_up.then_some(MAX_ATTEMPTS),
        };
        let tx = self.store().begin().await?;
        notifications::mark_failed(&tx, id, failure).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The message for a notification, or why it cannot be built.
    fn message_for(&self, mailer: &Mailer, p: &DueMail) -> std::result::Result<Message, String> {
        let title = p
            .programme
            .as_deref()
            .map(|id| match self.programme(id) {
                Ok((_, info)) if p.locale == "en" => info.title.en,
                Ok((_, info)) => info.title.zh,
                Err(_) => id.to_owned(),
            })
            .unwrap_or_default();
        let rendered = render(
            &p.locale,
            &mailer.base_url,
            &p.display_name,
            &p.kind,
            &title,
            p.subject.as_deref(),
        );
        let address = Address::from_str(&p.email).map_err(|e| e.to_string())?;
        Message::builder()
            .from(mailer.from.clone())
            .to(Mailbox::new(Some(p.display_name.clone()), address))
            .subject(rendered.subject)
            .message_id(Some(format!(
                "<opcity.notification.{}.{}@{}>",
                p.id,
                p.created_at.timestamp(),
                mailer.host
            )))
            .header(ContentType::TEXT_PLAIN)
            .body(rendered.body)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(texts: &Texts) -> Vec<&String> {
        let mut keys: Vec<_> = texts.keys().filter(|k| k.starts_with("mail.")).collect();
        keys.sort();
        keys
    }

    #[test]
    fn both_languages_have_the_same_texts() {
        assert_eq!(keys(&ZH), keys(&EN));
        assert!(!keys(&EN).is_empty());
    }

    #[test]
    fn renders_an_application_change_in_each_language() {
        let en = render(
            "en",
            "https://opc.example.org",
            "Ana",
            "application_district_review",
            "Housing subsidy",
            Some("application:42"),
        );
        assert_eq!(
            en.subject,
            "[Shenzhen AI OPC Portal] Application #42 (Housing subsidy): District review"
        );
        assert!(en.body.starts_with("Dear Ana,\n\n"));
        assert!(en.body.contains("https://opc.example.org/applications/42"));
        assert!(en.body.contains("https://opc.example.org/settings"));
        let zh = render(
            "zh-CN",
            "https://opc.example.org",
            "林晨曦",
            "application_district_review",
            "人才住房补贴",
            Some("application:42"),
        );
        assert!(zh.subject.contains("区级审核中"), "{}", zh.subject);
        assert!(zh.body.starts_with("林晨曦，您好："));
    }

    #[test]
    fn unknown_kinds_get_a_plain_notice() {
        let r = render("en", "http://x", "A", "something_new", "", None);
        assert!(r.subject.ends_with("You have a new notification"));
        assert!(r.body.contains("http://x/home"));
    }

    #[test]
    fn eligibility_notices_link_to_their_application() {
        for (kind, _) in FLAG_MAIL {
            for locale in ["en", "zh-CN"] {
                let r = render(
                    locale,
                    "http://x",
                    "A",
                    kind,
                    "Housing",
                    Some("application:7"),
                );
                assert!(r.subject.contains("#7"), "{kind} {locale}: {}", r.subject);
                assert!(
                    r.body.contains("http://x/applications/7"),
                    "{kind}: {}",
                    r.body
                );
                assert!(
                    !r.body.contains('{'),
                    "{kind} {locale}: unfilled {}",
                    r.body
                );
            }
        }
        let r = render(
            "en",
            "http://x",
            "A",
            "benefit_flagged",
            "Housing",
            Some("application:7"),
        );
        assert!(r.body.contains("Payments wait"), "{}", r.body);
    }

    #[test]
    fn links_say_what_they_are_for_and_how_long_they_work() {
        for (purpose, path, hours) in [
            (Purpose::VerifyEmail, "verify-email", "48"),
            (Purpose::ResetPassword, "password/reset", "1"),
        ] {
            for locale in ["en", "zh-CN"] {
                let mail = LinkMail {
                    locale,
                    name: "Ana",
                    username: "ana",
                    email: "ana@example.org",
                    purpose,
                    secret: "s3cret",
                };
                let r = render_link(&mail, "https://opc.example.org");
                let link = format!("https://opc.example.org/{path}?k=s3cret");
                assert!(r.body.contains(&link), "{locale}: {}", r.body);
                assert!(
                    r.body.contains(&format!(" {hours} ")),
                    "{locale}: {}",
                    r.body
                );
                assert!(r.body.contains("ana"), "{locale}: {}", r.body);
                assert!(!r.body.contains('{'), "{locale}: unfilled {}", r.body);
                assert!(!r.subject.contains('.'), "{locale}: {}", r.subject);
            }
        }
    }

    #[test]
    fn retries_back_off_to_a_day() {
        assert_eq!(retry_after(1), Duration::minutes(5));
        assert_eq!(retry_after(2), Duration::minutes(20));
        assert_eq!(retry_after(6), Duration::days(1));
        assert_eq!(retry_after(100), Duration::days(1));
    }

    #[tokio::test]
    async fn configuration_errors_name_the_setting() {
        let err = Mailer::new("ftp://x", "a@b.org", "https://x").unwrap_err();
        assert!(err.to_string().starts_with("smtp_url:"), "{err}");
        let err = Mailer::new("smtp://127.0.0.1:2525", "not an address", "https://x").unwrap_err();
        assert!(err.to_string().starts_with("mail_from:"), "{err}");
        let err = Mailer::new("smtp://127.0.0.1:2525", "a@b.org", "opc.example.org").unwrap_err();
        assert!(err.to_string().starts_with("public_base_url:"), "{err}");
        let ok = Mailer::new(
            "smtp://127.0.0.1:2525",
            "深圳 OPC <noreply@example.org>",
            "https://opc.example.org/",
        )
        .unwrap();
        assert_eq!(ok.base_url(), "https://opc.example.org");
        assert!(!format!("{ok:?}").contains("2525"));
    }
}
