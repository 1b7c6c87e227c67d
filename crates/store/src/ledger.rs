//! The voucher ledger guard: the one place where a ledger balance changes.
//!
//! Double entry in the style of TigerBeetle, inside our database. Accounts
//! keep four balances (debits and credits, pending and posted). A transfer
//! debits one account and credits another of the same ledger by the same
//! positive amount, and is immutable (triggers refuse UPDATE and DELETE).
//! Two-phase transfers: a `pending` transfer (a hold) moves money into the
//! pending balances; exactly one `post` (capture, at most the held amount,
//! the rest released) or `void` later resolves it, enforced by a unique index
//! on `pending_id`. Corrections are new transfers, never edits.
//!
//! Each balance change is a conditional UPDATE that only succeeds when the
//! account's invariant still holds after it — for a wallet (flag
//! `debits_must_not_exceed_credits`): `debits_posted + debits_pending <=
//! credits_posted` — with CHECK constraints as the backstop, exactly like
//! [`crate::budget`]. Accounts are updated in ascending id order so that
//! concurrent transfers over the same accounts never deadlock on PostgreSQL;
//! the transfer row is inserted last, so its `seq` orders conflicting
//! transfers the way their row locks did.
//!
//! Client-supplied ids make every request idempotent: the same id with the
//! same body hash returns the first transfer (`created: false`); a different
//! body is refused ([`LedgerError::IdConflict`]).

mod group;

pub(crate) use group::Queue;

use crate::entity::{ledger_account, ledger_transfer};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// Why a transfer was refused. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("transfer id {id} was used before with a different request")]
    IdConflict { id: String },
    #[error("account {0} not found")]
    AccountNotFound(i64),
    #[error("account {0} is in another ledger")]
    LedgerMismatch(i64),
    #[error("a transfer needs two different accounts")]
    SameAccount,
    #[error("account {account_id} has {available_fen} fen available")]
    Insufficient { account_id: i64, available_fen: i64 },
    #[error("account {account_id} may receive at most {limit_fen} fen in all")]
    CreditLimit { account_id: i64, limit_fen: i64 },
    #[error("account {0} is closed")]
    AccountClosed(i64),
    #[error("pending transfer {0} not found")]
    PendingNotFound(String),
    #[error("transfer {0} is not pending")]
    NotPending(String),
    #[error("pending transfer {pending_id} was already resolved ({by})")]
    AlreadyResolved { pending_id: String, by: String },
    #[error("pending transfer {0} has expired")]
    PendingExpired(String),
    #[error("capture of {amount_fen} fen exceeds the {held_fen} fen held")]
    ExceedsPending { amount_fen: i64, held_fen: i64 },
    /// A concurrent transaction inserted the same id or resolved the same
    /// hold first; roll back and submit again to get the definitive answer.
    #[error("concurrent duplicate; retry")]
    Duplicate,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for LedgerError {
    fn from(e: sea_orm::DbErr) -> Self {
        match StoreError::from(e) {
            StoreError::Unique(_) => LedgerError::Duplicate,
            other => LedgerError::Store(other),
        }
    }
}

/// What a transfer does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A single-phase transfer, posted at once. `credit_limit` caps the
    /// credit account's `credits_posted` (the per-enterprise voucher cap).
    Posted {
        ledger: String,
        debit: i64,
        credit: i64,
        amount_fen: i64,
        credit_limit: Option<i64>,
    },
    /// A hold until `expires_at`.
    Pending {
        ledger: String,
        debit: i64,
        credit: i64,
        amount_fen: i64,
        expires_at: DateTime<Utc>,
    },
    /// Captures a hold: `amount_fen` (at most the held amount; `None` = all)
    /// is posted, the rest released.
    Post {
        pending_id: String,
        amount_fen: Option<i64>,
    },
    /// Releases a hold entirely.
    Void { pending_id: String },
}

impl Op {
    fn phase(&self) -> &'static str {
        match self {
            Op::Posted { .. } => "posted",
            Op::Pending { .. } => "pending",
            Op::Post { .. } => "post",
            Op::Void { .. } => "void",
        }
    }
}

/// One transfer request.
#[derive(Debug, Clone)]
pub struct NewTransfer {
    /// Client-supplied, unique (at most 64 characters).
    pub id: String,
    pub op: Op,
    /// Why: issue, hold, capture, void, hold_expiry, expire, return, clawback.
    pub kind: String,
    pub reference: Option<String>,
    pub contract_amount_fen: Option<i64>,
    pub use_kind: Option<String>,
    /// [`hash_body`] of what the client sent, so a replay can be recognised.
    pub body_hash: String,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// The transfer that answers a request, and whether this request created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub transfer: ledger_transfer::Model,
    pub created: bool,
}

/// SHA-256 (hex) of a request body's canonical JSON.
pub fn hash_body<T: serde::Serialize>(body: &T) -> String {
    let json = serde_json::to_string(body).expect("request bodies serialise");
    hex::encode(Sha256::digest(json.as_bytes()))
}

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

pub async fn find_transfer<C: ConnectionTrait>(
    db: &C,
    id: &str,
) -> Result<Option<ledger_transfer::Model>, StoreError> {
    Ok(ledger_transfer::Entity::find()
        .filter(ledger_transfer::Column::Id.eq(id))
        .one(db)
        .await?)
}

/// The post or void that resolved a hold, if any.
pub async fn resolution_of<C: ConnectionTrait>(
    db: &C,
    pending_id: &str,
) -> Result<Option<ledger_transfer::Model>, StoreError> {
    Ok(ledger_transfer::Entity::find()
        .filter(ledger_transfer::Column::PendingId.eq(pending_id))
        .one(db)
        .await?)
}

