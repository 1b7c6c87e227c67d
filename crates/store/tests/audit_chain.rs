//! The audit log on both backends: appends chain, concurrent appends never
//! fork the chain, UPDATE/DELETE are refused, and tampering is detected.

use chrono::Utc;
use opcity_store::audit::{self, Change, Problem};
use opcity_store::entity::audit_log;
use opcity_store::sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
use opcity_store::{Backend, Store};
use opcity_testkit::each_backend;

fn change(n: i64) -> Change<'static> {
    Change {
        actor: "system",
        action: "test.append",
        entity: "thing",
        entity_id: n.to_string(),
        before: None,
        after: Some(serde_json::json!({ "n": n, "text": "改变" })),
    }
}

async fn append_one(store: &Store, n: i64) {
    let tx = store.begin().await.unwrap();
    audit::append(&tx, Utc::now(), change(n)).await.unwrap();
    tx.commit().await.unwrap();
}

/// The `n` of each chained entry, in chain order.
async fn chained(store: &Store) -> Vec<i64> {
    audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Seq)
        .all(store.db())
        .await
        .unwrap()
        .iter()
        .map(|e| e.entity_id.parse().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn appends_chain_and_verify_clean() {
    each_backend(async |db| {
        for n in 1..=5 {
            append_one(&db.store, n).await;
        }
        assert!(chained(&db.store).await.is_empty(), "queued until sealed");
        assert_eq!(audit::seal_all(&db.store).await.unwrap(), 5);
        assert_eq!(chained(&db.store).await, [1, 2, 3, 4, 5]);
        assert_eq!(audit::seal_all(&db.store).await.unwrap(), 0);
        let v = audit::verify(db.store.db()).await.unwrap();
        assert_eq!(v.entries, 5);
        assert!(v.problems.is_empty(), "{:?}", v.problems);
    })
    .await;
}

/// Writers and sealers at once: every committed entry is chained exactly
/// once, rolled-back ones never, and the chain does not fork.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_and_sealers_never_fork_the_chain() {
    each_backend(async |db| {
        let writers: Vec<_> = (0..64)
            .map(|n| {
                let store = db.store.clone();
                tokio::spawn(async move {
                    let tx = store.begin().await.unwrap();
                    audit::append(&tx, Utc::now(), change(n)).await.unwrap();
                    // Every fourth change fails after writing its entry.
                    if n % 4 == 3 {
                        tx.rollback().await.unwrap();
                    } else {
                        tx.commit().await.unwrap();
                    }
                })
            })
            .collect();
        let sealers: Vec<_> = (0..4)
            .map(|_| {
                let store = db.store.clone();
                tokio::spawn(async move {
                    let mut sealed = 0;
                    for _ in 0..8 {
                        sealed += audit::seal(&store).await.unwrap();
                        tokio::task::yield_now().await;
                    }
                    sealed
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
        let mut sealed = 0;
        for s in sealers {
            sealed += s.await.unwrap();
        }
        sealed += audit::seal_all(&db.store).await.unwrap();
        assert_eq!(sealed, 48);
        let mut ns = chained(&db.store).await;
        ns.sort();
        assert_eq!(ns, (0..64).filter(|n| n % 4 != 3).collect::<Vec<_>>());
        let v = audit::verify(db.store.db()).await.unwrap();
        assert_eq!(v.entries, 48);
        assert!(v.problems.is_empty(), "{:?}", v.problems);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn update_and_delete_are_refused() {
    each_backend(async |db| {
        append_one(&db.store, 1).await;
        let conn = db.store.db();
        assert!(
            conn.execute_unprepared("UPDATE audit_queue SET actor = 'mallory'")
                .await
                .is_err(),
            "a queued entry cannot be edited"
        );
        audit::seal_all(&db.store).await.unwrap();
        assert!(
            conn.execute_unprepared("UPDATE audit_log SET actor = 'mallory'")
                .await
                .is_err()
        );
        assert!(
            conn.execute_unprepared("DELETE FROM audit_log")
                .await
                .is_err()
        );
        assert!(audit::verify(conn).await.unwrap().problems.is_empty());
    })
    .await;
}

/// Removes the append-only triggers, as an attacker with database access could.
async fn drop_guards(store: &Store) {
    let sql: &[&str] = match store.backend() {
        Backend::Postgres => &["DROP TRIGGER audit_log_no_update ON audit_log"],
        Backend::Sqlite => &[
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
        ],
    };
    for s in sql {
        store.db().execute_unprepared(s).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tampering_is_detected_and_named() {
    each_backend(async |db| {
        for n in 1..=6 {
            append_one(&db.store, n).await;
        }
        audit::seal_all(&db.store).await.unwrap();
        drop_guards(&db.store).await;
        let conn = db.store.db();
        conn.execute_unprepared("UPDATE audit_log SET after = '{\"n\":999}' WHERE seq = 2")
            .await
            .unwrap();
        conn.execute_unprepared("DELETE FROM audit_log WHERE seq = 4")
            .await
            .unwrap();
        conn.execute_unprepared("DELETE FROM audit_log WHERE seq = 6")
            .await
            .unwrap();
        let v = audit::verify(conn).await.unwrap();
        assert_eq!(
            v.problems,
            vec![
                Problem::Altered { seq: 2 },
                Problem::Missing {
                    from_seq: 4,
                    to_seq: 4
                },
                Problem::BrokenLink { seq: 5 },
                Problem::HeadMismatch {
                    head_seq: 6,
                    last_seq: 5
                },
            ]
        );
    })
    .await;
}
