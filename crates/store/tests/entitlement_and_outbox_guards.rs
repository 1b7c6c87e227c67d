//! The entitlements guard (`opcity_store::entitlements`) and the
//! notifications guard (`opcity_store::notifications`), on SQLite and
//! PostgreSQL: a stored result keeps `eligible_since` while it stays
//! eligible and reports only the results that became eligible; a
//! notification claimed by one sender is not claimed by another (another
//! process included) until its lease ends; sent is final; giving up ends
//! the tries; reading marks only the account's unread notifications.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use opcity_store::entitlements::{self, Evaluated, Evaluation};
use opcity_store::entity::{account, entitlement, notification};
use opcity_store::notifications::{self, Due, Failure, NewNotification};
use opcity_store::sea_orm::{ActiveModelTrait, EntityTrait, Set};
use opcity_store::{Backend, Store, StoreError};
use opcity_testkit::each_backend;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
}

fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, h, 0, 0).unwrap()
}

fn result(subject: &str, programme: &str, status: &str) -> Evaluated {
    Evaluated {
        subject: subject.to_owned(),
        programme: programme.to_owned(),
        status: status.to_owned(),
        amount_fen: Some(100),
        ceiling_fen: None,
        monthly_fen: None,
        months: None,
        missing_facts: if status == "undetermined" {
            vec!["person.birth_date".to_owned()]
        } else {
            Vec::new()
        },
    }
}

/// Records `results` evaluated on `as_of`; answers the (subject, programme)
/// pairs that became eligible.
async fn record(store: &Store, results: &[Evaluated], as_of: NaiveDate) -> Vec<(String, String)> {
    let tx = store.begin().await.unwrap();
    let became = entitlements::record(
        &tx,
        results,
        Evaluation {
            as_of,
            pack_version: "test-1",
            at: Utc::now(),
        },
    )
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.subject.clone(), r.programme.clone()))
    .collect();
    tx.commit().await.unwrap();
    became
}

async fn stored(store: &Store, subject: &str, programme: &str) -> entitlement::Model {
    entitlement::Entity::find_by_id((subject.to_owned(), programme.to_owned()))
        .one(store.db())
        .await
        .unwrap()
        .unwrap()
}

fn pair(subject: &str, programme: &str) -> (String, String) {
    (subject.to_owned(), programme.to_owned())
}

