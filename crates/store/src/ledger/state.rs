//! What the transfer rules ([`super::transfer`]) are given and what comes of
//! them, in the database: the stored transfers a request names (its id, its
//! hold and the hold's resolution), its accounts locked in ascending id
//! order, and the rows and balance changes written after planning. Shared
//! by the one-at-a-time and batch paths, so both read and lock the same way
//! and write through the same guarded statement.
//!
//! Locking the accounts before reading them (`FOR NO KEY UPDATE` on
//! PostgreSQL, see `crate::rows`;
//! SQLite's write transaction is already exclusive) makes the balances
//! planned against stay true until commit; taking the locks in id order
//! keeps concurrent writers of the same accounts from deadlocking, and
//! inserting the transfer rows only after them makes their `seq` order
//! conflicting transfers the way the locks did.

use super::transfer::{Account, Balances, Hold, Plan};
use super::{LedgerError, NewTransfer, Op};
use crate::StoreError;
use crate::entity::{ledger_account, ledger_transfer};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};
use std::collections::{BTreeMap, HashMap};

/// At most this many ids in one `IN` list, rows in one INSERT or accounts
/// in one UPDATE.
pub(super) const CHUNK: usize = 500;

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

/// The stored transfers some requests name, and those planned so far.
#[derive(Default)]
pub(super) struct Known {
    /// By id: the requests' own ids (when looked up), the holds they
    /// resolve, those holds' resolutions and the transfers planned so far.
    transfers: HashMap<String, ledger_transfer::Model>,
    /// Hold id → the kind of the post or void that resolved it.
    resolved: HashMap<String, String>,
}

impl Known {
    /// Reads the holds that `requests` resolve, with their resolutions, and
    /// (when `lookup_ids`) the transfers stored under the requests' ids.
    pub(super) async fn load(
        tx: &DatabaseTransaction,
        requests: &[NewTransfer],
        lookup_ids: bool,
    ) -> Result<Known, LedgerError> {
        let mut known = Known::default();
        if lookup_ids {
            let ids: Vec<&str> = requests.iter().map(|t| t.id.as_str()).collect();
            for chunk in ids.chunks(CHUNK) {
                for m in ledger_transfer::Entity::find()
                    .filter(ledger_transfer::Column::Id.is_in(chunk.iter().copied()))
                    .all(tx)
                    .await?
                {
                    known.transfers.insert(m.id.clone(), m);
                }
            }
        }
        // Holds resolved by these requests but created earlier, with their
        // resolutions, in one query: the hold by id, a resolution by
        // `pending_id`.
        let holds: Vec<String> = requests
            .iter()
            .filter_map(|t| resolves(&t.op).map(str::to_owned))
            .filter(|id| !known.transfers.contains_key(id))
            .collect();
        for chunk in holds.chunks(CHUNK) {
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
                    known.resolved.insert(p.clone(), m.kind.clone());
                }
                known.transfers.insert(m.id.clone(), m);
            }
        }
        Ok(known)
    }

    /// The transfer stored (or planned) under `id`.
    pub(super) fn get(&self, id: &str) -> Option<&ledger_transfer::Model> {
        self.transfers.get(id)
    }

    /// The hold `op` resolves, as the rules see it; `None` when `op`
    /// resolves nothing or its hold is not known.
    pub(super) fn hold(&self, op: &Op) -> Option<Hold<'_>> {
        let id = resolves(op)?;
        let m = self.transfers.get(id)?;
        Some(Hold {
            phase: &m.phase,
            ledger: &m.ledger,
            debit: m.debit_account_id,
            credit: m.credit_account_id,
            amount_fen: m.amount_fen,
            expires_at: m.expires_at,
            resolved_by: self.resolved.get(id).map(String::as_str),
        })
    }

    /// The accounts `requests` move: their own, or their known holds'.
    pub(super) fn accounts_of(&self, requests: &[NewTransfer]) -> Vec<i64> {
        let mut ids = Vec::with_capacity(requests.len() * 2);
        for t in requests {
            match &t.op {
                Op::Posted { debit, credit, .. } | Op::Pending { debit, credit, .. } => {
                    ids.extend([*debit, *credit])
                }
                Op::Post { pending_id, .. } | Op::Void { pending_id } => {
                    if let Some(p) = self.transfers.get(pending_id) {
                        ids.extend([p.debit_account_id, p.credit_account_id]);
                    }
                }
            }
        }
        ids
    }

    /// Records `t`, planned as `p`, for the requests after it in a batch:
    /// a replay of it, or a resolution of it or of the hold it resolves.
    pub(super) fn record(&mut self, t: &NewTransfer, p: &Plan) {
        if let Some(pending) = &p.pending_id {
            self.resolved.insert(pending.clone(), t.kind.clone());
        }
        self.transfers.insert(t.id.clone(), row_model(t, p));
    }
}

