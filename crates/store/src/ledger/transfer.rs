//! The transfer rules, as one pure function: [`plan`] decides what a request
//! does to its two accounts' balances, or why it is refused, from the
//! balances and the hold it resolves. No I/O and no database types, so the
//! rules are stated once and tested here without a database: the
//! one-at-a-time path ([`super::single`]) and the batch path
//! ([`super::batch`]) each load the hold, lock the accounts, call [`plan`]
//! and write what it decided. (They used to state the rules twice, once as
//! conditional UPDATEs and once in memory, and drifted apart.)
//!
//! The database still stands behind these rules: the balances are written
//! by an UPDATE that re-checks each account's invariant, CHECK constraints
//! refuse an overdraft, and a unique index lets a hold be resolved once.

use super::{LedgerError, NewTransfer, Op};
use chrono::{DateTime, Utc};

/// An account's four balances.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Balances {
    pub(super) debits_pending: i64,
    pub(super) debits_posted: i64,
    pub(super) credits_pending: i64,
    pub(super) credits_posted: i64,
}

/// An account as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Account {
    pub(super) id: i64,
    pub(super) ledger: String,
    pub(super) closed: bool,
    /// A wallet: debits (pending and posted) never exceed credits posted.
    pub(super) debits_must_not_exceed_credits: bool,
    /// Credits (pending and posted) never exceed debits posted.
    pub(super) credits_must_not_exceed_debits: bool,
    pub(super) balances: Balances,
}

/// The stored transfer a post or void names as its hold (it may turn out
/// not to be one), and how it was resolved, if it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Hold<'a> {
    pub(super) phase: &'a str,
    pub(super) ledger: &'a str,
    pub(super) debit: i64,
    pub(super) credit: i64,
    pub(super) amount_fen: i64,
    pub(super) expires_at: Option<DateTime<Utc>>,
    /// The kind of the post or void that resolved it already.
    pub(super) resolved_by: Option<&'a str>,
}

/// A transfer the rules allow: the figures of its row and both accounts'
/// balances after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Plan {
    pub(super) ledger: String,
    pub(super) debit: i64,
    pub(super) credit: i64,
    pub(super) amount_fen: i64,
    /// The hold a post or void resolves.
    pub(super) pending_id: Option<String>,
    /// Until when a pending transfer holds.
    pub(super) expires_at: Option<DateTime<Utc>>,
    pub(super) debit_after: Balances,
    pub(super) credit_after: Balances,
}

/// Plans `t`, a request whose id is not stored yet (see [`replay`]), given
/// `hold`, the stored transfer its `pending_id` names (`None` when there is
/// none, and for a transfer that resolves nothing), and `account`, which
/// finds the accounts by id. The rules:
///
/// - A posted or pending transfer moves a positive amount (anything else is
///   a bug upstream, and panics rather than move money) from one account to
///   another in its ledger.
/// - A post or void names a hold (a pending transfer) that nothing has
///   resolved yet. A post captures at most the held amount (all of it by
///   default) before the hold expires; the rest is released. A void
///   releases it all, expired or not.
/// - Both accounts exist and are in the transfer's ledger; a new debit or
///   credit needs an open account, but a hold held before an account closed
///   is still resolved.
/// - A wallet's debits, pending and posted, never exceed its credits posted
///   (and likewise credits for an account flagged the other way); a posted
///   transfer's credit limit caps the credit account's credits posted.
/// - A hold no longer in its accounts' pending balances was resolved by
///   another writer after `hold` was read: [`LedgerError::Duplicate`], so
///   that a retry reads the resolution.
pub(super) fn plan<'a>(
    t: &NewTransfer,
    hold: Option<Hold<'_>>,
    account: impl Fn(i64) -> Option<&'a Account>,
) -> Result<Plan, LedgerError> {
    let m = movement(t, hold)?;
    let judged = |id: i64, side: Side| {
        let a = account(id).ok_or(LedgerError::AccountNotFound(id))?;
        check(a, side, &m).map(|()| a)
    };
    // The lower account id is judged first, the order the accounts are
    // locked in, so a transfer that both would refuse gets the same answer
    // on either path; neither moves until both allow it.
    let (debit, credit) = if m.debit < m.credit {
        let debit = judged(m.debit, Side::Debit)?;
        (debit, judged(m.credit, Side::Credit)?)
    } else {
        let credit = judged(m.credit, Side::Credit)?;
        (judged(m.debit, Side::Debit)?, credit)
    };
    Ok(Plan {
        ledger: m.ledger.to_owned(),
        debit: m.debit,
        credit: m.credit,
        amount_fen: m.amount_fen,
        pending_id: m.pending_id.map(str::to_owned),
        expires_at: m.expires_at,
        debit_after: moved(debit, Side::Debit, m.change),
        credit_after: moved(credit, Side::Credit, m.change),
    })
}

