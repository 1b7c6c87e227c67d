//! Reads that a write depends on. PostgreSQL runs READ COMMITTED, so a row
//! read by a plain SELECT and then written by primary key may have changed
//! in between (a lost update: two renewals of one lease both counting from
//! the months they read). [`lock_by_id`] reads the row locked, so the next
//! writer of that row waits for this transaction and then reads what it
//! wrote. SQLite needs no lock: its `IMMEDIATE` write transaction holds the
//! whole database from its first statement.
//!
//! The lock is `FOR NO KEY UPDATE` ([`locked`]), never `FOR UPDATE`: it
//! excludes every other locker and writer of the row just the same (no
//! primary key is ever changed), but does not wait for the `KEY SHARE` lock
//! that inserting a row referencing it takes. A `FOR UPDATE` there waits
//! for a transaction that inserted a child (a budget movement, an
//! application event, a ledger transfer) and then waits to update the
//! parent behind the `FOR UPDATE`: a deadlock, seen once in `budget_storm`.

use crate::StoreError;
use sea_orm::sea_query::LockType;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, PrimaryKeyTrait, QuerySelect,
};

/// `select` locking the rows it reads until the transaction ends
/// (PostgreSQL: `FOR NO KEY UPDATE`; SQLite: as it is, see the module docs).
pub fn locked<S: QuerySelect>(select: S, backend: DbBackend) -> S {
    if backend == DbBackend::Postgres {
        select.lock(LockType::NoKeyUpdate)
    } else {
        select
    }
}

/// The row of `E` with primary key `id`, locked until the transaction ends.
pub async fn lock_by_id<E>(
    tx: &DatabaseTransaction,
    id: i64,
) -> Result<Option<E::Model>, StoreError>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
{
    let select = locked(E::find_by_id(id), tx.get_database_backend());
    Ok(select.one(tx).await?)
}
