//! The accounts guard (`opcity_store::accounts`), on SQLite and
//! PostgreSQL: a username names one account, an expired or ended session
//! is not accepted, a revoked token is refused (and using a token never
//! undoes its revocation), a settings change writes only the settings.

use chrono::{Duration, Utc};
use opcity_store::accounts::{self, NewAccount, NewApiToken, NewSession, Settings};
use opcity_store::{Store, StoreError};
use opcity_testkit::each_backend;

fn new_account(username: &str) -> NewAccount<'_> {
    NewAccount {
        username,
        display_name: username,
        password_hash: "hash".to_owned(),
        role: "founder",
        district: None,
        locale: "en",
        disabled: false,
        created_by: None,
        awaiting: None,
        sso_subject: None,
    }
}

async fn account(store: &Store, username: &str) -> i64 {
    let tx = store.begin().await.unwrap();
    let a = accounts::insert_account(&tx, new_account(username), Utc::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    a.id
}

#[tokio::test]
async fn a_username_names_one_account() {
    each_backend(async |db| {
        let store = &db.store;
        let id = account(store, "taken").await;
        let tx = store.begin().await.unwrap();
        let twin = accounts::insert_account(&tx, new_account("taken"), Utc::now()).await;
        assert!(
            matches!(&twin, Err(e @ StoreError::Unique(_)) if e.is_unique_on("username")),
            "{twin:?}"
        );
        tx.rollback().await.unwrap();
        let found = accounts::account_by_username(store.db(), "taken")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, id);
        assert!(!found.disabled);
    })
    .await;
}

