//! Reads that a write depends on. PostgreSQL runs READ COMMITTED, so a row
//! read by a plain SELECT and then written by primary key may have changed
//! in between (a lost update: two renewals of one lease both counting from
//! the months they read). [`lock_by_id`] reads the row `FOR UPDATE`, so the
//! next writer of that row waits for this transaction and then reads what
//! it wrote. SQLite needs no lock: its `IMMEDIATE` write transaction holds
//! the whole database from its first statement.

use crate::StoreError;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, PrimaryKeyTrait, QuerySelect,
};

/// The row of `E` with primary key `id`, locked until the transaction ends.
pub async fn lock_by_id<E>(
    tx: &DatabaseTransaction,
    id: i64,
) -> Result<Option<E::Model>, StoreError>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
{
    let mut select = E::find_by_id(id);
    if tx.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    Ok(select.one(tx).await?)
}
