//! E-mail notifications on both backends, through a real SMTP exchange with
//! the test sink: an opted-in founder gets each change once, in their
//! language, however often and however concurrently the job runs; an
//! opted-out founder gets nothing; an invalid address is refused and changes
//! nothing; failures are retried with a back-off and a cap; a crashed sender's
//! claim runs out and the mail is sent after all.

use chrono::{DateTime, SubsecRound, Utc};
use opcity_domain::Role;
use opcity_services::ServiceError;
use opcity_services::accounts::SettingsChange;
use opcity_services::applications::NewApplication;
use opcity_services::mail::{LEASE, MAX_ATTEMPTS, Mailer, retry_after};
use opcity_store::entity::notification;
use opcity_store::sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use opcity_testkit::smtp::{Refusal, SmtpSink};
use opcity_testkit::{FounderSpec, TestDb, account_in, each_backend, founder};
use std::time::Duration;

const BASE: &str = "https://opc.example.org";

fn email(address: &str, on: bool) -> SettingsChange {
    SettingsChange {
        email: Some(Some(address.into())),
        email_notifications: Some(on),
        locale: None,
    }
}

fn mailer(sink: &SmtpSink) -> Mailer {
    Mailer::new(&sink.url(), "深圳 OPC <noreply@opc.example.org>", BASE).unwrap()
}

