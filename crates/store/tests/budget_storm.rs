//! The overspend storm, on SQLite and PostgreSQL: K concurrent reservations
//! of `a` against a budget `B` with K·a > B — exactly floor(B / a) succeed,
//! the rest are refused with the remaining figure, and the budget reconciles
//! with its movements. Repeated over seeds; the seed is printed on failure.

use chrono::Utc;
use opcity_store::Store;
use opcity_store::budget::{self, BudgetError, Cause, Movement};
use opcity_store::entity::budget as budget_entity;
use opcity_store::sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use opcity_testkit::each_backend;

async fn new_budget(store: &Store, total: i64, year: i32) -> i64 {
    let now = Utc::now();
    let tx = store.begin().await.unwrap();
    let b = budget_entity::ActiveModel {
        programme: Set("sz.housing.subsidy".into()),
        year: Set(year),
        authority: Set("nanshan".into()),
        total_fen: Set(0),
        reserved_fen: Set(0),
        spent_fen: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&tx)
    .await
    .unwrap();
    let cause = Cause {
        actor: "test",
        application_id: None,
        disbursement_id: None,
        at: now,
    };
    budget::apply(&tx, b.id, Movement::Fund, total, cause)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    b.id
}

async fn reserve(store: Store, id: i64, amount: i64) -> Result<(), BudgetError> {
    let tx = store.begin().await?;
    let cause = Cause {
        actor: "storm",
        application_id: None,
        disbursement_id: None,
        at: Utc::now(),
    };
    budget::apply(&tx, id, Movement::Reserve, amount, cause).await?;
    tx.commit().await.map_err(BudgetError::from)
}

/// A small deterministic generator, so a failing seed can be replayed.
fn lcg(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reservations_never_overspend() {
    each_backend(async |db| {
        for round in 0..6u64 {
            let mut seed = 0x5eed_0000 + round;
            let amount = 1 + (lcg(&mut seed) % 50) as i64 * 1_000;
            let k = 24 + (lcg(&mut seed) % 40) as i64;
            let total = amount * (k / 2) + (lcg(&mut seed) % amount as u64) as i64;
            let id = new_budget(&db.store, total, 2026 + round as i32).await;
            let tasks: Vec<_> = (0..k)
                .map(|_| tokio::spawn(reserve(db.store.clone(), id, amount)))
                .collect();
            let mut ok = 0;
            for t in tasks {
                match t.await.unwrap() {
                    Ok(()) => ok += 1,
                    Err(BudgetError::Insufficient { remaining_fen }) => {
                        assert!(
                            remaining_fen < amount,
                            "seed {seed:#x}: refused with {remaining_fen} left of {amount}"
                        )
                    }
                    Err(other) => panic!("seed {seed:#x} ({:?}): {other}", db.backend()),
                }
            }
            assert_eq!(
                ok,
                total / amount,
                "seed {seed:#x}: B={total} a={amount} K={k} on {:?}",
                db.backend()
            );
            let b = budget_entity::Entity::find_by_id(id)
                .one(db.store.db())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(b.reserved_fen, ok * amount);
            assert!(b.reserved_fen + b.spent_fen <= b.total_fen);
        }
        assert!(budget::reconcile(db.store.db()).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_refuses_overspending_and_edits_of_movements() {
    each_backend(async |db| {
        let id = new_budget(&db.store, 10_000, 2026).await;
        let conn = db.store.db();
        // Even a direct UPDATE cannot break the invariant.
        let overspend = conn
            .execute_unprepared(&format!(
                "UPDATE budgets SET reserved_fen = 20000 WHERE id = {id}"
            ))
            .await;
        assert!(overspend.is_err(), "CHECK constraint must refuse");
        assert!(
            conn.execute_unprepared("UPDATE budget_movements SET amount_fen = 1")
                .await
                .is_err()
        );
        assert!(
            conn.execute_unprepared("DELETE FROM budget_movements")
                .await
                .is_err()
        );
        // Spending needs a reservation first.
        let tx = db.store.begin().await.unwrap();
        let cause = Cause {
            actor: "t",
            application_id: None,
            disbursement_id: None,
            at: Utc::now(),
        };
        let err = budget::apply(&tx, id, Movement::Spend, 100, cause)
            .await
            .unwrap_err();
        assert!(
            matches!(err, BudgetError::NotReserved { reserved_fen: 0 }),
            "{err}"
        );
        drop(tx);
        assert!(budget::reconcile(conn).await.unwrap().is_empty());
    })
    .await;
}
