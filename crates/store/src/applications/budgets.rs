//! Programme budgets as the applications workflow creates and reads them.
//! Their figures change only through the budget guard ([`crate::budget`]):
//! a budget is created empty and funded by a movement.

use crate::StoreError;
use crate::entity::budget;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

/// Inserts an empty budget of `programme` for `authority` (`municipal` or
/// a district) and `year`; [`StoreError::Unique`] when it exists.
pub async fn create(
    tx: &DatabaseTransaction,
    programme: &str,
    year: i32,
    authority: &str,
    at: DateTime<Utc>,
) -> Result<budget::Model, StoreError> {
    Ok(budget::ActiveModel {
        programme: Set(programme.to_owned()),
        year: Set(year),
        authority: Set(authority.to_owned()),
        total_fen: Set(0),
        reserved_fen: Set(0),
        spent_fen: Set(0),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(tx)
    .await?)
}

/// Budget `id`.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<budget::Model>, StoreError> {
    Ok(budget::Entity::find_by_id(id).one(db).await?)
}

/// Every budget, by programme and year.
pub async fn all<C: ConnectionTrait>(db: &C) -> Result<Vec<budget::Model>, StoreError> {
    Ok(budget::Entity::find()
        .order_by_asc(budget::Column::Programme)
        .order_by_asc(budget::Column::Year)
        .all(db)
        .await?)
}

/// The budgets of any of `programmes` in any of `years`.
pub async fn of_programmes<C: ConnectionTrait>(
    db: &C,
    programmes: impl IntoIterator<Item = &str>,
    years: impl IntoIterator<Item = i32>,
) -> Result<Vec<budget::Model>, StoreError> {
    Ok(budget::Entity::find()
        .filter(budget::Column::Programme.is_in(programmes))
        .filter(budget::Column::Year.is_in(years))
        .all(db)
        .await?)
}
