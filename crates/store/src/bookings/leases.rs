//! Housing leases: reserved, moved into, extended and ended.

use super::transition;
use crate::StoreError;
use crate::entity::housing_lease;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    Set,
};

/// A lease about to reserve a housing unit.
#[derive(Debug, Clone)]
pub struct NewLease {
    pub housing_unit_id: i64,
    pub person_id: i64,
    pub enterprise_id: Option<i64>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub months: i32,
    pub market_rent_fen: i64,
    pub rent_percent: i32,
    pub monthly_rent_fen: i64,
    pub at: DateTime<Utc>,
}

/// Inserts `lease`, reserved; the database refuses it
/// ([`StoreError::Overlap`]) when it overlaps a holding of its unit.
pub async fn insert_lease(
    tx: &DatabaseTransaction,
    lease: NewLease,
) -> Result<housing_lease::Model, StoreError> {
    Ok(housing_lease::ActiveModel {
        housing_unit_id: Set(lease.housing_unit_id),
        person_id: Set(lease.person_id),
        enterprise_id: Set(lease.enterprise_id),
        start_at: Set(lease.start),
        end_at: Set(lease.end),
        months: Set(lease.months),
        market_rent_fen: Set(lease.market_rent_fen),
        rent_percent: Set(lease.rent_percent),
        monthly_rent_fen: Set(lease.monthly_rent_fen),
        status: Set("reserved".to_owned()),
        moved_in_at: Set(None),
        moved_out_at: Set(None),
        created_at: Set(lease.at),
        updated_at: Set(lease.at),
        ..Default::default()
    }
    .insert(tx)
    .await?)
}

const CURRENT_LEASE: [&str; 2] = ["reserved", "active"];

async fn lease_transition(
    tx: &DatabaseTransaction,
    id: i64,
    from: &[&str],
    sets: Vec<(housing_lease::Column, SimpleExpr)>,
) -> Result<Option<housing_lease::Model>, StoreError> {
    transition::<housing_lease::Entity, _>(
        tx,
        id,
        housing_lease::Column::Id,
        housing_lease::Column::Status,
        from,
        sets,
    )
    .await
}

/// A reserved lease becomes active: the tenant moved in at `at`.
pub async fn move_in(
    tx: &DatabaseTransaction,
    id: i64,
    at: DateTime<Utc>,
) -> Result<Option<housing_lease::Model>, StoreError> {
    use housing_lease::Column as L;
    lease_transition(
        tx,
        id,
        &["reserved"],
        vec![
            (L::Status, Expr::value("active")),
            (L::MovedInAt, Expr::value(Some(at))),
            (L::UpdatedAt, Expr::value(at)),
        ],
    )
    .await
}

/// A current (reserved or active) lease now holds its unit until `end`,
/// `months` in all; the database refuses an extension that overlaps.
pub async fn extend_lease(
    tx: &DatabaseTransaction,
    id: i64,
    end: DateTime<Utc>,
    months: i32,
    at: DateTime<Utc>,
) -> Result<Option<housing_lease::Model>, StoreError> {
    use housing_lease::Column as L;
    lease_transition(
        tx,
        id,
        &CURRENT_LEASE,
        vec![
            (L::EndAt, Expr::value(end)),
            (L::Months, Expr::value(months)),
            (L::UpdatedAt, Expr::value(at)),
        ],
    )
    .await
}

/// A current lease ended: it holds its unit until `end` and counts `months`.
pub async fn end_lease(
    tx: &DatabaseTransaction,
    id: i64,
    end: DateTime<Utc>,
    months: i32,
    at: DateTime<Utc>,
) -> Result<Option<housing_lease::Model>, StoreError> {
    use housing_lease::Column as L;
    lease_transition(
        tx,
        id,
        &CURRENT_LEASE,
        vec![
            (L::Status, Expr::value("ended")),
            (L::EndAt, Expr::value(end)),
            (L::Months, Expr::value(months)),
            (L::MovedOutAt, Expr::value(Some(at))),
            (L::UpdatedAt, Expr::value(at)),
        ],
    )
    .await
}

/// A current lease cancelled before it began: it no longer holds its unit
/// nor counts against the person's months.
pub async fn cancel_lease(
    tx: &DatabaseTransaction,
    id: i64,
    at: DateTime<Utc>,
) -> Result<Option<housing_lease::Model>, StoreError> {
    use housing_lease::Column as L;
    lease_transition(
        tx,
        id,
        &CURRENT_LEASE,
        vec![
            (L::Status, Expr::value("cancelled")),
            (L::UpdatedAt, Expr::value(at)),
        ],
    )
    .await
}

/// The person's leases that were not cancelled (every month they count
/// against the pack's limit); read under the person's grants turn
/// (`grants::lock_subject`) when a lease depends on it.
pub async fn live_leases_of<C: ConnectionTrait>(
    db: &C,
    person_id: i64,
) -> Result<Vec<housing_lease::Model>, StoreError> {
    Ok(housing_lease::Entity::find()
        .filter(housing_lease::Column::PersonId.eq(person_id))
        .filter(housing_lease::Column::Status.ne("cancelled"))
        .all(db)
        .await?)
}
