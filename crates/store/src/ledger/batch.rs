//! Many transfers in one commit: [`create_batch`] (all or nothing) and
//! [`create_each_unseen`] (each answered on its own, for the group commit
//! of [`super::submit`]). A batch reads what it names and locks its
//! accounts once, plans every transfer in order against the balances the
//! ones before it leave ([`super::transfer::plan`], the same rules as one
//! transfer at a time), then writes all rows with multi-row INSERTs and
//! every account's net change with one guarded UPDATE. Guards that a batch
//! is answered as its transfers would have been one after the other, and
//! that a replay, within the batch or of a transfer stored before it, gets
//! the first answer.
//!
//! The holds a batch resolves are read before the accounts are locked; one
//! resolved by another writer in between shows as less pending than the
//! hold, and the batch is refused [`LedgerError::Duplicate`] (retried, it
//! reads the resolution) rather than trusted.

use super::state::{self, Accounts, CHUNK, Known};
use super::transfer::{self, Plan};
use super::{LedgerError, NewTransfer, Outcome};
use crate::Store;
use crate::entity::ledger_transfer;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter};
use std::collections::HashMap;

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
    accounts: Accounts,
}

/// Locks and reads what a batch needs, then checks every transfer in order
/// in memory against the same rules as [`create`](super::create).
async fn check_batch(
    tx: &DatabaseTransaction,
    transfers: &[NewTransfer],
    on_refusal: OnRefusal,
) -> Result<Checked, BatchError> {
    let whole = |error: LedgerError| BatchError { index: None, error };
    let lookup_ids = on_refusal == OnRefusal::RefuseBatch;
    let mut known = Known::load(tx, transfers, lookup_ids)
        .await
        .map_err(whole)?;
    let mut accounts = Accounts::lock(tx, known.accounts_of(transfers))
        .await
        .map_err(whole)?;
    let mut rows = Vec::new();
    let mut answers = Vec::with_capacity(transfers.len());
    for (index, t) in transfers.iter().enumerate() {
        let answer = match check_one(t, &known, &accounts) {
            Ok(Step::Replay(first)) => Answer::Replay(Box::new(first)),
            Ok(Step::New(p)) => {
                accounts.apply(&p);
                known.record(t, &p);
                rows.push(state::row(t, &p));
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
    /// New, as planned.
    New(Plan),
}

/// One transfer of a batch against the batch's state so far.
fn check_one(t: &NewTransfer, known: &Known, accounts: &Accounts) -> Result<Step, LedgerError> {
    if let Some(first) = known.get(&t.id) {
        transfer::replay(t, &first.body_hash)?;
        return Ok(Step::Replay(first.clone()));
    }
    transfer::plan(t, known.hold(&t.op), |id| accounts.get(id)).map(Step::New)
}

/// Inserts a checked batch's rows with multi-row INSERTs (returning them
/// when `returning`) and writes every account's net change.
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
    checked.accounts.write(tx, at).await?;
    Ok((checked.answers, created))
}

/// Fails with [`LedgerError::Duplicate`] when a refused transfer's id
/// exists: it is a replay (its first attempt committed earlier, or while the
/// batch waited for the account locks), whose answer is the first one, not
/// what the balances say now (as in [`create_unseen`](super::create_unseen)).
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
/// against the same rules as [`create`](super::create); then the rows are inserted with
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
/// own as [`create`](super::create) would have answered it had they come one after the
/// other: a refused transfer moves nothing and does not stop the others.
/// Like [`create_unseen`](super::create_unseen), the ids are not looked up first (replays within
/// the batch are recognised): a transfer whose id exists already fails the
/// whole batch with [`LedgerError::Duplicate`], and so does any other
/// failure of the batch as a whole (a concurrent writer, the database). The
/// transaction must then be rolled back and the transfers submitted again,
/// where [`create`](super::create) finds the first answers.
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
