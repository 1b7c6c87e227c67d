//! One transfer at a time: [`create`] and [`create_unseen`] in the caller's
//! transaction, [`submit`] committed with whatever else is queued (or
//! alone). Guards the answer a single request gets when it races: a replay
//! of its id, or another resolution of its hold, that commits while it
//! waits for its accounts' locks makes the first answer stand, never what
//! the balances say after it.

use super::state::{self, Accounts, Known, find_transfer, resolution_of};
use super::transfer::{self, Plan};
use super::{LedgerError, NewTransfer, Op, Outcome, group};
use crate::{Store, StoreError};
use sea_orm::{ActiveModelTrait, DatabaseTransaction};

/// Creates one transfer inside `tx`, or returns the first answer to its id.
/// On [`LedgerError::Duplicate`] the transaction must be rolled back and the
/// request submitted again (see [`submit`]).
pub async fn create(tx: &DatabaseTransaction, t: &NewTransfer) -> Result<Outcome, LedgerError> {
    if let Some(first) = find_transfer(tx, &t.id).await? {
        transfer::replay(t, &first.body_hash)?;
        return Ok(Outcome {
            transfer: first,
            created: false,
        });
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
    let (plan, mut accounts) = match plan_locked(tx, t).await {
        Ok(planned) => planned,
        Err(refusal) => return Err(explain(tx, t, refusal).await?),
    };
    accounts.apply(&plan);
    accounts.write(tx, t.at).await?;
    let inserted = state::row(t, &plan).insert(tx).await?;
    Ok(Outcome {
        transfer: inserted,
        created: true,
    })
}

/// Reads `t`'s hold, locks its accounts and plans it.
async fn plan_locked(
    tx: &DatabaseTransaction,
    t: &NewTransfer,
) -> Result<(Plan, Accounts), LedgerError> {
    let one = std::slice::from_ref(t);
    let known = Known::load(tx, one, false).await?;
    let accounts = Accounts::lock(tx, known.accounts_of(one)).await?;
    let plan = transfer::plan(t, known.hold(&t.op), |id| accounts.get(id))?;
    Ok((plan, accounts))
}

/// The answer to a refused request. A refusal may come from a concurrent
/// replay of this very request that committed while this one waited for
/// the accounts' locks (what is read after them sees the committed row):
/// then the first answer stands, and the caller's retry finds it.
async fn explain(
    tx: &DatabaseTransaction,
    t: &NewTransfer,
    refusal: LedgerError,
) -> Result<LedgerError, StoreError> {
    if find_transfer(tx, &t.id).await?.is_some() {
        return Ok(LedgerError::Duplicate);
    }
    Ok(resolved_meanwhile(tx, t).await?.unwrap_or(refusal))
}

/// A post or void refused because another resolution of its hold committed
/// while it waited for the accounts' locks: say so, rather than what the
/// balances showed.
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

/// One transfer, committed with the others that arrive meanwhile (group
/// commit, see [`group`]) and answered as [`create`] answers it: replays,
/// racing or not, all get the first answer.
pub async fn submit(store: &Store, t: &NewTransfer) -> Result<Outcome, LedgerError> {
    group::submit(store, t).await
}

/// [`create`] in its own transaction, retried after a duplicate (a replay,
/// or a concurrent one) so that replays, racing or not, all get the first
/// answer.
pub(super) async fn submit_alone(store: &Store, t: &NewTransfer) -> Result<Outcome, LedgerError> {
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