async fn notifications_of(db: &TestDb, account_id: i64) -> Vec<notification::Model> {
    notification::Entity::find()
        .filter(notification::Column::AccountId.eq(account_id))
        .order_by_asc(notification::Column::Id)
        .all(db.store.db())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn opted_in_founder_gets_each_change_once() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let sink = SmtpSink::start().await;
        let mailer = mailer(&sink);
        let admin = account_in(&s, "admin", Role::MunicipalAdmin, None, "en").await;
        let ana = founder(
            &s,
            &admin,
            FounderSpec::young_ai("ana", 0)
                .locale("en")
                .uscc("91440300708461136T"),
        )
        .await
        .actor;
        let ben = founder(
            &s,
            &admin,
            FounderSpec::young_ai("ben", 0)
                .locale("zh-CN")
                .uscc("914403001922038216"),
        )
        .await
        .actor;
        let backlog = notifications_of(db, ana.account_id).await.len();
        assert!(backlog > 0, "registering a company notifies");

        // Ana opts in; Ben gives an address but keeps e-mail off.
        let settings = s
            .update_account_settings(&ana, email(" ana@example.org ", true))
            .await
            .unwrap();
        assert_eq!(settings.email.as_deref(), Some("ana@example.org"));
        assert!(settings.email_notifications);
        s.update_account_settings(&ben, email("ben@example.org", false))
            .await
            .unwrap();
        let audit = s.audit_entries(&admin, 0, 200).await.unwrap();
        let change = audit
            .entries
            .iter()
            .find(|e| e.action == "account.settings" && e.entity_id == ana.account_id.to_string())
            .expect("the change is audited");
        assert_eq!(change.after.as_ref().unwrap()["email"], "ana@example.org");

        // Opting in does not send the backlog.
        let run = s.send_pending_mail(&mailer, s.now()).await.unwrap();
        assert_eq!(run.sent, 0);

        // New changes: each founder applies.
        let mut ids = Vec::new();
        for who in [&ana, &ben] {
            let app = s
                .create_application(
                    who,
                    &NewApplication {
                        programme: "sz.housing.subsidy".into(),
                        idempotency_key: Some(format!("k-{}", who.username)),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            opcity_testkit::supply_evidence(&s, who, app.id).await;
            s.submit_application(who, app.id).await.unwrap();
            ids.push(app.id);
        }
        let new_for_ana = notifications_of(db, ana.account_id).await.len() - backlog;
        assert!(new_for_ana >= 1);
        assert!(notifications_of(db, ben.account_id).await.len() > 1);

        // Two runs at once, then a third: each notification is mailed once.
        let now = s.now();
        let (first, second) = tokio::join!(
            s.send_pending_mail(&mailer, now),
            s.send_pending_mail(&mailer, now)
        );
        let (first, second) = (first.unwrap(), second.unwrap());
        assert_eq!(
            first.sent + second.sent,
            new_for_ana,
            "{first:?} {second:?}"
        );
        assert_eq!(first.failed + second.failed, 0);
        let third = s.send_pending_mail(&mailer, s.now()).await.unwrap();
        assert_eq!(third.sent, 0);
        let mails = sink.wait_for(new_for_ana, Duration::from_secs(5)).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mails_now = sink.mails();
        assert_eq!(mails_now.len(), new_for_ana, "no mail twice");
        for mail in &mails {
            assert_eq!(mail.to, vec!["ana@example.org".to_owned()]);
            assert_eq!(mail.to_header(), "ana@example.org");
            assert_eq!(mail.from, "noreply@opc.example.org");
        }
        let mut message_ids: Vec<String> = mails.iter().map(|m| m.message_id()).collect();
        message_ids.sort();
        message_ids.dedup();
        assert_eq!(message_ids.len(), mails.len());

        // What changed, which application and programme, a link, in English.
        let title = s.programme("sz.housing.subsidy").unwrap().1.title.en;
        let id = ids[0];
        let mail = mails
            .iter()
            .find(|m| m.subject().contains("District review"))
            .unwrap_or_else(|| {
                panic!(
                    "no district-review mail in {:?}",
                    mails.iter().map(|m| m.subject()).collect::<Vec<_>>()
                )
            });
        assert_eq!(
            mail.subject(),
            format!("[Shenzhen AI OPC Portal] Application #{id} ({title}): District review")
        );
        let text = mail.text();
        assert!(text.starts_with("Dear ana,"), "{text}");
        assert!(
            text.contains(&format!(
                "Your application #{id} for {title} is now: District review."
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!("{BASE}/applications/{id}")),
            "{text}"
        );
        assert!(text.contains(&format!("{BASE}/settings")), "{text}");

        // Every new notification is marked; the backlog and Ben's are not.
        let rows = notifications_of(db, ana.account_id).await;
        assert!(rows[..backlog].iter().all(|n| n.emailed_at.is_none()));
        assert!(
            rows[backlog..]
                .iter()
                .all(|n| n.emailed_at.is_some() && n.email_attempts == 1)
        );
        assert!(
            notifications_of(db, ben.account_id)
                .await
                .iter()
                .all(|n| n.emailed_at.is_none() && n.email_attempts == 0)
        );

        // Ben opts in: from then on he hears, in Chinese.
        s.update_account_settings(
            &ben,
            SettingsChange {
                email_notifications: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        s.withdraw_application(&ben, ids[1]).await.unwrap();
        let run = s.send_pending_mail(&mailer, s.now()).await.unwrap();
        assert_eq!(run.sent, 1);
        let mails = sink.wait_for(new_for_ana + 1, Duration::from_secs(5)).await;
        let last = mails.last().unwrap();
        assert_eq!(last.to, vec!["ben@example.org".to_owned()]);
        let zh_title = s.programme("sz.housing.subsidy").unwrap().1.title.zh;
        assert_eq!(
            last.subject(),
            format!(
                "[深圳AI OPC创业服务平台] 申请 #{}（{zh_title}）：已撤回",
                ids[1]
            )
        );
        assert!(last.text().starts_with("ben，您好："), "{}", last.text());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_settings_are_refused_and_change_nothing() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account_in(&s, "admin", Role::MunicipalAdmin, None, "en").await;
        let ana = account_in(&s, "ana", Role::Founder, None, "en").await;
        let auditor = account_in(&s, "aud", Role::Auditor, None, "en").await;
        s.update_account_settings(&ana, email("ana@example.org", false))
            .await
            .unwrap();
        let audited = s.audit_entries(&admin, 0, 500).await.unwrap().total;

        let fields = |err: ServiceError| match err {
            ServiceError::Validation(f) => {
                f.into_iter().map(|e| (e.field, e.code)).collect::<Vec<_>>()
            }
            other => panic!("expected a validation error, got {other:?}"),
        };
        for bad in [
            "not-an-address",
            "ana@",
            "@example.org",
            "ana example@x.org",
            "Ana <ana@example.org>",
        ] {
            let err = s
                .update_account_settings(&ana, email(bad, true))
                .await
                .unwrap_err();
            assert_eq!(
                fields(err),
                vec![("email".to_owned(), "invalid_email")],
                "{bad}"
            );
        }
        let err = s
            .update_account_settings(
                &ana,
                SettingsChange {
                    email: Some(None),
                    email_notifications: Some(true),
                    locale: Some("fr".into()),
                },
            )
            .await
            .unwrap_err();
        assert_eq!(
            fields(err),
            vec![
                ("locale".to_owned(), "unknown_locale"),
                ("email".to_owned(), "email_required_for_notifications"),
            ]
        );
        let settings = s.account_settings(&ana).await.unwrap();
        assert_eq!(settings.email.as_deref(), Some("ana@example.org"));
        assert!(!settings.email_notifications);
        assert_eq!(settings.locale, "en");
        assert_eq!(
            s.audit_entries(&admin, 0, 500).await.unwrap().total,
            audited
        );

        // The same settings again change nothing and are not audited.
        s.update_account_settings(&ana, email("ana@example.org", false))
            .await
            .unwrap();
        assert_eq!(
            s.audit_entries(&admin, 0, 500).await.unwrap().total,
            audited
        );

        // Anyone keeps their own settings, read-only auditors included.
        let mine = s
            .update_account_settings(
                &auditor,
                SettingsChange {
                    email: Some(Some("aud@example.org".into())),
                    email_notifications: Some(true),
                    locale: Some("zh-CN".into()),
                },
            )
            .await
            .unwrap();
        assert_eq!(mine.locale, "zh-CN");
        // Removing the address needs opting out too.
        let err = s
            .update_account_settings(
                &auditor,
                SettingsChange {
                    email: Some(None),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(
            fields(err),
            vec![("email".to_owned(), "email_required_for_notifications")]
        );
        let off = s
            .update_account_settings(
                &auditor,
                SettingsChange {
                    // `None` inside removes the address (an empty text is
                    // refused: see the web crate's openapi_document test).
                    email: Some(None),
                    email_notifications: Some(false),
                    locale: None,
                },
            )
            .await
            .unwrap();
        assert_eq!((off.email, off.email_notifications), (None, false));
    })
    .await;
}

/// A notification for `account_id` as the application workflow writes it.
async fn notify(db: &TestDb, account_id: i64, at: DateTime<Utc>, application: i64) -> i64 {
    notification::ActiveModel {
        account_id: Set(account_id),
        kind: Set("application_submitted".into()),
        programme: Set(Some("sz.housing.subsidy".into())),
        subject: Set(Some(format!("application:{application}"))),
        created_at: Set(at),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(db.store.db())
    .await
    .unwrap()
    .id
}

async fn row(db: &TestDb, id: i64) -> notification::Model {
    notification::Entity::find_by_id(id)
        .one(db.store.db())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_retried_with_a_cap_and_claims_run_out() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let sink = SmtpSink::start().await;
        let mailer = mailer(&sink);
        let ana = account_in(&s, "ana", Role::Founder, None, "en").await;
        s.update_account_settings(&ana, email("ana@example.org", true))
            .await
            .unwrap();
        let t0 = s.now().trunc_subsecs(0) + chrono::Duration::seconds(1);

        // A temporary refusal: counted, kept with its cause, retried after
        // the back-off, sent once the server takes it.
        let first = notify(db, ana.account_id, t0, 1).await;
        sink.refuse("ana@example.org", Some(Refusal::Temporary));
        let run = s.send_pending_mail(&mailer, t0).await.unwrap();
        assert_eq!((run.sent, run.failed, run.gave_up), (0, 1, 0));
        let failed = row(db, first).await;
        assert_eq!(failed.email_attempts, 1);
        assert!(failed.email_error.as_deref().unwrap_or("").contains("451"));
        assert_eq!(failed.email_locked_until, Some(t0 + retry_after(1)));
        sink.refuse("ana@example.org", None);
        let early = t0 + retry_after(1) - chrono::Duration::seconds(1);
        assert_eq!(s.send_pending_mail(&mailer, early).await.unwrap().sent, 0);
        let due = t0 + retry_after(1);
        assert_eq!(s.send_pending_mail(&mailer, due).await.unwrap().sent, 1);
        let sent = row(db, first).await;
        assert_eq!((sent.email_attempts, sent.email_error), (2, None));
        assert_eq!(sink.wait_for(1, Duration::from_secs(5)).await.len(), 1);

        // A permanent refusal is not retried.
        let second = notify(db, ana.account_id, t0, 2).await;
        sink.refuse("ana@example.org", Some(Refusal::Permanent));
        let run = s.send_pending_mail(&mailer, t0).await.unwrap();
        assert_eq!((run.failed, run.gave_up), (1, 1));
        assert_eq!(row(db, second).await.email_attempts, MAX_ATTEMPTS);
        let later = t0 + chrono::Duration::days(3);
        assert_eq!(
            s.send_pending_mail(&mailer, later).await.unwrap(),
            Default::default()
        );

        // Temporary failures stop at the cap.
        let third = notify(db, ana.account_id, t0, 3).await;
        sink.refuse("ana@example.org", Some(Refusal::Temporary));
        let mut at = t0;
        for attempt in 1..=MAX_ATTEMPTS {
            let run = s.send_pending_mail(&mailer, at).await.unwrap();
            assert_eq!(run.failed, 1, "attempt {attempt}");
            assert_eq!(run.gave_up, usize::from(attempt == MAX_ATTEMPTS));
            at += retry_after(attempt);
        }
        assert_eq!(
            s.send_pending_mail(&mailer, at + chrono::Duration::days(3))
                .await
                .unwrap(),
            Default::default()
        );
        let capped = row(db, third).await;
        assert_eq!(
            (capped.email_attempts, capped.emailed_at),
            (MAX_ATTEMPTS, None)
        );
        sink.refuse("ana@example.org", None);

        // A sender that claimed a notification and died: nobody sends it
        // while the claim holds; then it is sent (at least once).
        let fourth = notify(db, ana.account_id, t0, 4).await;
        let mut claimed = row(db, fourth).await.into_active_model();
        claimed.email_attempts = Set(1);
        claimed.email_locked_until = Set(Some(t0 + LEASE));
        claimed.update(db.store.db()).await.unwrap();
        let run = s
            .send_pending_mail(&mailer, t0 + LEASE - chrono::Duration::seconds(1))
            .await
            .unwrap();
        assert_eq!(run.sent, 0);
        let run = s.send_pending_mail(&mailer, t0 + LEASE).await.unwrap();
        assert_eq!(run.sent, 1);
        assert!(row(db, fourth).await.emailed_at.is_some());
        assert_eq!(sink.wait_for(2, Duration::from_secs(5)).await.len(), 2);

        // The server is down: counted and retried, nothing lost.
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let down =
            Mailer::new(&format!("smtp://{closed}"), "noreply@opc.example.org", BASE).unwrap();
        let fifth = notify(db, ana.account_id, t0, 5).await;
        let run = s.send_pending_mail(&down, t0).await.unwrap();
        assert_eq!((run.sent, run.failed, run.gave_up), (0, 1, 0));
        let waiting = row(db, fifth).await;
        assert_eq!((waiting.email_attempts, waiting.emailed_at), (1, None));
        assert!(waiting.email_error.is_some());
        let run = s
            .send_pending_mail(&mailer, t0 + retry_after(1))
            .await
            .unwrap();
        assert_eq!(run.sent, 1);
    })
    .await;
}
