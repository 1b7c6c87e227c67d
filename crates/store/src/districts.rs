//! District settings. Invariant: **a setting holds one of its values** (a
//! CHECK constraint on `districts.housing_allocator`).

use crate::StoreError;
use crate::entity::district;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use std::collections::BTreeMap;

/// Who allocates each district's housing in its communities, by district id.
pub async fn housing_allocators<C: ConnectionTrait>(
    db: &C,
) -> Result<BTreeMap<String, String>, StoreError> {
    Ok(district::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.housing_allocator))
        .collect())
}

/// Sets who allocates district `id`'s housing in its communities; `None`
/// when there is no such district.
pub async fn set_housing_allocator(
    tx: &DatabaseTransaction,
    id: &str,
    allocator: &str,
) -> Result<Option<district::Model>, StoreError> {
    let changed = district::Entity::update_many()
        .col_expr(district::Column::HousingAllocator, Expr::value(allocator))
        .filter(district::Column::Id.eq(id))
        .exec(tx)
        .await?
        .rows_affected;
    if changed == 0 {
        return Ok(None);
    }
    Ok(district::Entity::find_by_id(id.to_owned()).one(tx).await?)
}
