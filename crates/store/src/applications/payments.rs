//! Instalments of an accepted offer, and the money an application holds.

use crate::StoreError;
use crate::budget::{self, BudgetError, Cause, Movement};
use crate::entity::{application, budget_movement, disbursement};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::BTreeMap;

const SCHEDULED: &str = "scheduled";
const PAID: &str = "paid";
const CANCELLED: &str = "cancelled";

/// Inserts the instalments of application `id`, numbered from 1 in
/// `plan`'s order: each its due date and amount.
pub async fn schedule(
    tx: &DatabaseTransaction,
    id: i64,
    plan: &[(NaiveDate, i64)],
) -> Result<(), StoreError> {
    for (seq, (due, amount_fen)) in plan.iter().enumerate() {
        disbursement::ActiveModel {
            application_id: Set(id),
            seq: Set(seq as i32 + 1),
            due_on: Set(*due),
            amount_fen: Set(*amount_fen),
            status: Set(SCHEDULED.to_owned()),
            paid_at: Set(None),
            ..Default::default()
        }
        .insert(tx)
        .await?;
    }
    Ok(())
}

/// Pays instalment `id` if it is still scheduled: `false`, with nothing
/// written, when another run paid or cancelled it meanwhile.
pub async fn pay(tx: &DatabaseTransaction, id: i64, at: DateTime<Utc>) -> Result<bool, StoreError> {
    let pay = Query::update()
        .table("disbursements")
        .value("status", PAID)
        .value("paid_at", at)
        .and_where(Expr::col("id").eq(id))
        .and_where(Expr::col("status").eq(SCHEDULED))
        .take();
    Ok(tx.execute(&pay).await?.rows_affected() == 1)
}

/// How many instalments of application `id` are still scheduled.
pub async fn scheduled_left<C: ConnectionTrait>(db: &C, id: i64) -> Result<u64, StoreError> {
    Ok(disbursement::Entity::find()
        .filter(disbursement::Column::ApplicationId.eq(id))
        .filter(disbursement::Column::Status.eq(SCHEDULED))
        .count(db)
        .await?)
}

/// Cancels the instalments of application `id` still scheduled.
pub async fn cancel_scheduled(tx: &DatabaseTransaction, id: i64) -> Result<(), StoreError> {
    let cancel = Query::update()
        .table("disbursements")
        .value("status", CANCELLED)
        .and_where(Expr::col("application_id").eq(id))
        .and_where(Expr::col("status").eq(SCHEDULED))
        .take();
    tx.execute(&cancel).await?;
    Ok(())
}

/// Releases what `app` still holds in its budget (nothing without a
/// budget): see [`held_by`].
pub async fn release_held(
    tx: &DatabaseTransaction,
    app: &application::Model,
    cause: Cause<'_>,
) -> Result<(), BudgetError> {
    let Some(budget_id) = app.budget_id else {
        return Ok(());
    };
    let held = held_by(tx, budget_id, app.id).await?;
    if held > 0 {
        budget::apply(tx, budget_id, Movement::Release, held, cause).await?;
    }
    Ok(())
}

/// What application `id` holds in budget `budget_id`, from the budget's
/// own movements in its name: reserved, less released and spent, plus
/// refunded. A benefit handed on (a voucher issued into a wallet) released
/// the application's hold when the wallet took it, so it is not released
/// twice.
pub async fn held_by<C: ConnectionTrait>(
    db: &C,
    budget_id: i64,
    id: i64,
) -> Result<i64, StoreError> {
    Ok(held_by_applications(db, budget_id)
        .await?
        .get(&id)
        .copied()
        .unwrap_or(0))
}

/// What each application holds in budget `budget_id` (see [`held_by`]);
/// applications that hold nothing are left out.
pub async fn held_by_applications<C: ConnectionTrait>(
    db: &C,
    budget_id: i64,
) -> Result<BTreeMap<i64, i64>, StoreError> {
    let movements = budget_movement::Entity::find()
        .filter(budget_movement::Column::BudgetId.eq(budget_id))
        .filter(budget_movement::Column::ApplicationId.is_not_null())
        .all(db)
        .await?;
    let mut held: BTreeMap<i64, i64> = BTreeMap::new();
    for m in movements {
        let sign = match m.kind.as_str() {
            "reserve" | "refund" => 1,
            "release" | "spend" => -1,
            _ => 0,
        };
        *held
            .entry(m.application_id.unwrap_or_default())
            .or_default() += sign * m.amount_fen;
    }
    held.retain(|_, h| *h != 0);
    Ok(held)
}

/// Stops paying `app` (a claw-back, or eligibility lapsed): its scheduled
/// instalments are cancelled, what it still holds is released and its
/// grant ends on `ends_on` (today, or the end of a notice period), unless
/// it ends earlier.
pub async fn stop_payments(
    tx: &DatabaseTransaction,
    app: &application::Model,
    cause: Cause<'_>,
    ends_on: NaiveDate,
) -> Result<(), BudgetError> {
    cancel_scheduled(tx, app.id).await?;
    release_held(tx, app, cause).await?;
    crate::grants::end_by_source(tx, &format!("application:{}", app.id), ends_on).await?;
    Ok(())
}

/// The instalments of application `id`, in order.
pub async fn instalments<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Vec<disbursement::Model>, StoreError> {
    Ok(disbursement::Entity::find()
        .filter(disbursement::Column::ApplicationId.eq(id))
        .order_by_asc(disbursement::Column::Seq)
        .all(db)
        .await?)
}

/// The scheduled instalments due on or before `as_of`, by application and
/// in order.
pub async fn due<C: ConnectionTrait>(
    db: &C,
    as_of: NaiveDate,
) -> Result<Vec<disbursement::Model>, StoreError> {
    Ok(disbursement::Entity::find()
        .filter(disbursement::Column::Status.eq(SCHEDULED))
        .filter(disbursement::Column::DueOn.lte(as_of))
        .order_by_asc(disbursement::Column::ApplicationId)
        .order_by_asc(disbursement::Column::Seq)
        .all(db)
        .await?)
}

/// The instalments due in `[from, to]`, of `district`'s applications only
/// when given, by due date and application.
pub async fn instalments_between<C: ConnectionTrait>(
    db: &C,
    from: NaiveDate,
    to: NaiveDate,
    district: Option<&str>,
) -> Result<Vec<disbursement::Model>, StoreError> {
    let mut query = disbursement::Entity::find();
    if let Some(d) = district {
        let in_district = Query::select()
            .column(application::Column::Id)
            .from(application::Entity)
            .and_where(application::Column::District.eq(d))
            .take();
        query = query.filter(disbursement::Column::ApplicationId.in_subquery(in_district));
    }
    Ok(query
        .filter(disbursement::Column::DueOn.gte(from))
        .filter(disbursement::Column::DueOn.lte(to))
        .order_by_asc(disbursement::Column::DueOn)
        .order_by_asc(disbursement::Column::ApplicationId)
        .limit(1_000_000)
        .all(db)
        .await?)
}