/// The hold a post or void names.
fn resolves(op: &Op) -> Option<&str> {
    match op {
        Op::Post { pending_id, .. } | Op::Void { pending_id } => Some(pending_id),
        Op::Posted { .. } | Op::Pending { .. } => None,
    }
}

/// Accounts locked for planning: each with its balances as read and the
/// account as the transfers planned so far leave it.
pub(super) struct Accounts(BTreeMap<i64, Locked>);

struct Locked {
    before: Balances,
    now: Account,
}

impl Locked {
    /// Net change of (debits pending, debits posted, credits pending,
    /// credits posted).
    fn deltas(&self) -> [i64; 4] {
        let (b, n) = (&self.before, &self.now.balances);
        [
            n.debits_pending - b.debits_pending,
            n.debits_posted - b.debits_posted,
            n.credits_pending - b.credits_pending,
            n.credits_posted - b.credits_posted,
        ]
    }
}

impl Accounts {
    /// Locks (PostgreSQL: `FOR NO KEY UPDATE`, in id order) and reads the accounts
    /// `ids` names; an id without an account is left out.
    pub(super) async fn lock(
        tx: &DatabaseTransaction,
        mut ids: Vec<i64>,
    ) -> Result<Accounts, LedgerError> {
        ids.sort_unstable();
        ids.dedup();
        let backend = tx.get_database_backend();
        let mut out = BTreeMap::new();
        for chunk in ids.chunks(CHUNK) {
            let query = ledger_account::Entity::find()
                .filter(ledger_account::Column::Id.is_in(chunk.iter().copied()))
                .order_by_asc(ledger_account::Column::Id);
            let query = crate::rows::locked(query, backend);
            for a in query.all(tx).await? {
                let now = account(a);
                out.insert(
                    now.id,
                    Locked {
                        before: now.balances,
                        now,
                    },
                );
            }
        }
        Ok(Accounts(out))
    }

    /// The account as the transfers planned so far leave it.
    pub(super) fn get(&self, id: i64) -> Option<&Account> {
        self.0.get(&id).map(|l| &l.now)
    }

    /// Moves the balances as `p` planned.
    pub(super) fn apply(&mut self, p: &Plan) {
        for (id, after) in [(p.debit, p.debit_after), (p.credit, p.credit_after)] {
            self.0
                .get_mut(&id)
                .expect("planned on a locked account")
                .now
                .balances = after;
        }
    }

    /// Writes every account's net change: one guarded UPDATE per chunk of
    /// changed accounts.
    pub(super) async fn write(
        &self,
        tx: &DatabaseTransaction,
        at: DateTime<Utc>,
    ) -> Result<(), LedgerError> {
        let changed: Vec<&Locked> = self.0.values().filter(|l| l.deltas() != [0; 4]).collect();
        for chunk in changed.chunks(CHUNK) {
            write_net_changes(tx, chunk, at).await?;
        }
        Ok(())
    }
}

/// An account as the rules see it.
fn account(a: ledger_account::Model) -> Account {
    Account {
        id: a.id,
        ledger: a.ledger,
        closed: a.closed_at.is_some(),
        debits_must_not_exceed_credits: a.debits_must_not_exceed_credits,
        credits_must_not_exceed_debits: a.credits_must_not_exceed_debits,
        balances: Balances {
            debits_pending: a.debits_pending,
            debits_posted: a.debits_posted,
            credits_pending: a.credits_pending,
            credits_posted: a.credits_posted,
        },
    }
}

/// The net changes of `accounts` in one UPDATE, each account's invariants
/// on its final balances in the WHERE clause; refused unless every account
/// was updated. The accounts are already locked (PostgreSQL) or the write
/// lock held (SQLite), so the statement takes no new row locks.
async fn write_net_changes(
    tx: &DatabaseTransaction,
    accounts: &[&Locked],
    at: DateTime<Utc>,
) -> Result<(), LedgerError> {
    let backend = tx.get_database_backend();
    // SQLite numbers `?` in order of appearance: bind in the text's order.
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(accounts.len() * 5 + 1);
    let rows = crate::values::rows_of(
        backend,
        &mut values,
        accounts.iter().map(|l| {
            std::iter::once(l.now.id)
                .chain(l.deltas())
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
        // The rules passed on locked balances, so only a writer outside
        // them could have changed a balance meanwhile.
        let first = accounts[0];
        let b = first.before;
        return Err(LedgerError::Insufficient {
            account_id: first.now.id,
            available_fen: b.credits_posted - b.debits_posted - b.debits_pending,
        });
    }
    Ok(())
}

/// The transfer row to insert.
pub(super) fn row(t: &NewTransfer, p: &Plan) -> ledger_transfer::ActiveModel {
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

/// The transfer row as it will be stored (for later transfers of a batch).
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
