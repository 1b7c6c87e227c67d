//! The delivery guard: the requests and referrals an accepted approval
//! becomes (`services::applications::delivery` decides which).
//!
//! Invariants, each held by the database:
//! - **One delivery per application.** `housing_requests`, `referrals` and
//!   `space_requests` are unique by `application_id`, and the grant rows a
//!   delivery writes are unique by source, benefit and detail
//!   (`m0013_delivery`), so a retried or racing acceptance cannot deliver
//!   twice even if the application's own guard were bypassed.
//! - **A housing request is served once.** [`allocate_housing_request`]
//!   moves it from `waiting` to `allocated` with its lease in one guarded
//!   UPDATE; a second allocation finds it allocated and writes nothing. The
//!   table's CHECK ties `allocated` to a lease.

use crate::StoreError;
use crate::entity::{housing_request, ledger_transfer, referral, space_request};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

pub const WAITING: &str = "waiting";
pub const ALLOCATED: &str = "allocated";
pub const OPEN: &str = "open";

/// Transitional housing approved by application `application_id`.
#[derive(Debug, Clone, Copy)]
pub struct NewHousingRequest<'a> {
    pub application_id: i64,
    pub person_id: i64,
    pub enterprise_id: Option<i64>,
    pub district: &'a str,
    pub wanted_from: NaiveDate,
    pub months: i32,
    pub at: DateTime<Utc>,
}

pub async fn insert_housing_request(
    tx: &DatabaseTransaction,
    r: NewHousingRequest<'_>,
) -> Result<housing_request::Model, StoreError> {
    Ok(housing_request::ActiveModel {
        application_id: Set(r.application_id),
        person_id: Set(r.person_id),
        enterprise_id: Set(r.enterprise_id),
        district: Set(r.district.to_owned()),
        wanted_from: Set(r.wanted_from),
        months: Set(r.months),
        status: Set(WAITING.to_owned()),
        lease_id: Set(None),
        requested_at: Set(r.at),
        updated_at: Set(r.at),
        ..Default::default()
    }
    .insert(tx)
    .await?)
}

/// Serves a waiting housing request with `lease_id`: `None`, with nothing
/// written, when it was not waiting.
pub async fn allocate_housing_request(
    tx: &DatabaseTransaction,
    id: i64,
    lease_id: i64,
    at: DateTime<Utc>,
) -> Result<Option<housing_request::Model>, StoreError> {
    let update = Query::update()
        .table(housing_request::Entity)
        .value(housing_request::Column::Status, ALLOCATED)
        .value(housing_request::Column::LeaseId, lease_id)
        .value(housing_request::Column::UpdatedAt, at)
        .and_where(Expr::col(housing_request::Column::Id).eq(id))
        .and_where(Expr::col(housing_request::Column::Status).eq(WAITING))
        .take();
    if tx.execute(&update).await?.rows_affected() == 0 {
        return Ok(None);
    }
    Ok(housing_request::Entity::find_by_id(id).one(tx).await?)
}

/// The housing requests of `district` (every district when `None`) in
/// `status`, oldest first: the allocator's queue.
pub async fn housing_requests<C: ConnectionTrait>(
    db: &C,
    district: Option<&str>,
    status: &str,
) -> Result<Vec<housing_request::Model>, StoreError> {
    let mut query =
        housing_request::Entity::find().filter(housing_request::Column::Status.eq(status));
    if let Some(d) = district {
        query = query.filter(housing_request::Column::District.eq(d));
    }
    Ok(query
        .order_by_asc(housing_request::Column::Id)
        .all(db)
        .await?)
}

/// Every housing request of person `person_id`, oldest first.
pub async fn housing_requests_of<C: ConnectionTrait>(
    db: &C,
    person_id: i64,
) -> Result<Vec<housing_request::Model>, StoreError> {
    Ok(housing_request::Entity::find()
        .filter(housing_request::Column::PersonId.eq(person_id))
        .order_by_asc(housing_request::Column::Id)
        .all(db)
        .await?)
}

