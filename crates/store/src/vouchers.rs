//! The voucher rows besides the ledger's own (`crate::ledger`): providers,
//! the founders' reviews of voucher uses, dispute resolutions and the
//! notices they send, and the pool budget a voucher kind draws on. The one
//! place these rows are written.
//!
//! Invariants, kept by the database and surfaced as typed errors:
//! - one provider per service-provider account ([`StoreError::Unique`] on
//!   `account_id`);
//! - one review per voucher use and one resolution per capture (their
//!   primary keys: a second one is [`StoreError::Unique`]), so two
//!   reviewers or resolvers racing cannot both record one;
//! - one pool per (kind, year, authority): [`ensure_pool`] inserts it with
//!   `ON CONFLICT DO NOTHING` and says whether this call created it, so
//!   only one caller funds it.
//!
//! It also answers the reads that need SQL of their own: which holds are
//! still open (no post or void names them).

use crate::StoreError;
use crate::entity::{
    budget, ledger_transfer, notification, provider, voucher_dispute_resolution as resolution,
    voucher_use_review,
};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};

/// A provider registering, pending approval.
#[derive(Debug, Clone)]
pub struct NewProvider {
    pub name: String,
    pub uscc: Option<String>,
    pub category: String,
    pub account_id: i64,
    /// Space-separated voucher kinds.
    pub requested_kinds: String,
    pub at: DateTime<Utc>,
}

/// Registers `p`, pending; [`StoreError::Unique`] on `account_id` when its
/// account already has a provider.
pub async fn insert_provider(
    tx: &DatabaseTransaction,
    p: NewProvider,
) -> Result<provider::Model, StoreError> {
    Ok(provider::ActiveModel {
        name: Set(p.name),
        uscc: Set(p.uscc),
        category: Set(p.category),
        account_id: Set(p.account_id),
        requested_kinds: Set(p.requested_kinds),
        approved_kinds: Set(String::new()),
        status: Set("pending".to_owned()),
        created_at: Set(p.at),
        updated_at: Set(p.at),
        ..Default::default()
    }
    .insert(tx)
    .await?)
}

/// The provider `id`, locked until the transaction ends
/// ([`crate::rows::lock_by_id`]) so a decision builds on the last one.
pub async fn lock_provider(
    tx: &DatabaseTransaction,
    id: i64,
) -> Result<Option<provider::Model>, StoreError> {
    crate::rows::lock_by_id::<provider::Entity>(tx, id).await
}

/// Records a decision on `p` (read with [`lock_provider`]): its status and
/// the kinds it is approved for.
pub async fn decide_provider(
    tx: &DatabaseTransaction,
    p: provider::Model,
    status: &str,
    approved_kinds: String,
    at: DateTime<Utc>,
) -> Result<provider::Model, StoreError> {
    let mut model = p.into_active_model();
    model.status = Set(status.to_owned());
    model.approved_kinds = Set(approved_kinds);
    model.updated_at = Set(at);
    Ok(model.update(tx).await?)
}

/// A founder's review of one voucher use.
#[derive(Debug, Clone)]
pub struct NewUseReview {
    pub transfer_id: String,
    pub enterprise_id: i64,
    /// `confirmed` or `disputed`.
    pub decision: String,
    pub comment: Option<String>,
    pub account_id: i64,
    pub at: DateTime<Utc>,
}

/// Records `review`; [`StoreError::Unique`] when the use was reviewed.
pub async fn insert_use_review(
    tx: &DatabaseTransaction,
    review: NewUseReview,
) -> Result<voucher_use_review::Model, StoreError> {
    Ok(voucher_use_review::ActiveModel {
        transfer_id: Set(review.transfer_id),
        enterprise_id: Set(review.enterprise_id),
        decision: Set(review.decision),
        comment: Set(review.comment),
        account_id: Set(review.account_id),
        at: Set(review.at),
    }
    .insert(tx)
    .await?)
}

/// The resolution of a disputed capture.
#[derive(Debug, Clone)]
pub struct NewResolution {
    pub capture_id: String,
    pub enterprise_id: i64,
    /// `upheld` or `reversed`.
    pub outcome: String,
    /// The compensating transfer of a reversal.
    pub reversal_id: Option<String>,
    pub amount_fen: i64,
    pub comment: Option<String>,
    pub body_hash: String,
    pub account_id: i64,
    pub at: DateTime<Utc>,
}

