//! The audit log on both backends: appends chain, concurrent appends never
//! fork the chain, UPDATE/DELETE are refused, and tampering is detected.

use chrono::Utc;
use opcity_store::audit::{self, Change, Problem};
use opcity_store::sea_orm::ConnectionTrait;
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

async fn append_one(store: &Store, n: i64) -> i64 {
    let tx = store.begin().await.unwrap();
    let seq = audit::append(&tx, Utc::now(), change(n)).await.unwrap();
    tx.commit().await.unwrap();
    seq
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn appends_chain_and_verify_clean() {
    each_backend(async |db| {
        for n in 1..=5 {
            assert_eq!(append_one(&db.store, n).await, n);
        }
        let v = audit::verify(db.store.db()).await.unwrap();
        assert_eq!(v.entries, 5);
        assert!(v.problems.is_empty(), "{:?}", v.problems);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_never_fork_the_chain() {
    each_backend(async |db| {
        let tasks: Vec<_> = (0..32)
            .map(|n| {
                let store = db.store.clone();
                tokio::spawn(async move { append_one(&store, n).await })
            })
            .collect();
        let mut seqs = Vec::new();
        for t in tasks {
            seqs.push(t.await.unwrap());
        }
        seqs.sort();
        assert_eq!(seqs, (1..=32).collect::<Vec<_>>());
        let v = audit::verify(db.store.db()).await.unwrap();
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
