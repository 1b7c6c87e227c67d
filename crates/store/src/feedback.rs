//! Feedback given from the portal's pages: written once, read newest first.
//!
//! The rate limit's guard is [`insert_within`] (counted as [`crate::rate`]
//! says), so however many arrive at once, no more than the limit are kept.

use crate::StoreError;
use crate::entity::feedback;
use crate::intervals::lock_keys;
use crate::rate::{self, Kept, Limit};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::BTreeSet;

/// A piece of feedback to keep.
#[derive(Debug, Clone, Copy)]
pub struct NewFeedback<'a> {
    pub account_id: Option<i64>,
    /// Who sent it (see migration m0019).
    pub sender: &'a str,
    pub page: &'a str,
    pub message: &'a str,
    pub at: DateTime<Utc>,
}

/// Keeps `new` unless its sender already gave `limit.per_sender` pieces
/// within `limit.window`.
pub async fn insert_within(
    tx: &DatabaseTransaction,
    new: NewFeedback<'_>,
    limit: Limit,
) -> Result<Kept<i64>, StoreError> {
    lock_keys(tx, &BTreeSet::from([format!("feedback:{}", new.sender)])).await?;
    let since = new.at - limit.window;
    let recent: Vec<DateTime<Utc>> = feedback::Entity::find()
        .select_only()
        .column(feedback::Column::CreatedAt)
        .filter(feedback::Column::Sender.eq(new.sender))
        .filter(feedback::Column::CreatedAt.gt(since))
        .order_by_asc(feedback::Column::CreatedAt)
        .into_tuple()
        .all(tx)
        .await?;
    if let Some(wait) = rate::wait(&recent, limit, new.at) {
        return Ok(Kept::Wait(wait));
    }
    let saved = feedback::ActiveModel {
        account_id: Set(new.account_id),
        sender: Set(Some(new.sender.to_owned())),
        page: Set(new.page.to_owned()),
        message: Set(new.message.to_owned()),
        created_at: Set(new.at),
        ..Default::default()
    }
    .insert(tx)
    .await?;
    Ok(Kept::Yes(saved.id))
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