/// Records `r`; [`StoreError::Unique`] when the capture was resolved.
pub async fn insert_resolution(
    tx: &DatabaseTransaction,
    r: NewResolution,
) -> Result<resolution::Model, StoreError> {
    Ok(resolution::ActiveModel {
        capture_id: Set(r.capture_id),
        enterprise_id: Set(r.enterprise_id),
        outcome: Set(r.outcome),
        reversal_id: Set(r.reversal_id),
        amount_fen: Set(r.amount_fen),
        comment: Set(r.comment),
        body_hash: Set(r.body_hash),
        account_id: Set(r.account_id),
        at: Set(r.at),
    }
    .insert(tx)
    .await?)
}

/// An unread notice to `account_id`.
pub async fn notify(
    tx: &DatabaseTransaction,
    account_id: i64,
    kind: String,
    programme: Option<String>,
    subject: Option<String>,
    at: DateTime<Utc>,
) -> Result<notification::Model, StoreError> {
    Ok(notification::ActiveModel {
        account_id: Set(account_id),
        kind: Set(kind),
        programme: Set(programme),
        subject: Set(subject),
        created_at: Set(at),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(tx)
    .await?)
}

/// The pool budget of voucher `kind` for `year` under `authority`.
pub async fn find_pool<C: ConnectionTrait>(
    db: &C,
    kind: &str,
    year: i32,
    authority: &str,
) -> Result<Option<budget::Model>, StoreError> {
    Ok(budget::Entity::find()
        .filter(budget::Column::Programme.eq(kind))
        .filter(budget::Column::Year.eq(year))
        .filter(budget::Column::Authority.eq(authority))
        .one(db)
        .await?)
}

/// The pool, created empty when missing, and whether this call created it
/// (then, and only then, the caller funds it: `budget::apply`). Two callers
/// racing to create it both get the one row; one of them is told it
/// created it.
pub async fn ensure_pool(
    tx: &DatabaseTransaction,
    kind: &str,
    year: i32,
    authority: &str,
    at: DateTime<Utc>,
) -> Result<(budget::Model, bool), StoreError> {
    let inserted = budget::Entity::insert(budget::ActiveModel {
        programme: Set(kind.to_owned()),
        year: Set(year),
        authority: Set(authority.to_owned()),
        total_fen: Set(0),
        reserved_fen: Set(0),
        spent_fen: Set(0),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            budget::Column::Programme,
            budget::Column::Year,
            budget::Column::Authority,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(tx)
    .await?;
    let pool = find_pool(tx, kind, year, authority)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok((pool, inserted == 1))
}

/// A hold not resolved yet: no post or void names it as its pending
/// transfer (whenever it was placed).
fn unresolved() -> SimpleExpr {
    Expr::cust(
        "NOT EXISTS (SELECT 1 FROM ledger_transfers r WHERE r.pending_id = ledger_transfers.id)",
    )
}

/// The open holds on any of `accounts`, newest first.
pub async fn open_holds_of<C: ConnectionTrait>(
    db: &C,
    accounts: &[i64],
) -> Result<Vec<ledger_transfer::Model>, StoreError> {
    Ok(ledger_transfer::Entity::find()
        .filter(ledger_transfer::Column::Phase.eq("pending"))
        .filter(
            Condition::any()
                .add(ledger_transfer::Column::DebitAccountId.is_in(accounts.iter().copied()))
                .add(ledger_transfer::Column::CreditAccountId.is_in(accounts.iter().copied())),
        )
        .filter(unresolved())
        .order_by_desc(ledger_transfer::Column::Seq)
        .all(db)
        .await?)
}

/// Up to `limit` open holds whose timeout has passed at `now`, after ledger
/// sequence `after`, in sequence order (a page of the expiry job).
pub async fn expired_holds<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    after: i64,
    limit: u64,
) -> Result<Vec<ledger_transfer::Model>, StoreError> {
    Ok(ledger_transfer::Entity::find()
        .filter(ledger_transfer::Column::Phase.eq("pending"))
        .filter(ledger_transfer::Column::ExpiresAt.lte(now))
        .filter(ledger_transfer::Column::Seq.gt(after))
        .filter(unresolved())
        .order_by_asc(ledger_transfer::Column::Seq)
        .limit(limit)
        .all(db)
        .await?)
}

/// The open holds that draw on `account` (its debits), oldest first.
pub async fn open_holds_debiting<C: ConnectionTrait>(
    db: &C,
    account: i64,
) -> Result<Vec<ledger_transfer::Model>, StoreError> {
    Ok(ledger_transfer::Entity::find()
        .filter(ledger_transfer::Column::DebitAccountId.eq(account))
        .filter(ledger_transfer::Column::Phase.eq("pending"))
        .filter(unresolved())
        .order_by_asc(ledger_transfer::Column::Seq)
        .all(db)
        .await?)
}
