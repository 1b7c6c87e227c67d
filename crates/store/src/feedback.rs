//! Feedback given from the portal's pages: written once, read newest first.

use crate::StoreError;
use crate::entity::feedback;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect, Set,
};

/// Keeps one piece of feedback.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    account_id: Option<i64>,
    page: &str,
    message: &str,
    at: DateTime<Utc>,
) -> Result<feedback::Model, StoreError> {
    Ok(feedback::ActiveModel {
        account_id: Set(account_id),
        page: Set(page.to_owned()),
        message: Set(message.to_owned()),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Up to `limit` pieces of feedback after skipping `offset`, newest first,
/// with how many there are.
pub async fn newest<C: ConnectionTrait>(
    db: &C,
    offset: u64,
    limit: u64,
) -> Result<(Vec<feedback::Model>, u64), StoreError> {
    let total = feedback::Entity::find().count(db).await?;
    let rows = feedback::Entity::find()
        .order_by_desc(feedback::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows, total))
}