/// How one side of a transfer changes an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Post(i64),
    Pend(i64),
    /// Resolves a hold of `held`, posting `posted` (0 for a void).
    Resolve {
        held: i64,
        posted: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Debit,
    Credit,
}

impl Side {
    fn cols(self) -> (&'static str, &'static str, &'static str, &'static str) {
        // (own pending, own posted, other posted, own limit flag)
        match self {
            Side::Debit => (
                "debits_pending",
                "debits_posted",
                "credits_posted",
                "debits_must_not_exceed_credits",
            ),
            Side::Credit => (
                "credits_pending",
                "credits_posted",
                "debits_posted",
                "credits_must_not_exceed_debits",
            ),
        }
    }
}

/// One conditional UPDATE of one side of one account.
struct SideUpdate<'a> {
    account_id: i64,
    side: Side,
    change: Change,
    ledger: &'a str,
    credit_limit: Option<i64>,
}

/// `NOT flag OR pending + posted + amount <= other_posted`.
fn within_limit(side: Side, amount: i64) -> SimpleExpr {
    let (pending, posted, other, flag) = side.cols();
    Expr::col(flag).not().or(Expr::col(pending)
        .add(Expr::col(posted))
        .add(amount)
        .lte(Expr::col(other)))
}

async fn apply_side(
    tx: &DatabaseTransaction,
    u: &SideUpdate<'_>,
    at: DateTime<Utc>,
) -> Result<(), LedgerError> {
    let (pending, posted, _, _) = u.side.cols();
    let mut q = Query::update();
    q.table("ledger_accounts")
        .value("updated_at", at)
        .and_where(Expr::col("id").eq(u.account_id))
        .and_where(Expr::col("ledger").eq(u.ledger));
    match u.change {
        Change::Post(a) | Change::Pend(a) => {
            let column = if matches!(u.change, Change::Post(_)) {
                posted
            } else {
                pending
            };
            q.value(column, Expr::col(column).add(a))
                .and_where(Expr::col("closed_at").is_null())
                .and_where(within_limit(u.side, a));
            if let Some(limit) = u.credit_limit {
                q.and_where(Expr::col(posted).add(a).lte(limit));
            }
        }
        Change::Resolve { held, posted: p } => {
            q.value(pending, Expr::col(pending).sub(held))
                .value(posted, Expr::col(posted).add(p))
                .and_where(Expr::col(pending).gte(held));
        }
    }
    if tx.execute(&q).await?.rows_affected() == 1 {
        return Ok(());
    }
    Err(diagnose(tx, u).await?)
}

/// Why a conditional UPDATE changed nothing.
async fn diagnose(tx: &DatabaseTransaction, u: &SideUpdate<'_>) -> Result<LedgerError, StoreError> {
    let Some(account) = ledger_account::Entity::find_by_id(u.account_id)
        .one(tx)
        .await?
    else {
        return Ok(LedgerError::AccountNotFound(u.account_id));
    };
    Ok(if account.ledger != u.ledger {
        LedgerError::LedgerMismatch(u.account_id)
    } else if account.closed_at.is_some() && !matches!(u.change, Change::Resolve { .. }) {
        LedgerError::AccountClosed(u.account_id)
    } else if let (Some(limit), Change::Post(a)) = (u.credit_limit, u.change)
        && account.credits_posted.saturating_add(a) > limit
    {
        LedgerError::CreditLimit {
            account_id: u.account_id,
            limit_fen: limit,
        }
    } else {
        LedgerError::Insufficient {
            account_id: u.account_id,
            available_fen: match u.side {
                Side::Debit => account.available(),
                Side::Credit => {
                    account.debits_posted - account.credits_posted - account.credits_pending
                }
            },
        }
    })
}

/// The hold a post or void resolves, checked: it exists, is a hold, is not
/// resolved yet and (for a capture) has not expired.
async fn pending_for(
    tx: &DatabaseTransaction,
    pending_id: &str,
    capture: bool,
    at: DateTime<Utc>,
) -> Result<ledger_transfer::Model, LedgerError> {
    let pending = find_transfer(tx, pending_id)
        .await?
        .ok_or_else(|| LedgerError::PendingNotFound(pending_id.to_owned()))?;
    if pending.phase != "pending" {
        return Err(LedgerError::NotPending(pending_id.to_owned()));
    }
    if let Some(done) = resolution_of(tx, pending_id).await? {
        return Err(LedgerError::AlreadyResolved {
            pending_id: pending_id.to_owned(),
            by: done.kind,
        });
    }
    if capture && pending.expires_at.is_some_and(|e| e <= at) {
        return Err(LedgerError::PendingExpired(pending_id.to_owned()));
    }
    Ok(pending)
}

/// The row to insert and the two side updates, once the request is checked.
struct Plan {
    ledger: String,
    debit: i64,
    credit: i64,
    amount_fen: i64,
    debit_change: Change,
    credit_change: Change,
    credit_limit: Option<i64>,
    pending_id: Option<String>,
    expires_at: Option<DateTime<Utc>>,
}

