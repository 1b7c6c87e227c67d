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
//! The rules are one pure function, [`transfer::plan`], called by both ways
//! of writing: one transfer at a time ([`single`]: [`create`], [`submit`])
//! and many per commit ([`batch`]: [`create_batch`],
//! [`create_each_unseen`]). Each locks the accounts first, in ascending id
//! order so that concurrent transfers over the same accounts never deadlock
//! on PostgreSQL ([`state`]), plans against the balances it read, and writes
//! the net changes by an UPDATE that re-checks each account's invariant —
//! for a wallet (flag `debits_must_not_exceed_credits`): `debits_posted +
//! debits_pending <= credits_posted` — with CHECK constraints as the
//! backstop, exactly like [`crate::budget`].
//!
//! Client-supplied ids make every request idempotent: the same id with the
//! same body hash returns the first transfer (`created: false`); a different
//! body is refused ([`LedgerError::IdConflict`]).
//!
//! The other modules: [`accounts`] (opening, locking, closing accounts),
//! [`group`] (the group commit behind [`submit`]) and [`reconcile`]
//! (rebuilding the balances from the transfers).
//!
//! `tests/ledger_storm.rs` runs randomized concurrent workloads against a
//! reference model on both backends, with two stores on one database (as
//! two processes), so replays also race across group committers.

mod accounts;
mod batch;
mod group;
mod reconcile;
mod single;
mod state;
mod transfer;

pub(crate) use group::Queue;

pub use accounts::{
    NewAccount, account_by_code, close_account, lock_account, open_account, reopen_account,
};
pub use batch::{BatchError, BatchItem, create_batch, create_each_unseen, submit_batch};
pub use reconcile::{AccountMismatch, Reconciliation, Unbalanced, reconcile};
pub use single::{create, create_unseen, submit};
pub use state::{find_transfer, resolution_of};

use crate::StoreError;
use crate::entity::ledger_transfer;
use chrono::{DateTime, Utc};
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
