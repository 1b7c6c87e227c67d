//! The eligibility-flags guard (`m0014_eligibility_flags`): at most one
//! open flag per application, and a flag decided once.
//!
//! - [`raise`] takes the application's turn (`intervals::lock_key`) and
//!   writes a flag only when none is open, so a recheck racing a payment
//!   run (both may find a lapse) leaves one flag; the partial unique index
//!   is the backstop.
//! - [`decide`] and [`respond`] are conditional UPDATEs from `open`: a
//!   second decision, or an answer to a decided flag, writes nothing.

use crate::StoreError;
use crate::entity::eligibility_flag;
use crate::intervals::lock_key;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use std::collections::BTreeSet;

pub const OPEN: &str = "open";
pub const CONFIRMED: &str = "confirmed";
pub const LIFTED: &str = "lifted";

/// A lapse about to be flagged.
#[derive(Debug, Clone, Copy)]
pub struct NewFlag<'a> {
    pub application_id: i64,
    pub programme: &'a str,
    pub district: &'a str,
    pub as_of: NaiveDate,
    pub explanation: &'a str,
    pub at: DateTime<Utc>,
}

/// Flags the application unless a flag of it is open: `None` then, with
/// nothing written.
pub async fn raise(
    tx: &DatabaseTransaction,
    flag: NewFlag<'_>,
) -> Result<Option<eligibility_flag::Model>, StoreError> {
    lock_key(tx, &format!("flag:application:{}", flag.application_id)).await?;
    if open_of(tx, [flag.application_id])
        .await?
        .contains(&flag.application_id)
    {
        return Ok(None);
    }
    Ok(Some(
        eligibility_flag::ActiveModel {
            application_id: Set(flag.application_id),
            programme: Set(flag.programme.to_owned()),
            district: Set(flag.district.to_owned()),
            as_of: Set(flag.as_of),
            explanation: Set(flag.explanation.to_owned()),
            status: Set(OPEN.to_owned()),
            response: Set(None),
            responded_at: Set(None),
            decided_by: Set(None),
            decision_note: Set(None),
            decided_at: Set(None),
            created_at: Set(flag.at),
            ..Default::default()
        }
        .insert(tx)
        .await?,
    ))
}

/// Which of `applications` have an open flag.
pub async fn open_of<C: ConnectionTrait>(
    db: &C,
    applications: impl IntoIterator<Item = i64>,
) -> Result<BTreeSet<i64>, StoreError> {
    Ok(eligibility_flag::Entity::find()
        .filter(eligibility_flag::Column::ApplicationId.is_in(applications))
        .filter(eligibility_flag::Column::Status.eq(OPEN))
        .all(db)
        .await?
        .into_iter()
        .map(|f| f.application_id)
        .collect())
}

/// The open flag of application `id`, if any.
pub async fn open_of_application<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<eligibility_flag::Model>, StoreError> {
    Ok(eligibility_flag::Entity::find()
        .filter(eligibility_flag::Column::ApplicationId.eq(id))
        .filter(eligibility_flag::Column::Status.eq(OPEN))
        .one(db)
        .await?)
}

pub async fn find<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<eligibility_flag::Model>, StoreError> {
    Ok(eligibility_flag::Entity::find_by_id(id).one(db).await?)
}

/// The flags of `district` (every district when `None`) in `status`,
/// oldest first; of one application when `application` is given.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    district: Option<&str>,
    status: Option<&str>,
    application: Option<i64>,
) -> Result<Vec<eligibility_flag::Model>, StoreError> {
    let mut q = eligibility_flag::Entity::find();
    if let Some(d) = district {
        q = q.filter(eligibility_flag::Column::District.eq(d));
    }
    if let Some(s) = status {
        q = q.filter(eligibility_flag::Column::Status.eq(s));
    }
    if let Some(a) = application {
        q = q.filter(eligibility_flag::Column::ApplicationId.eq(a));
    }
    Ok(q.order_by_asc(eligibility_flag::Column::Id).all(db).await?)
}

/// The flags of `applications`, by id (oldest first within each).
pub async fn of_applications<C: ConnectionTrait>(
    db: &C,
    applications: impl IntoIterator<Item = i64>,
) -> Result<Vec<eligibility_flag::Model>, StoreError> {
    Ok(eligibility_flag::Entity::find()
        .filter(eligibility_flag::Column::ApplicationId.is_in(applications))
        .order_by_asc(eligibility_flag::Column::Id)
        .all(db)
        .await?)
}

/// Decides open flag `id` (`to`: [`CONFIRMED`] or [`LIFTED`]); `None`, with
/// nothing written, when it was decided already.
pub async fn decide(
    tx: &DatabaseTransaction,
    id: i64,
    to: &str,
    by: &str,
    note: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Option<eligibility_flag::Model>, StoreError> {
    let update = Query::update()
        .table(eligibility_flag::Entity)
        .value(eligibility_flag::Column::Status, to)
        .value(eligibility_flag::Column::DecidedBy, by)
        .value(eligibility_flag::Column::DecisionNote, note)
        .value(eligibility_flag::Column::DecidedAt, at)
        .and_where(Expr::col(eligibility_flag::Column::Id).eq(id))
        .and_where(Expr::col(eligibility_flag::Column::Status).eq(OPEN))
        .take();
    if tx.execute(&update).await?.rows_affected() == 0 {
        return Ok(None);
    }
    find(tx, id).await
}

/// Records the founder's answer to open flag `id`; `None` when decided.
pub async fn respond(
    tx: &DatabaseTransaction,
    id: i64,
    response: &str,
    at: DateTime<Utc>,
) -> Result<Option<eligibility_flag::Model>, StoreError> {
    let update = Query::update()
        .table(eligibility_flag::Entity)
        .value(eligibility_flag::Column::Response, response)
        .value(eligibility_flag::Column::RespondedAt, at)
        .and_where(Expr::col(eligibility_flag::Column::Id).eq(id))
        .and_where(Expr::col(eligibility_flag::Column::Status).eq(OPEN))
        .take();
    if tx.execute(&update).await?.rows_affected() == 0 {
        return Ok(None);
    }
    find(tx, id).await
}
