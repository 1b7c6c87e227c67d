//! Reconciliation: rebuilds every account's balances from its transfers and
//! says where they differ from the stored ones, and which ledgers do not
//! balance. The stored balances are what the guards check against; this is
//! the independent proof that they are right (run by the voucher jobs and
//! after every benchmark scenario), so it shares nothing with the write
//! paths but the tables.

use crate::StoreError;
use crate::entity::{ledger_account, ledger_transfer};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::{BTreeMap, HashMap};

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
