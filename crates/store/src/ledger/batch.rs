//! Many transfers in one commit: [`create_batch`] (all or nothing) and
//! [`create_each_unseen`] (each answered on its own, for the group commit
//! of [`super::submit`]). A batch locks and reads its accounts once, checks
//! every transfer in order in memory, then writes all rows with multi-row
//! INSERTs and every account's net change with one guarded UPDATE.

use super::{Change, LedgerError, NewTransfer, Op, Outcome, Plan, Side, replay, resolution, row};
use crate::Store;
use crate::entity::{ledger_account, ledger_transfer};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::collections::{BTreeMap, HashMap};

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
/// in memory against the same rules as [`create`](super::create).
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
