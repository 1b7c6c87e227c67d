//! Proposed changes to waiting space requests. Invariants:
//! - **One open proposal per request**: a partial unique index
//!   (`status = 'proposed'`); [`propose`] answers `None` when the request
//!   has one already.
//! - **A proposal is answered once**: [`answer_amendment`] is one
//!   conditional UPDATE from `proposed`.
//! - **Terms change only on a waiting request**: [`apply_terms`] is one
//!   conditional UPDATE of the request while it is `waiting`, so an offer
//!   made meanwhile wins and the acceptance changes nothing; callers hold
//!   the request's row lock across their read and this write.
//! - **A request that leaves the waitlist takes no proposal with it**:
//!   [`close_open_amendments`] withdraws what is still proposed.

use super::transition;
use crate::StoreError;
use crate::entity::{space_request, space_request_amendment as amendment};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

/// A request's terms: what an amendment proposes, and what the request
/// becomes when it is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub kind: String,
    pub team_size: i32,
    pub wanted_from: NaiveDate,
    pub months: i32,
}

/// Writes a proposal for request `request_id`, unless one is open already.
pub async fn propose(
    tx: &DatabaseTransaction,
    request_id: i64,
    terms: Terms,
    reason: &str,
    by: i64,
    at: DateTime<Utc>,
) -> Result<Option<amendment::Model>, StoreError> {
    let saved = amendment::ActiveModel {
        request_id: Set(request_id),
        kind: Set(terms.kind),
        team_size: Set(terms.team_size),
        wanted_from: Set(terms.wanted_from),
        months: Set(terms.months),
        reason: Set(reason.to_owned()),
        status: Set("proposed".to_owned()),
        proposed_by: Set(by),
        proposed_at: Set(at),
        ..Default::default()
    }
    .insert(tx)
    .await;
    match saved.map_err(StoreError::from) {
        Ok(model) => Ok(Some(model)),
        Err(StoreError::Unique(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Moves a proposal to `to` (`accepted`, `declined`, `withdrawn`); `None`
/// when it is no longer proposed.
pub async fn answer_amendment(
    tx: &DatabaseTransaction,
    id: i64,
    to: &str,
    by: i64,
    at: DateTime<Utc>,
) -> Result<Option<amendment::Model>, StoreError> {
    use amendment::Column as A;
    transition::<amendment::Entity, _>(
        tx,
        id,
        A::Id,
        A::Status,
        &["proposed"],
        vec![
            (A::Status, Expr::value(to)),
            (A::AnsweredBy, Expr::value(by)),
            (A::AnsweredAt, Expr::value(at)),
        ],
    )
    .await
}

/// Gives waiting request `id` new terms; `None` when it is not waiting.
pub async fn apply_terms(
    tx: &DatabaseTransaction,
    id: i64,
    terms: Terms,
    at: DateTime<Utc>,
) -> Result<Option<space_request::Model>, StoreError> {
    use space_request::Column as R;
    transition::<space_request::Entity, _>(
        tx,
        id,
        R::Id,
        R::Status,
        &["waiting"],
        vec![
            (R::Kind, Expr::value(terms.kind)),
            (R::TeamSize, Expr::value(terms.team_size)),
            (R::WantedFrom, Expr::value(terms.wanted_from)),
            (R::Months, Expr::value(terms.months)),
            (R::UpdatedAt, Expr::value(at)),
        ],
    )
    .await
}

/// Withdraws what is still proposed for request `request_id`, as it leaves
/// the waitlist (offered a unit, or withdrawn): a proposal for a request no
/// longer waiting would come back stale if the request waited again.
pub async fn close_open_amendments(
    tx: &DatabaseTransaction,
    request_id: i64,
    by: i64,
    at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    Ok(amendment::Entity::update_many()
        .col_expr(amendment::Column::Status, Expr::value("withdrawn"))
        .col_expr(amendment::Column::AnsweredBy, Expr::value(by))
        .col_expr(amendment::Column::AnsweredAt, Expr::value(at))
        .filter(amendment::Column::RequestId.eq(request_id))
        .filter(amendment::Column::Status.eq("proposed"))
        .exec(tx)
        .await?
        .rows_affected)
}

/// The amendment `id`.
pub async fn amendment<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<amendment::Model>, StoreError> {
    Ok(amendment::Entity::find_by_id(id).one(db).await?)
}

/// The open proposals of `requests`, oldest first.
pub async fn open_amendments<C: ConnectionTrait>(
    db: &C,
    requests: impl IntoIterator<Item = i64>,
) -> Result<Vec<amendment::Model>, StoreError> {
    Ok(amendment::Entity::find()
        .filter(amendment::Column::RequestId.is_in(requests))
        .filter(amendment::Column::Status.eq("proposed"))
        .order_by_asc(amendment::Column::Id)
        .all(db)
        .await?)
}