/// A request whose id is stored already: with the same body it is a replay,
/// answered by the stored transfer; with another, a conflict.
pub(super) fn replay(t: &NewTransfer, stored_body_hash: &str) -> Result<(), LedgerError> {
    if t.body_hash == stored_body_hash {
        Ok(())
    } else {
        Err(LedgerError::IdConflict { id: t.id.clone() })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Debit,
    Credit,
}

impl Side {
    /// This side's pending and posted balances and the other side's posted.
    fn of(self, b: &Balances) -> (i64, i64, i64) {
        match self {
            Side::Debit => (b.debits_pending, b.debits_posted, b.credits_posted),
            Side::Credit => (b.credits_pending, b.credits_posted, b.debits_posted),
        }
    }

    fn of_mut(self, b: &mut Balances) -> (&mut i64, &mut i64) {
        match self {
            Side::Debit => (&mut b.debits_pending, &mut b.debits_posted),
            Side::Credit => (&mut b.credits_pending, &mut b.credits_posted),
        }
    }

    /// Whether `a` keeps this side, pending and posted, within the other
    /// side's posted balance.
    fn guarded(self, a: &Account) -> bool {
        match self {
            Side::Debit => a.debits_must_not_exceed_credits,
            Side::Credit => a.credits_must_not_exceed_debits,
        }
    }
}

/// How each side of a transfer changes its account.
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

/// What a request moves, once checked against its hold but not yet
/// against the balances.
struct Movement<'a> {
    ledger: &'a str,
    debit: i64,
    credit: i64,
    amount_fen: i64,
    change: Change,
    credit_limit: Option<i64>,
    pending_id: Option<&'a str>,
    expires_at: Option<DateTime<Utc>>,
}

fn movement<'a>(t: &'a NewTransfer, hold: Option<Hold<'a>>) -> Result<Movement<'a>, LedgerError> {
    match &t.op {
        Op::Posted {
            ledger,
            debit,
            credit,
            amount_fen,
            credit_limit,
        } => direct(ledger, *debit, *credit, *amount_fen, Change::Post).map(|m| Movement {
            credit_limit: *credit_limit,
            ..m
        }),
        Op::Pending {
            ledger,
            debit,
            credit,
            amount_fen,
            expires_at,
        } => direct(ledger, *debit, *credit, *amount_fen, Change::Pend).map(|m| Movement {
            expires_at: Some(*expires_at),
            ..m
        }),
        Op::Post {
            pending_id,
            amount_fen,
        } => {
            let hold = unresolved(pending_id, hold)?;
            if hold.expires_at.is_some_and(|e| e <= t.at) {
                return Err(LedgerError::PendingExpired(pending_id.clone()));
            }
            let held = hold.amount_fen;
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
            Ok(resolution(pending_id, hold, amount, change))
        }
        Op::Void { pending_id } => {
            let hold = unresolved(pending_id, hold)?;
            let held = hold.amount_fen;
            let change = Change::Resolve { held, posted: 0 };
            Ok(resolution(pending_id, hold, held, change))
        }
    }
}

/// A posted or pending transfer's movement.
fn direct(
    ledger: &str,
    debit: i64,
    credit: i64,
    amount: i64,
    change: fn(i64) -> Change,
) -> Result<Movement<'_>, LedgerError> {
    // Amounts come validated from services; a non-positive one here is a
    // bug that must never move money, in release builds too.
    assert!(amount > 0, "ledger transfer of {amount} fen");
    if debit == credit {
        return Err(LedgerError::SameAccount);
    }
    Ok(Movement {
        ledger,
        debit,
        credit,
        amount_fen: amount,
        change: change(amount),
        credit_limit: None,
        pending_id: None,
        expires_at: None,
    })
}

/// The hold `pending_id` names, checked: stored, a hold, not resolved yet.
fn unresolved<'a>(pending_id: &str, hold: Option<Hold<'a>>) -> Result<Hold<'a>, LedgerError> {
    let hold = hold.ok_or_else(|| LedgerError::PendingNotFound(pending_id.to_owned()))?;
    if hold.phase != "pending" {
        return Err(LedgerError::NotPending(pending_id.to_owned()));
    }
    if let Some(by) = hold.resolved_by {
        return Err(LedgerError::AlreadyResolved {
            pending_id: pending_id.to_owned(),
            by: by.to_owned(),
        });
    }
    Ok(hold)
}

/// A post's or void's movement: between the hold's accounts, in its ledger.
fn resolution<'a>(
    pending_id: &'a str,
    hold: Hold<'a>,
    amount_fen: i64,
    change: Change,
) -> Movement<'a> {
    Movement {
        ledger: hold.ledger,
        debit: hold.debit,
        credit: hold.credit,
        amount_fen,
        change,
        credit_limit: None,
        pending_id: Some(pending_id),
        expires_at: None,
    }
}

/// Why one side's account refuses the movement, if it does.
fn check(a: &Account, side: Side, m: &Movement<'_>) -> Result<(), LedgerError> {
    if a.ledger != m.ledger {
        return Err(LedgerError::LedgerMismatch(a.id));
    }
    let (pending, posted, other) = side.of(&a.balances);
    match m.change {
        Change::Post(x) | Change::Pend(x) => {
            if a.closed {
                return Err(LedgerError::AccountClosed(a.id));
            }
            // Saturating: a sum past `i64::MAX` exceeds any limit anyway.
            if side == Side::Credit
                && let Some(limit) = m.credit_limit
                && posted.saturating_add(x) > limit
            {
                return Err(LedgerError::CreditLimit {
                    account_id: a.id,
                    limit_fen: limit,
                });
            }
            if side.guarded(a) && pending.saturating_add(posted).saturating_add(x) > other {
                return Err(LedgerError::Insufficient {
                    account_id: a.id,
                    available_fen: other - pending - posted,
                });
            }
        }
        Change::Resolve { held, .. } => {
            if pending < held {
                return Err(LedgerError::Duplicate);
            }
        }
    }
    Ok(())
}

/// One side's balances after a movement its account allows.
fn moved(a: &Account, side: Side, change: Change) -> Balances {
    let mut after = a.balances;
    let (pending, posted) = side.of_mut(&mut after);
    match change {
        Change::Post(x) => *posted += x,
        Change::Pend(x) => *pending += x,
        Change::Resolve { held, posted: x } => {
            *pending -= held;
            *posted += x;
        }
    }
    after
}

#[cfg(test)]
mod tests;
