//! The budget guard: the one place where a budget's figures change.
//!
//! Each change is a conditional UPDATE that only succeeds if the invariant
//! still holds after it (`reserved + spent <= total`, nothing negative), plus
//! an immutable movement row; the table's CHECK constraint is the backstop.
//! On PostgreSQL the UPDATE takes the row lock and re-checks its condition
//! against the latest committed row; on SQLite the write transaction is
//! IMMEDIATE. Either way K concurrent reservations of `a` against a budget `B`
//! succeed exactly `floor(B / a)` times (`tests/budget_storm.rs`, which races
//! single reservations and groups on both backends).
//!
//! Movements are fund, reserve, release, spend and refund (spent back to
//! reserved, for a voucher capture reversed after a dispute). The immutable
//! `budget_movements` row (triggers refuse UPDATE and DELETE) is written
//! first, then the guarded UPDATE, so the budget's row lock is held only for
//! that UPDATE and the commit; a refusal rolls the movement back with the
//! caller's transaction. [`reconcile`] rebuilds every budget from its
//! movements.
//!
//! Groups of approvals (the services' approval group commit) take each hot
//! budget's lock once: [`lock_remaining`] reads what the group's budgets have
//! left (`FOR NO KEY UPDATE` in id order on PostgreSQL), the caller admits in memory
//! what fits, and [`reserve_all`] writes the movements in one INSERT and then
//! one guarded UPDATE of each budget's sum, refused whole (nothing may be
//! committed) if a sum does not fit after all. The CHECK constraint stands
//! behind both paths.

use crate::StoreError;
use crate::entity::{budget, budget_movement};
use chrono::{DateTime, Utc};
use opcity_domain::Fen;
use sea_orm::sea_query::{Expr, ExprTrait, LockType, Order, Query};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, Set, Statement,
};
use std::collections::{BTreeMap, BTreeSet};

/// Why a budget change was refused.
#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    #[error("budget {0} not found")]
    NotFound(i64),
    #[error("insufficient budget: {remaining_fen} fen remaining")]
    Insufficient { remaining_fen: i64 },
    #[error("nothing reserved to release or spend ({reserved_fen} fen reserved)")]
    NotReserved { reserved_fen: i64 },
    #[error("nothing spent to refund ({spent_fen} fen spent)")]
    NotSpent { spent_fen: i64 },
    /// Funding would take the total above [`Fen::MAX_TOTAL`].
    #[error("a total above Fen::MAX_TOTAL (now {total_fen} fen)")]
    TotalTooLarge { total_fen: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for BudgetError {
    fn from(e: sea_orm::DbErr) -> Self {
        BudgetError::Store(e.into())
    }
}

/// What moves and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Movement {
    /// Adds to the total.
    Fund,
    /// Holds money for an approval.
    Reserve,
    /// Gives held money back.
    Release,
    /// Turns held money into money paid.
    Spend,
    /// Turns money paid back into held money: a payment that came back (a
    /// voucher capture reversed after a dispute).
    Refund,
}

impl Movement {
    fn kind(self) -> &'static str {
        match self {
            Movement::Fund => "fund",
            Movement::Reserve => "reserve",
            Movement::Release => "release",
            Movement::Spend => "spend",
            Movement::Refund => "refund",
        }
    }
}

/// The cause recorded with a movement.
#[derive(Debug, Clone, Copy)]
pub struct Cause<'a> {
    pub actor: &'a str,
    pub application_id: Option<i64>,
    pub disbursement_id: Option<i64>,
    pub at: DateTime<Utc>,
}