#[tokio::test]
async fn an_expired_or_ended_session_is_not_accepted() {
    each_backend(async |db| {
        let store = &db.store;
        let owner = account(store, "sessions").await;
        let now = Utc::now();
        let tx = store.begin().await.unwrap();
        for (hash, expires_at) in [("live", now + Duration::hours(1)), ("old", now)] {
            accounts::insert_session(
                &tx,
                NewSession {
                    token_hash: hash.to_owned(),
                    account_id: owner,
                    csrf_token: "csrf".to_owned(),
                    expires_at,
                },
                now - Duration::hours(1),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();

        let live = accounts::live_session(store.db(), "live", now)
            .await
            .unwrap();
        assert_eq!(live.map(|s| s.account_id), Some(owner));
        assert!(
            accounts::live_session(store.db(), "old", now)
                .await
                .unwrap()
                .is_none(),
            "a session is not accepted once it expires"
        );
        assert!(
            accounts::live_session(store.db(), "unknown", now)
                .await
                .unwrap()
                .is_none()
        );

        let tx = store.begin().await.unwrap();
        accounts::delete_session(&tx, "live").await.unwrap();
        tx.commit().await.unwrap();
        assert!(
            accounts::live_session(store.db(), "live", now)
                .await
                .unwrap()
                .is_none(),
            "an ended session is not accepted"
        );
    })
    .await;
}

#[tokio::test]
async fn a_revoked_token_is_refused_and_use_never_undoes_revocation() {
    each_backend(async |db| {
        let store = &db.store;
        let owner = account(store, "tokens").await;
        let now = Utc::now();
        let tx = store.begin().await.unwrap();
        let token = accounts::insert_api_token(
            &tx,
            NewApiToken {
                account_id: owner,
                name: "ci",
                prefix: "opc_abcdef",
                token_hash: "secret-hash".to_owned(),
            },
            now,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let live = accounts::live_api_token(store.db(), "secret-hash")
            .await
            .unwrap();
        assert_eq!(live.map(|t| t.id), Some(token.id));

        let tx = store.begin().await.unwrap();
        let revoked = accounts::revoke_api_token(&tx, token.id, now)
            .await
            .unwrap();
        assert!(revoked.revoked_at.is_some());
        // A use read before the revocation, recorded after it.
        accounts::touch_api_token(&tx, token.id, now).await.unwrap();
        tx.commit().await.unwrap();

        assert!(
            accounts::live_api_token(store.db(), "secret-hash")
                .await
                .unwrap()
                .is_none(),
            "a revoked token is refused"
        );
        let stored = accounts::api_token(store.db(), token.id)
            .await
            .unwrap()
            .unwrap();
        assert!(stored.revoked_at.is_some(), "using it kept the revocation");
        assert!(stored.last_used_at.is_some());
        let listed = accounts::api_tokens_of(store.db(), owner).await.unwrap();
        assert_eq!(listed.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_settings_change_writes_only_the_settings() {
    each_backend(async |db| {
        let store = &db.store;
        let owner = account(store, "settings").await;
        let before = accounts::account(store.db(), owner).await.unwrap().unwrap();
        let since = Utc::now();
        let tx = store.begin().await.unwrap();
        let after = accounts::update_settings(
            &tx,
            owner,
            Settings {
                email: Some("a@example.org".to_owned()),
                email_notifications: true,
                email_since: Some(since),
                locale: None,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(after.email.as_deref(), Some("a@example.org"));
        assert!(after.email_notifications);
        assert!(after.email_since.is_some());
        assert_eq!(after.locale, "en", "no locale keeps the language");
        assert_eq!(
            (
                &after.username,
                &after.password_hash,
                &after.role,
                after.disabled
            ),
            (
                &before.username,
                &before.password_hash,
                &before.role,
                before.disabled
            )
        );
    })
    .await;
}

/// Links (`opcity_store::account_links`): however many are asked for at
/// once, three an hour are issued and only the newest works; it works once
/// however many use it at once, and not after it expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_link_works_once_and_only_the_newest() {
    use opcity_store::account_links::{self, NewLink, Purpose};
    use opcity_store::rate::{Kept, Limit};
    each_backend(async |db| {
        let store = db.store.clone();
        let id = account(&store, "linked").await;
        let now = Utc::now();
        let limit = Limit {
            per_sender: 3,
            window: Duration::hours(1),
        };
        let issue = |n: usize, at: chrono::DateTime<Utc>| {
            let store = store.clone();
            tokio::spawn(async move {
                let secret = format!("hash-{n}");
                let new = NewLink {
                    account_id: id,
                    purpose: Purpose::ResetPassword,
                    secret_hash: &secret,
                    at,
                    lasts: Duration::hours(1),
                };
                let tx = store.begin().await.unwrap();
                let kept = account_links::issue_within(&tx, new, limit).await.unwrap();
                tx.commit().await.unwrap();
                (secret, kept)
            })
        };
        let mut issued = Vec::new();
        for task in (0..8).map(|n| issue(n, now)).collect::<Vec<_>>() {
            let (secret, kept) = task.await.unwrap();
            if let Kept::Yes(_) = kept {
                issued.push(secret);
            }
        }
        assert_eq!(issued.len(), 3, "three an hour");
        let mut working = Vec::new();
        for secret in &issued {
            let found = account_links::working(store.db(), Purpose::ResetPassword, secret, now)
                .await
                .unwrap();
            if found.is_some() {
                assert_eq!(found, Some(id));
                working.push(secret.clone());
            }
        }
        assert_eq!(working.len(), 1, "only the newest works");
        let secret = working.remove(0);
        // Another purpose never matches.
        let other = account_links::working(store.db(), Purpose::VerifyEmail, &secret, now);
        assert_eq!(other.await.unwrap(), None);

        let uses: Vec<_> = (0..6)
            .map(|_| {
                let (store, secret) = (store.clone(), secret.clone());
                tokio::spawn(async move {
                    let tx = store.begin().await.unwrap();
                    let used = account_links::redeem(&tx, Purpose::ResetPassword, &secret, now)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                    used
                })
            })
            .collect();
        let mut redeemed = 0;
        for u in uses {
            if let Some(account) = u.await.unwrap() {
                assert_eq!(account, id);
                redeemed += 1;
            }
        }
        assert_eq!(redeemed, 1, "a link works once");

        // An hour later a new link may be issued; it expires after its hour.
        let later = now + Duration::minutes(61);
        let (secret, kept) = issue(9, later).await.unwrap();
        assert!(matches!(kept, Kept::Yes(_)));
        let expired = later + Duration::minutes(61);
        let tx = store.begin().await.unwrap();
        let used = account_links::redeem(&tx, Purpose::ResetPassword, &secret, expired);
        assert_eq!(used.await.unwrap(), None, "expired");
        tx.commit().await.unwrap();
    })
    .await;
}
