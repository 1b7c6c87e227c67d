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

mod accounts;
mod batch;
mod group;
mod reconcile;
mod state;
mod transfer;

pub(crate) use group::Queue;

pub use accounts::{
    NewAccount, account_by_code, close_account, lock_account, open_account, reopen_account,
};
pub use batch::{BatchError, BatchItem, create_batch, create_each_unseen, submit_batch};
pub use reconcile::{AccountMismatch, Reconciliation, Unbalanced, reconcile};
pub use state::{find_transfer, resolution_of};

use crate::entity::{ledger_account, ledger_transfer};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, Set};
use sha2::{Digest, Sha256};

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
