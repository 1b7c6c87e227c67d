//! The append-only, hash-chained audit log.
//!
//! Every state change writes one entry in the same transaction as the change,
//! so the log and the data never disagree — into `audit_queue`, with a plain
//! INSERT that takes no shared lock, so writers of unrelated things never
//! wait for each other. [`seal`] moves queued entries into the chain
//! (`audit_log`) in batches: entry `n` stores the hash of entry `n-1`, its
//! own hash covers every field, and `audit_head` holds the last sequence
//! number and hash, so [`verify`] notices entries deleted from the end. The
//! sealer updates `audit_head` first in its transaction, which serialises
//! sealers (a row lock on PostgreSQL, the write lock on SQLite) so the chain
//! never forks. `serve` seals every second; reading or verifying the log
//! seals first, so readers see every committed change.
//!
//! [`seal`] takes the queue oldest first, at most [`SEAL_BATCH`] (1,000)
//! entries per transaction. `audit_log` is append-only on both backends
//! (triggers refuse UPDATE and DELETE, migration `m0001_foundation`), and a
//! queued entry cannot be edited either (a trigger refuses UPDATE,
//! `m0008_audit_queue`). An entry is tamper-evident once sealed: `serve`
//! also seals on shutdown, and every CLI command seals when it ends
//! (`platform::with_services` in the `opcity` binary).