pub async fn housing_request<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<housing_request::Model>, StoreError> {
    Ok(housing_request::Entity::find_by_id(id).one(db).await?)
}

/// A referral of application `application_id` to `partner`.
#[derive(Debug, Clone, Copy)]
pub struct NewReferral<'a> {
    pub application_id: i64,
    pub programme: &'a str,
    pub person_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    pub district: &'a str,
    pub partner: &'a str,
    pub amount_fen: Option<i64>,
    pub at: DateTime<Utc>,
}

pub async fn insert_referral(
    tx: &DatabaseTransaction,
    r: NewReferral<'_>,
) -> Result<referral::Model, StoreError> {
    Ok(referral::ActiveModel {
        application_id: Set(r.application_id),
        programme: Set(r.programme.to_owned()),
        person_id: Set(r.person_id),
        enterprise_id: Set(r.enterprise_id),
        district: Set(r.district.to_owned()),
        partner: Set(r.partner.to_owned()),
        amount_fen: Set(r.amount_fen),
        status: Set(OPEN.to_owned()),
        created_at: Set(r.at),
        updated_at: Set(r.at),
        ..Default::default()
    }
    .insert(tx)
    .await?)
}

/// The open referrals to `partner`, oldest first.
pub async fn open_referrals<C: ConnectionTrait>(
    db: &C,
    partner: &str,
) -> Result<Vec<referral::Model>, StoreError> {
    Ok(referral::Entity::find()
        .filter(referral::Column::Partner.eq(partner))
        .filter(referral::Column::Status.eq(OPEN))
        .order_by_asc(referral::Column::Id)
        .all(db)
        .await?)
}

/// Withdraws what application `id` delivered that nobody has served yet:
/// its space or housing request still waiting, its referral still open.
pub async fn withdraw_waiting(
    tx: &DatabaseTransaction,
    id: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let updates = [
        Query::update()
            .table(space_request::Entity)
            .value(space_request::Column::Status, "withdrawn")
            .value(space_request::Column::UpdatedAt, at)
            .and_where(Expr::col(space_request::Column::ApplicationId).eq(id))
            .and_where(Expr::col(space_request::Column::Status).eq(WAITING))
            .take(),
        Query::update()
            .table(housing_request::Entity)
            .value(housing_request::Column::Status, "withdrawn")
            .value(housing_request::Column::UpdatedAt, at)
            .and_where(Expr::col(housing_request::Column::ApplicationId).eq(id))
            .and_where(Expr::col(housing_request::Column::Status).eq(WAITING))
            .take(),
        Query::update()
            .table(referral::Entity)
            .value(referral::Column::Status, "closed")
            .value(referral::Column::UpdatedAt, at)
            .and_where(Expr::col(referral::Column::ApplicationId).eq(id))
            .and_where(Expr::col(referral::Column::Status).eq(OPEN))
            .take(),
    ];
    for update in &updates {
        tx.execute(update).await?;
    }
    Ok(())
}

/// What application `id` was delivered as, read for its page.
#[derive(Debug, Clone, Default)]
pub struct Delivered {
    pub space_request: Option<space_request::Model>,
    pub housing_request: Option<housing_request::Model>,
    pub referral: Option<referral::Model>,
    /// The voucher issued into the wallet (`application:{id}`).
    pub voucher: Option<ledger_transfer::Model>,
}

pub async fn delivered<C: ConnectionTrait>(db: &C, id: i64) -> Result<Delivered, StoreError> {
    Ok(Delivered {
        space_request: space_request::Entity::find()
            .filter(space_request::Column::ApplicationId.eq(id))
            .one(db)
            .await?,
        housing_request: housing_request::Entity::find()
            .filter(housing_request::Column::ApplicationId.eq(id))
            .one(db)
            .await?,
        referral: referral::Entity::find()
            .filter(referral::Column::ApplicationId.eq(id))
            .one(db)
            .await?,
        voucher: crate::ledger::find_transfer(db, &format!("application:{id}")).await?,
    })
}