async fn plan(tx: &DatabaseTransaction, t: &NewTransfer) -> Result<Plan, LedgerError> {
    let direct = |ledger: &String, debit: i64, credit: i64, amount: i64, pend: bool| {
        // Amounts come validated from services; a non-positive one here is a
        // bug that must never move money, in release builds too.
        assert!(amount > 0, "ledger transfer of {amount} fen");
        if debit == credit {
            return Err(LedgerError::SameAccount);
        }
        let change = if pend {
            Change::Pend(amount)
        } else {
            Change::Post(amount)
        };
        Ok(Plan {
            ledger: ledger.clone(),
            debit,
            credit,
            amount_fen: amount,
            debit_change: change,
            credit_change: change,
            credit_limit: None,
            pending_id: None,
            expires_at: None,
        })
    };
    match &t.op {
        Op::Posted {
            ledger,
            debit,
            credit,
            amount_fen,
            credit_limit,
        } => direct(ledger, *debit, *credit, *amount_fen, false).map(|p| Plan {
            credit_limit: *credit_limit,
            ..p
        }),
        Op::Pending {
            ledger,
            debit,
            credit,
            amount_fen,
            expires_at,
        } => direct(ledger, *debit, *credit, *amount_fen, true).map(|p| Plan {
            expires_at: Some(*expires_at),
            ..p
        }),
        Op::Post {
            pending_id,
            amount_fen,
        } => {
            let pending = pending_for(tx, pending_id, true, t.at).await?;
            let held = pending.amount_fen;
            let amount = amount_fen.unwrap_or(held);
            assert!(amount > 0, "capture of {amount} fen");
            if amount > held {
                return Err(LedgerError::ExceedsPending {
                    amount_fen: amount,
                    held_fen: held,
                });
            }
            let change = Change::Resolve {
                held,
                posted: amount,
            };
            Ok(resolution(pending, amount, change))
        }
        Op::Void { pending_id } => {
            let pending = pending_for(tx, pending_id, false, t.at).await?;
            let held = pending.amount_fen;
            Ok(resolution(
                pending,
                held,
                Change::Resolve { held, posted: 0 },
            ))
        }
    }
}

fn resolution(pending: ledger_transfer::Model, amount: i64, change: Change) -> Plan {
    Plan {
        ledger: pending.ledger,
        debit: pending.debit_account_id,
        credit: pending.credit_account_id,
        amount_fen: amount,
        debit_change: change,
        credit_change: change,
        credit_limit: None,
        pending_id: Some(pending.id),
        expires_at: None,
    }
}

/// The first answer to a request id: the same body replays it, another body
/// is a conflict.
fn replay(existing: ledger_transfer::Model, body_hash: &str) -> Result<Outcome, LedgerError> {
    if existing.body_hash == body_hash {
        Ok(Outcome {
            transfer: existing,
            created: false,
        })
    } else {
        Err(LedgerError::IdConflict { id: existing.id })
    }
}

fn row(t: &NewTransfer, p: &Plan) -> ledger_transfer::ActiveModel {
    ledger_transfer::ActiveModel {
        id: Set(t.id.clone()),
        ledger: Set(p.ledger.clone()),
        debit_account_id: Set(p.debit),
        credit_account_id: Set(p.credit),
        amount_fen: Set(p.amount_fen),
        phase: Set(t.op.phase().to_owned()),
        kind: Set(t.kind.clone()),
        pending_id: Set(p.pending_id.clone()),
        expires_at: Set(p.expires_at),
        reference: Set(t.reference.clone()),
        contract_amount_fen: Set(t.contract_amount_fen),
        use_kind: Set(t.use_kind.clone()),
        body_hash: Set(t.body_hash.clone()),
        actor: Set(t.actor.clone()),
        created_at: Set(t.at),
        ..Default::default()
    }
}

/// Creates one transfer inside `tx`, or returns the first answer to its id.
/// On [`LedgerError::Duplicate`] the transaction must be rolled back and the
/// request submitted again (see [`submit`]).
pub async fn create(tx: &DatabaseTransaction, t: &NewTransfer) -> Result<Outcome, LedgerError> {
    if let Some(existing) = find_transfer(tx, &t.id).await? {
        return replay(existing, &t.body_hash);
    }
    create_unseen(tx, t).await
}

/// [`create`] without the first lookup of the id, for a request not seen
/// before as far as the caller knows: a duplicate id then fails on the
/// unique index ([`LedgerError::Duplicate`]) and the caller's retry, through
/// [`create`], finds the first answer. Saves one round trip per transfer.
pub async fn create_unseen(
    tx: &DatabaseTransaction,
    t: &NewTransfer,
) -> Result<Outcome, LedgerError> {
    match apply(tx, t).await {
        Err(LedgerError::Duplicate) => Err(LedgerError::Duplicate),
        // A refusal may come from a concurrent replay of this very request
        // that committed while this one waited for a row lock (this
        // statement sees the committed row). Then the first answer stands,
        // but this transaction may already have changed one side: it must
        // be rolled back, and the retry finds the first answer.
        Err(refusal) => match find_transfer(tx, &t.id).await? {
            Some(_) => Err(LedgerError::Duplicate),
            None => Err(resolved_meanwhile(tx, t).await?.unwrap_or(refusal)),
        },
        ok => ok,
    }
}

/// A post or void refused because another resolution of its hold committed
/// while it waited for the row lock: say so, rather than what the balance
/// guard saw.
async fn resolved_meanwhile(
    tx: &DatabaseTransaction,
    t: &NewTransfer,
) -> Result<Option<LedgerError>, StoreError> {
    let (Op::Post { pending_id, .. } | Op::Void { pending_id }) = &t.op else {
        return Ok(None);
    };
    Ok(resolution_of(tx, pending_id)
        .await?
        .map(|done| LedgerError::AlreadyResolved {
            pending_id: pending_id.clone(),
            by: done.kind,
        }))
}

