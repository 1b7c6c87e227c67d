//! The ledger's accounts: opening (idempotent by code), locking, closing
//! and reopening. Guards that an account is created once however many
//! callers race to open it, and that a caller can hold an account still
//! while it decides (a voucher issue or expiry reads a wallet, then moves
//! it). Balances are not written here: only transfers move them.

use crate::StoreError;
use crate::entity::ledger_account;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};

/// What a new account is.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub code: String,
    pub ledger: String,
    pub kind: &'static str,
    pub enterprise_id: Option<i64>,
    pub provider_id: Option<i64>,
    pub budget_id: Option<i64>,
    pub valid_until: Option<chrono::NaiveDate>,
    pub debits_must_not_exceed_credits: bool,
    pub credits_must_not_exceed_debits: bool,
    pub at: DateTime<Utc>,
}

/// The account with `code`, created as described when it does not exist yet.
/// Concurrent callers get the same account.
pub async fn open_account(
    tx: &DatabaseTransaction,
    new: NewAccount,
) -> Result<ledger_account::Model, StoreError> {
    if let Some(found) = account_by_code(tx, &new.code).await? {
        return Ok(found);
    }
    let model = ledger_account::ActiveModel {
        code: Set(new.code.clone()),
        ledger: Set(new.ledger),
        kind: Set(new.kind.to_owned()),
        enterprise_id: Set(new.enterprise_id),
        provider_id: Set(new.provider_id),
        budget_id: Set(new.budget_id),
        valid_until: Set(new.valid_until),
        debits_must_not_exceed_credits: Set(new.debits_must_not_exceed_credits),
        credits_must_not_exceed_debits: Set(new.credits_must_not_exceed_debits),
        debits_pending: Set(0),
        debits_posted: Set(0),
        credits_pending: Set(0),
        credits_posted: Set(0),
        created_at: Set(new.at),
        updated_at: Set(new.at),
        closed_at: Set(None),
        ..Default::default()
    };
    ledger_account::Entity::insert(model)
        .on_conflict(
            OnConflict::column(ledger_account::Column::Code)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(tx)
        .await?;
    account_by_code(tx, &new.code)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn account_by_code<C: ConnectionTrait>(
    db: &C,
    code: &str,
) -> Result<Option<ledger_account::Model>, StoreError> {
    Ok(ledger_account::Entity::find()
        .filter(ledger_account::Column::Code.eq(code))
        .one(db)
        .await?)
}

/// Takes the account's row lock (PostgreSQL; SQLite's write transaction is
/// already exclusive) so that what is read next stays true until commit.
pub async fn lock_account(tx: &DatabaseTransaction, id: i64) -> Result<(), StoreError> {
    let touch = Query::update()
        .table("ledger_accounts")
        .value("id", Expr::col("id"))
        .and_where(Expr::col("id").eq(id))
        .take();
    if tx.execute(&touch).await?.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Closes an account: no new debits or credits until it is reopened.
pub async fn close_account(
    tx: &DatabaseTransaction,
    id: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let update = Query::update()
        .table("ledger_accounts")
        .value("closed_at", at)
        .value("updated_at", at)
        .and_where(Expr::col("id").eq(id))
        .take();
    tx.execute(&update).await?;
    Ok(())
}

/// Reopens a closed account, re-pointing it at a budget and a validity (a
/// wallet receiving a new voucher after the last one expired).
pub async fn reopen_account(
    tx: &DatabaseTransaction,
    id: i64,
    budget_id: Option<i64>,
    valid_until: Option<chrono::NaiveDate>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let update = Query::update()
        .table("ledger_accounts")
        .value("closed_at", Option::<DateTime<Utc>>::None)
        .value("budget_id", budget_id)
        .value("valid_until", valid_until)
        .value("updated_at", at)
        .and_where(Expr::col("id").eq(id))
        .take();
    tx.execute(&update).await?;
    Ok(())
}
