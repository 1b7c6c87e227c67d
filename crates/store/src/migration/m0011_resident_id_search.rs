//! Resident ids without clear parts: `persons.resident_id_masked` (the first
//! six and last four characters, which with the clear `birth_date` rebuilt
//! the whole number without the key) is emptied and dropped, and
//! `persons.resident_id_hash` holds the keyed hash that finds a person by
//! exact number (HMAC-SHA256 under a key derived from the data key, hex).
//!
//! A migration cannot reach the data key (it is the services' configuration,
//! not the database's), so the hashes of rows stored before this migration
//! are computed at service start-up from the ciphertext:
//! `Services::backfill_resident_id_hashes`, which `opcity` runs every time
//! it opens the store and which does nothing once every row has its hash.
//! The masks shown are made from the decrypted number when it is read.
//!
//! On SQLite the column is first set to NULL with `secure_delete` on, so the
//! old values are overwritten in the file rather than left in free pages,
//! then dropped (SQLite ≥ 3.35 drops a column that nothing else refers to).
//! On PostgreSQL the dropped values are gone from `pg_dump` at once and from
//! the data files at the next VACUUM.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0011_resident_id_search"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        // SQLite adds or drops one column per `ALTER TABLE`.
        m.alter_table(
            Table::alter()
                .table("persons")
                .add_column(string_null("resident_id_hash"))
                .take(),
        )
        .await?;
        if db.get_database_backend() == DbBackend::Sqlite {
            db.execute_unprepared("PRAGMA secure_delete = ON").await?;
        }
        m.exec_stmt(
            Query::update()
                .table("persons")
                .value("resident_id_masked", Option::<String>::None)
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("persons")
                .drop_column("resident_id_masked")
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("persons_by_resident_id_hash")
                .table("persons")
                .col("resident_id_hash")
                .take(),
        )
        .await
    }
}
