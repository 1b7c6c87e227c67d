//! One-time links mailed to an account: verifying a new account's address,
//! resetting a forgotten password. Invariants:
//! - **Secrets are stored hashed**: a link is found by the SHA-256 of its
//!   secret, which the caller computes; the secret itself never reaches the
//!   store.
//! - **A link works once, before it expires**: [`redeem`] marks it used with
//!   one conditional UPDATE (unused, unexpired), so of two uses at once one
//!   wins; nothing clears `used_at`.
//! - **Only the newest link of a purpose works**: [`issue_within`] marks the
//!   account's earlier unused links of that purpose used.
//! - **Links are rate limited per account and purpose**
//!   ([`issue_within`], counted as [`crate::rate`] says), so nobody can
//!   flood someone's mailbox through the portal.

use crate::StoreError;
use crate::entity::account_link;
use crate::intervals::lock_keys;
use crate::rate::{self, Kept, Limit};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use std::collections::BTreeSet;

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    pub fn id(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }
}

/// A link about to be mailed.
#[derive(Debug, Clone, Copy)]
pub struct NewLink<'a> {
    pub account_id: i64,
    pub purpose: Purpose,
    /// SHA-256 of the secret, hex.
    pub secret_hash: &'a str,
    pub at: DateTime<Utc>,
    pub lasts: Duration,
}

/// Stores `new` as the account's one working link of its purpose, unless
/// `limit.per_sender` links of that purpose were issued to the account
/// within `limit.window`.
pub async fn issue_within(
    tx: &DatabaseTransaction,
    new: NewLink<'_>,
    limit: Limit,
) -> Result<Kept<i64>, StoreError> {
    let purpose = new.purpose.id();
    let key = format!("account_link:{}:{purpose}", new.account_id);
    lock_keys(tx, &BTreeSet::from([key])).await?;
    let recent: Vec<DateTime<Utc>> = account_link::Entity::find()
        .select_only()
        .column(account_link::Column::CreatedAt)
        .filter(account_link::Column::AccountId.eq(new.account_id))
        .filter(account_link::Column::Purpose.eq(purpose))
        .filter(account_link::Column::CreatedAt.gt(new.at - limit.window))
        .order_by_asc(account_link::Column::CreatedAt)
        .into_tuple()
        .all(tx)
        .await?;
    if let Some(wait) = rate::wait(&recent, limit, new.at) {
        return Ok(Kept::Wait(wait));
    }
    account_link::Entity::update_many()
        .col_expr(account_link::Column::UsedAt, Expr::value(new.at))
        .filter(account_link::Column::AccountId.eq(new.account_id))
        .filter(account_link::Column::Purpose.eq(purpose))
        .filter(account_link::Column::UsedAt.is_null())
        .exec(tx)
        .await?;
    let saved = account_link::ActiveModel {
        account_id: Set(new.account_id),
        purpose: Set(purpose.to_owned()),
        secret_hash: Set(new.secret_hash.to_owned()),
        created_at: Set(new.at),
        expires_at: Set(new.at + new.lasts),
        ..Default::default()
    }
    .insert(tx)
    .await?;
    Ok(Kept::Yes(saved.id))
}

/// The account a working link (unused, unexpired at `at`) of `purpose` is
/// for, without using it (a page asking for the new password first).
pub async fn working<C: ConnectionTrait>(
    db: &C,
    purpose: Purpose,
    secret_hash: &str,
    at: DateTime<Utc>,
) -> Result<Option<i64>, StoreError> {
    Ok(account_link::Entity::find()
        .select_only()
        .column(account_link::Column::AccountId)
        .filter(account_link::Column::SecretHash.eq(secret_hash))
        .filter(account_link::Column::Purpose.eq(purpose.id()))
        .filter(account_link::Column::UsedAt.is_null())
        .filter(account_link::Column::ExpiresAt.gt(at))
        .into_tuple()
        .one(db)
        .await?)
}

/// Uses the working link of `purpose` whose secret hashes to `secret_hash`:
/// the account it is for, or `None` when there is no such link or it was
/// used (by this call's rival too), replaced or expired.
pub async fn redeem(
    tx: &DatabaseTransaction,
    purpose: Purpose,
    secret_hash: &str,
    at: DateTime<Utc>,
) -> Result<Option<i64>, StoreError> {
    let Some(account_id) = working(tx, purpose, secret_hash, at).await? else {
        return Ok(None);
    };
    let done = account_link::Entity::update_many()
        .col_expr(account_link::Column::UsedAt, Expr::value(at))
        .filter(account_link::Column::SecretHash.eq(secret_hash))
        .filter(account_link::Column::UsedAt.is_null())
        .filter(account_link::Column::ExpiresAt.gt(at))
        .exec(tx)
        .await?;
    Ok((done.rows_affected == 1).then_some(account_id))
}

/// Whether account `account_id` has a working link of `purpose` at `at`.
pub async fn has_working<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    purpose: Purpose,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(account_link::Entity::find()
        .filter(account_link::Column::AccountId.eq(account_id))
        .filter(account_link::Column::Purpose.eq(purpose.id()))
        .filter(account_link::Column::UsedAt.is_null())
        .filter(account_link::Column::ExpiresAt.gt(at))
        .one(db)
        .await?
        .is_some())
}

/// Ends the link whose secret hashes to `secret_hash` unused (its mail was
/// never delivered).
pub async fn void(
    tx: &DatabaseTransaction,
    secret_hash: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    account_link::Entity::update_many()
        .col_expr(account_link::Column::UsedAt, Expr::value(at))
        .filter(account_link::Column::SecretHash.eq(secret_hash))
        .filter(account_link::Column::UsedAt.is_null())
        .exec(tx)
        .await?;
    Ok(())
}