async fn apply(tx: &DatabaseTransaction, t: &NewTransfer) -> Result<Outcome, LedgerError> {
    let p = plan(tx, t).await?;
    let mut sides = [
        SideUpdate {
            account_id: p.debit,
            side: Side::Debit,
            change: p.debit_change,
            ledger: &p.ledger,
            credit_limit: None,
        },
        SideUpdate {
            account_id: p.credit,
            side: Side::Credit,
            change: p.credit_change,
            ledger: &p.ledger,
            credit_limit: p.credit_limit,
        },
    ];
    sides.sort_by_key(|s| s.account_id);
    for side in &sides {
        apply_side(tx, side, t.at).await?;
    }
    let inserted = row(t, &p).insert(tx).await?;
    Ok(Outcome {
        transfer: inserted,
        created: true,
    })
}

/// One transfer, committed with the others that arrive meanwhile (group
/// commit, see [`group`]) and answered as [`create`] answers it: replays,
/// racing or not, all get the first answer.
pub async fn submit(store: &Store, t: &NewTransfer) -> Result<Outcome, LedgerError> {
    group::submit(store, t).await
}

/// [`create`] in its own transaction, retried after a duplicate (a replay,
/// or a concurrent one) so that replays, racing or not, all get the first
/// answer.
async fn submit_alone(store: &Store, t: &NewTransfer) -> Result<Outcome, LedgerError> {
    let mut attempts = 0;
    loop {
        let tx = store.begin().await?;
        // Most requests are new: look the id up only when retrying.
        let attempt = if attempts == 0 {
            create_unseen(&tx, t).await
        } else {
            create(&tx, t).await
        };
        match attempt {
            Ok(outcome) => {
                tx.commit().await?;
                return Ok(outcome);
            }
            Err(LedgerError::Duplicate) if attempts < 3 => {
                drop(tx);
                attempts += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

// ---------------------------------------------------------------------------
// Batches: many transfers in one commit.
// ---------------------------------------------------------------------------

/// Why a batch was refused: the first failing transfer and its error.
/// Nothing of the batch was written.
#[derive(Debug, thiserror::Error)]
#[error("{}: {error}", .index.map_or_else(|| "the batch".to_owned(), |i| format!("transfer {i} of the batch")))]
pub struct BatchError {
    /// The failing transfer, or `None` when the batch failed as a whole
    /// (a lookup, a lock or the commit).
    pub index: Option<usize>,
    pub error: LedgerError,
}

/// One transfer's answer in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItem {
    pub id: String,
    pub created: bool,
}

/// An account's balances while a batch is checked in memory.
#[derive(Debug, Clone)]
struct Working {
    before: ledger_account::Model,
    now: ledger_account::Model,
}

impl Working {
    /// Net change of (debits pending, debits posted, credits pending,
    /// credits posted).
    fn deltas(&self) -> [i64; 4] {
        let (b, n) = (&self.before, &self.now);
        [
            n.debits_pending - b.debits_pending,
            n.debits_posted - b.debits_posted,
            n.credits_pending - b.credits_pending,
            n.credits_posted - b.credits_posted,
        ]
    }
}

const CHUNK: usize = 500;

/// What checking a batch does when one of its transfers is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnRefusal {
    /// Refuse the whole batch ([`create_batch`]).
    RefuseBatch,
    /// Answer that transfer with its error and go on; the transfers are
    /// taken as unseen, their ids not looked up ([`create_each_unseen`]).
    SkipTransfer,
}

/// A transfer's answer once the batch is checked in memory.
#[derive(Debug)]
enum Answer {
    /// Created by this batch.
    Created,
    /// An earlier request with this id answers it (replay).
    Replay(Box<ledger_transfer::Model>),
    /// Refused; nothing of it will be written.
    Refused(LedgerError),
}

/// A batch checked in memory: one answer per transfer, the rows to insert
/// and the accounts with their balances before and after.
struct Checked {
    answers: Vec<Answer>,
    rows: Vec<ledger_transfer::ActiveModel>,
    accounts: BTreeMap<i64, Working>,
}

/// Locks and reads what a batch needs, then checks every transfer in order
/// in memory against the same rules as [`create`].
async fn check_batch(
    tx: &DatabaseTransaction,
    transfers: &[NewTransfer],
    on_refusal: OnRefusal,
) -> Result<Checked, BatchError> {
    let whole = |error: LedgerError| BatchError { index: None, error };
    let lookup_ids = on_refusal == OnRefusal::RefuseBatch;
    let (mut known, mut resolved) = load_known(tx, transfers, lookup_ids).await.map_err(whole)?;
    let mut accounts = lock_accounts(tx, transfers, &known).await.map_err(whole)?;
    let mut rows = Vec::new();
    let mut answers = Vec::with_capacity(transfers.len());
    for (index, t) in transfers.iter().enumerate() {
        let answer = match check_one(t, &known, &resolved, &mut accounts) {
            Ok(Step::Replay(first)) => Answer::Replay(Box::new(first)),
            Ok(Step::New(p)) => {
                if let Some(pending) = &p.pending_id {
                    resolved.insert(pending.clone(), t.kind.clone());
                }
                known.insert(t.id.clone(), row_model(t, &p));
                rows.push(row(t, &p));
                Answer::Created
            }
            // A hold this batch resolves was resolved meanwhile: retried,
            // the batch sees that resolution.
            Err(LedgerError::Duplicate) => return Err(whole(LedgerError::Duplicate)),
            Err(error) if on_refusal == OnRefusal::RefuseBatch => {
                return Err(BatchError {
                    index: Some(index),
                    error,
                });
            }
            Err(error) => Answer::Refused(error),
        };
        answers.push(answer);
    }
    Ok(Checked {
        answers,
        rows,
        accounts,
    })
}

/// What a transfer of a batch turned out to be.
enum Step {
    /// A replay of `0` (created before or earlier in the batch).
    Replay(ledger_transfer::Model),
    /// New; its balance changes are applied to the batch's accounts.
    New(Plan),
}

/// One transfer of a batch against the batch's state so far. A refused
/// transfer leaves `accounts` as they were.
fn check_one(
    t: &NewTransfer,
    known: &HashMap<String, ledger_transfer::Model>,
    resolved: &HashMap<String, String>,
    accounts: &mut BTreeMap<i64, Working>,
) -> Result<Step, LedgerError> {
    if let Some(first) = known.get(&t.id) {
        return replay(first.clone(), &t.body_hash).map(|o| Step::Replay(o.transfer));
    }
    let p = plan_in_memory(t, known, resolved)?;
    apply_in_memory(accounts, &p)?;
    Ok(Step::New(p))
}

/// What a batch needs to know of transfers stored before it: the
/// transfers it names (by id when `lookup_ids`, and as the holds it
/// resolves), and which of those holds are resolved (hold id → kind).
type Known = (
    HashMap<String, ledger_transfer::Model>,
    HashMap<String, String>,
);

async fn load_known(
    tx: &DatabaseTransaction,
    transfers: &[NewTransfer],
    lookup_ids: bool,
) -> Result<Known, LedgerError> {
    let ids: Vec<&str> = if lookup_ids {
        transfers.iter().map(|t| t.id.as_str()).collect()
    } else {
        Vec::new()
    };
    let mut known: HashMap<String, ledger_transfer::Model> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        for m in ledger_transfer::Entity::find()
            .filter(ledger_transfer::Column::Id.is_in(chunk.iter().copied()))
            .all(tx)
            .await?
        {
            known.insert(m.id.clone(), m);
        }
    }
    // Holds resolved by this batch but created earlier, with their resolutions.
    let outside: Vec<String> = transfers
        .iter()
        .filter_map(|t| match &t.op {
            Op::Post { pending_id, .. } | Op::Void { pending_id } => Some(pending_id.clone()),
            _ => None,
        })
        .filter(|id| !known.contains_key(id))
        .collect();
    let mut resolved: HashMap<String, String> = HashMap::new();
    for chunk in outside.chunks(CHUNK) {
        let found = ledger_transfer::Entity::find()
            .filter(
                ledger_transfer::Column::Id
                    .is_in(chunk.iter().cloned())
                    .or(ledger_transfer::Column::PendingId.is_in(chunk.iter().cloned())),
            )
            .all(tx)
            .await?;
        for m in found {
            if let Some(p) = &m.pending_id {
                resolved.insert(p.clone(), m.kind.clone());
            }
            known.insert(m.id.clone(), m);
        }
    }
    Ok((known, resolved))
}

/// Inserts a checked batch's rows with multi-row INSERTs (returning them
/// when `returning`) and writes every account's net change in one guarded
/// UPDATE per chunk of accounts.
async fn write_batch(
    tx: &DatabaseTransaction,
    checked: Checked,
    at: DateTime<Utc>,
    returning: bool,
) -> Result<(Vec<Answer>, Vec<ledger_transfer::Model>), LedgerError> {
    let mut created = Vec::new();
    for chunk in checked.rows.chunks(CHUNK) {
        let insert = ledger_transfer::Entity::insert_many(chunk.to_vec());
        if returning {
            created.extend(insert.exec_with_returning(tx).await?);
        } else {
            insert.exec_without_returning(tx).await?;
        }
    }
    let changed: Vec<&Working> = checked
        .accounts
        .values()
        .filter(|w| w.deltas() != [0; 4])
        .collect();
    for chunk in changed.chunks(CHUNK) {
        write_net_changes(tx, chunk, at).await?;
    }
    Ok((checked.answers, created))
}

/// Fails with [`LedgerError::Duplicate`] when a refused transfer's id
/// exists: it is a replay (its first attempt committed earlier, or while the
/// batch waited for the account locks), whose answer is the first one, not
/// what the balances say now (as in [`create_unseen`]).
async fn refused_by_a_replay(
    tx: &DatabaseTransaction,
    transfers: &[NewTransfer],
    answers: &[Answer],
) -> Result<(), LedgerError> {
    let refused: Vec<&str> = transfers
        .iter()
        .zip(answers)
        // An id conflict was judged against the stored transfer already.
        .filter(|(_, a)| {
            matches!(a, Answer::Refused(e) if !matches!(e, LedgerError::IdConflict { .. }))
        })
        .map(|(t, _)| t.id.as_str())
        .collect();
    for chunk in refused.chunks(CHUNK) {
        let found = ledger_transfer::Entity::find()
            .filter(ledger_transfer::Column::Id.is_in(chunk.iter().copied()))
            .count(tx)
            .await?;
        if found > 0 {
            return Err(LedgerError::Duplicate);
        }
    }
    Ok(())
}

/// Applies many transfers atomically in one commit. The accounts involved
/// are locked and read once; every transfer is checked in order in memory
/// against the same rules as [`create`]; then the rows are inserted with
/// multi-row INSERTs and the accounts' net changes written by one guarded
/// UPDATE (the guard and the CHECK constraints still stand behind the
/// in-memory check). Any failure refuses the whole batch.
pub async fn create_batch(
    tx: &DatabaseTransaction,
    transfers: &[NewTransfer],
) -> Result<Vec<BatchItem>, BatchError> {
    let checked = check_batch(tx, transfers, OnRefusal::RefuseBatch).await?;
    let at = transfers.last().map_or_else(Utc::now, |t| t.at);
    let (answers, _) = write_batch(tx, checked, at, false)
        .await
        .map_err(|error| BatchError { index: None, error })?;
    Ok(transfers
        .iter()
        .zip(answers)
        .map(|(t, answer)| BatchItem {
            id: t.id.clone(),
            created: matches!(answer, Answer::Created),
        })
        .collect())
}

/// Applies many independent transfers in one commit, each answered on its
/// own as [`create`] would have answered it had they come one after the
/// other: a refused transfer moves nothing and does not stop the others.
/// Like [`create_unseen`], the ids are not looked up first (replays within
/// the batch are recognised): a transfer whose id exists already fails the
/// whole batch with [`LedgerError::Duplicate`], and so does any other
/// failure of the batch as a whole (a concurrent writer, the database). The
/// transaction must then be rolled back and the transfers submitted again,
/// where [`create`] finds the first answers.
pub async fn create_each_unseen(
    tx: &DatabaseTransaction,
    transfers: &[NewTransfer],
) -> Result<Vec<Result<Outcome, LedgerError>>, LedgerError> {
    let checked = check_batch(tx, transfers, OnRefusal::SkipTransfer)
        .await
        .map_err(|e| e.error)?;
    refused_by_a_replay(tx, transfers, &checked.answers).await?;
    let at = transfers.last().map_or_else(Utc::now, |t| t.at);
    let (answers, created) = write_batch(tx, checked, at, true).await?;
    let mut created: HashMap<String, ledger_transfer::Model> =
        created.into_iter().map(|m| (m.id.clone(), m)).collect();
    let mut answered: HashMap<String, ledger_transfer::Model> = HashMap::new();
    Ok(transfers
        .iter()
        .zip(answers)
        .map(|(t, answer)| match answer {
            Answer::Created => {
                let m = created
                    .remove(&t.id)
                    .expect("every created row is returned");
                answered.insert(t.id.clone(), m.clone());
                Ok(Outcome {
                    transfer: m,
                    created: true,
                })
            }
            // A replay of a transfer created by this batch answers with the
            // stored row (its `seq` is known only now).
            Answer::Replay(first) => Ok(Outcome {
                transfer: answered.get(&first.id).cloned().unwrap_or(*first),
                created: false,
            }),
            Answer::Refused(error) => Err(error),
        })
        .collect())
}

/// The transfer row as it will be stored (for later transfers of the batch).
fn row_model(t: &NewTransfer, p: &Plan) -> ledger_transfer::Model {
    ledger_transfer::Model {
        seq: 0,
        id: t.id.clone(),
        ledger: p.ledger.clone(),
        debit_account_id: p.debit,
        credit_account_id: p.credit,
        amount_fen: p.amount_fen,
        phase: t.op.phase().to_owned(),
        kind: t.kind.clone(),
        pending_id: p.pending_id.clone(),
        expires_at: p.expires_at,
        reference: t.reference.clone(),
        contract_amount_fen: t.contract_amount_fen,
        use_kind: t.use_kind.clone(),
        body_hash: t.body_hash.clone(),
        actor: t.actor.clone(),
        created_at: t.at,
    }
}

/// Locks (PostgreSQL: `FOR UPDATE`, in id order) and reads every account the
/// batch touches.
async fn lock_accounts(
    tx: &DatabaseTransaction,
    transfers: &[NewTransfer],
    known: &HashMap<String, ledger_transfer::Model>,
) -> Result<BTreeMap<i64, Working>, LedgerError> {
    let mut ids: Vec<i64> = Vec::new();
    for t in transfers {
        match &t.op {
            Op::Posted { debit, credit, .. } | Op::Pending { debit, credit, .. } => {
                ids.extend([*debit, *credit])
            }
            Op::Post { pending_id, .. } | Op::Void { pending_id } => {
                if let Some(p) = known.get(pending_id) {
                    ids.extend([p.debit_account_id, p.credit_account_id]);
                }
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    let postgres = tx.get_database_backend() == sea_orm::DbBackend::Postgres;
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(CHUNK) {
        let mut query = ledger_account::Entity::find()
            .filter(ledger_account::Column::Id.is_in(chunk.iter().copied()))
            .order_by_asc(ledger_account::Column::Id);
        if postgres {
            query = query.lock_exclusive();
        }
        for a in query.all(tx).await? {
            out.insert(
                a.id,
                Working {
                    before: a.clone(),
                    now: a,
                },
            );
        }
    }
    Ok(out)
}

fn plan_in_memory(
    t: &NewTransfer,
    known: &HashMap<String, ledger_transfer::Model>,
    resolved: &HashMap<String, String>,
) -> Result<Plan, LedgerError> {
    let direct = |ledger: &String, debit: i64, credit: i64, amount: i64, change: Change| {
        assert!(amount > 0, "ledger transfer of {amount} fen");
        if debit == credit {
            return Err(LedgerError::SameAccount);
        }
        Ok(Plan {
            ledger: ledger.clone(),
            debit,
            credit,
            amount_fen: amount,
            debit_change: change,
            credit_change: change,
            credit_limit: None,
            pending_id: None,
            expires_at: None,
        })
    };
    let pending = |id: &String, capture: bool| {
        let p = known
            .get(id)
            .ok_or_else(|| LedgerError::PendingNotFound(id.clone()))?;
        if p.phase != "pending" {
            return Err(LedgerError::NotPending(id.clone()));
        }
        if let Some(by) = resolved.get(id) {
            return Err(LedgerError::AlreadyResolved {
                pending_id: id.clone(),
                by: by.clone(),
            });
        }
        if capture && p.expires_at.is_some_and(|e| e <= t.at) {
            return Err(LedgerError::PendingExpired(id.clone()));
        }
        Ok(p.clone())
    };
    match &t.op {
        Op::Posted {
            ledger,
            debit,
            credit,
            amount_fen,
            credit_limit,
        } => direct(
            ledger,
            *debit,
            *credit,
            *amount_fen,
            Change::Post(*amount_fen),
        )
        .map(|p| Plan {
            credit_limit: *credit_limit,
            ..p
        }),
        Op::Pending {
            ledger,
            debit,
            credit,
            amount_fen,
            expires_at,
        } => direct(
            ledger,
            *debit,
            *credit,
            *amount_fen,
            Change::Pend(*amount_fen),
        )
        .map(|p| Plan {
            expires_at: Some(*expires_at),
            ..p
        }),
        Op::Post {
            pending_id,
            amount_fen,
        } => {
            let p = pending(pending_id, true)?;
            let held = p.amount_fen;
            let amount = amount_fen.unwrap_or(held);
            assert!(amount > 0, "capture of {amount} fen");
            if amount > held {
                return Err(LedgerError::ExceedsPending {
                    amount_fen: amount,
                    held_fen: held,
                });
            }
            Ok(resolution(
                p,
                amount,
                Change::Resolve {
                    held,
                    posted: amount,
                },
            ))
        }
        Op::Void { pending_id } => {
            let p = pending(pending_id, false)?;
            let held = p.amount_fen;
            Ok(resolution(p, held, Change::Resolve { held, posted: 0 }))
        }
    }
}

/// The same rules as the conditional UPDATEs, on the in-memory balances.
/// Both sides change or, when one is refused, neither.
fn apply_in_memory(accounts: &mut BTreeMap<i64, Working>, p: &Plan) -> Result<(), LedgerError> {
    let balances = |id: i64| {
        accounts
            .get(&id)
            .map(|w| w.now.clone())
            .ok_or(LedgerError::AccountNotFound(id))
    };
    let (mut debit, mut credit) = (balances(p.debit)?, balances(p.credit)?);
    apply_side_in_memory(&mut debit, p, Side::Debit, p.debit_change, None)?;
    apply_side_in_memory(
        &mut credit,
        p,
        Side::Credit,
        p.credit_change,
        p.credit_limit,
    )?;
    for a in [debit, credit] {
        let id = a.id;
        accounts.get_mut(&id).expect("read above").now = a;
    }
    Ok(())
}

fn apply_side_in_memory(
    a: &mut ledger_account::Model,
    p: &Plan,
    side: Side,
    change: Change,
    limit: Option<i64>,
) -> Result<(), LedgerError> {
    let id = a.id;
    if a.ledger != p.ledger {
        return Err(LedgerError::LedgerMismatch(id));
    }
    let (pending, posted, other, flag) = match side {
        Side::Debit => (
            &mut a.debits_pending,
            &mut a.debits_posted,
            a.credits_posted,
            a.debits_must_not_exceed_credits,
        ),
        Side::Credit => (
            &mut a.credits_pending,
            &mut a.credits_posted,
            a.debits_posted,
            a.credits_must_not_exceed_debits,
        ),
    };
    match change {
        Change::Post(x) | Change::Pend(x) => {
            if a.closed_at.is_some() {
                return Err(LedgerError::AccountClosed(id));
            }
            // Saturating: a sum past `i64::MAX` exceeds any limit anyway.
            if flag && pending.saturating_add(*posted).saturating_add(x) > other {
                return Err(LedgerError::Insufficient {
                    account_id: id,
                    available_fen: other - *pending - *posted,
                });
            }
            if let Some(limit) = limit
                && matches!(change, Change::Post(_))
                && posted.saturating_add(x) > limit
            {
                return Err(LedgerError::CreditLimit {
                    account_id: id,
                    limit_fen: limit,
                });
            }
            if matches!(change, Change::Post(_)) {
                *posted += x;
            } else {
                *pending += x;
            }
        }
        Change::Resolve { held, posted: x } => {
            if *pending < held {
                // Another writer resolved the hold between the read of the
                // holds and the lock of the balances (see `check_batch`).
                return Err(LedgerError::Duplicate);
            }
            *pending -= held;
            *posted += x;
        }
    }
    Ok(())
}

/// The net changes of `accounts` in one UPDATE, each account's invariants
/// on its final balances in the WHERE clause; refused unless every account
/// was updated. The accounts are already locked (PostgreSQL) or the write
/// lock held (SQLite), so the statement takes no new row locks.
async fn write_net_changes(
    tx: &DatabaseTransaction,
    accounts: &[&Working],
    at: DateTime<Utc>,
) -> Result<(), LedgerError> {
    let backend = tx.get_database_backend();
    // SQLite numbers `?` in order of appearance: bind in the text's order.
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(accounts.len() * 5 + 1);
    let rows = crate::values::rows_of(
        backend,
        &mut values,
        accounts.iter().map(|w| {
            std::iter::once(w.before.id)
                .chain(w.deltas())
                .map(sea_orm::Value::from)
                .collect()
        }),
    );
    values.push(at.into());
    let at_placeholder = crate::values::placeholder(backend, values.len());
    let sql = format!(
        "WITH net (account_id, d_pend, d_post, c_pend, c_post) AS (VALUES {rows}) \
         UPDATE ledger_accounts SET updated_at = {at}, \
           debits_pending = debits_pending + net.d_pend, \
           debits_posted = debits_posted + net.d_post, \
           credits_pending = credits_pending + net.c_pend, \
           credits_posted = credits_posted + net.c_post \
         FROM net WHERE ledger_accounts.id = net.account_id \
           AND (NOT debits_must_not_exceed_credits OR debits_pending + net.d_pend \
                + debits_posted + net.d_post <= credits_posted + net.c_post) \
           AND (NOT credits_must_not_exceed_debits OR credits_pending + net.c_pend \
                + credits_posted + net.c_post <= debits_posted + net.d_post)",
        at = at_placeholder,
    );
    let updated = tx
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            backend, sql, values,
        ))
        .await?
        .rows_affected();
    if updated != accounts.len() as u64 {
        // The in-memory check passed, so only a writer outside this
        // process's rules could have changed a balance meanwhile.
        let first = accounts[0];
        return Err(LedgerError::Insufficient {
            account_id: first.before.id,
            available_fen: first.before.available(),
        });
    }
    Ok(())
}

/// [`create_batch`] in its own transaction, committed once.
pub async fn submit_batch(
    store: &Store,
    transfers: &[NewTransfer],
) -> Result<Vec<BatchItem>, BatchError> {
    let whole = |error: LedgerError| BatchError { index: None, error };
    let tx = store.begin().await.map_err(|e| whole(e.into()))?;
    let items = create_batch(&tx, transfers).await?;
    tx.commit().await.map_err(|e| whole(e.into()))?;
    Ok(items)
}

// ---------------------------------------------------------------------------
// Reconciliation.
// ---------------------------------------------------------------------------

/// An account whose stored balances differ from the sums of its transfers:
/// each pair is (stored, rebuilt).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccountMismatch {
    pub account_id: i64,
    pub code: String,
    pub debits_pending: (i64, i64),
    pub debits_posted: (i64, i64),
    pub credits_pending: (i64, i64),
    pub credits_posted: (i64, i64),
}

/// A ledger whose debits and credits do not balance (stored balances).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unbalanced {
    pub ledger: String,
    pub debits_posted: i64,
    pub credits_posted: i64,
    pub debits_pending: i64,
    pub credits_pending: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reconciliation {
    pub accounts: usize,
    pub transfers: usize,
    pub mismatches: Vec<AccountMismatch>,
    pub unbalanced: Vec<Unbalanced>,
}

impl Reconciliation {
    pub fn is_clean(&self) -> bool {
        self.mismatches.is_empty() && self.unbalanced.is_empty()
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Sums {
    debits_pending: i64,
    debits_posted: i64,
    credits_pending: i64,
    credits_posted: i64,
}

const PAGE: u64 = 10_000;

/// Rebuilds every account's balances from the transfers, page by page, and
/// reports each difference, and every ledger whose debits and credits differ.
pub async fn reconcile<C: ConnectionTrait>(db: &C) -> Result<Reconciliation, StoreError> {
    let accounts = ledger_account::Entity::find()
        .order_by_asc(ledger_account::Column::Id)
        .all(db)
        .await?;
    let mut sums: HashMap<i64, Sums> = HashMap::new();
    // Holds' amounts, needed when their resolution comes.
    let mut held: HashMap<String, i64> = HashMap::new();
    let mut after = 0i64;
    let mut transfers = 0usize;
    loop {
        let page = ledger_transfer::Entity::find()
            .filter(ledger_transfer::Column::Seq.gt(after))
            .order_by_asc(ledger_transfer::Column::Seq)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        transfers += page.len();
        for t in &page {
            let (d, c) = (t.debit_account_id, t.credit_account_id);
            let a = t.amount_fen;
            match t.phase.as_str() {
                "posted" => {
                    sums.entry(d).or_default().debits_posted += a;
                    sums.entry(c).or_default().credits_posted += a;
                }
                "pending" => {
                    sums.entry(d).or_default().debits_pending += a;
                    sums.entry(c).or_default().credits_pending += a;
                    held.insert(t.id.clone(), a);
                }
                phase => {
                    let h = t
                        .pending_id
                        .as_ref()
                        .and_then(|p| held.get(p))
                        .copied()
                        .unwrap_or(0);
                    let posted = if phase == "post" { a } else { 0 };
                    let ds = sums.entry(d).or_default();
                    ds.debits_pending -= h;
                    ds.debits_posted += posted;
                    let cs = sums.entry(c).or_default();
                    cs.credits_pending -= h;
                    cs.credits_posted += posted;
                }
            }
        }
    }
    let mut mismatches = Vec::new();
    let mut per_ledger: BTreeMap<&str, Sums> = BTreeMap::new();
    for a in &accounts {
        let rebuilt = sums.get(&a.id).copied().unwrap_or_default();
        let stored = Sums {
            debits_pending: a.debits_pending,
            debits_posted: a.debits_posted,
            credits_pending: a.credits_pending,
            credits_posted: a.credits_posted,
        };
        let l = per_ledger.entry(a.ledger.as_str()).or_default();
        l.debits_pending += stored.debits_pending;
        l.debits_posted += stored.debits_posted;
        l.credits_pending += stored.credits_pending;
        l.credits_posted += stored.credits_posted;
        if stored != rebuilt {
            mismatches.push(AccountMismatch {
                account_id: a.id,
                code: a.code.clone(),
                debits_pending: (stored.debits_pending, rebuilt.debits_pending),
                debits_posted: (stored.debits_posted, rebuilt.debits_posted),
                credits_pending: (stored.credits_pending, rebuilt.credits_pending),
                credits_posted: (stored.credits_posted, rebuilt.credits_posted),
            });
        }
    }
    let unbalanced = per_ledger
        .into_iter()
        .filter(|(_, s)| {
            s.debits_posted != s.credits_posted || s.debits_pending != s.credits_pending
        })
        .map(|(ledger, s)| Unbalanced {
            ledger: ledger.to_owned(),
            debits_posted: s.debits_posted,
            credits_posted: s.credits_posted,
            debits_pending: s.debits_pending,
            credits_pending: s.credits_pending,
        })
        .collect();
    Ok(Reconciliation {
        accounts: accounts.len(),
        transfers,
        mismatches,
        unbalanced,
    })
}
