//! The audit queue: each change writes its audit entry here, in its own
//! transaction, with a plain INSERT; [`crate::audit::seal`] moves queued
//! entries into the hash chain in batches. Before this, every change updated
//! the single `audit_head` row, which serialised all writers of the platform
//! behind one row lock held until commit (and on PostgreSQL, behind each
//! other's WAL flush).
//!
//! Queued entries cannot be edited (a trigger refuses UPDATE); the sealer
//! deletes them as it chains them.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0008_audit_queue"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("audit_queue")
                .col(big_pk_auto("id"))
                .col(timestamp_with_time_zone("at"))
                .col(string("actor"))
                .col(string("action"))
                .col(string("entity"))
                .col(string("entity_id"))
                .col(text_null("before"))
                .col(text_null("after"))
                .take(),
        )
        .await?;
        let db = m.get_connection();
        for sql in queue_not_editable(db.get_database_backend()) {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}

fn queue_not_editable(backend: DbBackend) -> &'static [&'static str] {
    match backend {
        DbBackend::Postgres => &[
            "CREATE FUNCTION audit_queue_not_editable() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'audit_queue entries cannot be edited'; END $$",
            "CREATE TRIGGER audit_queue_no_update BEFORE UPDATE ON audit_queue \
             FOR EACH ROW EXECUTE FUNCTION audit_queue_not_editable()",
        ],
        _ => &[
            "CREATE TRIGGER audit_queue_no_update BEFORE UPDATE ON audit_queue \
             BEGIN SELECT RAISE(ABORT, 'audit_queue entries cannot be edited'); END",
        ],
    }
}