use crate::entity::{audit_log, audit_queue};
use crate::{Store, StoreError};
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement,
};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What to record about one state change.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// `account:ID`, `token:ID` or `system`.
    pub actor: &'a str,
    /// A stable verb such as `enterprise.create`.
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// The hash of one entry: SHA-256 over a JSON array of every field, so no
/// field boundary can be forged by shifting text between fields.
fn entry_hash(entry: &audit_log::Model) -> String {
    let canonical = serde_json::json!([
        entry.seq,
        entry
            .at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        entry.actor,
        entry.action,
        entry.entity,
        entry.entity_id,
        entry.before,
        entry.after,
        entry.prev_hash,
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Writes one entry inside `tx`, to be sealed into the chain after the
/// transaction commits (a rolled-back change leaves no entry). Returns its
/// queue id.
pub async fn append(
    tx: &DatabaseTransaction,
    at: DateTime<Utc>,
    change: Change<'_>,
) -> Result<i64, StoreError> {
    Ok(audit_queue::Entity::insert(queued(at, change))
        .exec(tx)
        .await?
        .last_insert_id)
}

/// Writes several entries (each with its time) inside `tx` with one
/// INSERT, queued in the order given (see [`append`]).
pub async fn append_all<'a>(
    tx: &DatabaseTransaction,
    changes: impl IntoIterator<Item = (DateTime<Utc>, Change<'a>)>,
) -> Result<(), StoreError> {
    let rows: Vec<audit_queue::ActiveModel> =
        changes.into_iter().map(|(at, c)| queued(at, c)).collect();
    if !rows.is_empty() {
        audit_queue::Entity::insert_many(rows)
            .exec_without_returning(tx)
            .await?;
    }
    Ok(())
}

fn queued(at: DateTime<Utc>, change: Change<'_>) -> audit_queue::ActiveModel {
    audit_queue::ActiveModel {
        // Both backends keep microseconds; truncating first makes the hash
        // reproducible from what is stored.
        at: Set(at.trunc_subsecs(6)),
        actor: Set(change.actor.to_owned()),
        action: Set(change.action.to_owned()),
        entity: Set(change.entity.to_owned()),
        entity_id: Set(change.entity_id),
        before: Set(change.before.map(|v| v.to_string())),
        after: Set(change.after.map(|v| v.to_string())),
        ..Default::default()
    }
}

/// The most queued entries one [`seal`] moves into the chain.
pub const SEAL_BATCH: u64 = 1_000;

/// Moves up to [`SEAL_BATCH`] queued entries, oldest first, into the chain
/// in one transaction. Returns how many it sealed.
pub async fn seal(store: &Store) -> Result<u64, StoreError> {
    let tx = store.begin().await?;
    // Lock the head first: one sealer at a time extends the chain.
    let claim = Statement::from_string(
        tx.get_database_backend(),
        "UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash".to_owned(),
    );
    let head = tx.query_one_raw(claim).await?.ok_or(StoreError::NotFound)?;
    let mut seq: i64 = head.try_get("", "seq")?;
    let mut prev_hash: String = head.try_get("", "hash")?;
    let queued = audit_queue::Entity::find()
        .order_by_asc(audit_queue::Column::Id)
        .limit(SEAL_BATCH)
        .all(&tx)
        .await?;
    if queued.is_empty() {
        return Ok(0);
    }
    let mut entries = Vec::with_capacity(queued.len());
    for q in &queued {
        seq += 1;
        let mut entry = audit_log::Model {
            seq,
            at: q.at,
            actor: q.actor.clone(),
            action: q.action.clone(),
            entity: q.entity.clone(),
            entity_id: q.entity_id.clone(),
            before: q.before.clone(),
            after: q.after.clone(),
            prev_hash: std::mem::take(&mut prev_hash),
            hash: String::new(),
        };
        entry.hash = entry_hash(&entry);
        prev_hash = entry.hash.clone();
        entries.push(sea_orm::IntoActiveModel::into_active_model(entry));
    }
    // SQLite allows 32,766 bound values a statement: 10 columns × 500 rows.
    let mut entries = entries.into_iter().peekable();
    while entries.peek().is_some() {
        audit_log::Entity::insert_many(entries.by_ref().take(500).collect::<Vec<_>>())
            .exec(&tx)
            .await?;
    }
    audit_queue::Entity::delete_many()
        .filter(audit_queue::Column::Id.is_in(queued.iter().map(|q| q.id)))
        .exec(&tx)
        .await?;
    let set_head = Query::update()
        .table("audit_head")
        .value("seq", seq)
        .value("hash", prev_hash)
        .and_where(Expr::col("id").eq(1))
        .take();
    tx.execute(&set_head).await?;
    tx.commit().await?;
    Ok(queued.len() as u64)
}

/// Seals until the queue is empty. Returns how many entries it sealed.
pub async fn seal_all(store: &Store) -> Result<u64, StoreError> {
    let mut total = 0;
    loop {
        let sealed = seal(store).await?;
        total += sealed;
        if sealed < SEAL_BATCH {
            return Ok(total);
        }
    }
}

/// One thing wrong with the stored chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// The entry's fields no longer hash to its stored hash.
    Altered { seq: i64 },
    /// Entries are missing before this one (a gap in the sequence).
    Missing { from_seq: i64, to_seq: i64 },
    /// The entry's `prev_hash` is not the previous entry's hash.
    BrokenLink { seq: i64 },
    /// The log ends before the head says it should (entries deleted at the end),
    /// or the head's hash does not match the last entry.
    HeadMismatch { head_seq: i64, last_seq: i64 },
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verification {
    pub entries: i64,
    pub problems: Vec<Problem>,
}

const VERIFY_PAGE: u64 = 1_000;

/// Recomputes the whole chain, page by page, and names every entry that was
/// altered, deleted or re-linked.
pub async fn verify<C: ConnectionTrait>(db: &C) -> Result<Verification, StoreError> {
    let mut problems = Vec::new();
    let mut expected_seq = 1i64;
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut entries = 0i64;
    loop {
        let page = audit_log::Entity::find()
            .filter(Expr::col(audit_log::Column::Seq).gte(expected_seq))
            .order_by_asc(audit_log::Column::Seq)
            .limit(VERIFY_PAGE)
            .all(db)
            .await?;
        let Some(last) = page.last().map(|e| e.seq) else {
            break;
        };
        for entry in &page {
            entries += 1;
            if entry.seq != expected_seq {
                problems.push(Problem::Missing {
                    from_seq: expected_seq,
                    to_seq: entry.seq - 1,
                });
            }
            if entry.prev_hash != prev_hash {
                problems.push(Problem::BrokenLink { seq: entry.seq });
            }
            if entry_hash(entry) != entry.hash {
                problems.push(Problem::Altered { seq: entry.seq });
            }
            prev_hash = entry.hash.clone();
            expected_seq = entry.seq + 1;
        }
        if last < expected_seq - 1 {
            break;
        }
    }
    let head = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT seq, hash FROM audit_head WHERE id = 1".to_owned(),
        ))
        .await?
        .ok_or(StoreError::NotFound)?;
    let head_seq: i64 = head.try_get("", "seq")?;
    let head_hash: String = head.try_get("", "hash")?;
    if head_seq != expected_seq - 1 || head_hash != prev_hash {
        problems.push(Problem::HeadMismatch {
            head_seq,
            last_seq: expected_seq - 1,
        });
    }
    Ok(Verification { entries, problems })
}