/// Applies one movement of `amount_fen` (> 0) to a budget inside `tx`. On
/// an error `tx` holds a partial movement and must not be committed: every
/// caller propagates the error and lets the transaction roll back.
pub async fn apply(
    tx: &DatabaseTransaction,
    budget_id: i64,
    movement: Movement,
    amount_fen: i64,
    cause: Cause<'_>,
) -> Result<(), BudgetError> {
    // Amounts come validated from services; a non-positive one here is a bug
    // that must never move money, in release builds too.
    assert!(amount_fen > 0, "budget movement of {amount_fen} fen");
    let amount = Expr::val(amount_fen);
    let mut update = Query::update();
    update
        .table("budgets")
        .value("updated_at", cause.at)
        .and_where(Expr::col("id").eq(budget_id));
    match movement {
        // Guards subtract the amount instead of adding it, so that no
        // amount can overflow the comparison.
        Movement::Fund => {
            update.value("total_fen", Expr::col("total_fen").add(amount));
            update.and_where(Expr::col("total_fen").lte(Fen::MAX_TOTAL.0 - amount_fen));
        }
        Movement::Reserve => {
            update.value(
                "reserved_fen",
                Expr::col("reserved_fen").add(amount.clone()),
            );
            update.and_where(
                Expr::col("reserved_fen")
                    .add(Expr::col("spent_fen"))
                    .lte(Expr::col("total_fen").sub(amount)),
            );
        }
        Movement::Release => {
            update.value(
                "reserved_fen",
                Expr::col("reserved_fen").sub(amount.clone()),
            );
            update.and_where(Expr::col("reserved_fen").gte(amount));
        }
        Movement::Spend => {
            update.value(
                "reserved_fen",
                Expr::col("reserved_fen").sub(amount.clone()),
            );
            update.value("spent_fen", Expr::col("spent_fen").add(amount.clone()));
            update.and_where(Expr::col("reserved_fen").gte(amount));
        }
        Movement::Refund => {
            update.value("spent_fen", Expr::col("spent_fen").sub(amount.clone()));
            update.value(
                "reserved_fen",
                Expr::col("reserved_fen").add(amount.clone()),
            );
            update.and_where(Expr::col("spent_fen").gte(amount));
        }
    }
    // The movement first, then the guarded UPDATE: the budget's row lock,
    // which every movement of this budget waits for, is then held for the
    // UPDATE and the caller's commit only. A refused UPDATE returns an error,
    // and the caller's transaction rolls the movement back with everything
    // else.
    movement_row(budget_id, movement, amount_fen, cause)
        .insert(tx)
        .await?;
    let changed = tx.execute(&update).await?.rows_affected();
    if changed == 0 {
        let current = budget::Entity::find_by_id(budget_id)
            .one(tx)
            .await?
            .ok_or(BudgetError::NotFound(budget_id))?;
        return Err(match movement {
            Movement::Reserve => BudgetError::Insufficient {
                remaining_fen: current.total_fen - current.reserved_fen - current.spent_fen,
            },
            Movement::Refund => BudgetError::NotSpent {
                spent_fen: current.spent_fen,
            },
            Movement::Fund => BudgetError::TotalTooLarge {
                total_fen: current.total_fen,
            },
            _ => BudgetError::NotReserved {
                reserved_fen: current.reserved_fen,
            },
        });
    }
    Ok(())
}

/// What each of `ids` has left (`total − reserved − spent`), for a group of
/// reservations to decide against: locked until `tx` ends on PostgreSQL
/// (SQLite's write transaction excludes other writers already). Budgets
/// are locked in id order, as every group locks them, so two groups never
/// wait for each other in a cycle.
pub async fn lock_remaining(
    tx: &DatabaseTransaction,
    ids: &BTreeSet<i64>,
) -> Result<BTreeMap<i64, i64>, StoreError> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut select = Query::select();
    select
        .expr_as(Expr::col("id"), "id")
        .expr_as(
            Expr::col("total_fen")
                .sub(Expr::col("reserved_fen"))
                .sub(Expr::col("spent_fen")),
            "remaining_fen",
        )
        .from("budgets")
        .and_where(Expr::col("id").is_in(ids.iter().copied()))
        .order_by("id", Order::Asc);
    if tx.get_database_backend() == DbBackend::Postgres {
        // NO KEY UPDATE, not UPDATE: it excludes every writer of the
        // figures, yet does not wait for the KEY SHARE locks that inserting
        // a movement (its foreign key) takes. A FOR UPDATE here waited for a
        // single reservation's movement while that reservation's UPDATE
        // waited for this lock: a deadlock (seen in `budget_storm`).
        select.lock(LockType::NoKeyUpdate);
    }
    let mut remaining = BTreeMap::new();
    for row in tx.query_all(&select).await? {
        remaining.insert(row.try_get("", "id")?, row.try_get("", "remaining_fen")?);
    }
    Ok(remaining)
}

/// One reservation of a group (see [`reserve_all`]).
#[derive(Debug, Clone, Copy)]
pub struct Reservation<'a> {
    pub budget_id: i64,
    pub amount_fen: i64,
    pub cause: Cause<'a>,
}