#[tokio::test]
async fn eligible_since_is_kept_while_eligible() {
    each_backend(async |db| {
        let store = &db.store;
        let (s, p, q) = ("person:1", "sz.a", "sz.b");

        // First results: eligible for `p` (reported), not for `q`.
        let became = record(
            store,
            &[result(s, p, "eligible"), result(s, q, "undetermined")],
            day(1),
        )
        .await;
        assert_eq!(became, vec![pair(s, p)]);
        assert_eq!(stored(store, s, p).await.eligible_since, Some(day(1)));
        let q_row = stored(store, s, q).await;
        assert_eq!(q_row.eligible_since, None);
        assert_eq!(q_row.missing_facts, r#"["person.birth_date"]"#);

        // Still eligible later: the date is kept, nothing is reported; the
        // rest of the row is the new result.
        let became = record(store, &[result(s, p, "eligible")], day(5)).await;
        assert!(became.is_empty(), "{became:?}");
        let row = stored(store, s, p).await;
        assert_eq!(
            (row.eligible_since, row.as_of, row.pack_version.as_str()),
            (Some(day(1)), day(5), "test-1")
        );

        // No longer eligible: the date goes.
        let became = record(store, &[result(s, p, "ineligible")], day(6)).await;
        assert!(became.is_empty());
        let row = stored(store, s, p).await;
        assert_eq!(
            (row.status.as_str(), row.eligible_since),
            ("ineligible", None)
        );

        // Eligible again: since the new date, reported again; `q` becomes
        // eligible in the same write.
        let became = record(
            store,
            &[result(s, q, "eligible"), result(s, p, "eligible")],
            day(9),
        )
        .await;
        assert_eq!(became, vec![pair(s, q), pair(s, p)]);
        assert_eq!(stored(store, s, p).await.eligible_since, Some(day(9)));
        assert_eq!(stored(store, s, q).await.eligible_since, Some(day(9)));

        // One row per subject and programme, whatever was written.
        let rows = entitlements::of_subjects(store.db(), [s.to_owned()])
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
    })
    .await;
}

#[tokio::test]
async fn the_upsert_keeps_eligible_since_against_a_write_it_did_not_read() {
    each_backend(async |db| {
        let store = &db.store;
        let (s, p) = ("enterprise:7", "sz.c");
        // A first result, not yet committed when a second process reads;
        // the second's upsert waits for it (on SQLite the second write
        // waits for the first transaction as a whole).
        let first = store.begin().await.unwrap();
        let evaluation = Evaluation {
            as_of: day(2),
            pack_version: "test-1",
            at: Utc::now(),
        };
        entitlements::record(&first, &[result(s, p, "eligible")], evaluation)
            .await
            .unwrap();
        let other = Store::connect(&db.url).await.unwrap();
        let second = tokio::spawn(async move {
            let became = record(&other, &[result(s, p, "eligible")], day(3)).await;
            other.close().await.unwrap();
            became
        });
        if store.backend() == Backend::Postgres {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        first.commit().await.unwrap();
        second.await.unwrap();
        assert_eq!(
            stored(store, s, p).await.eligible_since,
            Some(day(2)),
            "eligible since the first result, whichever read what"
        );
    })
    .await;
}

/// An account opted in to e-mail since `since`.
async fn mailed_account(store: &Store, name: &str, since: DateTime<Utc>) -> i64 {
    let tx = store.begin().await.unwrap();
    let account = account::ActiveModel {
        username: Set(name.to_owned()),
        display_name: Set(name.to_owned()),
        password_hash: Set("x".to_owned()),
        role: Set("founder".to_owned()),
        district: Set(None),
        locale: Set("en".to_owned()),
        disabled: Set(false),
        created_at: Set(since),
        email: Set(Some(format!("{name}@example.org"))),
        email_notifications: Set(true),
        email_since: Set(Some(since)),
        ..Default::default()
    }
    .insert(&tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    account.id
}

async fn notify(store: &Store, account_id: i64, created: DateTime<Utc>) -> i64 {
    let tx = store.begin().await.unwrap();
    notifications::insert_all(
        &tx,
        &[NewNotification {
            account_id,
            kind: "may_qualify",
            programme: Some("sz.a"),
            subject: Some("person:1"),
            at: created,
        }],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    notifications::of_account(store.db(), account_id, 1)
        .await
        .unwrap()[0]
        .id
}

const CAP: i32 = 3;

fn due(now: DateTime<Utc>) -> Due {
    Due {
        now,
        max_attempts: CAP,
    }
}

async fn claim(store: &Store, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let tx = store.begin().await?;
    let claimed = notifications::claim(&tx, id, due(now), now + Duration::minutes(10)).await?;
    tx.commit().await?;
    Ok(claimed)
}

async fn row(store: &Store, id: i64) -> notification::Model {
    notification::Entity::find_by_id(id)
        .one(store.db())
        .await
        .unwrap()
        .unwrap()
}

async fn due_ids(store: &Store, now: DateTime<Utc>) -> Vec<i64> {
    notifications::due_mail(store.db(), due(now), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect()
}

#[tokio::test]
async fn a_claim_is_exclusive_until_its_lease_ends() {
    each_backend(async |db| {
        let store = &db.store;
        let account = mailed_account(store, "claimed", at(0)).await;
        let id = notify(store, account, at(1)).await;
        assert_eq!(due_ids(store, at(1)).await, vec![id]);
        let mail = &notifications::due_mail(store.db(), due(at(1)), 10)
            .await
            .unwrap()[0];
        assert_eq!(
            (mail.attempts, mail.email.as_str(), mail.locale.as_str()),
            (0, "claimed@example.org", "en")
        );

        // Another process, racing: exactly one of many claims wins.
        let other = Store::connect(&db.url).await.unwrap();
        let mut claims = tokio::task::JoinSet::new();
        for i in 0..8 {
            let s = if i % 2 == 0 {
                store.clone()
            } else {
                other.clone()
            };
            claims.spawn(async move { claim(&s, id, at(1)).await.unwrap() });
        }
        let won = claims.join_all().await.into_iter().filter(|c| *c).count();
        assert_eq!(won, 1, "one claimer holds the notification");
        assert_eq!(row(store, id).await.email_attempts, 1);
        assert!(due_ids(store, at(1)).await.is_empty(), "held, so not due");

        // Within the lease nobody claims it; after it, one does again.
        let within = at(1) + Duration::minutes(9);
        assert!(!claim(&other, id, within).await.unwrap());
        let after = at(1) + Duration::minutes(10);
        assert!(claim(&other, id, after).await.unwrap());
        assert!(!claim(store, id, after).await.unwrap());
        assert_eq!(row(store, id).await.email_attempts, 2);
        other.close().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn sent_is_final_and_giving_up_ends_the_tries() {
    each_backend(async |db| {
        let store = &db.store;
        let account = mailed_account(store, "outbox", at(0)).await;
        let sent = notify(store, account, at(1)).await;
        let failing = notify(store, account, at(1)).await;
        assert_eq!(due_ids(store, at(1)).await, vec![sent, failing]);

        // Sent: not due again, and a late failure changes nothing.
        assert!(claim(store, sent, at(1)).await.unwrap());
        let tx = store.begin().await.unwrap();
        notifications::mark_emailed(&tx, sent, at(2)).await.unwrap();
        let long = "x".repeat(notifications::ERROR_CHARS + 50);
        notifications::mark_failed(
            &tx,
            sent,
            Failure {
                retry_at: at(3),
                cause: &long,
                give_up_at: None,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let done = row(store, sent).await;
        assert_eq!(
            (done.emailed_at, done.email_locked_until, done.email_error),
            (Some(at(2)), None, None)
        );
        assert!(!claim(store, sent, at(20)).await.unwrap());

        // Failed: waits until the retry time, with the cause kept short.
        assert!(claim(store, failing, at(1)).await.unwrap());
        let tx = store.begin().await.unwrap();
        notifications::mark_failed(
            &tx,
            failing,
            Failure {
                retry_at: at(3),
                cause: &long,
                give_up_at: None,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let waiting = row(store, failing).await;
        assert_eq!(
            waiting.email_error.map(|e| e.chars().count()),
            Some(notifications::ERROR_CHARS)
        );
        assert!(due_ids(store, at(2)).await.is_empty());
        assert_eq!(due_ids(store, at(3)).await, vec![failing]);

        // Given up: the attempts reach the cap, never due again.
        assert!(claim(store, failing, at(3)).await.unwrap());
        let tx = store.begin().await.unwrap();
        notifications::mark_failed(
            &tx,
            failing,
            Failure {
                retry_at: at(4),
                cause: "550 no such user",
                give_up_at: Some(CAP),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(row(store, failing).await.email_attempts, CAP);
        assert!(due_ids(store, at(23)).await.is_empty());
        assert!(!claim(store, failing, at(23)).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn only_opted_in_accounts_get_mail_of_what_came_after() {
    each_backend(async |db| {
        let store = &db.store;
        let opted = mailed_account(store, "since", at(5)).await;
        let before = notify(store, opted, at(4)).await;
        let after = notify(store, opted, at(6)).await;
        let quiet = mailed_account(store, "quiet", at(0)).await;
        let tx = store.begin().await.unwrap();
        let mut model: account::ActiveModel = account::Entity::find_by_id(quiet)
            .one(&tx)
            .await
            .unwrap()
            .unwrap()
            .into();
        model.email_notifications = Set(false);
        model.update(&tx).await.unwrap();
        tx.commit().await.unwrap();
        notify(store, quiet, at(6)).await;
        assert_eq!(due_ids(store, at(7)).await, vec![after]);
        assert_ne!(before, after);
    })
    .await;
}

#[tokio::test]
async fn reading_marks_only_the_accounts_unread_notifications() {
    each_backend(async |db| {
        let store = &db.store;
        let mine = mailed_account(store, "reader", at(0)).await;
        let theirs = mailed_account(store, "other", at(0)).await;
        let first = notify(store, mine, at(1)).await;
        let tx = store.begin().await.unwrap();
        notifications::mark_read(&tx, mine, at(2)).await.unwrap();
        tx.commit().await.unwrap();
        let second = notify(store, mine, at(3)).await;
        let other = notify(store, theirs, at(3)).await;
        let tx = store.begin().await.unwrap();
        notifications::mark_read(&tx, mine, at(4)).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            row(store, first).await.read_at,
            Some(at(2)),
            "first read kept"
        );
        assert_eq!(row(store, second).await.read_at, Some(at(4)));
        assert_eq!(row(store, other).await.read_at, None);
        let listed: Vec<i64> = notifications::of_account(store.db(), mine, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|n| n.id)
            .collect();
        assert_eq!(listed, vec![second, first], "newest first");
    })
    .await;
}
