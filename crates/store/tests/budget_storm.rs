//! The overspend storm, on SQLite and PostgreSQL: K concurrent reservations
//! of `a` against a budget `B` with K·a > B — exactly floor(B / a) succeed,
//! the rest are refused with the remaining figure, and the budget reconciles
//! with its movements. Repeated over seeds; the seed is printed on failure.
//! Groups of reservations (as approvals are written) race single ones the
//! same way.

use chrono::Utc;
use opcity_domain::Fen;
use opcity_store::Store;
use opcity_store::budget::{self, BudgetError, Cause, Movement, Reservation};
use opcity_store::entity::budget as budget_entity;
use opcity_store::sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use opcity_testkit::each_backend;

/// A movement's cause with no application or disbursement, now.
fn cause(actor: &str) -> Cause<'_> {
    Cause {
        actor,
        application_id: None,
        disbursement_id: None,
        at: Utc::now(),
    }
}

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
        at: now,
        ..cause("test")
    };
    budget::apply(&tx, b.id, Movement::Fund, total, cause)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    b.id
}

async fn reserve(store: Store, id: i64, amount: i64) -> Result<(), BudgetError> {
    let tx = store.begin().await?;
    let cause = cause("storm");
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
        let cause = cause("t");
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

/// Amounts at the edge of `i64` are refused as such, never overflow in the
/// guard (PostgreSQL would fail with "bigint out of range", SQLite would
/// turn the sum into a float).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extreme_amounts_are_refused_not_overflowed() {
    each_backend(async |db| {
        let max = Fen::MAX_TOTAL.0;
        let id = new_budget(&db.store, max - 10, 2026).await;
        let fund = |amount: i64| {
            let store = db.store.clone();
            async move {
                let tx = store.begin().await?;
                budget::apply(&tx, id, Movement::Fund, amount, cause("t")).await?;
                tx.commit().await.map_err(BudgetError::from)
            }
        };
        for amount in [11, i64::MAX] {
            let err = fund(amount).await.unwrap_err();
            assert!(
                matches!(err, BudgetError::TotalTooLarge { total_fen } if total_fen == max - 10),
                "{amount}: {err}"
            );
        }
        fund(10).await.unwrap();
        let err = reserve(db.store.clone(), id, i64::MAX).await.unwrap_err();
        assert!(
            matches!(err, BudgetError::Insufficient { remaining_fen } if remaining_fen == max),
            "{err}"
        );
        let row = budget_entity::Entity::find_by_id(id)
            .one(db.store.db())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((row.total_fen, row.reserved_fen), (max, 0));
        assert!(budget::reconcile(db.store.db()).await.unwrap().is_empty());
    })
    .await;
}

/// A group's reservations, as approvals are written: lock the budget, admit
/// in order what fits, reserve them all at once. Returns how many it admitted.
async fn reserve_group(store: Store, id: i64, amount: i64, wanted: usize) -> i64 {
    let tx = store.begin().await.unwrap();
    let ids = std::collections::BTreeSet::from([id]);
    let left = budget::lock_remaining(&tx, &ids).await.unwrap()[&id];
    let admitted = (left / amount).min(wanted as i64);
    let cause = cause("group");
    let group: Vec<Reservation<'_>> = (0..admitted)
        .map(|_| Reservation {
            budget_id: id,
            amount_fen: amount,
            cause,
        })
        .collect();
    budget::reserve_all(&tx, &group).await.unwrap();
    tx.commit().await.unwrap();
    admitted
}

/// Groups of reservations race single ones: each group decides against
/// the figure it locked, so together they reserve exactly what fits.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn groups_of_reservations_never_overspend() {
    each_backend(async |db| {
        for round in 0..4u64 {
            let mut seed = 0x9_0000 + round;
            let amount = 1 + (lcg(&mut seed) % 50) as i64 * 1_000;
            let total = amount * 40 + (lcg(&mut seed) % amount as u64) as i64;
            let id = new_budget(&db.store, total, 2030 + round as i32).await;
            let groups: Vec<_> = (0..12)
                .map(|n| tokio::spawn(reserve_group(db.store.clone(), id, amount, 1 + n % 5)))
                .collect();
            let singles: Vec<_> = (0..20)
                .map(|_| tokio::spawn(reserve(db.store.clone(), id, amount)))
                .collect();
            let mut admitted = 0;
            for g in groups {
                admitted += g.await.unwrap();
            }
            for s in singles {
                match s.await.unwrap() {
                    Ok(()) => admitted += 1,
                    Err(BudgetError::Insufficient { remaining_fen }) => {
                        assert!(remaining_fen < amount, "seed {seed:#x}")
                    }
                    Err(other) => panic!("seed {seed:#x}: {other}"),
                }
            }
            // 12 groups ask for 36 and singles for 20: more than the 40 that fit.
            assert_eq!(admitted, 40, "seed {seed:#x} on {:?}", db.backend());
            let b = budget_entity::Entity::find_by_id(id)
                .one(db.store.db())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(b.reserved_fen, 40 * amount);
        }
        assert!(budget::reconcile(db.store.db()).await.unwrap().is_empty());
    })
    .await;
}

/// A group whose sum does not fit is refused by the guarded UPDATE itself,
/// naming what is left, and its transaction writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_that_does_not_fit_is_refused_whole() {
    each_backend(async |db| {
        let id = new_budget(&db.store, 10_000, 2026).await;
        let tx = db.store.begin().await.unwrap();
        let cause = cause("group");
        let group = [6_000, 5_000].map(|amount_fen| Reservation {
            budget_id: id,
            amount_fen,
            cause,
        });
        let err = budget::reserve_all(&tx, &group).await.unwrap_err();
        assert!(
            matches!(
                err,
                BudgetError::Insufficient {
                    remaining_fen: 10_000
                }
            ),
            "{err}"
        );
        drop(tx);
        let b = budget_entity::Entity::find_by_id(id)
            .one(db.store.db())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(b.reserved_fen, 0);
        assert!(budget::reconcile(db.store.db()).await.unwrap().is_empty());
    })
    .await;
}