/// Reserves each of `reservations` inside `tx`, as [`apply`] would one by
/// one: their movement rows in one INSERT, then every budget's sum in one
/// UPDATE guarded like [`apply`]'s. The caller decided them against
/// [`lock_remaining`]; should a budget not have room for its sum anyway,
/// nothing of it may be committed: the error says what it has left.
pub async fn reserve_all(
    tx: &DatabaseTransaction,
    reservations: &[Reservation<'_>],
) -> Result<(), BudgetError> {
    let mut sums: BTreeMap<i64, (i64, DateTime<Utc>)> = BTreeMap::new();
    for r in reservations {
        // Amounts come validated from services, as in `apply`.
        assert!(r.amount_fen > 0, "budget movement of {} fen", r.amount_fen);
        let (sum, at) = sums.entry(r.budget_id).or_insert((0, r.cause.at));
        *sum = sum
            .checked_add(r.amount_fen)
            .expect("a group's reservations fit in i64 fen");
        *at = Ord::max(*at, r.cause.at);
    }
    if sums.is_empty() {
        return Ok(());
    }
    budget_movement::Entity::insert_many(
        reservations
            .iter()
            .map(|r| movement_row(r.budget_id, Movement::Reserve, r.amount_fen, r.cause)),
    )
    .exec_without_returning(tx)
    .await?;
    let backend = tx.get_database_backend();
    let mut values = Vec::with_capacity(sums.len() * 3);
    let rows = crate::values::rows_of(
        backend,
        &mut values,
        sums.iter()
            .map(|(id, (sum, at))| vec![(*id).into(), (*sum).into(), (*at).into()]),
    );
    let sql = format!(
        "WITH r (r_id, r_sum, r_at) AS (VALUES {rows}) \
         UPDATE budgets SET reserved_fen = reserved_fen + r.r_sum, updated_at = r.r_at \
         FROM r WHERE budgets.id = r.r_id \
           AND budgets.reserved_fen + budgets.spent_fen + r.r_sum <= budgets.total_fen"
    );
    let changed = tx
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .rows_affected();
    if changed != sums.len() as u64 {
        let ids: BTreeSet<i64> = sums.keys().copied().collect();
        let remaining = lock_remaining(tx, &ids).await?;
        for (id, (sum, _)) in &sums {
            match remaining.get(id) {
                None => return Err(BudgetError::NotFound(*id)),
                Some(&remaining_fen) if remaining_fen < *sum => {
                    return Err(BudgetError::Insufficient { remaining_fen });
                }
                Some(_) => {}
            }
        }
        // Every sum fits now: the figures changed between the UPDATE and
        // this read, which only a writer outside the budget's lock can do.
        return Err(BudgetError::Store(StoreError::Contention(
            "budget figures changed under the group's lock".to_owned(),
        )));
    }
    Ok(())
}

fn movement_row(
    budget_id: i64,
    movement: Movement,
    amount_fen: i64,
    cause: Cause<'_>,
) -> budget_movement::ActiveModel {
    budget_movement::ActiveModel {
        budget_id: Set(budget_id),
        application_id: Set(cause.application_id),
        disbursement_id: Set(cause.disbursement_id),
        kind: Set(movement.kind().to_owned()),
        amount_fen: Set(amount_fen),
        actor: Set(cause.actor.to_owned()),
        at: Set(cause.at),
        ..Default::default()
    }
}

/// A budget whose figures differ from the sum of its movements.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mismatch {
    pub budget_id: i64,
    pub total_fen: (i64, i64),
    pub reserved_fen: (i64, i64),
    pub spent_fen: (i64, i64),
}

/// Rebuilds every budget's figures from its movements and reports each
/// difference as (stored, rebuilt).
pub async fn reconcile<C: ConnectionTrait>(db: &C) -> Result<Vec<Mismatch>, StoreError> {
    let budgets = budget::Entity::find().all(db).await?;
    let movements = budget_movement::Entity::find().all(db).await?;
    let mut out = Vec::new();
    for b in budgets {
        let (mut total, mut reserved, mut spent) = (0i64, 0i64, 0i64);
        for m in movements.iter().filter(|m| m.budget_id == b.id) {
            match m.kind.as_str() {
                "fund" => total += m.amount_fen,
                "reserve" => reserved += m.amount_fen,
                "release" => reserved -= m.amount_fen,
                "spend" => {
                    reserved -= m.amount_fen;
                    spent += m.amount_fen;
                }
                "refund" => {
                    reserved += m.amount_fen;
                    spent -= m.amount_fen;
                }
                _ => {}
            }
        }
        if (total, reserved, spent) != (b.total_fen, b.reserved_fen, b.spent_fen) {
            out.push(Mismatch {
                budget_id: b.id,
                total_fen: (b.total_fen, total),
                reserved_fen: (b.reserved_fen, reserved),
                spent_fen: (b.spent_fen, spent),
            });
        }
    }
    Ok(out)
}
